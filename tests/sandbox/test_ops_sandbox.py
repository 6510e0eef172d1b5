"""Sandbox for load and dev work (issue 14): many HubSpot portals in one process, large
scenarios through the control API, generated single-session webinars whose uuid is their
instance's, and a state file that keeps the world (and its world id) across restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from sandbox.generate import scenario_generate
from tests.sandbox.test_serve_command import free_port

REPO = Path(__file__).resolve().parents[2]


def two_portals() -> dict:
    return {"portals": [
        {"hubspot": {"portal_id": 111, "contacts": [{"id": "5", "email": "a@one.example"}]},
         "zoom": {"accounts": [{"account_id": "zacc_one"}]}},
        {"hubspot": {"portal_id": 222, "contacts": [{"id": "7", "email": "b@two.example"}]},
         "zoom": {"accounts": [{"account_id": "zacc_two"}]}},
    ]}


def test_many_portals_in_one_process_routed_by_prefix_and_by_token(sandbox):
    loaded = sandbox.load(two_portals())
    assert loaded["portals"] == [111, 222]
    base = sandbox.url
    one = requests.get(f"{base}/p/111/_sandbox/state", params={"view": "accounts"}, timeout=10).json()
    two = requests.get(f"{base}/p/222/_sandbox/state", params={"view": "accounts"}, timeout=10).json()
    assert one["hubspot"]["portal_id"] == 111 and [a["account_id"] for a in one["zoom"]["accounts"]] == ["zacc_one"]
    assert two["hubspot"]["portal_id"] == 222 and [a["account_id"] for a in two["zoom"]["accounts"]] == ["zacc_two"]
    assert one["world_id"] == two["world_id"] == loaded["world_id"]

    token = requests.get(f"{base}/p/222/_sandbox/token", params={"service": "hubspot"}, timeout=10).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    # Under the portal's prefix, and without it (routed by the token that portal issued).
    for url in (f"{base}/p/222/hubspot", f"{base}/hubspot"):
        details = requests.get(f"{url}/account-info/v3/details", headers=headers, timeout=10)
        assert details.status_code == 200 and details.json()["portalId"] == 222
        contact = requests.get(f"{url}/crm/v3/objects/contacts/7", headers=headers, timeout=10)
        assert contact.status_code == 200 and contact.json()["properties"]["email"] == "b@two.example"
    # Portal 111's token does not open portal 222's contacts.
    other = requests.get(f"{base}/p/111/_sandbox/token", params={"service": "hubspot"}, timeout=10).json()
    denied = requests.get(f"{base}/p/222/hubspot/crm/v3/objects/contacts/7",
                          headers={"Authorization": f"Bearer {other['access_token']}"}, timeout=10)
    assert denied.status_code == 401
    # Zoom per portal: portal 222's account answers only under its prefix.
    zt = requests.post(f"{base}/p/222/zoom/oauth/token", timeout=10,
                       params={"grant_type": "account_credentials", "account_id": "zacc_two"})
    assert zt.status_code == 200
    users = requests.get(f"{base}/p/222/zoom/v2/users", timeout=10,
                         headers={"Authorization": f"Bearer {zt.json()['access_token']}"})
    assert users.status_code == 200
    missing = requests.get(f"{base}/p/333/_sandbox/state", timeout=10)
    assert missing.status_code == 404 and missing.json()["portals"] == [111, 222]


def test_two_portals_with_one_portal_id_are_refused(sandbox):
    data = {"portals": [{"hubspot": {"portal_id": 5}}, {"hubspot": {"portal_id": 5}}]}
    response = requests.post(f"{sandbox.url}/_sandbox/scenario", json=data, timeout=10)
    assert response.status_code == 400
    assert response.json()["path"] == "portals[1].hubspot.portal_id"


@pytest.mark.slow
def test_a_scenario_over_django_body_limit_loads_through_the_control_api(sandbox):
    from django.conf import global_settings

    data = scenario_generate(webinars=5, registrants=10_000, seed=4)
    body = json.dumps(data).encode()
    assert len(body) > global_settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # Django's 2.5 MB
    response = requests.post(f"{sandbox.url}/_sandbox/scenario", data=body, timeout=120,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text[:300]
    assert response.json()["zoom"]["registrants"] == 10_000


def test_a_generated_single_session_webinar_has_its_instance_uuid(sandbox):
    sandbox.load(scenario_generate(webinars=2, registrants=4, recurring_every=2, seed=2))
    sandbox.configure(rate_limits=False)
    token = sandbox.token("zoom", "zacc_main")
    headers = {"Authorization": f"Bearer {token}"}
    single = f"{sandbox.zoom_api_base}/webinars/85000000001"
    webinar = requests.get(single, headers=headers, timeout=10).json()
    instances = requests.get(f"{sandbox.zoom_api_base}/past_webinars/85000000001/instances",
                             headers=headers, timeout=10).json()["webinars"]
    assert [i["uuid"] for i in instances] == [webinar["uuid"]]
    # The recurring one keeps one uuid per occurrence, none of them the webinar's.
    recurring = requests.get(f"{sandbox.zoom_api_base}/webinars/85000000002", headers=headers, timeout=10).json()
    occurrences = requests.get(f"{sandbox.zoom_api_base}/past_webinars/85000000002/instances",
                               headers=headers, timeout=10).json()["webinars"]
    assert len(occurrences) == 3 and recurring["uuid"] not in {i["uuid"] for i in occurrences}


def _serve(port: int, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, ZOOMSYNC_SANDBOX="1", DEBUG="1")
    proc = subprocess.Popen([sys.executable, "manage.py", "sandbox", "serve", "--port", str(port), *args],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/_sandbox/calls", timeout=1)
            return proc
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(proc.stderr.read()) from None
            time.sleep(0.2)


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return out


@pytest.mark.slow
def test_state_file_keeps_the_world_tokens_and_world_id_across_a_restart(tmp_path):
    state_file = tmp_path / "sandbox.state"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _serve(port, "--scenario", "demo", "--state-file", str(state_file))
    try:
        before = requests.get(f"{base}/_sandbox/state", params={"view": "accounts"}, timeout=10).json()
        token = requests.get(f"{base}/_sandbox/token", params={"service": "hubspot"}, timeout=10).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = requests.post(f"{base}/hubspot/crm/v3/objects/contacts", headers=headers, timeout=10,
                                json={"properties": {"email": "kept@restart.example"}})
        assert created.status_code == 201
    finally:
        _stop(proc)
    assert state_file.exists()

    proc = _serve(port, "--scenario", "demo", "--state-file", str(state_file))
    try:
        after = requests.get(f"{base}/_sandbox/state", params={"view": "accounts"}, timeout=10).json()
        assert after["world_id"] == before["world_id"]
        kept = requests.get(f"{base}/hubspot/crm/v3/objects/contacts/{created.json()['id']}",
                            headers=headers, timeout=10)  # the old token still works
        assert kept.status_code == 200 and kept.json()["properties"]["email"] == "kept@restart.example"
    finally:
        out = _stop(proc)
    assert "state file" in out

    # Without the state file, a restart is a new world (a new world id).
    proc = _serve(port, "--scenario", "demo")
    try:
        fresh = requests.get(f"{base}/_sandbox/state", params={"view": "accounts"}, timeout=10).json()
        assert fresh["world_id"] != before["world_id"]
    finally:
        _stop(proc)


def test_a_broken_state_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.state"
    bad.write_bytes(b"not a pickle")
    env = dict(os.environ, ZOOMSYNC_SANDBOX="1", DEBUG="1")
    result = subprocess.run([sys.executable, "manage.py", "sandbox", "serve", "--port", str(free_port()),
                             "--state-file", str(bad)], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "not a sandbox state file" in result.stderr and "Traceback" not in result.stderr


def test_generate_many_portals_loads_and_serves_each(sandbox):
    from sandbox.generate import scenario_generate_portals

    data = scenario_generate_portals(portals=3, webinars=1, registrants=5, seed=9)
    assert [p["hubspot"]["portal_id"] for p in data["portals"]] == [62515, 62516, 62517]
    assert sandbox.load(data)["portals"] == [62515, 62516, 62517]
    state = requests.get(f"{sandbox.url}/p/62517/_sandbox/state", params={"view": "accounts"}, timeout=10).json()
    assert [a["account_id"] for a in state["zoom"]["accounts"]] == ["zacc_62517"]
    assert scenario_generate_portals(portals=1, webinars=1, registrants=2)["hubspot"]["portal_id"] == 62515
