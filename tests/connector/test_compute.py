"""The attendance arithmetic (INTERFACES.md §5) and the four person values (R16–R19)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connector.models import (
    ParticipantRow,
    PersonStats,
    Registrant,
    Session,
    SkipRecord,
    SyncRun,
    Webinar,
    ZoomAccount,
)
from connector.services.compute import (
    attendance_by_session,
    person_stats_compute,
    session_attendance,
)
from connector.services.report import SyncReport

T0 = dt.datetime(2026, 10, 1, 15, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def att(rows, *, end_minutes: float | None = 60, scheduled: int | None = 60):
    return session_attendance(
        session_start=T0,
        session_end=at(end_minutes) if end_minutes is not None else None,
        scheduled_minutes=scheduled,
        rows=[(at(a) if a is not None else None, at(b) if b is not None else None) for a, b in rows],
    )


# --- pure arithmetic --------------------------------------------------------------


def test_single_row_seconds_and_percent():
    a = att([(2, 40)])
    assert a.seconds == 38 * 60
    assert a.percent == Decimal("63.3")
    assert a.first_join == at(2) and a.last_leave == at(40)


def test_overlapping_rejoins_counted_once():
    # [0,30] and [20,45] overlap by 10 minutes: union = 45 minutes.
    a = att([(0, 30), (20, 45)])
    assert a.seconds == 45 * 60
    assert a.percent == Decimal("75.0")


def test_disjoint_rejoins_added():
    a = att([(0, 10), (20, 30), (40, 50)])
    assert a.seconds == 30 * 60
    assert a.percent == Decimal("50.0")


def test_nested_rejoin_inside_other_row():
    a = att([(0, 50), (10, 20)])
    assert a.seconds == 50 * 60


def test_join_before_start_is_clipped():
    a = att([(-15, 30)])
    assert a.seconds == 30 * 60
    assert a.percent == Decimal("50.0")
    assert a.first_join == at(-15)  # the raw join, for the timeline (R23)


def test_leave_after_end_is_clipped_and_capped_at_100():
    a = att([(-5, 90)])
    assert a.seconds == 60 * 60
    assert a.percent == Decimal("100.0")


def test_zero_length_rows_do_not_attend():
    assert att([(10, 10)]) is None
    assert att([(70, 80)]) is None  # entirely after the end
    a = att([(10, 10), (20, 21)])
    assert a.seconds == 60


def test_unknown_end_uses_scheduled_duration():
    # Session end unknown, scheduled 40 minutes: 20 minutes attended = 50 %.
    a = att([(0, 20), (50, 55)], end_minutes=None, scheduled=40)
    assert a.seconds == 20 * 60
    assert a.percent == Decimal("50.0")


def test_rounding_half_up_one_decimal():
    # 1 second of 3600 → 0.02777 → 0.0 ; 2 s → 0.0555... → 0.1 ; 3 s of 3600 = 0.0833 → 0.1
    assert att([(0, 1 / 60)]).percent == Decimal("0.0")
    assert att([(0, 2 / 60)]).percent == Decimal("0.1")
    # 45 s of 600 s = 7.5 % exactly: with one decimal stays 7.5; 2.25 % → 2.3 (half up)
    ten = session_attendance(
        session_start=T0, session_end=T0 + dt.timedelta(seconds=400), scheduled_minutes=None,
        rows=[(T0, T0 + dt.timedelta(seconds=9))],
    )
    assert ten.percent == Decimal("2.3")  # 2.25 → 2.3 (banker's rounding would give 2.2)


def test_missing_leave_counts_until_end():
    a = att([(30, None)])
    assert a.seconds == 30 * 60


# --- person stats over the database ---------------------------------------------


@pytest.fixture
def account(portal):
    return ZoomAccount.objects.create(portal=portal, account_id="zacc_main", auth_type="s2s")


def webinar_make(account, wid: str, *, skip_reason: str = "", join_url: str = "", duration=60) -> Webinar:
    return Webinar.objects.create(
        account=account, webinar_id=wid, topic=f"W{wid}", skip_reason=skip_reason,
        join_url=join_url or f"https://zoom.us/j/{wid}", duration_minutes=duration, start_time=T0,
    )


def reg(webinar, rid, email, status="approved", created=None, join_url=""):
    return Registrant.objects.create(
        webinar=webinar, registrant_id=rid, email=email, first_name="F" + rid, last_name="L",
        status=status, create_time=created, join_url=join_url,
    )


def session_make(webinar, uuid, start=T0, minutes=60, end_known=True):
    return Session.objects.create(
        webinar=webinar, uuid=uuid, start_time=start,
        end_time=start + dt.timedelta(minutes=minutes) if end_known else None,
        scheduled_duration_minutes=minutes,
    )


def row(session, key, email, a, b, name="Jane Doe"):
    s = session.start_time
    return ParticipantRow.objects.create(
        session=session, row_key=key, email=email, name=name,
        join_time=s + dt.timedelta(minutes=a), leave_time=s + dt.timedelta(minutes=b),
    )


def test_r18_r17_registrations_counted_by_webinar_and_latest_join_url(portal, account):
    w1, w2, w3 = webinar_make(account, "81"), webinar_make(account, "82"), webinar_make(account, "83")
    reg(w1, "r1", "jane@example.com", created=at(-300), join_url="https://zoom.us/w/81?tk=1")
    reg(w2, "r2", "jane@example.com", status="pending", created=at(-100))  # no join_url: webinar's
    reg(w3, "r3", "jane@example.com", status="denied", created=at(-50), join_url="https://x/denied")
    reg(w3, "r4", "jane@example.com", status="cancelled", created=at(-40), join_url="https://x/cancel")
    report = SyncReport(portal=portal, run=None)
    person_stats_compute(portal=portal, report=report)
    ps = PersonStats.objects.get(portal=portal, email="jane@example.com")
    assert ps.registration_count == 2  # approved + pending; denied/cancelled do not count
    assert ps.last_registered_url == "https://zoom.us/j/82"
    assert ps.attended_count == 0 and ps.average_attendance_percent is None


def test_r18_two_registrations_same_webinar_count_once(portal, account):
    w1 = webinar_make(account, "81")
    reg(w1, "r1", "jane@example.com", created=at(-300))
    reg(w1, "r2", "jane@example.com", created=at(-200))
    person_stats_compute(portal=portal, report=SyncReport(portal=portal, run=None))
    assert PersonStats.objects.get(email="jane@example.com").registration_count == 1


def test_r16_r19_mean_over_sessions_attended(portal, account):
    w1, w2 = webinar_make(account, "81"), webinar_make(account, "82")
    s1, s2 = session_make(w1, "u1"), session_make(w2, "u2")
    s3 = session_make(w2, "u3", start=at(1440))
    reg(w1, "r1", "jane@example.com", created=at(-300))
    row(s1, "a", "jane@example.com", 0, 30)  # 50.0
    row(s1, "b", "jane@example.com", 20, 45)  # union 45 min → 75.0
    row(s2, "c", "jane@example.com", 0, 20)  # 33.3
    row(s3, "d", "jane@example.com", 70, 90)  # after the end: not attended
    person_stats_compute(portal=portal, report=SyncReport(portal=portal, run=None))
    ps = PersonStats.objects.get(email="jane@example.com")
    assert ps.attended_count == 2
    assert ps.average_attendance_percent == Decimal("54.2")  # (75.0 + 33.3) / 2 = 54.15 → 54.2
    assert ps.registration_count == 1


def test_attendee_without_registration_gets_name_from_zoom(portal, account):
    w1 = webinar_make(account, "81")
    s1 = session_make(w1, "u1")
    row(s1, "a", "bob@example.org", 0, 60, name="Bob van Dam")
    person_stats_compute(portal=portal, report=SyncReport(portal=portal, run=None))
    ps = PersonStats.objects.get(email="bob@example.org")
    assert (ps.first_name, ps.last_name) == ("Bob", "van Dam")
    assert ps.registration_count == 0 and ps.attended_count == 1
    assert ps.average_attendance_percent == Decimal("100.0")


def test_only_synced_webinars_count_and_stale_people_deleted(portal, account):
    w1 = webinar_make(account, "81")
    w2 = webinar_make(account, "82", skip_reason="zoom_event")
    reg(w1, "r1", "jane@example.com", created=at(-300))
    reg(w2, "r2", "jane@example.com", created=at(-100), join_url="https://zoom.us/w/82")
    reg(w2, "r3", "only-event@example.com", created=at(-100))
    PersonStats.objects.create(portal=portal, email="gone@example.com", registration_count=3)
    person_stats_compute(portal=portal, report=SyncReport(portal=portal, run=None))
    emails = set(PersonStats.objects.values_list("email", flat=True))
    assert emails == {"jane@example.com"}
    ps = PersonStats.objects.get(email="jane@example.com")
    assert ps.registration_count == 1 and ps.last_registered_url == "https://zoom.us/j/81"


def test_r3_guests_counted_once_per_session_and_name(portal, account):
    w1 = webinar_make(account, "81")
    s1 = session_make(w1, "u1")
    row(s1, "g1", "", 0, 10, name="Guest One")
    row(s1, "g2", "", 20, 30, name="Guest One")  # rejoin of the same guest
    row(s1, "g3", "", 0, 30, name="Guest Two")
    row(s1, "a", "jane@example.com", 0, 30)
    run = SyncRun.objects.create(portal=portal)
    report = SyncReport(portal=portal, run=run)
    person_stats_compute(portal=portal, report=report)
    report.finish()
    assert report.skip_count(kind="person", reason="no_email") == 2
    assert SkipRecord.objects.filter(sync_run=run, reason="no_email").count() == 2
    assert not PersonStats.objects.filter(email="").exists()


def test_attendance_by_session_excludes_guests_and_zero(account):
    w1 = webinar_make(account, "81")
    s1 = session_make(w1, "u1")
    row(s1, "g1", "", 0, 10)
    row(s1, "a", "jane@example.com", 0, 30)
    row(s1, "b", "zero@example.com", 10, 10)
    out = attendance_by_session(webinars=[w1])
    assert set(out[s1.pk]) == {"jane@example.com"}
    assert out[s1.pk]["jane@example.com"].seconds == 1800


def test_recompute_is_stable(portal, account):
    w1 = webinar_make(account, "81")
    s1 = session_make(w1, "u1", end_known=False, minutes=40)
    reg(w1, "r1", "jane@example.com", created=at(-300))
    row(s1, "a", "jane@example.com", 0, 20)
    for _ in range(2):
        person_stats_compute(portal=portal, report=SyncReport(portal=portal, run=None))
    ps = PersonStats.objects.get(email="jane@example.com")
    assert ps.average_attendance_percent == Decimal("50.0")
    assert PersonStats.objects.count() == 1


def test_report_shape_has_every_reason(portal):
    run = SyncRun.objects.create(portal=portal)
    r = SyncReport(portal=portal, run=run)
    r.skip(kind="webinar", reason="zoom_event", subject="81000000009")
    r.skip(kind="webinar", reason="zoom_event", subject="81000000009")
    r.finish()
    d = r.as_dict(api_calls={"zoom": 3})
    assert d["portal"] == 62515
    assert d["webinars"]["skipped"] == {
        "zoom_event": 1, "host_domain_excluded": 0, "user_not_selected": 0, "sync_mode_none": 0, "webinar_sync_off": 0,
    }
    assert set(d["people"]["skipped"]) == {"no_email", "invalid_email", "internal_domain", "account_user",
                                           "secondary_email", "deleted_contact"}
    assert d["recordings"]["skipped"] == {"recordings_off": 0, "recording_domain_excluded": 0}
    assert d["api_calls"] == {"zoom": 3, "hubspot": 0}
    assert set(d["pulled"]) == {"webinars", "sessions", "registrants", "participant_rows", "recordings"}
    assert set(d["events"]) == {"registration", "attendance", "recording"}
    assert SkipRecord.objects.filter(sync_run=run).count() == 1
    with pytest.raises(ValueError):
        r.skip(kind="webinar", reason="no_email", subject="x")


def test_r17_workflow_registration_later_than_zoom_wins(portal, account):
    from workflows.models import ActionExecution

    w1, w2 = webinar_make(account, "81"), webinar_make(account, "82", skip_reason="webinar_sync_off")
    reg(w1, "r1", "jane@example.com", created=at(-300), join_url="https://zoom.us/w/81?tk=old")
    ActionExecution.objects.create(
        callback_id="cb1", portal=portal, status="succeeded", webinar_id="81", email="jane@example.com",
        join_url="https://zoom.us/w/81?tk=wf", registered_at=at(-10),
    )
    # A later workflow registration for a webinar that does not sync does not count (§5).
    ActionExecution.objects.create(
        callback_id="cb2", portal=portal, status="succeeded", webinar_id="82", email="jane@example.com",
        join_url="https://zoom.us/w/82?tk=wf", registered_at=at(-5),
    )
    person_stats_compute(portal=portal, report=SyncReport(portal=portal, run=None))
    ps = PersonStats.objects.get(email="jane@example.com")
    assert ps.last_registered_url == "https://zoom.us/w/81?tk=wf"
    assert ps.registration_count == 1
    assert w2.skip_reason == "webinar_sync_off"


# --- R17: the registrations the connector made (its own table) ----------------------------


def test_r17_compute_reads_the_connector_table_not_the_workflows_app(portal, account):
    """Issue 10 item 7: the core owns what it reads; a registration the connector recorded
    is the person's last registered webinar when it is later than Zoom's."""
    import ast
    import inspect

    from connector.services import compute
    from connector.services.external_registrations import external_registration_record

    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(inspect.getsource(compute)))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not any(str(name).startswith("workflows") for name in imported)

    w1 = webinar_make(account, "81")
    reg(w1, "r1", "jane@example.com", created=at(-300), join_url="https://zoom.us/w/81?tk=zoom")
    external_registration_record(
        portal=portal, zoom_account=account, webinar_id="81", email=" Jane@Example.com ",
        join_url="https://zoom.us/w/81?tk=ours", registrant_id="r9", registered_at=at(-10),
    )
    person_stats_compute(portal=portal, report=SyncReport(portal=portal, run=None))
    assert PersonStats.objects.get(email="jane@example.com").last_registered_url == "https://zoom.us/w/81?tk=ours"


def test_r17_external_registration_latest_wins_per_webinar_and_person(portal, account):
    from connector.models import ExternalRegistration
    from connector.services.external_registrations import external_registration_record

    def record(url: str, when: dt.datetime | None) -> None:
        external_registration_record(
            portal=portal, zoom_account=account, webinar_id="81", email="jane@example.com",
            join_url=url, registrant_id="r", registered_at=when,
        )

    record("https://zoom.us/w/81?tk=a", at(-10))
    record("https://zoom.us/w/81?tk=b", at(-5))
    record("https://zoom.us/w/81?tk=old", at(-60))  # an older one (a replay) changes nothing
    (row,) = ExternalRegistration.objects.all()
    assert (row.join_url, row.registered_at) == ("https://zoom.us/w/81?tk=b", at(-5))
    # Nothing to show for R17 without an email or a join URL: nothing recorded.
    assert external_registration_record(
        portal=portal, zoom_account=account, webinar_id="82", email="", join_url="https://x", registered_at=at(0)
    ) is None
    assert ExternalRegistration.objects.count() == 1


def test_b2_workflow_registration_since_names_only_the_newly_registered(portal, account):
    from connector.services.compute import workflow_registrations_since
    from connector.services.external_registrations import external_registration_record

    for email, when in (("old@example.com", at(-60)), ("new@example.com", at(-1))):
        external_registration_record(
            portal=portal, zoom_account=account, webinar_id="81", email=email,
            join_url="https://zoom.us/w/81", registered_at=when,
        )
    assert workflow_registrations_since(portal=portal, since=at(-30)) == {"new@example.com"}


def test_b3_b4_erasure_removes_the_connector_registrations(portal, account):
    from connector.models import ExternalRegistration
    from connector.services import erasure
    from connector.services.external_registrations import external_registration_record

    for email in ("jane@example.com", "otto@example.com"):
        external_registration_record(
            portal=portal, zoom_account=account, webinar_id="81", email=email,
            join_url="https://zoom.us/w/81", registered_at=at(0),
        )
    result = erasure.person_erase(portal=portal, email="JANE@example.com")
    assert result.counts["external registration"] == 1
    assert list(ExternalRegistration.objects.values_list("email", flat=True)) == ["otto@example.com"]
    erasure.zoom_account_deauthorize(account=account)
    assert not ExternalRegistration.objects.exists()
