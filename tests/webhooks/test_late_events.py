"""Events the last listing did not prepare for, through HTTP (sandbox act → webhook → HubSpot
state): a single webinar held before its scheduled start, and a recording that comes after
its webinar left Zoom's listing, both reach HubSpot without a full sync (SPEC B1)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from connector.models import Recording, Session, SyncRun, WebhookEvent
from connector.services.hubspot_schema import PROP_ATTENDED, TEMPLATE_ATTENDANCE, TEMPLATE_RECORDING
from connector.services.sync import portal_sync
from tests.webhooks.test_rows import FUTURE, LAUNCH, all_processed, contact, events

pytestmark = pytest.mark.django_db(transaction=True)

DEMO = Path(__file__).resolve().parents[2] / "sandbox" / "scenarios" / "demo.json"
EU_DAY = 82000000001  # zacc_eu, held 2026-10-22, no recording yet
EU_SESSION = "RVVDdXN0b21lckRheTIwMg=="


def _demo_with(change: dict[int, dict[str, Any]]) -> dict[str, Any]:
    data = copy.deepcopy(json.loads(DEMO.read_text()))
    for account in data["zoom"]["accounts"]:
        for webinar in account["webinars"]:
            webinar.update(change.get(webinar["id"], {}))
    return data


def test_b1_single_webinar_held_before_its_scheduled_start_reaches_hubspot(live):
    # "Future Roadmap 2030" (type 5, scheduled for 2030) is started today, ahead of time.
    lucy = contact(live.state(), "lucy.liu@stark.example")
    assert lucy is not None
    attended = int(lucy["properties"].get(PROP_ATTENDED, "0"))
    out = live.act("hold_session", account_id="zacc_main", webinar_id=FUTURE, instance={
        "uuid": "EarlySession000000001==",
        "participants": [{"user_email": "lucy.liu@stark.example"}, {"user_email": "early.eli@example.com"}]})
    assert {d["status"] for d in out["deliveries"]} == {200}
    assert WebhookEvent.objects.get(event_type="webinar.ended").status == "processed"
    state = live.state()
    lucy = contact(state, "lucy.liu@stark.example")
    assert lucy is not None and int(lucy["properties"][PROP_ATTENDED]) == attended + 1  # R19
    eli = contact(state, "early.eli@example.com")
    assert eli is not None and eli["properties"][PROP_ATTENDED] == "1"
    [event] = [e for e in events(state, TEMPLATE_ATTENDANCE, eli["id"])]
    assert event["tokens"]["webinar_id"] == str(FUTURE)  # R21
    assert not SyncRun.objects.filter(full=True, trigger="webhook").exists()
    all_processed()


def test_b1_session_of_a_webinar_no_longer_listed_reaches_hubspot(live):
    # Zoom stops listing the single webinar held in October (expired: its one session is
    # complete), then it is started once more.
    live.load_zoom(_demo_with({LAUNCH: {"expired": True}}))
    portal_sync(portal=live.portal, run=SyncRun.objects.create(portal=live.portal, trigger="beat"))
    live.act("hold_session", account_id="zacc_main", webinar_id=LAUNCH, instance={
        "uuid": "UnlistedSession00001==", "participants": [{"user_email": "unlisted.una@example.com"}]})
    una = contact(live.state(), "unlisted.una@example.com")
    assert una is not None and una["properties"][PROP_ATTENDED] == "1"
    all_processed()


def test_b1_late_recording_of_a_webinar_no_longer_listed_is_found_without_full(live):
    from connector.services.sync_settings import sync_settings_import

    sync_settings_import(portal=live.portal, document={"users": {"eva.eu@acme.eu": {"sync_recordings": True}}})  # R9
    # EU Customer Day ended weeks ago: a sync looks for its recording (none), then Zoom stops
    # listing the webinar.
    portal_sync(portal=live.portal, run=SyncRun.objects.create(portal=live.portal, trigger="beat"))
    session = Session.objects.get(uuid=EU_SESSION)
    assert session.recording_checked_at is not None and not Recording.objects.filter(session=session).exists()
    live.load_zoom(_demo_with({EU_DAY: {"expired": True}}))
    portal_sync(portal=live.portal, run=SyncRun.objects.create(portal=live.portal, trigger="beat"))
    hans = contact(live.state(), "hans.mueller@beispiel.example")
    assert hans is not None and events(live.state(), TEMPLATE_RECORDING, hans["id"]) == []

    # The recording is processed late (weeks after the session): Zoom says so by webhook.
    out = live.act("recording", account_id="zacc_eu", webinar_id=EU_DAY, recording={
        "instance_uuid": EU_SESSION, "share_url": "https://zoom.us/rec/share/eu-late", "files": [{"file_type": "MP4"}]})
    assert [d["status"] for d in out["deliveries"]] == [200]
    [event] = events(live.state(), TEMPLATE_RECORDING, hans["id"])  # R20
    assert "https://zoom.us/rec/share/eu-late" in str(event["tokens"])
    assert not SyncRun.objects.filter(full=True).exists()
    all_processed()
