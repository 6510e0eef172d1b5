"""Control API (INTERFACES.md §3) and the server's knobs."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import pytest
import requests


def test_scenario_load_replaces_world_and_reset_empties_it(sandbox):
    answer = sandbox.load("demo")
    assert answer["loaded"] is True
    assert answer["zoom"]["accounts"] == ["zacc_main", "zacc_eu"]
    state = sandbox.state()
    accounts = {a["account_id"]: a for a in state["zoom"]["accounts"]}
    webinar = next(w for w in accounts["zacc_main"]["webinars"] if w["id"] == 81000000001)
    assert {"id", "email", "status"} <= set(webinar["registrants"][0])
    assert state["hubspot"]["portal_id"] == 62515

    sandbox.reset()
    assert sandbox.state()["zoom"] == {"accounts": []}
    calls = sandbox.calls()
    assert calls["zoom"] == {} and calls["hubspot"] == {}


def test_scenario_post_body_and_unknown_key_names_the_path(sandbox):
    url = f"{sandbox.url}/_sandbox/scenario"
    good = {"zoom": {"accounts": [{"account_id": "a1", "users": [{"id": "u1", "email": "h@x.example"}],
                                   "webinars": [{"id": 81000000077, "host_id": "u1"}]}]}}
    assert requests.post(url, json=good, timeout=10).status_code == 200
    bad = {"zoom": {"accounts": [{"account_id": "a1", "users": [{"id": "u1", "email": "h@x.example"}],
                                  "webinars": [{"id": 1, "host_id": "u1"},
                                               {"id": 2, "host_id": "u1", "registrnts": []}]}]}}
    answer = requests.post(url, json=bad, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["path"] == "zoom.accounts[0].webinars[1].registrnts"
    assert "registrnts" in answer.json()["error"] and "registrants" in answer.json()["error"]
    # The failed load left the previous world in place.
    assert sandbox.state()["zoom"]["accounts"][0]["webinars"][0]["id"] == 81000000077


def test_scenario_by_name_extension(sandbox):
    answer = requests.post(f"{sandbox.url}/_sandbox/scenario", json={"name": "demo"}, timeout=10)
    assert answer.status_code == 200 and answer.json()["zoom"]["webinars"] == 10
    missing = requests.post(f"{sandbox.url}/_sandbox/scenario", json={"name": "nope"}, timeout=10)
    assert missing.status_code == 400 and "demo" in missing.json()["error"]


def test_token_endpoint_shapes(sandbox_demo):
    zoom = requests.get(f"{sandbox_demo.url}/_sandbox/token",
                        params={"service": "zoom", "account_id": "zacc_eu"}, timeout=10).json()
    assert zoom["access_token"] and zoom["account_id"] == "zacc_eu"
    users = requests.get(f"{sandbox_demo.url}/zoom/v2/users", timeout=10,
                         headers={"Authorization": f"Bearer {zoom['access_token']}"}).json()
    assert [u["email"] for u in users["users"]] == ["eva.eu@acme.eu"]
    hubspot = requests.get(f"{sandbox_demo.url}/_sandbox/token", params={"service": "hubspot"},
                           timeout=10).json()
    assert isinstance(hubspot["access_token"], str) and hubspot["access_token"]
    unknown = requests.get(f"{sandbox_demo.url}/_sandbox/token",
                           params={"service": "zoom", "account_id": "nope"}, timeout=10)
    assert unknown.status_code == 404


def test_calls_are_counted_by_method_and_path_template(zoom, sandbox_demo):
    zoom.get("/users")
    zoom.get("/users/zu_hal/webinars")
    zoom.get("/users/zu_ada/webinars")
    zoom.get("/webinars/81000000001/registrants")
    calls = sandbox_demo.calls()
    assert calls["zoom"]["GET /v2/users"] == 1
    assert calls["zoom"]["GET /v2/users/{userId}/webinars"] == 2
    assert calls["zoom"]["GET /v2/webinars/{webinarId}/registrants"] == 1
    assert calls["throttled"] == {"zoom": 0, "hubspot": 0}
    assert calls["faults"] == {"zoom": 0, "hubspot": 0}
    sandbox_demo.calls_clear()
    assert sandbox_demo.calls()["zoom"] == {}


def test_config_get_set_and_reset_restores_defaults(sandbox):
    assert sandbox.config()["rate_limits"] is True
    changed = sandbox.configure(latency_ms=5, fault_rate=0.25, seed=7,
                                zoom_rate_limits={"medium": 2}, hubspot_rate_limit=[5, 1])
    assert changed["latency_ms"] == 5 and changed["zoom_rate_limits"]["medium"] == 2
    assert changed["zoom_rate_limits"]["light"] == 30
    bad = requests.post(f"{sandbox.url}/_sandbox/config", json={"fault_rat": 0.1}, timeout=10)
    assert bad.status_code == 400 and "fault_rat" in bad.json()["error"]
    sandbox.reset()
    assert sandbox.config()["latency_ms"] == 0 and sandbox.config()["fault_rate"] == 0.0


def test_zoom_429_per_second_with_retry_after_http_date(sandbox_demo):
    sandbox_demo.configure(zoom_rate_limits={"medium": 3})
    token = sandbox_demo.token("zoom", "zacc_main")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    statuses = []
    throttled = None
    for _ in range(20):
        answer = session.get(f"{sandbox_demo.url}/zoom/v2/users", timeout=10)
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            throttled = answer
            break
    assert throttled is not None, statuses
    assert throttled.json() == {
        "code": 429,
        "message": "You have reached the maximum per-second rate limit for this API. Try again later."}
    retry_at = parsedate_to_datetime(throttled.headers["Retry-After"])  # an HTTP date
    assert -1.0 <= retry_at.timestamp() - time.time() <= 1.5  # an HTTP date has whole seconds
    assert throttled.headers["X-RateLimit-Category"] == "Medium"
    assert throttled.headers["X-RateLimit-Type"] == "QPS"
    assert throttled.headers["X-RateLimit-Limit"] == "3"
    assert throttled.headers["X-RateLimit-Remaining"] == "0"
    # LIGHT endpoints have their own bucket.
    assert session.get(f"{sandbox_demo.url}/zoom/v2/users/zu_hal", timeout=10).status_code == 200
    assert sandbox_demo.calls()["throttled"]["zoom"] >= 1
    time.sleep(max(0.0, retry_at.timestamp() - time.time()) + 0.05)
    assert session.get(f"{sandbox_demo.url}/zoom/v2/users", timeout=10).status_code == 200


def test_rate_limits_off(sandbox_demo):
    sandbox_demo.configure(rate_limits=False, zoom_rate_limits={"medium": 1})
    token = sandbox_demo.token("zoom", "zacc_main")
    for _ in range(5):
        answer = requests.get(f"{sandbox_demo.url}/zoom/v2/users", timeout=10,
                              headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200


def test_faults_are_injected_reproducibly_and_counted(sandbox_demo):
    sandbox_demo.configure(rate_limits=False, fault_rate=0.5, seed=42)
    token = sandbox_demo.token("zoom", "zacc_main")

    def run() -> list[int]:
        return [requests.get(f"{sandbox_demo.url}/zoom/v2/users/zu_hal", timeout=10,
                             headers={"Authorization": f"Bearer {token}"}).status_code
                for _ in range(20)]

    first = run()
    assert set(first) - {200} <= {500, 502, 503} and set(first) & {500, 502, 503}
    assert sandbox_demo.calls()["faults"]["zoom"] == sum(1 for s in first if s != 200)
    sandbox_demo.configure(seed=42)
    assert run() == first


def test_dropped_connection_fault_closes_without_answer(sandbox_demo):
    sandbox_demo.configure(rate_limits=False, drop_rate=1.0)
    token = sandbox_demo.token("zoom", "zacc_main")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sandbox_demo.url}/zoom/v2/users", timeout=10,
                     headers={"Authorization": f"Bearer {token}"})
    assert sandbox_demo.calls()["faults"]["zoom"] == 1


def test_timeout_fault_is_slow_then_answers(sandbox_demo):
    sandbox_demo.configure(rate_limits=False, timeout_rate=1.0, timeout_delay_s=0.6)
    token = sandbox_demo.token("zoom", "zacc_main")
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{sandbox_demo.url}/zoom/v2/users", timeout=0.2,
                     headers={"Authorization": f"Bearer {token}"})
    started = time.monotonic()
    answer = requests.get(f"{sandbox_demo.url}/zoom/v2/users", timeout=5,
                          headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and time.monotonic() - started >= 0.5


def test_latency_knob(sandbox_demo):
    sandbox_demo.configure(rate_limits=False, latency_ms=150)
    token = sandbox_demo.token("zoom", "zacc_main")
    started = time.monotonic()
    requests.get(f"{sandbox_demo.url}/zoom/v2/users", timeout=5,
                 headers={"Authorization": f"Bearer {token}"})
    assert time.monotonic() - started >= 0.15


def test_oauth_endpoints_are_never_faulted(sandbox_demo):
    sandbox_demo.configure(fault_rate=1.0)
    answer = requests.post(f"{sandbox_demo.url}/zoom/oauth/token", timeout=10,
                           params={"grant_type": "account_credentials", "account_id": "zacc_main"})
    assert answer.status_code == 200


@pytest.mark.sandbox_scenario("demo")
@pytest.mark.sandbox_knobs(latency_ms=7, rate_limits=False)
def test_markers_are_fixture_arguments(sandbox):
    assert sandbox.config()["latency_ms"] == 7 and sandbox.config()["rate_limits"] is False
    assert len(sandbox.state()["zoom"]["accounts"]) == 2


def test_knobs_do_not_leak_into_the_next_test(sandbox):
    assert sandbox.config()["latency_ms"] == 0 and sandbox.state()["zoom"]["accounts"] == []


def test_state_accounts_view_names_the_portal_and_accounts_only(sandbox):
    import requests

    sandbox.load("demo")
    body = requests.get(f"{sandbox.url}/_sandbox/state", params={"view": "accounts"}, timeout=10).json()
    assert body["hubspot"]["portal_id"] == sandbox.state()["hubspot"]["portal_id"]
    assert "contacts" not in body["hubspot"]
    full_ids = sorted(a["account_id"] for a in sandbox.state()["zoom"]["accounts"])
    assert sorted(a["account_id"] for a in body["zoom"]["accounts"]) == full_ids
    assert all("webinars" not in a for a in body["zoom"]["accounts"])
