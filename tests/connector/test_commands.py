"""The commands of INTERFACES.md §2: connect_sandbox, sync_settings export/import, sync."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from connector.models import Portal, PortalSyncSettings, SyncRun, ZoomAccount
from tests.connector.sync_scenarios import scenario_copy

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_connect_sandbox_creates_portal_and_every_zoom_account(sandbox):
    data = scenario_copy()
    data["hubspot"]["business_units"] = [{"id": "0", "name": "Acme", "primary": True}, {"id": "101", "name": "Acme EU"}]
    second = {"account_id": "zacc_eu", "business_unit_id": "101", "users": [], "webinars": []}
    data["zoom"]["accounts"].append(second)
    sandbox.load(data)
    out = run("connect_sandbox", "--url", sandbox.url)
    assert "62515" in out
    portal = Portal.objects.get(hub_id=62515)
    assert portal.api_base == sandbox.url + "/hubspot"
    assert portal.access_token and portal.refresh_token  # installed through OAuth
    accounts = {a.account_id: a for a in ZoomAccount.objects.filter(portal=portal)}
    assert set(accounts) == {"zacc_main", "zacc_eu"}
    assert accounts["zacc_main"].is_primary_business_unit and not accounts["zacc_eu"].is_primary_business_unit
    assert accounts["zacc_eu"].business_unit_id == "101"
    assert accounts["zacc_main"].api_base == sandbox.url + "/zoom/v2"
    assert accounts["zacc_main"].oauth_base == sandbox.url + "/zoom"
    assert accounts["zacc_main"].access_token  # a first S2S token was fetched
    # Idempotent: connecting again updates, never duplicates.
    run("connect_sandbox", "--url", sandbox.url)
    assert Portal.objects.count() == 1 and ZoomAccount.objects.count() == 2


def test_connect_sandbox_unreachable_is_a_clear_error(db):
    with pytest.raises(CommandError, match="cannot reach the sandbox"):
        run("connect_sandbox", "--url", "http://127.0.0.1:9")


def test_sync_settings_round_trip(portal, tmp_path):
    doc = {
        "sync_mode": "selected",
        "selected_users": ["Host@Acme.com"],
        "excluded_host_domains": ["partner.example"],
        "excluded_recording_domains": [],
        "excluded_contact_domains": ["acme.com"],
        "users": {"host@acme.com": {"sync_new_webinars_by_default": False, "sync_recordings": True}},
        "webinars": {"81000000001": {"sync": True}},
        "event_sinks": ["timeline", "marketing_events"],
    }
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(doc))
    run("sync_settings", "import", "--portal", "62515", str(path))
    exported = json.loads(run("sync_settings", "export", "--portal", "62515"))
    assert exported["selected_users"] == ["host@acme.com"]
    assert exported["users"]["host@acme.com"] == {"sync_new_webinars_by_default": False, "sync_recordings": True}
    assert exported["event_sinks"] == ["timeline", "marketing_events"]
    # Export → import → export is stable.
    path.write_text(json.dumps(exported))
    run("sync_settings", "import", "--portal", "62515", str(path))
    assert json.loads(run("sync_settings", "export", "--portal", "62515")) == exported


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"sync_mode": "some"}', "sync_mode"),
        ('{"excluded_host_domains": ["not a domain"]}', "not a domain"),
        ('{"sync_mod": "all"}', "unknown key 'sync_mod'"),
    ],
)
def test_sync_settings_bad_file_changes_nothing(portal, tmp_path, content, message):
    run("sync_settings", "import", "--portal", "62515", _write(tmp_path, '{"excluded_contact_domains": ["acme.com"]}'))
    before = run("sync_settings", "export", "--portal", "62515")
    with pytest.raises(CommandError, match=message):
        run("sync_settings", "import", "--portal", "62515", _write(tmp_path, content))
    assert run("sync_settings", "export", "--portal", "62515") == before
    assert PortalSyncSettings.objects.get(portal=portal).excluded_contact_domains == ["acme.com"]


def test_sync_settings_unknown_portal(db, tmp_path):
    with pytest.raises(CommandError, match="no portal 999"):
        run("sync_settings", "export", "--portal", "999")


def _write(tmp_path, content: str) -> str:
    path = tmp_path / "doc.json"
    path.write_text(content)
    return str(path)


REPORT_KEYS = {"portal", "started_at", "finished_at", "webinars", "people", "recordings", "events", "pulled", "api_calls", "errors"}


def test_sync_json_prints_the_report(sandbox):
    sandbox.load(scenario_copy())
    run("connect_sandbox", "--url", sandbox.url)
    report = json.loads(run("sync", "--portal", "62515", "--json", "--pull-only"))
    assert set(report) >= REPORT_KEYS
    assert report["portal"] == 62515
    assert report["webinars"]["synced"] == 2 and report["webinars"]["skipped"]["zoom_event"] == 1
    assert report["people"]["skipped"]["no_email"] == 1
    assert report["pulled"]["participant_rows"] == 3
    assert report["api_calls"]["hubspot"] == 0  # --pull-only sends nothing to HubSpot
    assert sandbox.calls()["total"]["hubspot"] == 0 or not any(
        k.startswith(("POST", "PATCH", "PUT")) for k in sandbox.calls()["hubspot"] if "oauth" not in k
    )
    assert SyncRun.objects.get().trigger == "cli"


def test_sync_full_run_pushes_and_second_run_is_idle(sandbox):
    sandbox.load(scenario_copy())
    run("connect_sandbox", "--url", sandbox.url)
    first = json.loads(run("sync", "--json"))
    assert first["errors"] == []
    assert first["people"]["contacts_created"] >= 2  # jane and bob (den was denied)
    assert first["api_calls"]["hubspot"] > 0
    human = run("sync", "--portal", "62515")
    assert "Webinars" in human and "API calls" in human and "Part of a Zoom Event 1" in human
    second = json.loads(run("sync", "--json"))
    assert second["people"]["contacts_created"] == 0 and second["people"]["contacts_updated"] == 0
    assert sum(second["events"].values()) == 0


def test_sync_without_portal_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no connected portal"):
        run("sync")


def test_connect_sandbox_refused_zoom_credentials_is_a_clear_error(sandbox):
    data = scenario_copy()
    data["zoom"]["accounts"][0]["client_id"] = "pinned-id"
    data["zoom"]["accounts"][0]["client_secret"] = "pinned-secret"
    sandbox.load(data)
    with pytest.raises(CommandError, match="zacc_main: no token"):
        run("connect_sandbox", "--url", sandbox.url)


def test_progress_bar_draws_phase_and_counts():
    from connector.management.commands.sync import ProgressBar

    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar("pull:webinar data", 1, 4)
    bar("push", 10, 10)
    bar.close()
    text = stream.getvalue()
    assert "pull:webinar data" in text and "1/4" in text
    assert "[" + "#" * 30 + "]" in text and "10/10" in text
    assert text.endswith("\r")
