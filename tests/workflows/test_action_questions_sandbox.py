"""B6 registration questions in the workflow action, end to end: a request signed the way
HubSpot signs it, our endpoint, the sandbox's HubSpot (the contact's mapped properties, one
read) and its Zoom (the questions, the registration) over real HTTP. R11 stays true: a
required question with no mapping or no value, or an answer Zoom would refuse, fails before
Zoom's registrant endpoint is called."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from connector.services.sync_settings import sync_settings_import
from tests.workflows.conftest import HUB_ID, action_body

FUTURE = "2030-03-15T15:00:00Z"
WORKSHOP = 81000000006
CONTACT_ID = "501"
MAPPING = {"org": "company", "custom:team size": "team_size", "job_title": "jobtitle",
           "no_of_employees": "numemployees"}


def scenario(contact: dict[str, Any]) -> dict[str, Any]:
    return {
        "hubspot": {
            "portal_id": HUB_ID,
            "business_units": [{"id": "0", "name": "Acme", "primary": True}],
            "properties": [
                {"name": "team_size", "label": "Team size", "type": "enumeration", "fieldType": "select",
                 "groupName": "contactinformation",
                 "options": [{"label": x, "value": x, "displayOrder": i, "hidden": False}
                             for i, x in enumerate(("1-10", "11-50", "50+", "500+"))]},
                {"name": "numemployees", "label": "Number of employees", "type": "string",
                 "groupName": "contactinformation"},
            ],
            "contacts": [{"id": CONTACT_ID, "email": "jane@example.com", "firstname": "Jane", "lastname": "Doe",
                          "properties": contact}],
        },
        "zoom": {"accounts": [{
            "account_id": "zacc_main", "business_unit_id": "0",
            "users": [{"id": "zu_hal", "email": "hal.host@acme.com", "first_name": "Hal", "last_name": "Host"}],
            "webinars": [{
                "id": WORKSHOP, "host_id": "zu_hal", "topic": "Advanced Setup Workshop", "start_time": FUTURE,
                "approval_type": 0,
                "questions": [{"field_name": "last_name", "required": True},
                              {"field_name": "org", "required": True},
                              {"field_name": "job_title", "required": False},
                              {"field_name": "no_of_employees", "required": False}],
                "custom_questions": [{"title": "Team size", "type": "single_dropdown", "required": True,
                                      "answers": ["1-10", "11-50", "50+"]}],
            }],
        }]},
    }


def connect(sandbox, contact: dict[str, Any], mapping: dict[str, str] | None = None):
    from connector.models import Portal, ZoomAccount

    sandbox.load(scenario(contact))
    Portal.objects.filter(hub_id=HUB_ID).delete()  # a second world in the same test
    far = timezone.now() + timedelta(days=1)
    portal = Portal.objects.create(hub_id=HUB_ID, api_base=sandbox.hubspot_api_base,
                                   access_token=sandbox.token("hubspot"), refresh_token="r", token_expires_at=far)
    ZoomAccount.objects.create(
        portal=portal, account_id="zacc_main", api_base=sandbox.zoom_api_base, oauth_base=sandbox.zoom_oauth_base,
        access_token=sandbox.token("zoom", "zacc_main"), refresh_token="r", token_expires_at=far,
        business_unit_id="0", is_primary_business_unit=True,
    )
    sync_settings_import(portal=portal, document={"registration_fields": MAPPING if mapping is None else mapping})
    sandbox.calls_clear()
    return portal


def request(callback: str = "ap-62515-6-1-0") -> dict[str, Any]:
    body = action_body(callback_id=callback, webinar_id=str(WORKSHOP))
    body["object"]["objectId"] = int(CONTACT_ID)
    return body


def outputs(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()["outputFields"]


def workshop_registrants(sandbox) -> list[dict[str, Any]]:
    webinars = sandbox.state()["zoom"]["accounts"][0]["webinars"]
    return next(w for w in webinars if w["id"] == WORKSHOP)["registrants"]


def zoom_posts(sandbox) -> int:
    return sum(n for key, n in sandbox.calls()["zoom"].items() if key.startswith("POST ") and "registrants" in key)


def hubspot_calls(sandbox) -> dict[str, int]:
    return {k: n for k, n in sandbox.calls()["hubspot"].items() if "oauth" not in k}


@pytest.mark.django_db
def test_b6_action_fills_required_questions(sandbox, post_action):
    connect(sandbox, {"company": "Acme Corp", "team_size": "11-50", "jobtitle": "CTO"})
    out = outputs(post_action(request()))
    assert out["hs_execution_state"] == "SUCCESS", out
    (registrant,) = workshop_registrants(sandbox)
    assert registrant["email"] == "jane@example.com"
    assert out["registrantId"] == registrant["id"]
    assert registrant["answers"] == {"org": "Acme Corp", "job_title": "CTO"}  # no value: no employees answer
    assert registrant["custom_questions"] == [{"title": "Team size", "value": "11-50"}]
    # The mapped properties were read in one HubSpot call, the contact by its id.
    assert hubspot_calls(sandbox) == {"GET /crm/v3/objects/contacts/{contactId}": 1}
    assert zoom_posts(sandbox) == 1


@pytest.mark.django_db
def test_b6_missing_mapping_or_value_is_extra_required_fields(sandbox, post_action):
    # No mapping for "Team size": named; Organization is mapped and has a value: not named.
    connect(sandbox, {"company": "Acme Corp", "team_size": "11-50"}, mapping={"org": "company"})
    out = outputs(post_action(request("ap-1")))
    assert out["hs_execution_state"] == "FAIL_CONTINUE"
    assert out["errorCode"] == "EXTRA_REQUIRED_FIELDS"
    assert "Team size" in out["errorMessage"] and "Organization" not in out["errorMessage"]
    assert zoom_posts(sandbox) == 0 and workshop_registrants(sandbox) == []

    # Mapped, but the contact has no company: Organization is named.
    connect(sandbox, {"team_size": "50+"})
    out = outputs(post_action(request("ap-2")))
    assert out["errorCode"] == "EXTRA_REQUIRED_FIELDS"
    assert "Organization" in out["errorMessage"] and "Team size" not in out["errorMessage"]
    assert zoom_posts(sandbox) == 0 and workshop_registrants(sandbox) == []


@pytest.mark.django_db
def test_b6_choice_answer_not_an_option(sandbox, post_action):
    connect(sandbox, {"company": "Acme Corp", "team_size": "500+"})
    out = outputs(post_action(request()))
    assert out["errorCode"] == "EXTRA_REQUIRED_FIELDS"
    assert "Team size" in out["errorMessage"] and "'500+'" in out["errorMessage"]
    assert "1-10, 11-50, 50+" in out["errorMessage"]  # the options Zoom accepts
    assert zoom_posts(sandbox) == 0 and workshop_registrants(sandbox) == []


@pytest.mark.django_db
def test_b6_optional_choice_zoom_would_refuse_is_left_out(sandbox, post_action):
    # "25-50" is not one of Zoom's employee counts; the question is optional, so the contact
    # registers without that answer rather than failing.
    connect(sandbox, {"company": "Acme Corp", "team_size": "1-10", "numemployees": "25-50"})
    out = outputs(post_action(request()))
    assert out["hs_execution_state"] == "SUCCESS", out
    (registrant,) = workshop_registrants(sandbox)
    assert "no_of_employees" not in registrant["answers"]


@pytest.mark.django_db
def test_b6_no_mapping_needs_no_hubspot_call(sandbox, post_action):
    connect(sandbox, {"company": "Acme Corp"}, mapping={})
    out = outputs(post_action(request()))
    assert out["errorCode"] == "EXTRA_REQUIRED_FIELDS"  # R11 as before: nothing mapped
    assert "Organization" in out["errorMessage"] and "Team size" in out["errorMessage"]
    assert hubspot_calls(sandbox) == {}
