"""Fake HubSpot timeline v3, app events 2026-03, marketing events, automation v4."""

from __future__ import annotations

import pytest

from sandbox.hubspot.testkit import FakeHubSpot

pytestmark = pytest.mark.urls("sandbox.hubspot.testkit")

APP = "1160452"
ATTENDANCE = {
    "name": "Zoom: Webinar attendance", "objectType": "contacts",
    "headerTemplate": "Attended {{webinar_name}}",
    "tokens": [
        {"name": "webinar_id", "label": "Webinar ID", "type": "string", "options": []},
        {"name": "webinar_name", "label": "Webinar name", "type": "string", "options": []},
        {"name": "joined_at", "label": "Joined", "type": "date", "options": []},
        {"name": "attendance_percent", "label": "Attendance %", "type": "number", "options": []},
    ],
}


@pytest.fixture
def hs(monkeypatch):
    fake = FakeHubSpot(monkeypatch)
    fake.load({"developer_api_key": "devkey", "contacts": [
        {"id": "501", "email": "jane@example.com", "additional_emails": ["jd@old.example.org"]},
        {"id": "502", "email": "gone@example.com", "archived": True},
    ]})
    return fake


def _template(hs) -> str:
    resp = hs.post(f"/integrators/timeline/v3/{APP}/event-templates", ATTENDANCE,
                   token=None, query={"hapikey": "devkey"})
    assert resp.status == 201, resp
    return resp.body["id"]


def _event(template_id, event_id="att-1", object_id="501", **extra):
    event = {"eventTemplateId": template_id, "id": event_id, "objectId": object_id,
             "tokens": {"webinar_id": "81000000001", "webinar_name": "Launch",
                        "joined_at": "1790000000000", "attendance_percent": "87.5"},
             "timestamp": "2026-10-01T15:00:00Z"}
    event.update(extra)
    return event


def test_templates_need_the_developer_key(hs):
    path = f"/integrators/timeline/v3/{APP}/event-templates"
    assert hs.post(path, ATTENDANCE).status == 401  # an OAuth token is not enough
    assert hs.post(path, ATTENDANCE, token=None, query={"hapikey": "wrong"}).status == 401
    template_id = _template(hs)
    listed = hs.get(path, token=None, query={"hapikey": "devkey"}).body["results"]
    assert [t["id"] for t in listed] == [template_id]
    one = hs.get(f"{path}/{template_id}", token=None, query={"hapikey": "devkey"}).body
    assert [t["name"] for t in one["tokens"]][:2] == ["webinar_id", "webinar_name"]


def test_r21_timeline_event_recorded_in_state(hs):
    template_id = _template(hs)
    resp = hs.post("/integrators/timeline/v3/events", _event(template_id))
    assert resp.status == 201
    assert resp.body["objectType"] == "contacts" and resp.body["objectId"] == "501"
    [event] = hs.state.snapshot()["timeline_events"]
    assert event["template_name"] == "Zoom: Webinar attendance"
    assert event["tokens"]["attendance_percent"] == "87.5"
    assert event["objectId"] == "501" and event["timestamp"] == "2026-10-01T15:00:00.000Z"


def test_timeline_event_duplicate_id_is_409(hs):
    template_id = _template(hs)
    assert hs.post("/integrators/timeline/v3/events", _event(template_id)).status == 201
    again = hs.post("/integrators/timeline/v3/events", _event(template_id))
    assert again.status == 409 and again.body["category"] == "CONFLICT"
    assert len(hs.state.timeline_events) == 1


def test_timeline_batch_partial_failure_is_207(hs):
    template_id = _template(hs)
    hs.post("/integrators/timeline/v3/events", _event(template_id, "dup"))
    resp = hs.post("/integrators/timeline/v3/events/batch/create", {"inputs": [
        _event(template_id, "ok-1"),
        _event(template_id, "dup"),                       # already sent
        _event(template_id, "archived", object_id="502"),  # R14: deleted contact
        _event(template_id, "bad-token", tokens={"nope": "1"}),
        _event("999", "no-template"),
    ]})
    assert resp.status == 207
    assert [e["id"] for e in resp.body["results"]] == ["ok-1"]
    categories = sorted(e["category"] for e in resp.body["errors"])
    assert categories == ["CONFLICT", "OBJECT_NOT_FOUND", "OBJECT_NOT_FOUND", "VALIDATION_ERROR"]
    assert resp.body["numErrors"] == 4
    assert {key[1] for key in hs.state.timeline_events} == {"dup", "ok-1"}


def test_timeline_batch_all_ok_is_201_and_over_100_is_400(hs):
    template_id = _template(hs)
    ok = hs.post("/integrators/timeline/v3/events/batch/create",
                 {"inputs": [_event(template_id, f"e{i}") for i in range(3)]})
    assert ok.status == 201 and len(ok.body["results"]) == 3
    big = hs.post("/integrators/timeline/v3/events/batch/create",
                  {"inputs": [_event(template_id, f"b{i}") for i in range(101)]})
    assert big.status == 400


def test_r12_timeline_event_by_unknown_email_creates_a_contact(hs):
    """HubSpot documents this; a connector must send objectId to avoid creating contacts."""
    template_id = _template(hs)
    event = _event(template_id, "by-email", object_id=None, email="stranger@example.com")
    del event["objectId"]
    resp = hs.post("/integrators/timeline/v3/events", event)
    assert resp.status == 201
    created = hs.state.contact_by_email("stranger@example.com")
    assert created is not None and resp.body["objectId"] == created.id


def test_timeline_token_types_validated(hs):
    template_id = _template(hs)
    bad = _event(template_id, tokens={"attendance_percent": "lots"})
    assert hs.post("/integrators/timeline/v3/events", bad).status == 400
    bad_date = _event(template_id, tokens={"joined_at": "yesterday"})
    assert hs.post("/integrators/timeline/v3/events", bad_date).status == 400


def test_app_events_duplicate_occurrence_rejects_whole_batch_with_409(hs):
    occ = {"eventTypeName": "webinar_attendance", "id": "occ-1", "objectId": "501",
           "properties": {"webinar_id": "81000000001"}}
    assert hs.post("/integrators/timeline/2026-03/events", occ).status == 201
    resp = hs.post("/integrators/timeline/2026-03/events/batch",
                   {"inputs": [{**occ, "id": "occ-2"}, occ]})
    assert resp.status == 409
    assert set(hs.state.app_events) == {("webinar_attendance", "occ-1")}  # none accepted
    ok = hs.post("/integrators/timeline/2026-03/events/batch",
                 {"inputs": [{**occ, "id": "occ-2"}, {**occ, "id": "occ-3"}]})
    assert ok.status == 200 and len(ok.body["results"]) == 2
    assert hs.post("/integrators/timeline/2026-03/events",
                   {**occ, "id": "x", "objectId": "502"}).status == 400  # archived contact


# ---------------------------------------------------------------- marketing events

MEV = {"externalAccountId": "zacc_main", "externalEventId": "81000000001-1759330800000",
       "eventName": "Launch", "eventOrganizer": "Acme", "eventType": "WEBINAR",
       "startDateTime": "2026-10-01T15:00:00Z", "endDateTime": "2026-10-01T16:00:00Z",
       "customProperties": []}
EXT = MEV["externalEventId"]


def test_marketing_event_upsert_and_attendance(hs):
    put = hs.put(f"/marketing/v3/marketing-events/events/{EXT}", MEV)
    assert put.status == 200 and put.body["eventName"] == "Launch"
    assert hs.post("/marketing/v3/marketing-events/events", MEV).status == 409
    hs.put(f"/marketing/v3/marketing-events/events/{EXT}", {**MEV, "eventName": "Launch v2"})
    reg = hs.post(f"/marketing/v3/marketing-events/attendance/{EXT}/register/email-create",
                  {"inputs": [{"email": "Jane@Example.com", "interactionDateTime": 1790000000000,
                               "properties": {}, "contactProperties": {}},
                              {"email": "new@example.com", "interactionDateTime": 1790000000000,
                               "properties": {}, "contactProperties": {"firstname": "New"}}]},
                  query={"externalAccountId": "zacc_main"})
    assert reg.status == 200
    assert reg.body["results"][0] == {"email": "jane@example.com", "vid": 501}
    new = hs.state.contact_by_email("new@example.com")
    assert new is not None and new.properties["firstname"] == "New"  # created, as documented
    attend = {"vid": 501, "interactionDateTime": 1790000000000,
              "properties": {"joinedAt": "2026-10-01T15:02:00Z", "leftAt": "2026-10-01T15:52:00Z"}}
    resp = hs.post(f"/marketing/v3/marketing-events/attendance/{EXT}/attend/create",
                   {"inputs": [attend, {**attend, "vid": 999}]})
    assert resp.status == 200 and resp.body["numErrors"] == 1
    hs.post(f"/marketing/v3/marketing-events/attendance/{EXT}/attend/create",
            {"inputs": [attend]})  # a replay changes nothing
    [event] = hs.state.snapshot()["marketing_events"]
    assert event["eventName"] == "Launch v2"
    parts = {p["contactId"]: p for p in event["participations"]}
    assert parts["501"]["state"] == "ATTENDED"
    assert parts["501"]["attendanceDurationSeconds"] == 3000
    assert parts[new.id]["state"] == "REGISTERED"
    counters = hs.get(f"/marketing/v3/marketing-events/participations/zacc_main/{EXT}").body
    assert counters == {"attended": 1, "registered": 2, "cancelled": 0, "noShows": 0}
    breakdown = hs.get(f"/marketing/v3/marketing-events/participations/zacc_main/{EXT}/breakdown",
                       query={"state": "ATTENDED"}).body
    assert breakdown["total"] == 1
    row = breakdown["results"][0]
    assert row["associations"]["contact"]["contactId"] == "501"
    assert row["properties"]["attendanceDurationSeconds"] == 3000


def test_marketing_attendance_errors(hs):
    path = f"/marketing/v3/marketing-events/attendance/{EXT}/register/email-create"
    assert hs.post(path, {"inputs": []}).status == 404  # no such event
    hs.put(f"/marketing/v3/marketing-events/events/{EXT}", MEV)
    assert hs.post(f"/marketing/v3/marketing-events/attendance/{EXT}/joined/email-create",
                   {"inputs": []}).status == 400
    cancel = hs.post(f"/marketing/v3/marketing-events/attendance/{EXT}/cancel/email-create",
                     {"inputs": [{"email": "jane@example.com", "interactionDateTime": 1,
                                  "properties": {}, "contactProperties": {}}]})
    assert cancel.status == 200
    [event] = hs.state.snapshot()["marketing_events"]
    assert event["participations"][0]["state"] == "CANCELLED"


# ---------------------------------------------------------------- automation

def test_callbacks_complete_recorded_once(hs):
    body = {"outputFields": {"hs_execution_state": "SUCCESS", "registrantId": "r_9"},
            "typedOutputs": {}}
    assert hs.post("/automation/v4/actions/callbacks/ap-1-2-3/complete", body).status == 204
    assert hs.post("/automation/v4/actions/callbacks/ap-1-2-3/complete", body).status == 400
    batch = hs.post("/automation/v4/actions/callbacks/complete", {"inputs": [
        {"callbackId": "ap-2", "outputFields": {"hs_execution_state": "FAIL_CONTINUE",
                                                "errorCode": "HOST_CANNOT_REGISTER"},
         "typedOutputs": {}}]})
    assert batch.status == 204
    done = {c["callbackId"]: c for c in hs.state.snapshot()["callbacks_completed"]}
    assert done["ap-1-2-3"]["outputFields"]["registrantId"] == "r_9"
    assert done["ap-2"]["outputFields"]["errorCode"] == "HOST_CANNOT_REGISTER"
    assert hs.post("/automation/v4/actions/callbacks/x/complete", {}).status == 400


def test_action_definitions_with_developer_key(hs):
    definition = {"actionUrl": "http://127.0.0.1:8000/workflows/add-to-zoom-webinar",
                  "published": False, "objectTypes": ["CONTACT"], "functions": [],
                  "inputFields": [{"typeDefinition": {"name": "webinarId", "type": "string",
                                                      "fieldType": "text"},
                                   "supportedValueTypes": ["STATIC_VALUE", "OBJECT_PROPERTY"],
                                   "isRequired": True}],
                  "labels": {"en": {"actionName": "Add contact to Zoom webinar"}}}
    path = f"/automation/v4/actions/{APP}"
    assert hs.post(path, definition).status == 401
    created = hs.post(path, definition, token=None, query={"hapikey": "devkey"})
    assert created.status == 201 and created.body["published"] is False
    def_id = created.body["id"]
    patched = hs.patch(f"{path}/{def_id}", {"published": True}, token=None,
                       query={"hapikey": "devkey"})
    assert patched.status == 200 and patched.body["revisionId"] == "2"
    listed = hs.get(path, token=None, query={"hapikey": "devkey"}).body["results"]
    assert listed[0]["published"] is True
    [stored] = hs.state.snapshot()["action_definitions"]
    assert stored["published"] is True and stored["actionUrl"].endswith("add-to-zoom-webinar")
