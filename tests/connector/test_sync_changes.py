"""B2 change tracking, end to end over HTTP to the sandbox: a sync with nothing changed makes
no HubSpot call, a change costs what changed (not what history holds), a settings change takes
effect on the next sync, and participant rows Zoom's report adds later reach HubSpot without
a full sync."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from connector.models import DirtyPerson, SyncRun
from connector.services.sync import portal_sync
from connector.services.sync_settings import sync_settings_import
from tests.connector.issue5_scenarios import (
    NOW,
    at,
    base_scenario,
    connect,
    contact_props,
    iso,
    participant,
    registrant,
    sync,
    webinar_of,
)

pytestmark = pytest.mark.django_db(transaction=False)

A, B, C = 81000000201, 81000000202, 81000000203
HELD = NOW - dt.timedelta(days=2)


def scenario(people: int = 10) -> dict[str, Any]:
    """A and B held two days ago: `people` registered for A, Jane for A and B, Carl attended
    B. C ended an hour ago (its report may still grow): Dan registered and attended."""
    start_a, start_b, start_c = HELD, HELD + dt.timedelta(days=1), NOW - dt.timedelta(minutes=120)
    regs_a = [
        registrant(f"r_p{n}", f"person{n}@example.com", created=HELD - dt.timedelta(days=9), webinar_id=A)
        for n in range(people)
    ]
    regs_a.append(registrant("r_jane_a", "jane@example.com", created=HELD - dt.timedelta(days=8), webinar_id=A))
    webinars = [
        {"id": A, "host_id": "zu_1", "topic": "A", "type": 5, "start_time": iso(start_a), "duration": 60,
         "join_url": f"https://zoom.us/j/{A}", "registrants": regs_a,
         "instances": [{"uuid": "HeldAUUID00000000001==", "start_time": iso(start_a), "end_time": at(start_a, 60),
                        "participants": [participant("pa1", "person0@example.com", start_a, 0, 30)]}]},
        {"id": B, "host_id": "zu_1", "topic": "B", "type": 5, "start_time": iso(start_b), "duration": 60,
         "join_url": f"https://zoom.us/j/{B}",
         "registrants": [
             registrant("r_jane_b", "jane@example.com", created=HELD - dt.timedelta(days=7), webinar_id=B),
             registrant("r_carl", "carl@example.org", created=HELD - dt.timedelta(days=7), webinar_id=B),
         ],
         "instances": [{"uuid": "HeldBUUID00000000001==", "start_time": iso(start_b), "end_time": at(start_b, 60),
                        "participants": [participant("pb1", "carl@example.org", start_b, 0, 60, rid="r_carl")]}]},
        {"id": C, "host_id": "zu_1", "topic": "C", "type": 5, "start_time": iso(start_c), "duration": 60,
         "join_url": f"https://zoom.us/j/{C}",
         "registrants": [
             registrant("r_dan", "dan@example.org", created=HELD, webinar_id=C),
             registrant("r_eve", "eve@example.org", created=HELD, webinar_id=C),
         ],
         "instances": [{"uuid": "HeldCUUID00000000001==", "start_time": iso(start_c), "end_time": at(start_c, 60),
                        "participants": [participant("pc1", "dan@example.org", start_c, 0, 60, rid="r_dan")]}]},
    ]
    return base_scenario(webinars=webinars)


def hubspot_calls(sandbox) -> int:
    return sum(sum(v.values()) if isinstance(v, dict) else int(v) for v in [sandbox.calls().get("hubspot", {})])


def test_b2_unchanged_sync_makes_no_hubspot_call(sandbox):
    portal = connect(sandbox, scenario())
    first = sync(portal)
    assert first["people"]["contacts_created"] == 14 and first["errors"] == []
    assert not DirtyPerson.objects.filter(portal=portal).exists()  # all pushed
    sandbox.calls_clear()
    again = sync(portal)
    assert again["api_calls"]["hubspot"] == 0
    assert hubspot_calls(sandbox) == 0
    assert again["people"] == {**first["people"], "contacts_created": 0, "contacts_updated": 0}


def _change_cost(sandbox, people: int) -> tuple[int, dict[str, Any]]:
    data = scenario(people)
    portal = connect(sandbox, data)
    sync(portal)
    # Two new registrants of A, and Person1 in the report of C (which may still grow).
    webinar_a = webinar_of(data, A)
    for n in (1, 2):
        webinar_a["registrants"].append(
            registrant(f"r_new{n}", f"new{n}@example.net", created=HELD - dt.timedelta(days=1), webinar_id=A)
        )
    start_c = NOW - dt.timedelta(minutes=120)
    webinar_of(data, C)["instances"][0]["participants"].append(participant("pc3", "person1@example.com", start_c, 0, 45))
    sandbox.load_zoom(data)
    sandbox.calls_clear()
    report = sync(portal)
    state = sandbox.state()
    assert contact_props(state, "person1@example.com")["zoomsync_attended_count"] == "1"
    assert contact_props(state, "new2@example.net")["zoomsync_registration_count"] == "1"
    portal.delete()  # the next round starts from nothing, as the sandbox does
    return report["api_calls"]["hubspot"], report


def test_b2_change_costs_what_changed(sandbox):
    small, report = _change_cost(sandbox, people=10)
    assert report["people"]["contacts_created"] == 2 and report["people"]["contacts_updated"] == 1
    sandbox.reset()
    large, report = _change_cost(sandbox, people=250)
    assert report["people"]["contacts_created"] == 2 and report["people"]["contacts_updated"] == 1
    # The same few calls whatever the history (the old push read every person: 3+ more).
    assert small == large
    assert large <= 10


def test_b2_settings_change_takes_effect_on_the_next_sync(sandbox):
    portal = connect(sandbox, scenario())
    sync(portal)
    assert contact_props(sandbox.state(), "jane@example.com")["zoomsync_registration_count"] == "2"
    sync_settings_import(portal=portal, document={"webinars": {str(B): {"sync": False}}})
    report = sync(portal)
    assert report["webinars"]["skipped"]["webinar_sync_off"] == 1
    # R10: B no longer counts for Jane.
    assert contact_props(sandbox.state(), "jane@example.com")["zoomsync_registration_count"] == "1"


def test_b2_late_participant_rows_reach_hubspot_without_full(sandbox):
    data = scenario()
    portal = connect(sandbox, data)
    sync(portal)
    assert contact_props(sandbox.state(), "eve@example.org")["zoomsync_attended_count"] == "0"
    # Zoom's report of C (ended an hour ago) gains a row after the first pull.
    start_c = NOW - dt.timedelta(minutes=120)
    webinar_of(data, C)["instances"][0]["participants"].append(
        participant("pc2", "eve@example.org", start_c, 10, 40, rid="r_eve")
    )
    sandbox.load_zoom(data)
    report = portal_sync(portal=portal, run=SyncRun.objects.create(portal=portal))  # not full
    assert report["events"]["attendance"] == 1
    eve = contact_props(sandbox.state(), "eve@example.org")
    assert eve["zoomsync_attended_count"] == "1"
    assert eve["zoomsync_average_attendance_percent"] == "50.0"
