"""'Sync now' from the dashboard, end to end against the sandbox over HTTP (no broker: the
task runs in-process when the view's transaction commits)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connector.models import PortalMembership, SyncRun
from settings_ui.models import AuditAction, AuditLogEntry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def sandbox_portal(sandbox, admin_user):
    from connector.services.sandbox_connect import sandbox_connect

    sandbox.load("demo")
    portal = sandbox_connect(url=sandbox.url)
    PortalMembership.objects.create(user=admin_user, portal=portal)
    return portal


def test_sync_now_runs_a_sync_and_shows_its_counts(client_alice, admin_user, sandbox_portal):
    portal = sandbox_portal
    response = client_alice.post(reverse("settings_ui:sync-now", kwargs={"hub_id": portal.hub_id}))
    run = SyncRun.objects.get(portal=portal)
    assert response.status_code == 302
    assert response["Location"] == reverse("settings_ui:run", kwargs={"hub_id": portal.hub_id, "run_id": run.id})
    assert run.status == "succeeded", run.error
    assert run.report["webinars"]["synced"] > 0
    # R2: the demo's Zoom Event webinar is skipped and explained.
    assert run.report["webinars"]["skipped"]["zoom_event"] >= 1
    page = client_alice.get(response["Location"])
    body = page.content.decode()
    assert "Finished" in body
    assert f'data-key="contacts_created">{run.report["people"]["contacts_created"]}<' in body
    assert "Part of a Zoom Event" in body
    entry = AuditLogEntry.objects.get(action=AuditAction.SYNC_STARTED)
    assert entry.user == admin_user and entry.source == f"sync run {run.id}"
    # The dashboard now lists the run and draws the per-webinar chart from pulled data.
    dash = client_alice.get(reverse("settings_ui:dashboard", kwargs={"hub_id": portal.hub_id}))
    assert dash.context["rows"][0]["run"] == run
    assert dash.context["held"], "the demo has held webinars with sessions"
