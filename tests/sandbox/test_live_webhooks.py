"""The sandbox's live changes and signed webhooks (INTERFACES.md §3 "Live changes and webhooks"):
subscribe (with Zoom's url_validation), every act's world change and its deliveries, the
signatures as the providers compute them, retries, duplicates, shuffling, the report delay;
and every Zoom payload validated against specs/zoom/meetings-webhooks.json."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.sandbox.webhook_receiver import Receiver

HUB_SECRET = "hub-client-secret"
ZOOM_SECRET = "zsecret"
W1 = 81000000001


def _subscribe(sandbox: Any, receiver: Receiver) -> None:
    sandbox.webhooks_subscribe(
        zoom={"url": f"{receiver.url}/webhooks/zoom", "secret_token": ZOOM_SECRET},
        hubspot={"url": f"{receiver.url}/webhooks/hubspot", "client_secret": HUB_SECRET},
    )


def _zoom_valid(request: dict[str, Any]) -> bool:
    ts = request["headers"]["x-zm-request-timestamp"]
    expected = "v0=" + hmac.new(ZOOM_SECRET.encode(), f"v0:{ts}:".encode() + request["body"],
                                hashlib.sha256).hexdigest()
    return request["headers"]["x-zm-signature"] == expected and abs(int(ts) - time.time()) < 60


def _hubspot_valid(request: dict[str, Any], url: str) -> bool:
    ts = request["headers"]["X-HubSpot-Request-Timestamp"]
    message = b"POST" + url.encode() + request["body"] + ts.encode()
    expected = base64.b64encode(hmac.new(HUB_SECRET.encode(), message, hashlib.sha256).digest()).decode()
    v1 = hashlib.sha256(HUB_SECRET.encode() + request["body"]).hexdigest()
    return request["headers"]["X-HubSpot-Signature-v3"] == expected and request["headers"]["X-HubSpot-Signature"] == v1


def test_zoom_subscription_sends_url_validation_and_refuses_a_wrong_answer(sandbox_demo):
    with Receiver(wrong_validation=True) as bad:
        answer = requests.post(f"{sandbox_demo.url}/_sandbox/webhooks", timeout=20,
                               json={"zoom": {"url": f"{bad.url}/webhooks/zoom", "secret_token": ZOOM_SECRET}})
        assert answer.status_code == 400 and "validation" in answer.json()["error"]
        assert bad.bodies("/webhooks/zoom")[0]["event"] == "endpoint.url_validation"
    assert sandbox_demo.webhooks()["subscriptions"]["zoom"] is None
    with Receiver() as good:
        _subscribe(sandbox_demo, good)
        assert _zoom_valid(good.requests[0])
        assert sandbox_demo.webhooks()["subscriptions"]["zoom"]["url"] == f"{good.url}/webhooks/zoom"
    sandbox_demo.webhooks_subscribe()
    assert sandbox_demo.webhooks()["subscriptions"] == {"zoom": None, "hubspot": None}


def test_register_and_status_change_update_zoom_and_send_signed_events(sandbox_demo):
    with Receiver() as receiver:
        _subscribe(sandbox_demo, receiver)
        out = sandbox_demo.act("register", account_id="zacc_main", webinar_id=W1,
                               registrant={"email": "new.person@example.com", "first_name": "New"})
        assert [(d["service"], d["event"], d["status"]) for d in out["deliveries"]] == [
            ("zoom", "webinar.registration_created", 200)]
        regs = next(w for w in sandbox_demo.state()["zoom"]["accounts"][0]["webinars"] if w["id"] == W1)["registrants"]
        new = next(r for r in regs if r["email"] == "new.person@example.com")
        assert new["status"] == "approved"
        sandbox_demo.act("registration_status", account_id="zacc_main", webinar_id=W1,
                         registrant_id=new["id"], status="cancelled")
        regs = next(w for w in sandbox_demo.state()["zoom"]["accounts"][0]["webinars"] if w["id"] == W1)["registrants"]
        assert next(r for r in regs if r["id"] == new["id"])["status"] == "cancelled"
        events = receiver.bodies("/webhooks/zoom")[1:]
        assert [e["event"] for e in events] == ["webinar.registration_created", "webinar.registration_cancelled"]
        assert events[0]["payload"]["object"]["registrant"]["email"] == "new.person@example.com"
        assert events[1]["payload"]["object"]["registrant"]["id"] == new["id"]
        assert all(_zoom_valid(r) for r in receiver.requests)


def test_act_errors_are_clear(sandbox_demo):
    url = f"{sandbox_demo.url}/_sandbox/act"
    assert requests.post(url, json={"action": "nope"}, timeout=10).status_code == 400
    missing = requests.post(url, json={"action": "register", "account_id": "zacc_main", "webinar_id": 1,
                                       "registrant": {"email": "a@b.example"}}, timeout=10)
    assert missing.status_code == 404 and "webinar 1" in missing.json()["error"]
    typo = requests.post(url, json={"action": "delete_contact", "contactid": "501"}, timeout=10)
    assert typo.status_code == 400 and "contactid" in typo.json()["error"]


def test_hold_session_serves_the_instance_and_sends_started_participants_ended(sandbox_demo):
    with Receiver() as receiver:
        _subscribe(sandbox_demo, receiver)
        instance = {"uuid": "LiveUUID0000000000001==", "participants": [
            {"user_email": "jane.doe@example.com", "join_time": "2026-10-01T15:00:00Z",
             "leave_time": "2026-10-01T15:40:00Z"}]}
        out = sandbox_demo.act("hold_session", account_id="zacc_main", webinar_id=W1,
                               instance={**instance, "start_time": "2026-10-01T15:00:00Z",
                                         "end_time": "2026-10-01T16:00:00Z"})
        assert [d["event"] for d in out["deliveries"]] == [
            "webinar.started", "webinar.participant_joined", "webinar.participant_left", "webinar.ended"]
        token = sandbox_demo.token("zoom", "zacc_main")
        rows = requests.get(f"{sandbox_demo.url}/zoom/v2/report/webinars/LiveUUID0000000000001==/participants",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10).json()["participants"]
        assert [r["user_email"] for r in rows] == ["jane.doe@example.com"]
        ended = receiver.bodies("/webhooks/zoom")[-1]
        assert ended["payload"]["object"]["uuid"] == "LiveUUID0000000000001=="
        assert ended["payload"]["object"]["id"] == str(W1)  # a string in webinar.ended


def test_report_delay_serves_an_empty_report_until_ready(sandbox_demo):
    sandbox_demo.configure(report_delay_s=0.6)
    sandbox_demo.act("hold_session", account_id="zacc_main", webinar_id=W1, instance={
        "uuid": "LateUUID0000000000001==", "participants": [{"user_email": "jane.doe@example.com"}]})
    token = sandbox_demo.token("zoom", "zacc_main")
    url = f"{sandbox_demo.url}/zoom/v2/report/webinars/LateUUID0000000000001==/participants"
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(url, headers=headers, timeout=10).json()["participants"] == []
    time.sleep(0.9)
    assert len(requests.get(url, headers=headers, timeout=10).json()["participants"]) == 1


def test_recording_with_transcript_sends_both_events(sandbox_demo):
    with Receiver() as receiver:
        _subscribe(sandbox_demo, receiver)
        out = sandbox_demo.act("recording", account_id="zacc_main", webinar_id=81000000003, recording={
            "share_url": "https://zoom.us/rec/share/x1", "files": [{"file_type": "MP4"}, {"file_type": "TRANSCRIPT"}]})
        assert [d["event"] for d in out["deliveries"]] == ["recording.completed", "recording.transcript_completed"]
        completed = receiver.bodies("/webhooks/zoom")[1]
        assert completed["download_token"] and completed["payload"]["object"]["share_url"] == "https://zoom.us/rec/share/x1"


def test_hubspot_acts_change_contacts_and_send_signed_arrays(sandbox_demo):
    with Receiver() as receiver:
        _subscribe(sandbox_demo, receiver)
        sandbox_demo.act("delete_contact", contact_id="501")
        contacts = {c["id"]: c for c in sandbox_demo.state()["hubspot"]["contacts"]}
        assert contacts["501"]["archived"] is True
        sandbox_demo.act("merge_contacts", primary_id="502", merged_id="504")
        contacts = {c["id"]: c for c in sandbox_demo.state()["hubspot"]["contacts"]}
        assert "504" not in contacts
        out = sandbox_demo.act("privacy_delete_contact", contact_id="502")
        assert {d["event"] for d in out["deliveries"]} == {"contact.privacyDeletion", "contact.deletion"}
        assert "502" not in {c["id"] for c in sandbox_demo.state()["hubspot"]["contacts"]}
        batches = receiver.bodies("/webhooks/hubspot")
        assert [[e["subscriptionType"] for e in b] for b in batches][:2] == [["contact.deletion"], ["contact.merge"]]
        merge = batches[1][0]
        assert merge["primaryObjectId"] == 502 and merge["mergedObjectIds"] == [504]
        for batch in batches:
            for event in batch:
                assert {"objectId", "portalId", "occurredAt", "eventId", "subscriptionType", "appId",
                        "attemptNumber"} <= set(event)
                assert event["portalId"] == 62515
        hub = [r for r in receiver.requests if r["path"] == "/webhooks/hubspot"]
        assert all(_hubspot_valid(r, f"{receiver.url}/webhooks/hubspot") for r in hub)


def test_deauthorize_revokes_the_accounts_tokens(sandbox_demo):
    token = sandbox_demo.token("zoom", "zacc_eu")
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{sandbox_demo.url}/zoom/v2/users", headers=headers, timeout=10).status_code == 200
    with Receiver() as receiver:
        _subscribe(sandbox_demo, receiver)
        sandbox_demo.act("deauthorize", account_id="zacc_eu")
        event = receiver.bodies("/webhooks/zoom")[-1]
        assert event["event"] == "app_deauthorized" and event["payload"]["account_id"] == "zacc_eu"
    assert requests.get(f"{sandbox_demo.url}/zoom/v2/users", headers=headers, timeout=10).status_code == 401


def test_failed_delivery_is_retried_and_logged(sandbox_demo):
    sandbox_demo.configure(webhook_retry_delays_s=[0.2, 0.2])
    with Receiver(fail_first=2) as receiver:
        sandbox_demo.webhooks_subscribe(hubspot={"url": f"{receiver.url}/webhooks/hubspot",
                                                 "client_secret": HUB_SECRET})
        out = sandbox_demo.act("delete_contact", contact_id="501")
        assert out["deliveries"][0]["status"] == 500
        deadline = time.time() + 5
        while time.time() < deadline:
            log = sandbox_demo.webhooks()["deliveries"]
            if log and log[0]["statuses"] == [500, 500, 200]:
                break
            time.sleep(0.05)
        assert log[0]["statuses"] == [500, 500, 200] and log[0]["attempts"] == 3
        assert len(receiver.bodies("/webhooks/hubspot")) == 3


def test_duplicate_rate_and_shuffle_knobs(sandbox_demo):
    sandbox_demo.configure(webhook_duplicate_rate=1.0, webhook_shuffle=True, seed=3)
    with Receiver() as receiver:
        _subscribe(sandbox_demo, receiver)
        participants = [{"user_email": f"p{i}@example.com"} for i in range(6)]
        out = sandbox_demo.act("hold_session", account_id="zacc_main", webinar_id=W1,
                               instance={"uuid": "ShuffleUUID00000000001==", "participants": participants})
        events = [d["event"] for d in out["deliveries"]]
        assert len(events) == 2 * 14
        unique = [e for i, e in enumerate(events) if i % 2 == 0]
        assert unique != sorted(unique, key=["webinar.started", "webinar.participant_joined",
                                             "webinar.participant_left", "webinar.ended"].index)
        assert sum(d["duplicate"] for d in sandbox_demo.webhooks()["deliveries"]) == 14
    with pytest.raises(RuntimeError, match="webhook_duplicate_rate"):
        sandbox_demo.configure(webhook_duplicate_rate=2)


# --- contract: every Zoom payload the sandbox sends, against the official webhook spec -------------


def _webhook_schemas() -> dict[str, Any]:
    root = Path(os.environ.get("ZOOMSYNC_API_SPECS", "/work/shared/specs"))
    path = root / "zoom" / "meetings-webhooks.json"
    if not path.exists():
        if os.environ.get("REQUIRE_SPECS") == "1":
            pytest.fail(f"{path} is missing and REQUIRE_SPECS=1")
        pytest.skip(f"{path} is missing")
    hooks = json.loads(path.read_text())["webhooks"]
    # The spec's own $refs point at "#/paths/<event>/...": resolve them inside a root holding the
    # webhooks under "paths".
    return {name: {"$ref": f"#/paths/{name}/post/requestBody/content/application~1json/schema", "paths": hooks}
            for name in hooks}


def test_contract_zoom_payloads_follow_the_webhook_spec(sandbox_demo):
    import jsonschema

    schemas = _webhook_schemas()
    with Receiver() as receiver:
        _subscribe(sandbox_demo, receiver)
        sandbox_demo.act("register", account_id="zacc_main", webinar_id=W1, registrant={
            "email": "c1@example.com", "org": "Acme", "custom_questions": [{"title": "Why", "value": "fun"}]})
        reg_id = next(r["id"] for w in sandbox_demo.state()["zoom"]["accounts"][0]["webinars"] if w["id"] == W1
                      for r in w["registrants"] if r["email"] == "c1@example.com")
        for status in ("approved", "denied", "cancelled"):
            sandbox_demo.act("registration_status", account_id="zacc_main", webinar_id=W1,
                             registrant_id=reg_id, status=status)
        sandbox_demo.act("hold_session", account_id="zacc_main", webinar_id=W1, instance={
            "uuid": "ContractUUID000000001==", "participants": [{"user_email": "c1@example.com"}, {}]})
        sandbox_demo.act("recording", account_id="zacc_main", webinar_id=W1, recording={
            "instance_uuid": "ContractUUID000000001==", "files": [{"file_type": "MP4"}, {"file_type": "TRANSCRIPT"}]})
        sandbox_demo.act("webinar_update", account_id="zacc_main", webinar_id=W1, changes={"topic": "Renamed"})
        sandbox_demo.act("webinar_delete", account_id="zacc_main", webinar_id=81000000006)
        sandbox_demo.act("webinar_create", account_id="zacc_main",
                         webinar={"id": 81000000077, "host_id": "zu_hal", "topic": "New"})
        events = receiver.bodies("/webhooks/zoom")[1:]
    names = {e["event"] for e in events}
    assert names == {"webinar.registration_created", "webinar.registration_approved", "webinar.registration_denied",
                     "webinar.registration_cancelled", "webinar.started", "webinar.participant_joined",
                     "webinar.participant_left", "webinar.ended", "recording.completed",
                     "recording.transcript_completed", "webinar.updated", "webinar.deleted", "webinar.created"}
    for event in events:
        jsonschema.validate(event, schemas[event["event"]])
    # The check can fail: a payload missing its registrant is refused.
    broken = json.loads(json.dumps(events[0]))
    del broken["payload"]["object"]["registrant"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schemas[broken["event"]])
