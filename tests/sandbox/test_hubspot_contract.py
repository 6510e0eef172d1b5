"""Contract tests: every request these tests send to the fake HubSpot, and every answer, is
validated against HubSpot's official OpenAPI documents (issue 3, item 8)."""

from __future__ import annotations

import pytest
import requests

from sandbox.contract import ContractRecorder, specs_dir

pytestmark = pytest.mark.contract

APP = "1160452"
READ = "/crm/v3/objects/contacts/batch/read"
MEV = {"externalAccountId": "zacc_main", "externalEventId": "81000000001-1", "eventName": "Launch",
       "eventOrganizer": "Acme", "eventType": "WEBINAR", "customProperties": [],
       "startDateTime": "2026-10-01T15:00:00Z", "endDateTime": "2026-10-01T16:00:00Z"}


@pytest.fixture
def hub(sandbox_demo, contract_recorder):
    sandbox_demo.configure(rate_limits=False)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sandbox_demo.token('hubspot')}"
    recorder: ContractRecorder = contract_recorder(session)
    base = sandbox_demo.hubspot_api_base

    def call(method, path, json=None, params=None, data=None, auth=True, expect=None):
        headers = {} if auth else {"Authorization": None}
        if not auth:
            params = {**(params or {}), "hapikey": "devkey"} if path.startswith(
                ("/integrators/timeline/v3/1", "/automation/v4/actions/1")) else params
        resp = session.request(method, base + path, json=json, params=params, data=data,
                               headers=headers, timeout=30)
        if expect is not None:
            assert resp.status_code == expect, (path, resp.status_code, resp.text[:300])
        if resp.status_code >= 400:
            error_bodies.append((path, resp.json()))
        return resp

    error_bodies: list[tuple[str, dict]] = []
    yield call, recorder
    # The specs declare error answers as `*/*`, which openapi-core does not parse: check every
    # error body against the shared `Error` schema here, so error envelopes are validated too.
    assert_errors_follow_spec(error_bodies)


def assert_errors_follow_spec(bodies: list[tuple[str, dict]]) -> None:
    import json as jsonlib

    from openapi_schema_validator import OAS30Validator, validate

    document = jsonlib.loads((specs_dir() / "hubspot" / "crm-contacts-v3.json").read_text())
    schema = {"$ref": "#/components/schemas/Error", "components": document["components"]}
    for path, body in bodies:
        try:
            validate(body, schema, cls=OAS30Validator)
        except Exception as exc:  # noqa: BLE001 - report which answer broke the schema
            raise AssertionError(f"error answer of {path} does not fit `Error`: {exc}") from exc


def test_contacts_exchanges_follow_the_spec(hub):
    call, recorder = hub
    read = {"idProperty": "email", "properties": ["email", "firstname", "hs_additional_emails"],
            "propertiesWithHistory": []}
    call("POST", READ, {**read, "inputs": [{"id": "sam@oldmail.example"}]}, expect=200)
    call("POST", READ, {**read, "inputs": [{"id": "nobody@example.com"}]}, expect=207)
    call("POST", READ, {**read, "inputs": [{"id": "dan.deleted@initech.example"}]},
         params={"archived": "true"}, expect=200)
    create = "/crm/v3/objects/contacts/batch/create"
    call("POST", create, {"inputs": [{"properties": {"email": "new1@example.com"},
                                      "associations": []}]}, expect=201)
    call("POST", create, {"inputs": [
        {"properties": {"email": "new2@example.com"}, "associations": [],
         "objectWriteTraceId": "a"},
        {"properties": {"email": "jane.doe@example.com"}, "associations": [],
         "objectWriteTraceId": "b"}]}, expect=207)
    call("POST", create, {"inputs": [{"properties": {"email": "jane.doe@example.com"},
                                      "associations": []}]}, expect=409)
    call("POST", "/crm/v3/objects/contacts/batch/update", {"inputs": [
        {"id": "501", "properties": {"lastname": "Doe-Smith"}},
        {"id": "999", "properties": {"lastname": "Nobody"}}]}, expect=207)
    call("POST", "/crm/v3/objects/contacts/batch/upsert", {"inputs": [
        {"id": "upsert@example.com", "idProperty": "email", "properties": {"firstname": "U"}}]},
        expect=200)
    call("POST", "/crm/v3/objects/contacts/search", {
        "filterGroups": [{"filters": [{"propertyName": "hs_additional_emails", "operator": "EQ",
                                       "value": "sam@oldmail.example"}]}],
        "properties": ["email"], "sorts": [], "limit": 10, "after": "0"}, expect=200)
    call("GET", "/crm/v3/objects/contacts/501", params={"properties": "email"}, expect=200)
    call("GET", "/crm/v3/objects/contacts/999", expect=404)
    call("GET", "/crm/v3/objects/contacts", params={"limit": 2}, expect=200)
    call("POST", "/crm/v3/objects/contacts", {"properties": {"email": "one@example.com"},
                                              "associations": []}, expect=201)
    call("DELETE", "/crm/v3/objects/contacts/506", expect=204)
    over = {**read, "inputs": [{"id": f"p{i}@example.com"} for i in range(101)]}
    call("POST", READ, over, expect=400)
    recorder.assert_clean()
    assert recorder.exchanges == 15


def test_properties_oauth_portal_exchanges_follow_the_spec(hub, sandbox_demo):
    call, recorder = hub
    call("POST", "/crm/v3/properties/contacts/groups", {"name": "zoomsync", "label": "Zoom"},
         expect=201)
    call("GET", "/crm/v3/properties/contacts/groups", expect=200)
    prop = {"name": "zoomsync_registration_count", "label": "Zoom webinar registrations",
            "type": "number", "fieldType": "number", "groupName": "zoomsync"}
    call("POST", "/crm/v3/properties/contacts", prop, expect=201)
    call("POST", "/crm/v3/properties/contacts", prop, expect=409)
    call("POST", "/crm/v3/properties/contacts/batch/create", {"inputs": [
        {**prop, "name": "zoomsync_attended_count", "label": "Attended"}, prop]}, expect=207)
    call("GET", "/crm/v3/properties/contacts/zoomsync_registration_count", expect=200)
    call("GET", "/crm/v3/properties/contacts", expect=200)
    token = call("POST", "/oauth/v1/token", auth=False, data={
        "grant_type": "authorization_code", "code": "contract-code", "client_id": "c",
        "client_secret": "s", "redirect_uri": "http://127.0.0.1:8000/cb"}, expect=200).json()
    call("POST", "/oauth/v1/token", auth=False, data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"],
        "client_id": "c", "client_secret": "s"}, expect=200)
    call("POST", "/oauth/v1/token", auth=False, data={
        "grant_type": "refresh_token", "refresh_token": "bad", "client_id": "c",
        "client_secret": "s"}, expect=400)
    call("GET", f"/oauth/v1/access-tokens/{token['access_token']}", auth=False, expect=200)
    call("GET", "/account-info/v3/details", expect=200)
    call("GET", "/settings/v3/users/", params={"limit": 1}, expect=200)
    call("GET", "/business-units/v3/business-units/user/9001", expect=200)
    recorder.assert_clean()


def test_timeline_app_events_exchanges_follow_the_spec(hub):
    call, recorder = hub
    template = call("POST", f"/integrators/timeline/v3/{APP}/event-templates", {
        "name": "Zoom: Webinar registration", "objectType": "contacts",
        "headerTemplate": "Registered for {{webinar_name}}",
        "tokens": [{"name": "webinar_id", "label": "Webinar ID", "type": "string",
                    "options": []},
                   {"name": "webinar_name", "label": "Webinar", "type": "string",
                    "options": []},
                   {"name": "registered_at", "label": "Registered", "type": "date",
                    "options": []}]}, auth=False, expect=201).json()
    call("GET", f"/integrators/timeline/v3/{APP}/event-templates", auth=False, expect=200)
    call("GET", f"/integrators/timeline/v3/{APP}/event-templates/{template['id']}", auth=False,
         expect=200)
    event = {"eventTemplateId": template["id"], "id": "reg-501-81000000001", "objectId": "501",
             "tokens": {"webinar_id": "81000000001", "webinar_name": "Launch",
                        "registered_at": "1790000000000"},
             "timestamp": "2026-09-20T10:00:00Z"}
    call("POST", "/integrators/timeline/v3/events", event, expect=201)
    call("POST", "/integrators/timeline/v3/events", event, expect=409)
    call("POST", "/integrators/timeline/v3/events/batch/create",
         {"inputs": [{**event, "id": "reg-502"}, event]}, expect=207)
    call("POST", "/integrators/timeline/v3/events/batch/create",
         {"inputs": [{**event, "id": "reg-506", "objectId": "506"}]}, expect=201)
    call("GET", f"/integrators/timeline/v3/events/{template['id']}/reg-502", expect=200)
    occurrence = {"eventTypeName": "webinar_attendance", "id": "occ-1", "objectId": "501",
                  "properties": {"webinar_id": "81000000001"}}
    call("POST", "/integrators/timeline/2026-03/events", occurrence, expect=201)
    call("POST", "/integrators/timeline/2026-03/events/batch",
         {"inputs": [{**occurrence, "id": "occ-2"}]}, expect=200)
    recorder.assert_clean()


def test_marketing_events_and_automation_exchanges_follow_the_spec(hub):
    call, recorder = hub
    ext = MEV["externalEventId"]
    call("POST", "/marketing/v3/marketing-events/events", MEV, expect=200)
    call("PUT", f"/marketing/v3/marketing-events/events/{ext}", MEV, expect=200)
    call("POST", "/marketing/v3/marketing-events/events/upsert", {"inputs": [MEV]}, expect=200)
    call("GET", f"/marketing/v3/marketing-events/events/{ext}",
         params={"externalAccountId": "zacc_main"}, expect=200)
    call("POST", f"/marketing/v3/marketing-events/attendance/{ext}/register/email-create",
         {"inputs": [{"email": "jane.doe@example.com", "interactionDateTime": 1790000000000,
                      "properties": {}, "contactProperties": {}}]},
         params={"externalAccountId": "zacc_main"}, expect=200)
    call("POST", f"/marketing/v3/marketing-events/attendance/{ext}/attend/create",
         {"inputs": [{"vid": 501, "interactionDateTime": 1790000000000,
                      "properties": {"joinedAt": "1790000000000", "leftAt": "1790003000000"}}]},
         params={"externalAccountId": "zacc_main"}, expect=200)
    call("GET", f"/marketing/v3/marketing-events/participations/zacc_main/{ext}", expect=200)
    call("GET", f"/marketing/v3/marketing-events/participations/zacc_main/{ext}/breakdown",
         params={"state": "ATTENDED", "limit": 10}, expect=200)
    call("GET", "/marketing/v3/marketing-events/participations/contacts/501/breakdown",
         expect=200)
    call("POST", "/automation/v4/actions/callbacks/ap-1-2-3-0/complete",
         {"outputFields": {"hs_execution_state": "SUCCESS"}, "typedOutputs": {}}, expect=204)
    call("POST", "/automation/v4/actions/callbacks/complete", {"inputs": [
        {"callbackId": "ap-1-2-3-1", "outputFields": {"hs_execution_state": "FAIL_CONTINUE"},
         "typedOutputs": {}}]}, expect=204)
    definition = call("POST", f"/automation/v4/actions/{APP}", {
        "actionUrl": "http://127.0.0.1:8000/workflows/add-to-zoom-webinar", "published": False,
        "objectTypes": ["CONTACT"], "functions": [],
        "inputFields": [{"typeDefinition": {"name": "webinarId", "type": "string",
                                            "fieldType": "text", "options": []},
                         "supportedValueTypes": ["STATIC_VALUE", "OBJECT_PROPERTY"],
                         "isRequired": True}],
        "labels": {"en": {"actionName": "Add contact to Zoom webinar"}}},
        auth=False, expect=201).json()
    call("GET", f"/automation/v4/actions/{APP}", auth=False, expect=200)
    call("PATCH", f"/automation/v4/actions/{APP}/{definition['id']}", {"published": True},
         auth=False, expect=200)
    recorder.assert_clean()


def test_the_hubspot_validator_is_not_vacuous(contract_recorder):
    """A broken answer or request must be reported, or the tests above prove nothing."""
    from sandbox.contract import validate_exchange

    url = "http://127.0.0.1:1/hubspot" + READ
    good_request = {"inputs": [{"id": "501"}], "properties": [], "propertiesWithHistory": []}
    ok = {"status": "COMPLETE", "results": [], "startedAt": "2026-10-01T15:00:00.000Z",
          "completedAt": "2026-10-01T15:00:00.000Z"}
    assert validate_exchange("hubspot", "POST", url, good_request, 200,
                             {"Content-Type": "application/json"}, ok) == []
    broken = {k: v for k, v in ok.items() if k != "results"}
    assert validate_exchange("hubspot", "POST", url, good_request, 200,
                             {"Content-Type": "application/json"}, broken)
    assert validate_exchange("hubspot", "POST", url, {"inputs": "nope"}, 200,
                             {"Content-Type": "application/json"}, ok)
    # a per-item error without the StandardError fields is caught too
    bad_207 = {**ok, "numErrors": 1, "errors": [{"message": "x"}]}
    assert validate_exchange("hubspot", "POST", url, good_request, 207,
                             {"Content-Type": "application/json"}, bad_207)
