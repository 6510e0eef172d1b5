"""Sync dashboard: runs, skipped people/webinars by reason (searchable), progress JSON, charts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from connector.models import ParticipantRow, Registrant, Session, SkipRecord, SyncRun
from settings_ui import charts, selectors

pytestmark = pytest.mark.django_db

REPORT = {
    "portal": 62515,
    "webinars": {"synced": 3, "skipped": {"zoom_event": 1, "host_domain_excluded": 0}},
    "people": {"contacts_created": 10, "contacts_updated": 4,
               "skipped": {"no_email": 2, "secondary_email": 1, "deleted_contact": 1}},
    "recordings": {"synced": 1, "skipped": {"recordings_off": 2}},
    "events": {"registration": 12, "attendance": 9, "recording": 1},
    "errors": [],
}


def url(name, portal, **kw):
    return reverse(f"settings_ui:{name}", kwargs={"hub_id": portal.hub_id, **kw})


@pytest.fixture
def finished_run(member_portal):
    now = timezone.now()
    run = SyncRun.objects.create(
        portal=member_portal, status="succeeded", started_at=now - dt.timedelta(seconds=42),
        finished_at=now, report=REPORT,
    )
    SkipRecord.objects.bulk_create([
        SkipRecord(sync_run=run, kind="webinar", reason="zoom_event", subject="81000000009", detail="Summit"),
        SkipRecord(sync_run=run, kind="person", reason="no_email", subject="Guest 1", detail="webinar 81000000001"),
        SkipRecord(sync_run=run, kind="person", reason="no_email", subject="Guest 2", detail="webinar 81000000001"),
        SkipRecord(sync_run=run, kind="person", reason="secondary_email", subject="jd@old.example.org"),
        SkipRecord(sync_run=run, kind="person", reason="deleted_contact", subject="gone@example.com"),
    ])
    return run


def test_dashboard_lists_runs_with_counts(client_alice, member_portal, finished_run):
    response = client_alice.get(url("dashboard", member_portal))
    body = response.content.decode()
    assert response.status_code == 200
    row = body.split(f"Run {finished_run.number}</a>")[1].split("</tr>")[0]
    cells = re.findall(r'<td class="num">(.*?)</td>', row)
    assert cells[:4] == ["3", "10", "4", "1 / 4"]
    assert "42.0 s" in row
    assert body.count("<svg") >= 2  # runs over time + per-webinar chart
    assert 'id="sync-now"' in body


@pytest.mark.parametrize(
    ("reason", "advice"),
    [
        ("no_email", "Turn on registration for your webinars in Zoom"),  # R3
        ("secondary_email", "register with their primary email"),  # R13
        ("deleted_contact", "The sync never recreates a deleted contact"),  # R14
        ("zoom_event", "Zoom Event"),  # R2
    ],
)
def test_run_detail_explains_each_reason(client_alice, member_portal, finished_run, reason, advice):
    body = client_alice.get(url("run", member_portal, run_id=finished_run.id)).content.decode()
    assert advice in body
    assert "Finished" in body


def test_every_report_skip_reason_has_help():
    from connector.models import SkipReason

    assert set(SkipReason.values) <= set(selectors.SKIP_REASON_HELP)
    for label, explanation, action in selectors.SKIP_REASON_HELP.values():
        assert label and explanation and action


def test_run_detail_search(client_alice, member_portal, finished_run):
    response = client_alice.get(url("run", member_portal, run_id=finished_run.id), {"q": "old.example"})
    groups = response.context["groups"]
    assert [(g.reason, [r.subject for r in g.records]) for g in groups] == [("secondary_email", ["jd@old.example.org"])]
    response = client_alice.get(url("run", member_portal, run_id=finished_run.id), {"q": "nothing-matches"})
    assert response.context["groups"] == []
    assert "Nothing skipped matches" in response.content.decode()


def test_run_detail_groups_by_kind_and_reason(client_alice, member_portal, finished_run):
    groups = client_alice.get(url("run", member_portal, run_id=finished_run.id)).context["groups"]
    assert [(g.kind, g.reason, len(g.records)) for g in groups] == [
        ("webinar", "zoom_event", 1),
        ("person", "deleted_contact", 1),
        ("person", "no_email", 2),
        ("person", "secondary_email", 1),
    ]


def test_progress_json(client_alice, member_portal):
    run = SyncRun.objects.create(portal=member_portal, status="running", started_at=timezone.now(),
                                 progress={"phase": "pull:webinar data", "done": 3, "total": 8})
    data = client_alice.get(url("run-progress", member_portal, run_id=run.id)).json()
    assert data["finished"] is False and data["status"] == "running"
    # In words, and the bar is the share of the whole sync: users and webinar lists are
    # done (15%), then 3 of 8 webinars of the 45% that reading registrations takes.
    assert data["text"] == "Reading registrations and attendance: 3 of 8 webinars"
    assert data["percent"] == 32
    page = client_alice.get(url("run", member_portal, run_id=run.id)).content.decode()
    assert 'data-finished="0"' in page and "noscript" in page
    # A running sync replaces the Sync now button with a link to it.
    dash = client_alice.get(url("dashboard", member_portal)).content.decode()
    assert 'id="sync-now"' not in dash and "A sync is running" in dash


def test_progress_json_finished(client_alice, member_portal, finished_run):
    data = client_alice.get(url("run-progress", member_portal, run_id=finished_run.id)).json()
    assert data["finished"] is True
    assert data["summary"]["contacts_created"] == 10


def test_sync_now_returns_running_run_instead_of_starting_another(client_alice, member_portal):
    run = SyncRun.objects.create(portal=member_portal, status="running")
    response = client_alice.post(url("sync-now", member_portal))
    assert response.status_code == 302
    assert response["Location"] == url("run", member_portal, run_id=run.id)
    assert SyncRun.objects.count() == 1


def test_failed_run_shows_errors(client_alice, member_portal):
    run = SyncRun.objects.create(portal=member_portal, status="failed", started_at=timezone.now(),
                                 finished_at=timezone.now(), error="HubSpot token revoked",
                                 report={"errors": ["zoom 500 on /webinars"]})
    body = client_alice.get(url("run", member_portal, run_id=run.id)).content.decode()
    assert "HubSpot token revoked" in body and "zoom 500 on /webinars" in body
    dash = client_alice.get(url("dashboard", member_portal)).content.decode()
    assert '<span class="badge broken">2</span>' in dash


# --- chart data -----------------------------------------------------------------------------


@pytest.fixture
def held_webinar(webinars):
    w = webinars["launch"]
    start = w.start_time
    s = Session.objects.create(webinar=w, uuid="u1", start_time=start, end_time=start + dt.timedelta(minutes=60))
    for i, (email, status) in enumerate([("a@x.com", "approved"), ("b@x.com", "pending"),
                                         ("c@x.com", "denied"), ("d@x.com", "approved")]):
        Registrant.objects.create(webinar=w, registrant_id=f"r{i}", email=email, status=status)
    m = dt.timedelta(minutes=1)
    rows = [
        ("a@x.com", 0, 60),  # full: 100%
        ("b@x.com", 0, 15), ("b@x.com", 10, 30),  # rejoin overlapping: union 30 min = 50%
        ("d@x.com", -10, 6),  # joined early: clipped to 6 min = 10%
        ("", 0, 60),  # guest without email (R3): not counted
    ]
    for i, (email, a, b) in enumerate(rows):
        ParticipantRow.objects.create(session=s, row_key=f"p{i}", email=email, join_time=start + a * m, leave_time=start + b * m)
    return w


def test_attendance_percentages_follow_section5_arithmetic(member_portal, held_webinar):
    values = selectors.webinar_attendance_percentages(portal=member_portal, webinar_id=held_webinar.webinar_id)
    assert sorted(values) == [10.0, 50.0, 100.0]


def test_registrations_and_attendance_series(member_portal, held_webinar):
    series = selectors.webinar_attendance_series(portal=member_portal)
    assert series == [{"label": "Launch", "webinar_id": "81000000001", "registrations": 3, "attendees": 3}]


def test_dashboard_histogram_for_chosen_webinar(client_alice, member_portal, held_webinar):
    response = client_alice.get(url("dashboard", member_portal), {"webinar": held_webinar.webinar_id})
    svg = str(response.context["histogram_svg"])
    assert "Attendance % distribution: Launch" in svg
    assert "<title>90–100%: attendees 1</title>" in svg
    assert "<title>50–60%: attendees 1</title>" in svg
    assert "<title>10–20%: attendees 1</title>" in svg


def test_histogram_buckets_and_bounds():
    svg = str(charts.histogram(title="t", values=[0, 9.9, 10, 100, 100]))
    assert "<title>0–10%: attendees 2</title>" in svg
    assert "<title>10–20%: attendees 1</title>" in svg
    assert "<title>90–100%: attendees 2</title>" in svg


def test_chart_escapes_labels():
    svg = str(charts.bar_chart(title="<x>", labels=["<script>alert(1)</script>"], series={"a": [1.0]}))
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_empty_chart_says_no_data():
    assert "No data yet" in str(charts.bar_chart(title="t", labels=[], series={"a": []}))


def test_sync_now_refused_while_portal_is_broken(client_alice, member_portal):
    member_portal.status = "broken"
    member_portal.save()
    response = client_alice.post(url("sync-now", member_portal), follow=True)
    assert not SyncRun.objects.exists()
    assert "reconnect it first" in response.content.decode()


def test_home_without_portals_offers_install(client_alice, settings):
    settings.HUBSPOT_CLIENT_ID, settings.HUBSPOT_CLIENT_SECRET = "app-id", "app-secret"
    body = client_alice.get("/").content.decode()
    assert "not an administrator of any HubSpot portal" in body and "/hubspot/install" in body


def test_install_and_connect_say_not_configured_without_credentials(client_alice, member_portal, settings):
    """Item 3: no app credentials and no sandbox: the buttons say what to set instead of
    sending the admin to HubSpot or Zoom with an empty client_id."""
    settings.HUBSPOT_CLIENT_ID = settings.ZOOM_CLIENT_ID = ""
    settings.ZOOMSYNC_SANDBOX = False
    body = client_alice.get(url("connections", member_portal)).content.decode()
    assert "Connect a Zoom account: not configured." in body and "ZOOM_CLIENT_ID" in body
    assert "Reconnect HubSpot: not configured." in body and "/hubspot/install" not in body
    from connector.models import PortalMembership

    PortalMembership.objects.all().delete()
    home = client_alice.get("/").content.decode()
    assert "Install zoomsync in HubSpot: not configured." in home and "HUBSPOT_CLIENT_ID" in home
    assert "/hubspot/install" not in home


def test_install_and_connect_point_at_the_sandbox_when_it_is_mounted(client_alice, member_portal, settings):
    settings.HUBSPOT_CLIENT_ID = settings.ZOOM_CLIENT_ID = ""
    settings.ZOOMSYNC_SANDBOX = True
    body = client_alice.get(url("connections", member_portal)).content.decode()
    assert "not configured" not in body
    assert "fake Zoom sign-in" in body and "connect_sandbox" in body
