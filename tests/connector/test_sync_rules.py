"""Whole syncs (pull → compute → push) over HTTP, asserting on the sandbox's HubSpot state:
the webinar rules (R2, R4, R5, R8, R10), guests (R3), the four values (R16–R19), a crash in
the middle of the pull, and the Zoom traffic against the official specs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.models import SyncRun
from connector.services import pull as pull_service
from connector.services.sync import portal_sync
from connector.services.sync_settings import sync_settings_import
from tests.connector.sync_scenarios import connect, scenario_copy

pytestmark = pytest.mark.django_db(transaction=True)


def full_sync(portal, **kw):
    return portal_sync(portal=portal, run=SyncRun.objects.create(portal=portal), **kw)


def contacts(sandbox) -> dict[str, dict]:
    return {
        c["properties"]["email"].lower(): c
        for c in sandbox.state()["hubspot"]["contacts"]
        if not c["archived"] and c["properties"].get("email")
    }


def events_for(sandbox, contact_id: str) -> list[dict]:
    return [e for e in sandbox.state()["hubspot"]["timeline_events"] if e["objectId"] == contact_id]


def num(value) -> Decimal:
    return Decimal(str(value))


def test_r16_r17_r18_r19_values_reach_hubspot(sandbox):
    portal = connect(sandbox, scenario_copy())
    report = full_sync(portal)
    assert report["errors"] == []
    people = contacts(sandbox)
    jane = people["jane@example.com"]["properties"]
    # Rows 14:55–15:30 and 15:20–15:45 in a 15:00–16:00 session: union clipped = 45 min = 75 %.
    assert num(jane["zoomsync_average_attendance_percent"]) == Decimal("75.0")
    assert num(jane["zoomsync_attended_count"]) == 1
    assert num(jane["zoomsync_registration_count"]) == 1
    assert jane["zoomsync_last_registered_webinar"] == "https://zoom.us/w/81000000001?tk=r_1"
    bob = people["bob@example.org"]["properties"]  # pending counts (R18), did not attend
    assert num(bob["zoomsync_registration_count"]) == 1
    assert num(bob.get("zoomsync_attended_count") or 0) == 0
    assert "den@example.org" not in people  # denied: no registration, no contact
    kinds = sorted(e["template_name"] for e in events_for(sandbox, people["jane@example.com"]["id"]))
    assert kinds == ["Zoom: Webinar attendance", "Zoom: Webinar registration"]


def test_r2_zoom_event_people_never_reach_hubspot(sandbox):
    portal = connect(sandbox, scenario_copy())
    report = full_sync(portal)
    assert report["webinars"]["skipped"]["zoom_event"] == 1
    assert "zed@example.net" not in contacts(sandbox)
    tokens = [e["tokens"].get("webinar_id") for e in sandbox.state()["hubspot"]["timeline_events"]]
    assert "81000000009" not in [str(t) for t in tokens]


def test_r3_guest_without_email_counted_not_synced_over_http(sandbox):
    portal = connect(sandbox, scenario_copy())
    report = full_sync(portal)
    assert report["people"]["skipped"]["no_email"] == 1
    names = {(c["properties"].get("firstname"), c["properties"].get("lastname")) for c in contacts(sandbox).values()}
    assert ("Guest", "Gus") not in names
    assert all(c["properties"].get("email") for c in sandbox.state()["hubspot"]["contacts"])


def test_r4_sync_mode_none_sends_no_contact(sandbox):
    portal = connect(sandbox, scenario_copy())
    sync_settings_import(portal=portal, document={"sync_mode": "none"})
    report = full_sync(portal)
    assert report["webinars"]["synced"] == 0
    assert contacts(sandbox) == {}
    assert sandbox.state()["hubspot"]["timeline_events"] == []


def test_r4_selected_user_only_their_webinars(sandbox):
    portal = connect(sandbox, scenario_copy())
    sync_settings_import(portal=portal, document={"sync_mode": "selected", "selected_users": ["host@acme.com"]})
    full_sync(portal)
    people = contacts(sandbox)
    assert "jane@example.com" in people
    assert "eve@example.net" not in people  # Pat is not selected


def test_r5_excluded_host_domain_people_not_synced(sandbox):
    portal = connect(sandbox, scenario_copy())
    sync_settings_import(portal=portal, document={"excluded_host_domains": ["partner.example"]})
    report = full_sync(portal)
    assert report["webinars"]["skipped"]["host_domain_excluded"] == 1
    assert "eve@example.net" not in contacts(sandbox)
    assert "jane@example.com" in contacts(sandbox)


def test_r8_default_off_then_r10_switch_on_syncs_later(sandbox):
    portal = connect(sandbox, scenario_copy())
    sync_settings_import(portal=portal, document={"users": {"pat@partner.example": {"sync_new_webinars_by_default": False}}})
    report = full_sync(portal)
    assert report["webinars"]["skipped"]["webinar_sync_off"] == 1
    assert "eve@example.net" not in contacts(sandbox)
    # R10: the admin ticks the webinar; the next sync brings its registrant in.
    sync_settings_import(
        portal=portal,
        document={
            "users": {"pat@partner.example": {"sync_new_webinars_by_default": False}},
            "webinars": {"81000000002": {"sync": True}},
        },
    )
    report = full_sync(portal)
    assert report["webinars"]["skipped"]["webinar_sync_off"] == 0
    eve = contacts(sandbox)["eve@example.net"]
    assert num(eve["properties"]["zoomsync_registration_count"]) == 1


def test_crash_in_the_middle_of_the_pull_then_rerun_equals_clean_run(sandbox, monkeypatch):
    # Clean run first, as the reference.
    portal = connect(sandbox, scenario_copy())
    full_sync(portal)
    reference = {e: c["properties"] for e, c in contacts(sandbox).items()}
    reference_events = len(sandbox.state()["hubspot"]["timeline_events"])
    # Same world again, empty HubSpot and a fresh database for the portal.
    portal.delete()
    portal = connect(sandbox, scenario_copy())
    real = pull_service.rows_upsert
    calls = {"n": 0}

    def crash_after_two_pages(**kwargs):
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("worker killed mid-pull")
        return real(**kwargs)

    monkeypatch.setattr(pull_service, "rows_upsert", crash_after_two_pages)
    with pytest.raises(RuntimeError):
        full_sync(portal)
    monkeypatch.setattr(pull_service, "rows_upsert", real)
    report = full_sync(portal)
    assert report["errors"] == []
    after = {e: c["properties"] for e, c in contacts(sandbox).items()}
    assert set(after) == set(reference)
    for email, props in reference.items():
        for key, value in props.items():
            if key.startswith("zoomsync_"):
                assert after[email].get(key) == value, (email, key)
    events = sandbox.state()["hubspot"]["timeline_events"]
    assert len(events) == reference_events
    assert len({e["id"] for e in events}) == len(events)  # no duplicate event


@pytest.mark.contract
def test_pull_traffic_follows_the_zoom_specs(sandbox):
    from connector.clients.factories import zoom_client_for
    from connector.selectors import sync_rules_get
    from connector.services.pull import account_pull
    from connector.services.report import SyncReport
    from sandbox.contract import ContractRecorder, specs_require

    specs_require()
    portal = connect(sandbox, scenario_copy())
    account = portal.zoom_accounts.get()
    client = zoom_client_for(account)
    recorder = ContractRecorder.attach(client.session)
    account_pull(
        account=account, rules=sync_rules_get(portal=portal), report=SyncReport(portal=portal, run=None), client=client
    )
    recorder.assert_clean()
    operations = " ".join(sorted(recorder.operations))
    for path in ("/users", "webinars", "registrants", "instances", "report/webinars", "zoom_events"):
        assert path in operations, f"{path} not exercised: {operations}"


def test_server_faults_are_retried_and_the_result_equals_a_clean_run(sandbox):
    portal = connect(sandbox, scenario_copy())
    full_sync(portal)
    reference = {e: c["properties"] for e, c in contacts(sandbox).items()}
    reference_events = sorted(e["id"] for e in sandbox.state()["hubspot"]["timeline_events"])
    portal.delete()
    portal = connect(sandbox, scenario_copy())
    sandbox.configure(fault_rate=0.25, seed=3)
    report = full_sync(portal)
    sandbox.configure(fault_rate=0)
    assert sandbox.calls()["faults"]["zoom"] + sandbox.calls()["faults"]["hubspot"] > 0
    assert report["errors"] == []
    after = {e: c["properties"] for e, c in contacts(sandbox).items()}
    assert set(after) == set(reference)
    for email, props in reference.items():
        assert {k: v for k, v in after[email].items() if k.startswith("zoomsync_")} == {
            k: v for k, v in props.items() if k.startswith("zoomsync_")
        }
    assert sorted(e["id"] for e in sandbox.state()["hubspot"]["timeline_events"]) == reference_events
