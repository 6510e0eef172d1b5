"""The fake HubSpot over real HTTP, through the sandbox server and its middleware."""

from __future__ import annotations

import time

import requests

READ = "/crm/v3/objects/contacts/batch/read"


def _read(base: str, token: str, emails: list[str]) -> requests.Response:
    return requests.post(
        base + READ,
        json={"idProperty": "email", "inputs": [{"id": e} for e in emails],
              "properties": ["email", "firstname"], "propertiesWithHistory": []},
        headers={"Authorization": f"Bearer {token}"}, timeout=30,
    )


def test_demo_batch_read_with_control_token(sandbox_demo):
    token = sandbox_demo.token("hubspot")
    resp = _read(sandbox_demo.hubspot_api_base, token, ["sam@oldmail.example"])
    assert resp.status_code == 200
    # R13: the secondary email finds Sam, whose primary email comes back.
    assert resp.json()["results"][0]["properties"]["email"] == "sam.lee@globex.example"
    calls = sandbox_demo.calls()
    assert calls["hubspot"]["POST /crm/v3/objects/contacts/batch/read"] == 1


def test_oauth_code_flow_over_http_then_api_call(sandbox_demo):
    base = sandbox_demo.hubspot_api_base
    token = requests.post(base + "/oauth/v1/token", data={
        "grant_type": "authorization_code", "code": "demo-code", "client_id": "c",
        "client_secret": "s", "redirect_uri": "http://127.0.0.1:8000/cb"}, timeout=30).json()
    assert token["expires_in"] == 1800
    refreshed = requests.post(base + "/oauth/v1/token", data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"],
        "client_id": "c", "client_secret": "s"}, timeout=30).json()
    details = requests.get(base + "/account-info/v3/details", timeout=30,
                           headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    assert details.status_code == 200 and details.json()["portalId"] == 62515


def test_expired_token_401_over_http(sandbox_demo):
    sandbox_demo.configure(token_lifetime_s=1)
    token = sandbox_demo.token("hubspot")
    assert _read(sandbox_demo.hubspot_api_base, token, ["jane.doe@example.com"]).status_code == 200
    time.sleep(1.2)
    resp = _read(sandbox_demo.hubspot_api_base, token, ["jane.doe@example.com"])
    assert resp.status_code == 401
    assert resp.json()["category"] == "EXPIRED_AUTHENTICATION"


def test_ten_secondly_rate_limit_429_with_hubspot_headers(sandbox_demo):
    sandbox_demo.configure(rate_limits=True, hubspot_rate_limit=[3, 10])
    token = sandbox_demo.token("hubspot")
    answers = [_read(sandbox_demo.hubspot_api_base, token, ["jane.doe@example.com"])
               for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    body = answers[-1].json()
    assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["errorType"] == "RATE_LIMIT"
    assert answers[0].headers["X-HubSpot-RateLimit-Max"] == "3"
    assert answers[-1].headers["X-HubSpot-RateLimit-Remaining"] == "0"


def test_state_shows_hubspot_writes(sandbox_demo):
    sandbox_demo.configure(rate_limits=False)
    token = sandbox_demo.token("hubspot")
    base = sandbox_demo.hubspot_api_base
    auth = {"Authorization": f"Bearer {token}"}
    requests.post(base + "/crm/v3/properties/contacts/groups", headers=auth, timeout=30,
                  json={"name": "zoomsync", "label": "Zoom"})
    created = requests.post(base + "/crm/v3/objects/contacts/batch/create", headers=auth,
                            timeout=30, json={"inputs": [
                                {"properties": {"email": "jane.doe@example.com"},
                                 "associations": []}]})
    assert created.status_code == 409
    assert created.json()["message"] == "Contact already exists. Existing ID: 501"
    state = sandbox_demo.state()["hubspot"]
    assert {"name": "zoomsync", "label": "Zoom", "objectType": "contacts"} in state["property_groups"]
    deleted = next(c for c in state["contacts"] if c["id"] == "503")
    assert deleted["archived"] is True
