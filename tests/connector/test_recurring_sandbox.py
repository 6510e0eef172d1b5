"""Recurring webinars (Zoom types 6 and 9) and moved webinars, end to end over HTTP to the
sandbox: each held occurrence is its own session with its own attendance event and %
(INTERFACES.md §5), and attendance is keyed by session, not by the scheduled time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from connector.models import PersonStats, Session
from tests.connector.issue5_scenarios import (
    NOW,
    TEMPLATE_ATTENDANCE,
    TEMPLATE_RECORDING,
    TEMPLATE_REGISTRATION,
    at,
    base_scenario,
    connect,
    contact_props,
    events_by_email,
    iso,
    ms,
    participant,
    registrant,
    sync,
    webinar_of,
)

pytestmark = pytest.mark.django_db(transaction=False)

WID = 81000000042
# Three weekly occurrences, all held.
OCC = [NOW - dt.timedelta(days=15 - 7 * i, hours=2) for i in range(3)]  # -15d, -8d, -1d
UUIDS = ["Occ1UUID00000000000001==", "Occ2UUID00000000000002==", "Occ3UUID00000000000003=="]


def recurring_scenario(webinar_type: int = 9) -> dict[str, Any]:
    created = OCC[0] - dt.timedelta(days=5)
    webinar: dict[str, Any] = {
        "id": WID, "host_id": "zu_1", "topic": "Weekly Office Hours", "type": webinar_type,
        "duration": 60, "join_url": f"https://zoom.us/j/{WID}",
        "registrants": [
            registrant("r_jane", "jane@example.com", created=created, webinar_id=WID),
            # Registered after the first occurrence was held.
            registrant("r_late", "late@example.com", created=OCC[1] - dt.timedelta(days=1), webinar_id=WID),
        ],
        "instances": [
            {"uuid": UUIDS[0], "start_time": iso(OCC[0]), "end_time": at(OCC[0], 60),
             "participants": [participant("p1", "jane@example.com", OCC[0], 0, 60, rid="r_jane")]},
            {"uuid": UUIDS[1], "start_time": iso(OCC[1]), "end_time": at(OCC[1], 60),
             "participants": [participant("p2", "late@example.com", OCC[1], 0, 15, rid="r_late")]},
            {"uuid": UUIDS[2], "start_time": iso(OCC[2]), "end_time": at(OCC[2], 60),
             "participants": [
                 participant("p3", "jane@example.com", OCC[2], 0, 20, rid="r_jane"),
                 participant("p3", "jane@example.com", OCC[2], 30, 40, rid="r_jane"),  # rejoin
             ]},
        ],
        "recordings": [
            {"instance_uuid": UUIDS[0], "share_url": "https://zoom.us/rec/share/occ1", "files": [{"file_type": "MP4"}]},
            {"instance_uuid": UUIDS[2], "share_url": "https://zoom.us/rec/share/occ3", "files": [{"file_type": "MP4"}]},
        ],
    }
    if webinar_type == 9:
        webinar["occurrences"] = [
            {"occurrence_id": str(int(o.timestamp() * 1000)), "start_time": iso(o), "duration": 60} for o in OCC
        ]
        webinar["start_time"] = iso(OCC[0])
    return base_scenario(webinars=[webinar])


SETTINGS = {"users": {"host@acme.com": {"sync_recordings": True}}}


@pytest.mark.parametrize("webinar_type", [9, 6])
def test_recurring_three_occurrences_person_attends_two(sandbox, webinar_type):
    portal = connect(sandbox, recurring_scenario(webinar_type), SETTINGS)
    report = sync(portal)
    state = sandbox.state()

    # Each held occurrence is its own session, keyed by the instance UUID.
    assert sorted(Session.objects.values_list("uuid", flat=True)) == sorted(UUIDS)
    if webinar_type == 9:
        # Matched to Zoom's occurrence by start time (attendance rows carry no occurrence id).
        assert {s.uuid: s.occurrence_id for s in Session.objects.all()} == {
            u: str(int(o.timestamp() * 1000)) for u, o in zip(UUIDS, OCC, strict=True)
        }

    jane = events_by_email(state, TEMPLATE_ATTENDANCE)["jane@example.com"]
    assert len(jane) == 2  # two attendance events, one per attended occurrence
    by_date = {e["tokens"]["webinar_date"]: e["tokens"] for e in jane}
    assert set(by_date) == {ms(OCC[0]), ms(OCC[2])}
    assert by_date[ms(OCC[0])]["attendance_percent"] == "100.0"
    # Rejoin merged: 20 + 10 minutes of 60.
    assert by_date[ms(OCC[2])]["attendance_seconds"] == "1800"
    assert by_date[ms(OCC[2])]["attendance_percent"] == "50.0"
    assert len({e["id"] for e in jane}) == 2

    props = contact_props(state, "jane@example.com")
    assert props["zoomsync_attended_count"] == "2"
    assert props["zoomsync_average_attendance_percent"] == "75.0"  # over the two attended
    assert props["zoomsync_registration_count"] == "1"  # one webinar (by webinar ID)
    # One registration event for the series.
    assert len(events_by_email(state, TEMPLATE_REGISTRATION)["jane@example.com"]) == 1

    # Recordings per occurrence: jane registered for the series before it started, so both
    # recorded occurrences; late registered after occurrence 1 was held, so only occurrence 3.
    recs = events_by_email(state, TEMPLATE_RECORDING)
    assert sorted(e["tokens"]["recording_url"] for e in recs["jane@example.com"]) == [
        "https://zoom.us/rec/share/occ1", "https://zoom.us/rec/share/occ3"]
    assert [e["tokens"]["recording_url"] for e in recs["late@example.com"]] == ["https://zoom.us/rec/share/occ3"]
    assert report["recordings"]["synced"] == 2 and report["events"]["attendance"] == 3

    again = sync(portal)
    assert again["events"] == {"registration": 0, "attendance": 0, "recording": 0}
    assert len(events_by_email(sandbox.state(), TEMPLATE_ATTENDANCE)["jane@example.com"]) == 2


def test_recurring_new_occurrence_held_later_adds_its_session_only(sandbox):
    data = recurring_scenario()
    webinar = webinar_of(data, WID)
    held_later = webinar["instances"].pop()  # occurrence 3 not held yet at the first sync
    webinar["recordings"] = webinar["recordings"][:1]
    portal = connect(sandbox, data, SETTINGS)
    sync(portal)
    assert PersonStats.objects.get(email="jane@example.com").attended_count == 1

    webinar["instances"].append(held_later)
    sandbox.load_zoom(data)
    report = sync(portal)
    props = contact_props(sandbox.state(), "jane@example.com")
    assert props["zoomsync_attended_count"] == "2"
    assert props["zoomsync_average_attendance_percent"] == "75.0"
    assert report["events"]["attendance"] == 1  # only the new occurrence's
    assert Session.objects.count() == 3


def test_webinar_date_changed_after_registration_keeps_correct_attendance(sandbox):
    """Jane registered while the webinar was scheduled next week; it was moved earlier and
    held (starting 10 minutes late): attendance is measured against the held session."""
    scheduled = NOW + dt.timedelta(days=7)
    wid = 81000000077
    webinar: dict[str, Any] = {
        "id": wid, "host_id": "zu_1", "topic": "Moved webinar", "type": 5,
        "start_time": iso(scheduled), "duration": 60, "join_url": f"https://zoom.us/j/{wid}",
        "registrants": [registrant("r_j", "jane@example.com", created=NOW - dt.timedelta(days=3), webinar_id=wid)],
    }
    data = base_scenario(webinars=[webinar])
    webinar = webinar_of(data, wid)  # base_scenario copies
    portal = connect(sandbox, data)
    first = sync(portal)
    assert first["events"]["registration"] == 1 and first["events"]["attendance"] == 0
    assert not Session.objects.exists()

    # Moved to yesterday; held from 10 minutes after the new time, for 50 minutes.
    moved = NOW - dt.timedelta(days=1)
    held = moved + dt.timedelta(minutes=10)
    webinar["start_time"] = iso(moved)
    webinar["instances"] = [{
        "uuid": "MovedUUID000000000001==", "start_time": iso(held), "end_time": at(held, 50),
        "participants": [participant("p1", "jane@example.com", held, 0, 25, rid="r_j")],
    }]
    sandbox.load_zoom(data)
    second = sync(portal)
    state = sandbox.state()
    [event] = events_by_email(state, TEMPLATE_ATTENDANCE)["jane@example.com"]
    assert event["tokens"]["webinar_date"] == ms(held)
    assert event["tokens"]["attendance_seconds"] == "1500"
    assert event["tokens"]["attendance_percent"] == "50.0"  # 25 of the held 50 minutes
    props = contact_props(state, "jane@example.com")
    assert props["zoomsync_attended_count"] == "1" and props["zoomsync_average_attendance_percent"] == "50.0"
    assert props["zoomsync_registration_count"] == "1"
    # The registration event is not sent again for the moved webinar.
    assert len(events_by_email(state, TEMPLATE_REGISTRATION)["jane@example.com"]) == 1
    assert second["events"]["registration"] == 0 and second["events"]["attendance"] == 1


def test_generated_scenario_with_recurring_webinars_recordings_and_cancellations_syncs(sandbox):
    from connector.models import Recording, Registrant
    from sandbox.generate import scenario_generate

    data = scenario_generate(webinars=2, registrants=200, recurring_every=2, occurrences=3, recording_rate=1.0,
                             transcript_rate=0.5, seed=4, existing_contact_rate=0)
    series = data["zoom"]["accounts"][0]["webinars"][1]
    assert series["type"] == 9 and len(series["instances"]) == 3 and len(series["occurrences"]) == 3
    hosts = [u["email"] for u in data["zoom"]["accounts"][0]["users"]]
    portal = connect(sandbox, data, {"users": {h: {"sync_recordings": True} for h in hosts}})
    report = sync(portal)
    assert Session.objects.count() == 4  # one single webinar + three occurrences
    assert report["pulled"]["recordings"] == 4 and report["recordings"]["synced"] == 4
    transcripts = sum(1 for w in data["zoom"]["accounts"][0]["webinars"] for r in w["recordings"]
                      if any(f["file_type"] == "TRANSCRIPT" for f in r["files"]))
    assert Recording.objects.exclude(transcript_url="").count() == transcripts
    assert Registrant.objects.filter(status__in=("cancelled", "denied")).exists()
    assert report["events"]["recording"] > 0 and report["errors"] == []
