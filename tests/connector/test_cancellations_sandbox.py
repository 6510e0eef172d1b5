"""Cancelled and denied registrations, end to end over HTTP to the sandbox: after the next
sync they no longer count in R18/R17, the marketing-event participation becomes cancelled,
the registration event already on the timeline stays, and nothing is created twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from connector.models import PersonStats
from tests.connector.issue5_scenarios import (
    NOW,
    TEMPLATE_REGISTRATION,
    at,
    base_scenario,
    connect,
    contact_ids,
    contact_props,
    events_by_email,
    iso,
    participant,
    registrant,
    sync,
    webinar_of,
)

pytestmark = pytest.mark.django_db(transaction=False)

A, B = 81000000101, 81000000102
HELD = NOW - dt.timedelta(days=2)


def scenario() -> dict[str, Any]:
    """Jane registered for A, then B (later: B is her R17 webinar); Bob (pending) only for B.
    Both webinars were held; only Carl attended B."""
    webinars = []
    for wid, day in ((A, 0), (B, 1)):
        start = HELD + dt.timedelta(days=day)
        webinars.append({
            "id": wid, "host_id": "zu_1", "topic": f"Webinar {wid}", "type": 5, "start_time": iso(start),
            "duration": 60, "join_url": f"https://zoom.us/j/{wid}",
            "registrants": [registrant(f"r_jane_{wid}", "jane@example.com",
                                       created=HELD - dt.timedelta(days=10 - day), webinar_id=wid)],
            "instances": [{"uuid": f"Held{wid}UUID0000001==", "start_time": iso(start), "end_time": at(start, 60),
                           "participants": []}],
        })
    b = webinars[1]
    b["registrants"].append(registrant("r_bob", "bob@example.org", status="pending",
                                       created=HELD - dt.timedelta(days=5), webinar_id=B))
    b["registrants"].append(registrant("r_carl", "carl@example.org", created=HELD - dt.timedelta(days=5), webinar_id=B))
    start_b = HELD + dt.timedelta(days=1)
    b["instances"][0]["participants"] = [participant("p1", "carl@example.org", start_b, 0, 30, rid="r_carl")]
    return base_scenario(webinars=webinars)


def set_status(data: dict[str, Any], webinar_id: int, registrant_id: str, status: str) -> None:
    reg = next(r for r in webinar_of(data, webinar_id)["registrants"] if r["id"] == registrant_id)
    reg["status"] = status


def test_cancellation_after_a_sync_counts_go_down_and_nothing_is_sent_twice(sandbox):
    data = scenario()
    portal = connect(sandbox, data)
    sync(portal)
    state = sandbox.state()
    jane = contact_props(state, "jane@example.com")
    assert jane["zoomsync_registration_count"] == "2"
    assert jane["zoomsync_last_registered_webinar"] == f"https://zoom.us/w/{B}?tk=r_jane_{B}"
    registrations_before = len(events_by_email(state, TEMPLATE_REGISTRATION)["jane@example.com"])
    assert registrations_before == 2
    contacts_before = contact_ids(state)

    set_status(data, B, f"r_jane_{B}", "cancelled")  # Zoom stops listing her for B
    sandbox.load_zoom(data)
    report = sync(portal)
    state = sandbox.state()
    jane = contact_props(state, "jane@example.com")
    assert jane["zoomsync_registration_count"] == "1"  # R18
    assert jane["zoomsync_last_registered_webinar"] == f"https://zoom.us/w/{A}?tk=r_jane_{A}"  # R17
    # The registration event for B happened: it stays, and none is added or sent again.
    assert len(events_by_email(state, TEMPLATE_REGISTRATION)["jane@example.com"]) == registrations_before
    assert report["events"] == {"registration": 0, "attendance": 0, "recording": 0}
    assert report["people"]["contacts_created"] == 0 and report["people"]["contacts_updated"] == 1
    assert contact_ids(state) == contacts_before

    again = sync(portal)
    assert again["people"]["contacts_updated"] == 0


def test_denied_registration_stops_counting_even_when_it_was_the_only_one(sandbox):
    data = scenario()
    portal = connect(sandbox, data)
    sync(portal)
    bob = contact_props(sandbox.state(), "bob@example.org")
    assert bob["zoomsync_registration_count"] == "1"
    assert bob["zoomsync_last_registered_webinar"] == f"https://zoom.us/w/{B}?tk=r_bob"

    set_status(data, B, "r_bob", "denied")
    sandbox.load_zoom(data)
    sync(portal)
    state = sandbox.state()
    bob = contact_props(state, "bob@example.org")
    assert bob["zoomsync_registration_count"] == "0"
    assert bob.get("zoomsync_last_registered_webinar") in ("", None)
    assert len(events_by_email(state, TEMPLATE_REGISTRATION)["bob@example.org"]) == 1  # stays
    # Once the contact holds the lowered values, the person is no longer tracked.
    again = sync(portal)
    assert again["people"]["contacts_updated"] == 0
    assert not PersonStats.objects.filter(email="bob@example.org").exists()


def test_cancellation_marks_the_marketing_event_participation_cancelled(sandbox):
    data = scenario()
    portal = connect(sandbox, data, {"event_sinks": ["timeline", "marketing_events"]})
    sync(portal)
    state = sandbox.state()
    ids = contact_ids(state)

    def participation(st: dict[str, Any], webinar_id: int, email: str) -> str | None:
        for event in st["hubspot"]["marketing_events"]:
            if str(webinar_id) in event["externalEventId"]:
                for p in event["participations"]:
                    if str(p["contactId"]) == ids[email]:
                        return p["state"]
        return None

    assert participation(state, B, "jane@example.com") == "REGISTERED"
    assert participation(state, B, "carl@example.org") == "ATTENDED"
    events_before = len(state["hubspot"]["marketing_events"])

    set_status(data, B, f"r_jane_{B}", "cancelled")
    sandbox.load_zoom(data)
    sync(portal)
    state = sandbox.state()
    assert participation(state, B, "jane@example.com") == "CANCELLED"
    assert participation(state, A, "jane@example.com") == "REGISTERED"  # the other webinar untouched
    assert participation(state, B, "carl@example.org") == "ATTENDED"
    assert len(state["hubspot"]["marketing_events"]) == events_before  # no marketing event twice
    assert contact_props(state, "jane@example.com")["zoomsync_registration_count"] == "1"


def test_denied_registration_marks_the_marketing_event_participation_cancelled(sandbox):
    data = scenario()
    # Dan: registered for A, denied for B from the start (never a participant of B).
    created = HELD - dt.timedelta(days=6)
    webinar_of(data, A)["registrants"].append(registrant("r_dan_a", "dan@example.org", created=created, webinar_id=A))
    webinar_of(data, B)["registrants"].append(
        registrant("r_dan_b", "dan@example.org", status="denied", created=created, webinar_id=B))
    portal = connect(sandbox, data, {"event_sinks": ["timeline", "marketing_events"]})
    sync(portal)
    ids = contact_ids(sandbox.state())
    bob = ids["bob@example.org"]

    def bob_state() -> str | None:
        for event in sandbox.state()["hubspot"]["marketing_events"]:
            if str(B) in event["externalEventId"]:
                return next((p["state"] for p in event["participations"] if str(p["contactId"]) == bob), None)
        return None

    assert bob_state() == "REGISTERED"
    set_status(data, B, "r_bob", "denied")
    sandbox.load_zoom(data)
    sync(portal)
    assert bob_state() == "CANCELLED"
    for event in sandbox.state()["hubspot"]["marketing_events"]:
        if str(B) in event["externalEventId"]:
            assert ids["dan@example.org"] not in {str(p["contactId"]) for p in event["participations"]}
    assert contact_props(sandbox.state(), "bob@example.org")["zoomsync_registration_count"] == "0"
