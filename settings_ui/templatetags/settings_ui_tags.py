"""Template helpers: settings values in words for the audit log."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

_WORDS = {
    "sync_new_webinars_by_default": "new webinars by default",
    "sync_recordings": "recordings",
    "sync": "sync",
}


@register.filter
def setting_value(value: Any) -> str:
    """{'sync_recordings': True} → 'recordings: on'; lists comma-separated; None → '(unset)'."""
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict):
        # A fixed order: PostgreSQL's jsonb does not keep the order keys were written in.
        order = list(_WORDS)
        keys = sorted(value, key=lambda k: (order.index(k) if k in order else len(order), k))
        return ", ".join(f"{_WORDS.get(k, k)}: {setting_value(value[k])}" for k in keys)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)
