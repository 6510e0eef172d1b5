"""`{% webhook_health_panel portal %}`: the dashboard's live-updates panel (webhook health)."""

from __future__ import annotations

from typing import Any

from django import template

from connector.models import Portal
from connector.webhooks.selectors import webhook_health

register = template.Library()


@register.inclusion_tag("settings_ui/_webhook_health.html")
def webhook_health_panel(portal: Portal) -> dict[str, Any]:
    return {"health": webhook_health(portal=portal)}
