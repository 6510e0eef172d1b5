"""Pull over HTTP against the sandbox: the webinar rules (R2, R4, R5, R8, R10), registrants of
every status, sessions and participant rows, guests (R3), incremental pulls."""

from __future__ import annotations

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
    ZoomUser,
)
from connector.services.sync import portal_sync
from connector.services.sync_settings import sync_settings_import
from tests.connector.sync_scenarios import connect, scenario_copy

pytestmark = pytest.mark.django_db(transaction=False)


def sync_pull(portal, **kw):
    run = SyncRun.objects.create(portal=portal, trigger="cli")
    return portal_sync(portal=portal, run=run, pull_only=True, **kw), run


def verdicts(portal) -> dict[str, str]:
    return dict(Webinar.objects.filter(account__portal=portal).values_list("webinar_id", "skip_reason"))


def test_pull_stores_users_webinars_registrants_sessions_rows(sandbox):
    portal = connect(sandbox, scenario_copy())
    report, _ = sync_pull(portal)
    assert set(ZoomUser.objects.values_list("email", flat=True)) == {"host@acme.com", "pat@partner.example"}
    assert verdicts(portal) == {"81000000001": "", "81000000002": "", "81000000009": "zoom_event"}
    w1 = Webinar.objects.get(webinar_id="81000000001")
    assert w1.host_email == "host@acme.com" and w1.topic == "Launch"
    # Every status, emails lower-cased and trimmed.
    regs = dict(Registrant.objects.filter(webinar=w1).values_list("email", "status"))
    assert regs == {"jane@example.com": "approved", "bob@example.org": "pending", "den@example.org": "denied"}
    session = Session.objects.get(webinar=w1)
    assert session.uuid == "4444AAAiAAAAAiAiAiiAii=="
    assert session.participants_complete
    rows = ParticipantRow.objects.filter(session=session)
    assert rows.count() == 3  # a rejoin is its own row
    assert rows.filter(email="jane@example.com").count() == 2
    assert report["pulled"]["webinars"] == 3
    assert report["pulled"]["registrants"] == 4  # 3 of w1 + 1 of w2; none of the Zoom Events one
    assert report["pulled"]["sessions"] == 1
    assert report["pulled"]["participant_rows"] == 3
    assert report["webinars"]["synced"] == 2
    assert report["api_calls"]["zoom"] > 0 and report["api_calls"]["hubspot"] == 0


def test_r2_zoom_event_webinar_skipped_with_reason(sandbox):
    portal = connect(sandbox, scenario_copy())
    report, run = sync_pull(portal)
    assert report["webinars"]["skipped"]["zoom_event"] == 1
    assert SkipRecord.objects.filter(sync_run=run, kind="webinar", reason="zoom_event", subject="81000000009").exists()
    # Nothing of it is pulled: no registrants, no people.
    assert not Registrant.objects.filter(webinar__webinar_id="81000000009").exists()
    assert not PersonStats.objects.filter(email="zed@example.net").exists()


def test_r4_sync_mode_none_syncs_no_webinar(sandbox):
    portal = connect(sandbox, scenario_copy())
    sync_settings_import(portal=portal, document={"sync_mode": "none"})
    report, _ = sync_pull(portal)
    assert report["webinars"]["synced"] == 0
    assert report["webinars"]["skipped"]["sync_mode_none"] == 2
    assert report["webinars"]["skipped"]["zoom_event"] == 1  # R2 is named first
    assert Registrant.objects.count() == 0
    # Metadata is still pulled so the settings UI can list webinars (R10).
    assert Webinar.objects.count() == 3


def test_r4_selected_users_only(sandbox):
    portal = connect(sandbox, scenario_copy())
    sync_settings_import(portal=portal, document={"sync_mode": "selected", "selected_users": ["pat@partner.example"]})
    report, _ = sync_pull(portal)
    assert verdicts(portal)["81000000001"] == "user_not_selected"
    assert verdicts(portal)["81000000002"] == ""
    assert report["webinars"]["skipped"]["user_not_selected"] == 1
    assert set(PersonStats.objects.values_list("email", flat=True)) == {"eve@example.net"}


def test_r5_host_domain_excluded(sandbox):
    portal = connect(sandbox, scenario_copy())
    sync_settings_import(portal=portal, document={"excluded_host_domains": ["partner.example"]})
    report, run = sync_pull(portal)
    assert verdicts(portal)["81000000002"] == "host_domain_excluded"
    assert report["webinars"]["skipped"]["host_domain_excluded"] == 1
    assert SkipRecord.objects.get(sync_run=run, reason="host_domain_excluded").subject == "81000000002"
    assert not Registrant.objects.filter(webinar__webinar_id="81000000002").exists()
    assert not PersonStats.objects.filter(email="eve@example.net").exists()


def test_r8_host_default_off_skips_unticked_webinars(sandbox):
    portal = connect(sandbox, scenario_copy())
    sync_settings_import(
        portal=portal,
        document={"users": {"host@acme.com": {"sync_new_webinars_by_default": False}}},
    )
    report, _ = sync_pull(portal)
    assert verdicts(portal)["81000000001"] == "webinar_sync_off"
    assert verdicts(portal)["81000000002"] == ""  # the other host keeps the default (on)
    assert report["webinars"]["skipped"]["webinar_sync_off"] == 1


def test_r10_webinar_switch_overrides_host_default(sandbox):
    portal = connect(sandbox, scenario_copy())
    sync_settings_import(
        portal=portal,
        document={
            "users": {"host@acme.com": {"sync_new_webinars_by_default": False}},
            "webinars": {"81000000001": {"sync": True}, "81000000002": {"sync": False}},
        },
    )
    report, _ = sync_pull(portal)
    assert verdicts(portal)["81000000001"] == ""
    assert verdicts(portal)["81000000002"] == "webinar_sync_off"
    assert report["webinars"]["synced"] == 1
    # Turning a webinar back on later pulls it on the next run.
    sync_settings_import(portal=portal, document={"webinars": {"81000000002": {"sync": True}}})
    sync_pull(portal)
    assert Registrant.objects.filter(webinar__webinar_id="81000000002").count() == 1


def test_r3_guest_without_email_counted_not_synced(sandbox):
    portal = connect(sandbox, scenario_copy())
    report, run = sync_pull(portal)
    assert report["people"]["skipped"]["no_email"] == 1
    skip = SkipRecord.objects.get(sync_run=run, reason="no_email")
    assert "Guest Gus" in skip.subject
    assert not PersonStats.objects.filter(email="").exists()


def test_r16_r18_r19_person_values_from_pulled_data(sandbox):
    portal = connect(sandbox, scenario_copy())
    sync_pull(portal)
    jane = PersonStats.objects.get(portal=portal, email="jane@example.com")
    # Rows 14:55–15:30 and 15:20–15:45 → union clipped to 15:00–15:45 = 45 of 60 minutes.
    assert jane.attended_count == 1
    assert jane.average_attendance_percent == Decimal("75.0")
    assert jane.registration_count == 1
    assert jane.last_registered_url == "https://zoom.us/w/81000000001?tk=r_1"
    bob = PersonStats.objects.get(portal=portal, email="bob@example.org")
    assert bob.registration_count == 1 and bob.attended_count == 0
    # The sandbox gives every registrant a join_url (as Zoom does): the registrant's is used.
    assert bob.last_registered_url == Registrant.objects.get(registrant_id="r_2").join_url != ""
    assert not PersonStats.objects.filter(email="den@example.org").exists()  # denied


def test_incremental_second_run_does_not_repull_finished_sessions(sandbox):
    portal = connect(sandbox, scenario_copy())
    sync_pull(portal)
    first = sandbox.calls()["zoom"]
    assert any("participants" in k for k in first)
    sandbox.calls_clear()
    report, _ = sync_pull(portal)
    second = sandbox.calls()["zoom"]
    assert not any("participants" in k for k in second), second
    assert report["pulled"]["participant_rows"] == 0
    # Data is unchanged.
    assert ParticipantRow.objects.count() == 3
    # --full pulls them again.
    sandbox.calls_clear()
    report, _ = sync_pull(portal, full=True)
    assert report["pulled"]["participant_rows"] == 3
    assert ParticipantRow.objects.count() == 3


def test_cancelled_registrant_no_longer_counts(sandbox):
    data = scenario_copy()
    portal = connect(sandbox, data)
    sync_pull(portal)
    assert PersonStats.objects.get(email="bob@example.org").registration_count == 1
    # Bob's registration is cancelled: Zoom lists him under no status any more.
    regs = data["zoom"]["accounts"][0]["webinars"][0]["registrants"]
    data["zoom"]["accounts"][0]["webinars"][0]["registrants"] = [r for r in regs if r["id"] != "r_2"]
    sandbox.load(data)
    sync_pull(portal)
    assert Registrant.objects.get(registrant_id="r_2").status == "cancelled"
    assert not PersonStats.objects.filter(email="bob@example.org").exists()


def test_r6_picker_domains_and_synced_webinars_selectors(sandbox):
    from connector.selectors import synced_webinars, zoom_user_domains

    portal = connect(sandbox, scenario_copy())
    sync_settings_import(portal=portal, document={"excluded_host_domains": ["partner.example"]})
    sync_pull(portal)
    assert zoom_user_domains(portal=portal) == ["acme.com", "partner.example"]
    assert [w.webinar_id for w in synced_webinars(portal=portal)] == ["81000000001"]


def test_registrant_listing_error_in_the_worker_thread_fails_the_sync(sandbox, monkeypatch):
    from connector.clients.errors import ServerError
    from connector.clients.zoom import ZoomClient
    from connector.models import SyncRunStatus

    portal = connect(sandbox, scenario_copy())

    def broken(self, webinar_id, **kwargs):
        raise ServerError("GET /webinars/{webinarId}/registrants HTTP 503", status=503)
        yield  # a generator, like the real listing

    monkeypatch.setattr(ZoomClient, "registrants_iter", broken)
    run = SyncRun.objects.create(portal=portal)
    with pytest.raises(ServerError):
        portal_sync(portal=portal, run=run, pull_only=True)
    run.refresh_from_db()
    assert run.status == SyncRunStatus.FAILED
    # Nothing was marked cancelled on the strength of a listing that failed.
    assert not Registrant.objects.filter(status="cancelled").exists()


def test_background_pages_arrive_in_order_and_errors_are_raised_in_the_caller():
    from connector.services.pull import _Background

    bg = _Background(lambda: iter(range(10)), maxsize=2)
    assert list(bg.drain(block=True)) == list(range(10))

    def failing():
        yield 1
        raise ValueError("boom")

    bg = _Background(failing)
    got = []
    with pytest.raises(ValueError, match="boom"):
        for item in bg.drain(block=True):
            got.append(item)
    assert got == [1]
    # Closing a producer that still has pages to give stops it.
    bg = _Background(lambda: iter(range(10_000)), maxsize=1)
    bg.close()
    assert not bg._thread.is_alive()


def test_b3_erased_person_is_not_stored_again_by_the_next_pull(sandbox):
    from connector.services.erasure import person_erase

    portal = connect(sandbox, scenario_copy())
    sync_pull(portal)
    email = Registrant.objects.exclude(email="").values_list("email", flat=True).first()
    assert email and ParticipantRow.objects.filter(email=email).exists()
    person_erase(portal=portal, email=email)
    assert not Registrant.objects.filter(email=email).exists()
    # Zoom still lists them: a full pull reads them again and stores nothing of theirs.
    sync_pull(portal, full=True)
    assert not Registrant.objects.filter(email=email).exists()
    assert not ParticipantRow.objects.filter(email=email).exists()
    assert Registrant.objects.exclude(email="").exists()  # everybody else is still pulled
