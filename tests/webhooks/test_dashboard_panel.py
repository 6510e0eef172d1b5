"""The dashboard's live-updates panel: last event, failures, backlog, what to do (plain words)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from connector.models import PortalMembership, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(client, admin_user, portal):
    PortalMembership.objects.create(user=admin_user, portal=portal)
    client.force_login(admin_user)
    return client


def _panel(member_client, portal) -> str:
    page = member_client.get(reverse("settings_ui:dashboard", args=[portal.hub_id]))
    assert page.status_code == 200
    match = re.search(r'<section class="card" id="webhook-health".*?</section>', page.content.decode(), re.S)
    assert match
    return match.group(0)


def test_panel_says_not_set_up_then_working_then_what_to_do(member_client, portal):
    assert "Not set up" in _panel(member_client, portal)
    WebhookEvent.objects.create(provider="zoom", portal=portal, event_type="webinar.registration_created",
                                dedupe_key="a", raw_body="{}", status="processed")
    panel = _panel(member_client, portal)
    assert "Working." in panel and "a new registration" in panel
    WebhookEvent.objects.create(provider="hubspot", portal=portal, event_type="contact.deletion",
                                dedupe_key="b", raw_body="{}", status="dead", last_error="KeyError: 'x'")
    panel = _panel(member_client, portal)
    assert "Needs attention." in panel and "replay" in panel
    # Plain words: no error codes, exception names or rule numbers on the page.
    assert "KeyError" not in panel and not re.search(r"\b[RB]\d+\b", panel)
