"""Recordings and transcripts end to end over HTTP to the sandbox (R6, R9, R20): pull from the
fake Zoom, events in the fake HubSpot, the report's recording counts; a recording that
appears only on the second sync."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from connector.models import Recording, Session
from tests.connector.issue5_scenarios import (
    START,
    TEMPLATE_RECORDING,
    TEMPLATE_REGISTRATION,
    at,
    base_scenario,
    connect,
    contact_ids,
    events_by_email,
    events_of,
    ms,
    participant,
    registrant,
    sync,
    webinar_of,
)

pytestmark = pytest.mark.django_db(transaction=False)

USERS = [
    {"id": "zu_1", "email": "host@acme.com", "first_name": "Hal", "last_name": "Host"},
    {"id": "zu_2", "email": "ada@acme.com", "first_name": "Ada", "last_name": "Alt"},
    {"id": "zu_3", "email": "lena@acme-legal.com", "first_name": "Lena", "last_name": "Legal"},
]
SETTINGS = {
    "excluded_recording_domains": ["acme-legal.com"],
    "users": {
        "host@acme.com": {"sync_recordings": True},  # R9 on
        "ada@acme.com": {"sync_recordings": False},  # R9 off
        "lena@acme-legal.com": {"sync_recordings": True},  # R9 on, but R6 excludes her domain
    },
}
SHARE = "https://zoom.us/rec/share/launch-abc"
TRANSCRIPT = "https://zoom.us/rec/play/launch-vtt"


def held_webinar(webinar_id: int, host: str, uuid: str, people: list[str], *, recording: bool = True,
                 transcript: bool = True) -> dict[str, Any]:
    """A webinar held a few hours ago: the first person attends, the others only registered;
    plus one walk-in (attended without registering)."""
    created = START - dt.timedelta(days=3)
    regs = [registrant(f"r_{webinar_id}_{i}", email, created=created, webinar_id=webinar_id)
            for i, email in enumerate(people)]
    webinar: dict[str, Any] = {
        "id": webinar_id, "host_id": host, "topic": f"Webinar {webinar_id}", "type": 5,
        "start_time": at(START, 0), "duration": 60, "join_url": f"https://zoom.us/j/{webinar_id}",
        "registrants": regs,
        "instances": [{
            "uuid": uuid, "start_time": at(START, 0), "end_time": at(START, 60),
            "participants": [
                participant("p_1", people[0], START, 0, 45, rid=regs[0]["id"]),
                participant("p_9", f"walkin{webinar_id % 10}@example.net", START, 10, 20),
            ],
        }],
    }
    if recording:
        files = [{"file_type": "MP4"}] + ([{"file_type": "TRANSCRIPT", "play_url": TRANSCRIPT}] if transcript else [])
        webinar["recordings"] = [{"instance_uuid": uuid, "share_url": SHARE, "files": files}]
    return webinar


def scenario(*, launch_recording: bool = True) -> dict[str, Any]:
    return base_scenario(users=USERS, webinars=[
        held_webinar(81000000001, "zu_1", "LaunchUUID000000000001==", ["jane@example.com", "bob@example.org"],
                     recording=launch_recording),
        held_webinar(81000000002, "zu_2", "AdaUUID00000000000002==", ["dora@example.com"]),
        held_webinar(81000000003, "zu_3", "LenaUUID0000000000003==", ["lee@example.com"], transcript=False),
    ])


def test_r20_recording_event_for_registrants_and_attendees_with_share_and_transcript_urls(sandbox):
    portal = connect(sandbox, scenario(), SETTINGS)
    report = sync(portal)
    state = sandbox.state()
    by_email = events_by_email(state, TEMPLATE_RECORDING)
    # Registered (jane attended, bob only registered) or attended without registering.
    assert set(by_email) == {"jane@example.com", "bob@example.org", "walkin1@example.net"}
    assert all(len(events) == 1 for events in by_email.values())
    tokens = by_email["bob@example.org"][0]["tokens"]
    assert tokens == {
        "webinar_id": "81000000001", "topic": "Webinar 81000000001", "start_time": ms(START),
        "recording_url": SHARE, "transcript_url": TRANSCRIPT,
    }
    assert report["recordings"]["synced"] == 1
    assert report["events"]["recording"] == 3
    assert report["pulled"]["recordings"] == 3  # every held session's recording was read


def test_r9_recordings_off_host_gets_no_recording_event_and_is_reported(sandbox):
    portal = connect(sandbox, scenario(), SETTINGS)
    report = sync(portal)
    state = sandbox.state()
    by_email = events_by_email(state, TEMPLATE_RECORDING)
    assert "dora@example.com" not in by_email and "walkin2@example.net" not in by_email
    # Ada's webinar still syncs its registrations (R9 is about recordings only).
    assert "dora@example.com" in events_by_email(state, TEMPLATE_REGISTRATION)
    assert report["recordings"]["skipped"]["recordings_off"] == 1
    assert Recording.objects.get(session__uuid="AdaUUID00000000000002==").share_url == ""  # nothing kept


def test_r9_switch_turned_on_later_sends_the_recording_on_the_next_sync(sandbox):
    portal = connect(sandbox, scenario(), SETTINGS)
    sync(portal)
    settings = {**SETTINGS, "users": {**SETTINGS["users"], "ada@acme.com": {"sync_recordings": True}}}
    from connector.services.sync_settings import sync_settings_import

    sync_settings_import(portal=portal, document=settings)
    report = sync(portal)
    by_email = events_by_email(sandbox.state(), TEMPLATE_RECORDING)
    assert by_email["dora@example.com"][0]["tokens"]["recording_url"] == SHARE
    assert report["recordings"]["synced"] == 1 and report["recordings"]["skipped"]["recordings_off"] == 0


def test_r6_excluded_recording_domain_gets_no_recording_event_even_with_switch_on(sandbox):
    portal = connect(sandbox, scenario(), SETTINGS)
    report = sync(portal)
    by_email = events_by_email(sandbox.state(), TEMPLATE_RECORDING)
    assert "lee@example.com" not in by_email and "walkin3@example.net" not in by_email
    assert report["recordings"]["skipped"]["recording_domain_excluded"] == 1
    assert report["recordings"]["skipped"]["recordings_off"] == 1
    # Without the exclusion, Lena's recording (no transcript) is synced.
    settings = {**SETTINGS, "excluded_recording_domains": []}
    from connector.services.sync_settings import sync_settings_import

    sync_settings_import(portal=portal, document=settings)
    sync(portal)
    lee = events_by_email(sandbox.state(), TEMPLATE_RECORDING)["lee@example.com"]
    assert len(lee) == 1 and lee[0]["tokens"]["transcript_url"] == ""


def test_r20_second_sync_over_unchanged_data_sends_nothing_again(sandbox):
    portal = connect(sandbox, scenario(), SETTINGS)
    sync(portal)
    before = len(events_of(sandbox.state(), TEMPLATE_RECORDING))
    sandbox.calls_clear()
    report = sync(portal)
    assert len(events_of(sandbox.state(), TEMPLATE_RECORDING)) == before == 3
    assert report["events"]["recording"] == 0 and report["recordings"]["synced"] == 0
    # Stored recordings are not asked for again (the two a rule stopped are kept as markers
    # without URLs, and reported on every sync).
    assert report["pulled"]["recordings"] == 0
    assert sandbox.calls()["zoom"].get("GET /v2/meetings/{meetingId}/recordings", 0) == 0
    assert report["recordings"]["skipped"] == {"recordings_off": 1, "recording_domain_excluded": 1}


def test_r20_recording_that_appears_only_on_the_second_sync(sandbox):
    data = scenario(launch_recording=False)
    portal = connect(sandbox, data, SETTINGS)
    first = sync(portal)
    state = sandbox.state()
    assert "jane@example.com" not in events_by_email(state, TEMPLATE_RECORDING)
    assert first["recordings"]["synced"] == 0
    assert Session.objects.get(uuid="LaunchUUID000000000001==").recording_checked_at is not None
    registrations = len(events_of(state, TEMPLATE_REGISTRATION))
    contacts = len(contact_ids(state))

    # Zoom finished processing: the recording is there now (HubSpot's state is kept).
    webinar_of(data, 81000000001)["recordings"] = [
        {"instance_uuid": "LaunchUUID000000000001==", "share_url": SHARE,
         "files": [{"file_type": "MP4"}, {"file_type": "TRANSCRIPT", "play_url": TRANSCRIPT}]}
    ]
    sandbox.load_zoom(data)
    second = sync(portal)
    state = sandbox.state()
    by_email = events_by_email(state, TEMPLATE_RECORDING)
    assert {e for e in by_email if e.endswith("example.com") or e.endswith("example.org")} >= {
        "jane@example.com", "bob@example.org"}
    assert by_email["jane@example.com"][0]["tokens"]["recording_url"] == SHARE
    assert second["recordings"]["synced"] == 1 and second["pulled"]["recordings"] == 1
    assert second["events"]["recording"] == 3
    # Nothing else was sent twice.
    assert len(events_of(state, TEMPLATE_REGISTRATION)) == registrations
    assert second["events"]["registration"] == 0 and second["events"]["attendance"] == 0
    assert len(contact_ids(state)) == contacts


def test_r20_recording_events_on_app_events_and_none_on_marketing_events(sandbox):
    settings = {**SETTINGS, "event_sinks": ["marketing_events", "app_events"]}
    portal = connect(sandbox, scenario(), settings)
    report = sync(portal)
    state = sandbox.state()
    recording_events = [e for e in state["hubspot"]["app_events"]
                        if "recording" in str(e.get("eventTypeName", "")).lower()]
    assert len(recording_events) == 3  # jane, bob and the walk-in of Hal's webinar
    assert {e["properties"]["recording_url"] for e in recording_events} == {SHARE}
    # Counted once, on the first sink that carries recordings (app_events here).
    assert report["events"]["recording"] == 3 and report["recordings"]["synced"] == 1
    assert state["hubspot"]["timeline_events"] == []
    # Marketing events carry registrations and attendance only.
    states = {p["state"] for m in state["hubspot"]["marketing_events"] for p in m["participations"]}
    assert states <= {"REGISTERED", "ATTENDED"}
