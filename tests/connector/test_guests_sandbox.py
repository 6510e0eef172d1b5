"""B5 guests found again, end to end over HTTP to the sandbox: Zoom's participants report
hides a guest's email but keeps their registrant id; the sync counts the row as that
registrant's attendance (interval union, percent, attendance event). A guest nobody can
identify stays a guest without an email (R3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from connector.models import PersonStats, SkipRecord, SyncRun
from connector.services.report import report_format
from settings_ui.selectors import run_summary
from tests.connector.issue5_scenarios import (
    NOW,
    TEMPLATE_ATTENDANCE,
    at,
    base_scenario,
    connect,
    contact_props,
    events_by_email,
    iso,
    participant,
    registrant,
    sync,
)

pytestmark = pytest.mark.django_db(transaction=False)

W = 81000000501
HELD = NOW - dt.timedelta(days=1)
UUID = "GuestSessionUUID00001=="


def guest(pid: str, start: dt.datetime, join_min: float, leave_min: float, *, rid: str = "", name: str) -> dict[str, Any]:
    row: dict[str, Any] = {"id": pid, "name": name, "user_email": "",
                           "join_time": at(start, join_min), "leave_time": at(start, leave_min)}
    row["registrant_id"] = rid  # "" = Zoom gave no registrant id either
    return row


def scenario(participants: list[dict[str, Any]]) -> dict[str, Any]:
    """One held 60-minute session; Jane and Gina registered."""
    return base_scenario(webinars=[{
        "id": W, "host_id": "zu_1", "topic": "Guests webinar", "type": 5, "start_time": iso(HELD),
        "duration": 60, "join_url": f"https://zoom.us/j/{W}",
        "registrants": [
            registrant("r_jane", "jane@example.com", created=HELD - dt.timedelta(days=3), webinar_id=W),
            registrant("r_gina", "gina@example.com", created=HELD - dt.timedelta(days=2), webinar_id=W),
        ],
        "instances": [{"uuid": UUID, "start_time": iso(HELD), "end_time": at(HELD, 60),
                       "participants": participants}],
    }])


def test_b5_guest_found_by_registrant_id(sandbox):
    data = scenario([
        # Jane: 0–20 with her email, then 15–45 as a guest (email hidden): union 0–45 = 75 %.
        participant("p_jane", "jane@example.com", HELD, 0, 20, rid="r_jane"),
        guest("p_jane_guest", HELD, 15, 45, rid="r_jane", name="Jane T."),
        # Gina attended only as a guest, 30 minutes: 50 %.
        guest("p_gina_guest", HELD, 0, 30, rid="r_gina", name="gina"),
    ])
    portal = connect(sandbox, data)
    report = sync(portal)

    assert report["people"]["guests_found"] == 2
    assert report["people"]["skipped"]["no_email"] == 0
    assert "guests found by registrant id 2" in report_format(report)
    run = SyncRun.objects.filter(portal=portal).latest("id")
    assert run_summary(run)["guests_found"] == 2  # shown on the run's page

    state = sandbox.state()
    jane = contact_props(state, "jane@example.com")
    gina = contact_props(state, "gina@example.com")
    assert jane["zoomsync_attended_count"] == "1"
    assert float(jane["zoomsync_average_attendance_percent"]) == 75.0
    assert gina["zoomsync_attended_count"] == "1"
    assert float(gina["zoomsync_average_attendance_percent"]) == 50.0
    assert PersonStats.objects.get(portal=portal, email="gina@example.com").attended_count == 1

    attendance = events_by_email(state, TEMPLATE_ATTENDANCE)
    assert len(attendance["jane@example.com"]) == 1  # one event for the session, not one per row
    assert len(attendance["gina@example.com"]) == 1
    jane_event = attendance["jane@example.com"][0]["tokens"]
    assert jane_event["attendance_percent"].startswith("75")
    assert jane_event["attendance_seconds"] == str(45 * 60)  # union of 0–20 and 15–45
    assert attendance["gina@example.com"][0]["tokens"]["attendance_seconds"] == str(30 * 60)
    assert set(attendance) == {"jane@example.com", "gina@example.com"}  # no blank contact

    # A second sync over the same data sends nothing again.
    again = sync(portal)
    assert again["events"]["attendance"] == 0
    assert again["people"]["guests_found"] == 2


def test_b5_unknown_registrant_id_stays_no_email(sandbox):
    data = scenario([
        participant("p_jane", "jane@example.com", HELD, 0, 30, rid="r_jane"),
        # Zoom gave a registrant id that is nobody's registrant of this webinar, and one row
        # has no registrant id at all: both stay guests without an email.
        guest("p_x", HELD, 0, 60, rid="r_someone_else", name="Stranger"),
        guest("p_y", HELD, 10, 20, name="Walk-in"),
    ])
    portal = connect(sandbox, data)
    report = sync(portal)

    assert report["people"]["guests_found"] == 0
    assert report["people"]["skipped"]["no_email"] == 2
    skipped = set(SkipRecord.objects.filter(reason="no_email").values_list("subject", flat=True))
    assert skipped == {f"{UUID} Stranger", f"{UUID} Walk-in"}

    state = sandbox.state()
    jane = contact_props(state, "jane@example.com")
    assert float(jane["zoomsync_average_attendance_percent"]) == 50.0  # the stranger is not Jane
    gina = contact_props(state, "gina@example.com")
    assert gina["zoomsync_attended_count"] == "0"
    assert set(events_by_email(state, TEMPLATE_ATTENDANCE)) == {"jane@example.com"}
