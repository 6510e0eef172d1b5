"""A transcript that comes after its recording (R20, INTERFACES.md §9 "transcript URL filled
when it comes"), through HTTP: live changes in the sandbox, their signed webhooks to the
connector, the HubSpot state after them. Timeline events cannot be changed once created, so a
recording's events wait while Zoom says its transcript is processing (at most the settle time)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from connector.models import Recording, SyncRun
from connector.services.hubspot_schema import TEMPLATE_RECORDING
from connector.services.recordings import TRANSCRIPT_SETTLE
from connector.services.sync import portal_sync
from tests.webhooks.conftest import live, webhook_settings  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

LAUNCH = 81000000001  # demo: held, host hal.host@acme.com
UUID = "LateVtt000000000000001=="
SHARE = "https://zoom.us/rec/share/late-1"
VTT = "https://zoom.us/rec/play/late-vtt"


def recording_events(world: Any, email: str) -> list[dict[str, Any]]:
    state = world.state()
    ids = {c["id"] for c in state["hubspot"]["contacts"]
           if c["properties"].get("email", "").lower() == email and not c["archived"]}
    return [e for e in state["hubspot"]["timeline_events"]
            if e["template_name"] == TEMPLATE_RECORDING and str(e["objectId"]) in ids
            and e["tokens"].get("recording_url") == SHARE]


def held(world: Any) -> None:
    from connector.services.sync_settings import sync_settings_import

    sync_settings_import(portal=world.portal, document={"users": {"hal.host@acme.com": {"sync_recordings": True}}})  # R9
    world.act("register", account_id="zacc_main", webinar_id=LAUNCH, registrant={"email": "vtt.vera@example.com"})
    world.act("hold_session", account_id="zacc_main", webinar_id=LAUNCH, instance={
        "uuid": UUID, "participants": [{"user_email": "vtt.vera@example.com"}]})


def record(world: Any, *transcript: dict[str, Any]) -> list[str]:
    out = world.act("recording", account_id="zacc_main", webinar_id=LAUNCH, recording={
        "instance_uuid": UUID, "share_url": SHARE, "files": [{"file_type": "MP4"}, *transcript]})
    assert all(d["status"] == 200 for d in out["deliveries"])
    return [d["event"] for d in out["deliveries"]]


def test_r20_event_waits_for_a_processing_transcript_then_carries_its_url(live):  # noqa: F811 - fixtures
    held(live)
    record(live, {"file_type": "TRANSCRIPT", "status": "processing"})
    recording = Recording.objects.get(session__uuid=UUID)
    assert recording.share_url == SHARE and recording.transcript_url == ""
    assert recording.transcript_wait_until is not None
    assert recording.transcript_wait_until <= timezone.now() + TRANSCRIPT_SETTLE
    assert recording_events(live, "vtt.vera@example.com") == []  # held back: the transcript is coming

    # Zoom finishes the transcript: recording.transcript_completed (with recording.completed).
    assert record(live, {"file_type": "TRANSCRIPT", "play_url": VTT}) == [
        "recording.completed", "recording.transcript_completed"]
    recording.refresh_from_db()
    assert recording.transcript_url == VTT and recording.transcript_wait_until is None
    [event] = recording_events(live, "vtt.vera@example.com")
    assert event["tokens"]["transcript_url"] == VTT

    # Nothing is sent twice on a later sync.
    portal_sync(portal=live.portal, run=SyncRun.objects.create(portal=live.portal, trigger="cli"))
    assert len(recording_events(live, "vtt.vera@example.com")) == 1


def test_r20_transcript_that_never_comes_releases_the_event_after_the_settle_time(live):  # noqa: F811 - fixtures
    held(live)
    record(live, {"file_type": "TRANSCRIPT", "status": "processing"})
    assert recording_events(live, "vtt.vera@example.com") == []
    # The settle time passes with Zoom still processing: the next sync sends the event without it.
    Recording.objects.filter(session__uuid=UUID).update(transcript_wait_until=timezone.now() - dt.timedelta(seconds=1))
    portal_sync(portal=live.portal, run=SyncRun.objects.create(portal=live.portal, trigger="cli"))
    [event] = recording_events(live, "vtt.vera@example.com")
    assert event["tokens"]["transcript_url"] == ""
    recording = Recording.objects.get(session__uuid=UUID)
    assert recording.transcript_wait_until is None and recording.transcript_url == ""


def test_b1_late_transcript_of_a_stored_recording_fills_its_transcript_url(live):  # noqa: F811 - fixtures
    held(live)
    assert record(live) == ["recording.completed"]  # Zoom lists no transcript: the event goes now
    [event] = recording_events(live, "vtt.vera@example.com")
    assert event["tokens"]["transcript_url"] == ""
    assert Recording.objects.get(session__uuid=UUID).transcript_url == ""

    record(live, {"file_type": "TRANSCRIPT", "play_url": VTT})
    recording = Recording.objects.get(session__uuid=UUID)
    assert recording.transcript_url == VTT and recording.transcript_wait_until is None
    # HubSpot's timeline events are immutable: the one sent stays, nothing is sent twice.
    assert len(recording_events(live, "vtt.vera@example.com")) == 1
