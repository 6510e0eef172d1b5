"""The workflow action endpoint with Zoom mocked at the HTTP boundary (`responses`).

The rule tests that claim end-to-end behaviour (test_r11_..., test_r24_... etc.) run
against the sandbox in test_action_sandbox.py; these cover the paths the sandbox cannot
easily produce (exact retry answers, the daily limit, crash recovery).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from connector.request_body import API_BODY_LIMIT
from tests.workflows.conftest import HUB_ID, ZOOM_BASE, action_body, zoom_account_create
from workflows.models import ActionExecution, ExecutionStatus, RegistrantAddAttempt
from workflows.selectors import workflow_registrations_for_portal

WEBINAR_ID = "81000000001"
WEBINAR_URL = f"{ZOOM_BASE}/webinars/{WEBINAR_ID}"
REGISTRANTS_URL = f"{WEBINAR_URL}/registrants"
QUESTIONS_URL = f"{WEBINAR_URL}/registrants/questions"


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    monkeypatch.setattr("connector.clients.base.time.sleep", lambda s: None)


def webinar_json(**overrides):
    body = {
        "id": int(WEBINAR_ID),
        "host_id": "zu_1",
        "host_email": "host@acme.com",
        "topic": "Launch",
        "join_url": f"https://zoom.us/j/{WEBINAR_ID}",
        "settings": {"approval_type": 0, "alternative_hosts": "alt1@acme.com;alt2@partner.example"},
    }
    body.update(overrides)
    return body


def mock_zoom(rsps, *, webinar=None, questions=None, add_status=201, add_body=None, add_headers=None):
    rsps.get(WEBINAR_URL, json=webinar or webinar_json())
    rsps.get(QUESTIONS_URL, json=questions if questions is not None else {"questions": [], "custom_questions": []})
    rsps.post(
        REGISTRANTS_URL,
        status=add_status,
        json=add_body
        or {"id": int(WEBINAR_ID), "registrant_id": "reg_1", "join_url": f"https://zoom.us/w/{WEBINAR_ID}?tk=reg_1"},
        headers=add_headers or {},
    )


def zoom_posts(rsps):
    return [c for c in rsps.calls if c.request.method == "POST"]


@responses.activate
def test_success_sends_exactly_three_fields_and_records(post_action, zoom_account):
    mock_zoom(responses)
    response = post_action(action_body(email=" Jane@Example.com ", webinar_id="810 0000 0001"))
    assert response.status_code == 200
    out = response.json()["outputFields"]
    assert out == {
        "hs_execution_state": "SUCCESS",
        "registrantId": "reg_1",
        "joinUrl": "https://zoom.us/w/81000000001?tk=reg_1",
    }
    (post,) = zoom_posts(responses)
    assert json.loads(post.request.body) == {"email": "Jane@Example.com", "first_name": "Jane", "last_name": "Doe"}
    execution = ActionExecution.objects.get(callback_id="ap-62515-1-1-0")
    assert execution.status == ExecutionStatus.SUCCEEDED
    assert (execution.email, execution.webinar_id, execution.join_url) == (
        "jane@example.com", WEBINAR_ID, "https://zoom.us/w/81000000001?tk=reg_1",
    )
    assert execution.registered_at is not None
    assert execution.request_body["callbackId"] == "ap-62515-1-1-0"
    assert list(workflow_registrations_for_portal(portal=zoom_account.portal)) == [execution]


@responses.activate
def test_same_callback_twice_registers_once_and_answers_the_same(post_action, zoom_account):
    mock_zoom(responses)
    first = post_action(action_body())
    second = post_action(action_body())
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert len(zoom_posts(responses)) == 1
    assert ActionExecution.objects.count() == 1


@responses.activate
def test_same_callback_twice_failure_replayed_without_zoom_calls(post_action, zoom_account):
    mock_zoom(responses, webinar=webinar_json(settings={"approval_type": 2}))
    first = post_action(action_body())
    calls = len(responses.calls)
    second = post_action(action_body())
    assert first.json() == second.json()
    assert first.json()["outputFields"]["errorCode"] == "REGISTRATION_CLOSED"
    assert len(responses.calls) == calls


@responses.activate
def test_zoom_429_answers_429_with_retry_after_then_retry_registers(post_action, zoom_account):
    responses.get(WEBINAR_URL, json=webinar_json())
    responses.get(QUESTIONS_URL, json={"questions": []})
    responses.post(
        REGISTRANTS_URL,
        status=429,
        json={"code": 429, "message": "You have reached the maximum per-second rate limit for this API. Try again later."},
        headers={"Retry-After": "30"},
    )
    response = post_action(action_body())
    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert "hs_execution_state" not in response.content.decode()  # would stop HubSpot retrying
    assert ActionExecution.objects.get().status == ExecutionStatus.RETRY

    responses.replace(
        responses.POST, REGISTRANTS_URL, status=201,
        json={"registrant_id": "reg_9", "join_url": "https://zoom.us/w/1?tk=9"},
    )
    retried = post_action(action_body())
    assert retried.status_code == 200
    assert retried.json()["outputFields"]["registrantId"] == "reg_9"
    execution = ActionExecution.objects.get()
    assert execution.status == ExecutionStatus.SUCCEEDED and execution.attempts == 2


@responses.activate
def test_zoom_5xx_answers_503_so_hubspot_retries(post_action, zoom_account):
    responses.get(WEBINAR_URL, json=webinar_json())
    responses.get(QUESTIONS_URL, json={"questions": []})
    responses.post(REGISTRANTS_URL, status=502, body="bad gateway")
    response = post_action(action_body())
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert ActionExecution.objects.get().status == ExecutionStatus.RETRY


@responses.activate
def test_zoom_daily_registrant_limit_is_final(post_action, zoom_account):
    mock_zoom(
        responses,
        add_status=429,
        add_body={
            "code": 429,
            "message": "You have exceeded the daily rate limit (3) of Webinar Batch Registration API requests "
            "permitted for (jane@example.com) this particular registrant. You may resume these requests at GMT 00:00:00.",
        },
    )
    response = post_action(action_body())
    assert response.status_code == 200
    out = response.json()["outputFields"]
    assert out["hs_execution_state"] == "FAIL_CONTINUE" and out["errorCode"] == "ZOOM_DAILY_LIMIT"


@responses.activate
def test_our_count_of_zoom_adds_stops_a_fourth_call_the_same_day(post_action, zoom_account):
    mock_zoom(responses)
    for n in range(3):
        assert post_action(action_body(callback_id=f"ap-{n}")).json()["outputFields"]["hs_execution_state"] == "SUCCESS"
    assert len(zoom_posts(responses)) == 3
    fourth = post_action(action_body(callback_id="ap-4"))
    assert fourth.json()["outputFields"]["errorCode"] == "ZOOM_DAILY_LIMIT"
    assert len(zoom_posts(responses)) == 3
    # Yesterday's attempts don't count.
    RegistrantAddAttempt.objects.update(attempted_at=timezone.now() - timedelta(days=1))
    assert post_action(action_body(callback_id="ap-5")).json()["outputFields"]["hs_execution_state"] == "SUCCESS"


@responses.activate
def test_zoom_3027_maps_to_host_cannot_register(post_action, zoom_account):
    mock_zoom(responses, add_status=400, add_body={"code": 3027, "message": "Host cannot register."})
    out = post_action(action_body(email="someone@example.com")).json()["outputFields"]
    assert out["errorCode"] == "HOST_CANNOT_REGISTER"
    assert out["errorMessage"] == "Webinar hosts cannot register for the webinar"


@responses.activate
def test_zoom_3000_maps_to_registration_closed(post_action, zoom_account):
    responses.get(WEBINAR_URL, json=webinar_json())
    responses.get(
        QUESTIONS_URL, status=400,
        json={"code": 3000, "message": f"Registration has not been enabled for this webinar: {WEBINAR_ID}."},
    )
    out = post_action(action_body()).json()["outputFields"]
    assert out["errorCode"] == "REGISTRATION_CLOSED"
    assert not zoom_posts(responses)


@responses.activate
def test_zoom_validation_errors_name_the_missing_fields(post_action, zoom_account):
    mock_zoom(
        responses, add_status=400,
        add_body={"code": 300, "message": "Validation Failed.", "errors": [{"field": "org", "message": "Invalid field."}]},
    )
    out = post_action(action_body()).json()["outputFields"]
    assert out["errorCode"] == "EXTRA_REQUIRED_FIELDS"
    assert "Organization" in out["errorMessage"]


@responses.activate
def test_zoom_token_rejected_answers_zoom_not_connected(post_action, zoom_account):
    responses.get(WEBINAR_URL, status=401, json={"code": 124, "message": "Invalid access token."})
    responses.post("https://zoom.test/oauth/token", status=400, json={"error": "invalid_grant"})
    out = post_action(action_body()).json()["outputFields"]
    assert out["errorCode"] == "ZOOM_NOT_CONNECTED"


def test_unknown_portal_fails_continue_zoom_not_connected(post_action, db):
    response = post_action(action_body(portal_id=999))
    assert response.status_code == 200
    out = response.json()["outputFields"]
    assert out["hs_execution_state"] == "FAIL_CONTINUE" and out["errorCode"] == "ZOOM_NOT_CONNECTED"
    assert ActionExecution.objects.get().portal is None


def test_portal_without_zoom_account_fails_continue(post_action, hub_portal):
    out = post_action(action_body()).json()["outputFields"]
    assert out["errorCode"] == "ZOOM_NOT_CONNECTED"


@responses.activate
def test_missing_first_name_is_reported_before_calling_zoom(post_action, zoom_account):
    out = post_action(action_body(firstname="  ")).json()["outputFields"]
    assert out["errorCode"] == "MISSING_CONTACT_NAME"
    assert not responses.calls


@responses.activate
def test_v2_signature_accepted(post_action, zoom_account):
    mock_zoom(responses)
    response = post_action(action_body(), version="v2")
    assert response.status_code == 200
    assert ActionExecution.objects.get().signature_version == "v2"


@responses.activate
@pytest.mark.parametrize("version", [None, "bad"])
def test_unsigned_or_badly_signed_is_401_and_changes_nothing(post_action, client, zoom_account, version):
    mock_zoom(responses)
    if version is None:
        response = post_action(action_body(), version="none")
    else:
        response = post_action(action_body(), secret="not-the-secret")
    assert response.status_code == 401
    assert not responses.calls
    assert not ActionExecution.objects.exists()


@responses.activate
def test_replayed_signed_request_older_than_five_minutes_is_401(post_action, zoom_account):
    mock_zoom(responses)
    import time as _time

    old = int(_time.time() * 1000) - 5 * 60 * 1000 - 1000
    assert post_action(action_body(), ts_ms=old).status_code == 401
    future = int(_time.time() * 1000) + 10 * 60 * 1000
    assert post_action(action_body(), ts_ms=future).status_code == 401
    assert not ActionExecution.objects.exists()


def test_signed_but_malformed_bodies_are_400(post_action, hub_portal):
    assert post_action(b"not json").status_code == 400
    assert post_action(b"[]").status_code == 400
    assert post_action({"callbackId": "x"}).status_code == 400  # no origin.portalId
    assert post_action({"callbackId": "x", "origin": {"portalId": 10**30}}).status_code == 400
    assert not ActionExecution.objects.exists()


@responses.activate
def test_duplicate_while_first_is_running_is_told_to_retry(post_action, zoom_account):
    ActionExecution.objects.create(
        callback_id="ap-62515-1-1-0", portal=zoom_account.portal, status=ExecutionStatus.RUNNING,
        claimed_at=timezone.now(),
    )
    response = post_action(action_body())
    assert response.status_code == 429 and response["Retry-After"]
    assert not responses.calls


@responses.activate
def test_crashed_claim_is_taken_over_after_it_goes_stale(post_action, zoom_account):
    mock_zoom(responses)
    ActionExecution.objects.create(
        callback_id="ap-62515-1-1-0", portal=zoom_account.portal, status=ExecutionStatus.RUNNING,
        claimed_at=timezone.now() - timedelta(minutes=10),
    )
    response = post_action(action_body())
    assert response.json()["outputFields"]["hs_execution_state"] == "SUCCESS"
    assert len(zoom_posts(responses)) == 1


@responses.activate
def test_webinar_id_as_json_number_is_accepted(post_action, zoom_account):
    mock_zoom(responses)
    response = post_action(action_body(webinar_id=int(WEBINAR_ID)))
    assert response.json()["outputFields"]["hs_execution_state"] == "SUCCESS"


@responses.activate
def test_primary_account_chosen_over_older_secondary(post_action, hub_portal):
    """The primary business unit's account is asked first (R25), whatever the order of connection."""
    zoom_account_create(hub_portal, account_id="zacc_eu", business_unit_id="101", primary=False,
                        api_base="https://zoom-eu.test/v2")
    zoom_account_create(hub_portal, account_id="zacc_main")
    mock_zoom(responses)
    out = post_action(action_body()).json()["outputFields"]
    assert out["hs_execution_state"] == "SUCCESS"
    assert all("zoom-eu.test" not in c.request.url for c in responses.calls)
    assert ActionExecution.objects.get().zoom_account.account_id == "zacc_main"


def test_hub_id_recorded_for_unknown_portal(post_action, db):
    post_action(action_body(portal_id=HUB_ID + 1))
    assert ActionExecution.objects.get().hub_id == HUB_ID + 1


def test_oversized_body_is_refused_before_anything_happens(post_action, hub_portal):
    body = action_body()
    body["padding"] = "x" * (API_BODY_LIMIT + 1)  # above the endpoint's own limit
    response = post_action(body)
    assert response.status_code == 413
    assert not ActionExecution.objects.exists()


@responses.activate
def test_b6_hubspot_busy_while_reading_mapped_properties_asks_hubspot_to_retry(post_action, zoom_account, settings):
    from connector.models import Portal
    from connector.services.sync_settings import sync_settings_import

    settings.HUBSPOT_API_BASE = "https://hubspot.test"
    portal = Portal.objects.get(hub_id=HUB_ID)
    sync_settings_import(portal=portal, document={"registration_fields": {"org": "company"}})
    mock_zoom(responses, questions={"questions": [{"field_name": "org", "required": True}], "custom_questions": []})
    responses.get("https://hubspot.test/crm/v3/objects/contacts/904", status=429, headers={"Retry-After": "7"},
                  json={"status": "error", "message": "Too many requests", "category": "RATE_LIMITS"})
    response = post_action(action_body())
    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    assert not zoom_posts(responses)  # nothing registered; HubSpot retries the whole action
    assert ActionExecution.objects.get().status == ExecutionStatus.RETRY
