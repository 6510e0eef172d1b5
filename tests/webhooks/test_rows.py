"""One test per row of the INTERFACES.md §9 table, through HTTP: a live change in the sandbox,
its signed webhook to the connector (served by the same sandbox server), the HubSpot state
after it, without any scheduled sync in between (SPEC B1, B3, B4)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from connector.models import (
    ContactLink,
    ContactState,
    Registrant,
    Session,
    SyncRun,
    WebhookEvent,
    Webinar,
    ZoomAccount,
)
from connector.services.hubspot_schema import (
    PROP_ATTENDED,
    PROP_REGISTRATIONS,
    TEMPLATE_ATTENDANCE,
    TEMPLATE_RECORDING,
    TEMPLATE_REGISTRATION,
)
from connector.services.sync import portal_sync

pytestmark = pytest.mark.django_db(transaction=True)

FUTURE = 81000000005  # "Future Roadmap 2030", synced, one registrant
LAUNCH = 81000000001  # held, recorded


def contact(state: dict[str, Any], email: str) -> dict[str, Any] | None:
    return next((c for c in state["hubspot"]["contacts"]
                 if c["properties"].get("email", "").lower() == email.lower() and not c["archived"]), None)


def events(state: dict[str, Any], template: str, object_id: str) -> list[dict[str, Any]]:
    return [e for e in state["hubspot"]["timeline_events"]
            if e["template_name"] == template and str(e["objectId"]) == object_id]


def registrant_id(live: Any, webinar_id: int, email: str) -> str:
    for account in live.state()["zoom"]["accounts"]:
        for webinar in account["webinars"]:
            if webinar["id"] == webinar_id:
                return next(r["id"] for r in webinar["registrants"] if r["email"].lower() == email)
    raise AssertionError(email)


def all_processed() -> None:
    open_events = list(WebhookEvent.objects.exclude(status__in=("processed", "ignored"))
                       .values_list("event_type", "status", "last_error"))
    assert open_events == []


def test_b1_registration_created_creates_the_contact_with_counts_and_an_event(live):
    out = live.act("register", account_id="zacc_main", webinar_id=FUTURE,
                   registrant={"email": "new.person@example.com", "first_name": "New", "last_name": "Person"})
    assert out["deliveries"][0]["status"] == 200
    state = live.state()
    new = contact(state, "new.person@example.com")
    assert new is not None
    assert new["properties"][PROP_REGISTRATIONS] == "1"  # R18
    assert "81000000005" in new["properties"]["zoomsync_last_registered_webinar"]  # R17
    [event] = events(state, TEMPLATE_REGISTRATION, new["id"])
    assert event["tokens"]["webinar_id"] == str(FUTURE)
    all_processed()


def test_b1_registration_approved_updates_the_registrant_and_the_contact(live):
    # A pending registration (approval required) of a new person, then its approval.
    live.act("register", account_id="zacc_main", webinar_id=FUTURE,
             registrant={"email": "ann.approve@example.com", "status": "pending"})
    rid = registrant_id(live, FUTURE, "ann.approve@example.com")
    assert Registrant.objects.get(registrant_id=rid).status == "pending"
    live.act("registration_status", account_id="zacc_main", webinar_id=FUTURE, registrant_id=rid, status="approved")
    assert Registrant.objects.get(registrant_id=rid).status == "approved"
    ann = contact(live.state(), "ann.approve@example.com")
    assert ann is not None and ann["properties"][PROP_REGISTRATIONS] == "1"  # R18
    assert "81000000005" in ann["properties"]["zoomsync_last_registered_webinar"]  # R17
    assert len(events(live.state(), TEMPLATE_REGISTRATION, ann["id"])) == 1
    all_processed()


@pytest.mark.parametrize("status", ["cancelled", "denied"])
def test_b1_registration_cancelled_or_denied_lowers_the_count(live, status):
    rid = registrant_id(live, FUTURE, "lucy.liu@stark.example")
    before = contact(live.state(), "lucy.liu@stark.example")
    assert before is not None
    count = int(before["properties"][PROP_REGISTRATIONS])
    live.act("registration_status", account_id="zacc_main", webinar_id=FUTURE, registrant_id=rid, status=status)
    after = contact(live.state(), "lucy.liu@stark.example")
    assert after is not None and int(after["properties"][PROP_REGISTRATIONS]) == count - 1  # R18
    all_processed()


def test_b1_webinar_ended_brings_attendance(live):
    jane = contact(live.state(), "jane.doe@example.com")
    assert jane is not None
    attended = int(jane["properties"].get(PROP_ATTENDED, "0"))
    out = live.act("hold_session", account_id="zacc_main", webinar_id=LAUNCH, instance={
        "uuid": "LiveSession0000000001==", "start_time": "2026-12-01T15:00:00Z", "end_time": "2026-12-01T16:00:00Z",
        "participants": [{"user_email": "jane.doe@example.com", "join_time": "2026-12-01T15:00:00Z",
                          "leave_time": "2026-12-01T15:45:00Z"}]})
    assert {d["status"] for d in out["deliveries"]} == {200}
    state = live.state()
    jane = contact(state, "jane.doe@example.com")
    assert jane is not None and int(jane["properties"][PROP_ATTENDED]) == attended + 1  # R19
    assert jane["properties"]["zoomsync_average_attendance_percent"]  # R16
    sessions = [e for e in events(state, TEMPLATE_ATTENDANCE, jane["id"]) if e["tokens"]["webinar_id"] == str(LAUNCH)]
    assert len(sessions) == 2  # the first session's, and this one's
    all_processed()


def test_b1_webinar_ended_waits_for_a_lagging_participant_report(live):
    from connector.webhooks.tasks import webhook_inbox_drain_task

    live.configure(report_delay_s=1.5)
    live.act("register", account_id="zacc_main", webinar_id=LAUNCH, registrant={"email": "late.larry@example.com"})
    live.act("hold_session", account_id="zacc_main", webinar_id=LAUNCH, instance={
        "uuid": "LagSession00000000001==", "participants": [{"user_email": "late.larry@example.com"}]})
    ended = WebhookEvent.objects.get(event_type="webinar.ended")
    assert ended.status == "retrying" and "not complete" in ended.last_error
    larry = contact(live.state(), "late.larry@example.com")
    assert larry is not None and larry["properties"].get(PROP_ATTENDED, "0") == "0"
    time.sleep(1.6)
    WebhookEvent.objects.filter(pk=ended.pk).update(next_attempt_at=ended.next_attempt_at.replace(year=2000))
    webhook_inbox_drain_task()
    ended.refresh_from_db()
    assert ended.status == "processed"
    larry = contact(live.state(), "late.larry@example.com")
    assert larry is not None and larry["properties"][PROP_ATTENDED] == "1"


def test_b1_recording_completed_and_transcript(live):
    from connector.services.sync_settings import sync_settings_import

    sync_settings_import(portal=live.portal, document={"users": {"hal.host@acme.com": {"sync_recordings": True}}})  # R9
    live.act("register", account_id="zacc_main", webinar_id=LAUNCH, registrant={"email": "rec.rita@example.com"})
    # A session that just ended (the default times: the last hour), its recording minutes later.
    live.act("hold_session", account_id="zacc_main", webinar_id=LAUNCH, instance={
        "uuid": "RecSession00000000001==", "participants": [{"user_email": "rec.rita@example.com"}]})
    rita = contact(live.state(), "rec.rita@example.com")
    assert rita is not None

    def live_recording_events() -> list[dict[str, Any]]:
        return [e for e in events(live.state(), TEMPLATE_RECORDING, rita["id"])
                if "https://zoom.us/rec/share/live-1" in str(e["tokens"])]

    assert live_recording_events() == []
    out = live.act("recording", account_id="zacc_main", webinar_id=LAUNCH, recording={
        "instance_uuid": "RecSession00000000001==", "share_url": "https://zoom.us/rec/share/live-1",
        "files": [{"file_type": "MP4"}, {"file_type": "TRANSCRIPT", "play_url": "https://zoom.us/rec/play/live-vtt"}]})
    assert [d["event"] for d in out["deliveries"]] == ["recording.completed", "recording.transcript_completed"]
    assert len(live_recording_events()) == 1  # R20
    recording = Session.objects.get(uuid="RecSession00000000001==").recording
    assert recording.transcript_url == "https://zoom.us/rec/play/live-vtt"
    all_processed()


def test_b1_webinar_updated_refreshes_metadata(live):
    live.act("webinar_update", account_id="zacc_main", webinar_id=FUTURE, changes={"topic": "Roadmap 2030, renamed"})
    assert Webinar.objects.get(webinar_id=str(FUTURE)).topic == "Roadmap 2030, renamed"
    live.act("register", account_id="zacc_main", webinar_id=FUTURE, registrant={"email": "topic.tom@example.com"})
    tom = contact(live.state(), "topic.tom@example.com")
    assert tom is not None
    [event] = events(live.state(), TEMPLATE_REGISTRATION, tom["id"])
    assert event["tokens"]["webinar_name"] == "Roadmap 2030, renamed"
    all_processed()


def test_b1_webinar_created_is_synced_by_default(live):
    # R8: a webinar the user creates later is synced without anyone ticking it.
    live.act("webinar_create", account_id="zacc_main", webinar={
        "id": 81000000042, "host_id": "zu_hal", "topic": "Brand new", "start_time": "2030-09-01T15:00:00Z"})
    webinar = Webinar.objects.get(webinar_id="81000000042")
    assert webinar.topic == "Brand new" and webinar.skip_reason == ""
    live.act("register", account_id="zacc_main", webinar_id=81000000042, registrant={"email": "nora.new@example.com"})
    nora = contact(live.state(), "nora.new@example.com")
    assert nora is not None and nora["properties"][PROP_REGISTRATIONS] == "1"
    all_processed()


def test_b1_webinar_deleted_is_no_longer_pulled(live):
    webinar = Webinar.objects.get(webinar_id="81000000006")
    pulled = webinar.last_pulled_at
    live.act("webinar_delete", account_id="zacc_main", webinar_id=81000000006)
    assert WebhookEvent.objects.get(event_type="webinar.deleted").status == "processed"
    assert SyncRun.objects.filter(trigger="webhook", status="succeeded").exists()
    webinar.refresh_from_db()
    assert webinar.last_pulled_at == pulled  # gone from Zoom's listing: its verdict is refreshed
    all_processed()


def test_b3_contact_deletion_marks_the_link_and_never_recreates(live):
    live.act("delete_contact", contact_id="501")
    link = ContactLink.objects.get(email="jane.doe@example.com")
    assert link.state == ContactState.DELETED  # R14
    live.act("register", account_id="zacc_main", webinar_id=FUTURE, registrant={"email": "jane.doe@example.com"})
    assert contact(live.state(), "jane.doe@example.com") is None
    all_processed()


def test_b3_contact_merge_moves_the_link_without_duplicates(live):
    state = live.state()
    ken, maria = contact(state, "ken.adams@hooli.example"), contact(state, "maria.garcia@umbrella.example")
    assert ken is not None and maria is not None
    before = len(events(state, TEMPLATE_REGISTRATION, ken["id"])) + len(events(state, TEMPLATE_REGISTRATION, maria["id"]))
    contacts_before = len(state["hubspot"]["contacts"])
    live.act("merge_contacts", primary_id=maria["id"], merged_id=ken["id"])
    assert ContactLink.objects.get(email="ken.adams@hooli.example").contact_id == maria["id"]
    # A sync afterwards: no contact recreated for the merged email, no event sent twice.
    portal_sync(portal=live.portal, run=SyncRun.objects.create(portal=live.portal, trigger="cli"))
    state = live.state()
    assert len(state["hubspot"]["contacts"]) == contacts_before - 1
    assert len(events(state, TEMPLATE_REGISTRATION, maria["id"])) == before
    assert ContactLink.objects.get(email="ken.adams@hooli.example").contact_id == maria["id"]
    all_processed()


def test_b4_privacy_deletion_erases_the_person(live):
    pytest.importorskip("connector.services.erasure", reason="the erasure services are not on this branch yet")
    live.act("privacy_delete_contact", contact_id="506")
    email = "maria.garcia@umbrella.example"
    assert not Registrant.objects.filter(email=email).exists()
    assert not ContactLink.objects.filter(email=email).exists()
    assert not WebhookEvent.objects.filter(raw_body__icontains=email).exists()
    live.act("register", account_id="zacc_main", webinar_id=FUTURE, registrant={"email": email})
    assert contact(live.state(), email) is None  # never recreated
    all_processed()


def test_b4_app_deauthorized_erases_the_account_and_shows_it_disconnected(live):
    account = ZoomAccount.objects.get(account_id="zacc_eu")
    assert Webinar.objects.filter(account=account).exists()
    live.act("deauthorize", account_id="zacc_eu")
    remaining = ZoomAccount.objects.filter(pk=account.pk).first()
    assert remaining is not None  # shown on Connections as disconnected
    assert remaining.status != "connected" and not remaining.access_token and not remaining.refresh_token
    assert not Webinar.objects.filter(account_id=account.pk).exists()
    assert not Registrant.objects.filter(webinar__account_id=account.pk).exists()
    # The other account still syncs.
    assert ZoomAccount.objects.get(account_id="zacc_main").status == "connected"
