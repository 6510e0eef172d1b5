"""Fake HubSpot contacts: the faithful behaviours of issue 3 item 4 (and R13, R14 support)."""

from __future__ import annotations

import pytest

from sandbox.hubspot.state import HubSpotState
from sandbox.hubspot.testkit import FakeHubSpot
from sandbox.scenario import ScenarioError

pytestmark = pytest.mark.urls("sandbox.hubspot.testkit")

SCENARIO = {
    "portal_id": 62515,
    "contacts": [
        {"id": "501", "email": "jane@example.com", "firstname": "Jane", "lastname": "Doe",
         "additional_emails": ["jd@old.example.org"]},
        {"id": "502", "email": "gone@example.com", "firstname": "Gone", "archived": True},
        {"id": "503", "email": "bob@example.com", "firstname": "Bob"},
    ],
}
READ = "/crm/v3/objects/contacts/batch/read"
CREATE = "/crm/v3/objects/contacts/batch/create"


@pytest.fixture
def hs(monkeypatch):
    fake = FakeHubSpot(monkeypatch)
    fake.load(SCENARIO)
    return fake


def _read_by_email(hs, emails, **kw):
    return hs.post(READ, {"idProperty": "email", "inputs": [{"id": e} for e in emails],
                          "properties": ["email", "firstname", "hs_additional_emails"],
                          "propertiesWithHistory": []}, **kw)


def test_r13_batch_read_by_secondary_email_returns_primary_email(hs):
    resp = _read_by_email(hs, ["JD@old.example.org"])
    assert resp.status == 200
    [contact] = resp.body["results"]
    assert contact["id"] == "501"
    # The connector detects R13 by comparing this primary email with the one it asked for.
    assert contact["properties"]["email"] == "jane@example.com"
    assert contact["properties"]["hs_additional_emails"] == "jd@old.example.org"


def test_batch_read_missing_ids_answer_207_with_per_item_error(hs):
    resp = _read_by_email(hs, ["jane@example.com", "nobody@example.com"])
    assert resp.status == 207
    assert [c["id"] for c in resp.body["results"]] == ["501"]
    assert resp.body["numErrors"] == 1
    [err] = resp.body["errors"]
    assert err["category"] == "OBJECT_NOT_FOUND"
    assert err["context"] == {"ids": ["nobody@example.com"]}
    assert {"status", "message", "context", "errors", "links"} <= set(err)


def test_r14_archived_contact_only_found_with_archived_true(hs):
    live = _read_by_email(hs, ["gone@example.com"])
    assert live.status == 207 and live.body["results"] == []
    archived = _read_by_email(hs, ["gone@example.com"], query={"archived": "true"})
    assert archived.status == 200
    [contact] = archived.body["results"]
    assert contact["id"] == "502" and contact["archived"] is True and "archivedAt" in contact
    # and archived=true returns ONLY archived records
    only = _read_by_email(hs, ["jane@example.com"], query={"archived": "true"})
    assert only.status == 207 and only.body["results"] == []


def test_batch_read_by_id_returns_only_requested_properties(hs):
    resp = hs.post(READ, {"inputs": [{"id": "503"}], "properties": ["firstname"],
                          "propertiesWithHistory": []})
    assert resp.status == 200
    props = resp.body["results"][0]["properties"]
    assert props["firstname"] == "Bob"
    assert "email" not in props  # not requested
    assert props["hs_object_id"] == "503"


def test_more_than_100_batch_inputs_is_400(hs):
    inputs = [{"id": f"p{i}@example.com"} for i in range(101)]
    resp = hs.post(READ, {"idProperty": "email", "inputs": inputs, "properties": [],
                          "propertiesWithHistory": []})
    assert resp.status == 400
    assert resp.body["category"] == "VALIDATION_ERROR"
    ok = hs.post(READ, {"idProperty": "email", "inputs": inputs[:100], "properties": [],
                        "propertiesWithHistory": []})
    assert ok.status == 207  # 100 is allowed; none exist


def test_create_existing_email_is_409_naming_existing_id(hs):
    resp = hs.post(CREATE, {"inputs": [
        {"properties": {"email": "new@example.com"}, "associations": []},
        {"properties": {"email": "Bob@Example.com"}, "associations": []},
    ]})
    assert resp.status == 409
    assert resp.body["message"] == "Contact already exists. Existing ID: 503"
    assert resp.body["category"] == "CONFLICT"
    assert hs.state.contact_by_email("new@example.com") is None  # nothing created


def test_r13_create_with_someones_secondary_email_is_409(hs):
    resp = hs.post("/crm/v3/objects/contacts",
                   {"properties": {"email": "jd@old.example.org"}, "associations": []})
    assert resp.status == 409
    assert resp.body["message"] == "Contact already exists. Existing ID: 501"


def test_batch_create_multi_status_gives_207_per_item_errors(hs):
    resp = hs.post(CREATE, {"inputs": [
        {"properties": {"email": "new@example.com", "firstname": "New"}, "associations": [],
         "objectWriteTraceId": "t1"},
        {"properties": {"email": "bob@example.com"}, "associations": [],
         "objectWriteTraceId": "t2"},
    ]})
    assert resp.status == 207
    [created] = resp.body["results"]
    assert created["properties"]["email"] == "new@example.com"
    [err] = resp.body["errors"]
    assert err["category"] == "CONFLICT"
    assert err["message"] == "Contact already exists. Existing ID: 503"
    assert err["context"] == {"objectWriteTraceId": ["t2"]}


def test_batch_create_success_is_201_and_emails_are_lower_cased(hs):
    resp = hs.post(CREATE, {"inputs": [
        {"properties": {"email": "New.Person@Example.com", "firstname": "N"}, "associations": []},
    ]})
    assert resp.status == 201
    contact = resp.body["results"][0]
    assert contact["properties"]["email"] == "new.person@example.com"
    assert hs.state.contacts[contact["id"]].properties["firstname"] == "N"


def test_batch_create_duplicate_emails_in_one_batch_is_400(hs):
    resp = hs.post(CREATE, {"inputs": [
        {"properties": {"email": "x@example.com"}, "associations": []},
        {"properties": {"email": "X@example.com"}, "associations": []},
    ]})
    assert resp.status == 400
    assert "Duplicate" in resp.body["message"]
    assert hs.state.contact_by_email("x@example.com") is None


def test_unknown_property_is_400_property_doesnt_exist(hs):
    resp = hs.post(CREATE, {"inputs": [
        {"properties": {"email": "x@example.com", "zoomsync_attended_count": "1"},
         "associations": []},
    ]})
    assert resp.status == 400
    assert "PROPERTY_DOESNT_EXIST" in resp.body["message"]


def test_batch_update_unknown_id_gives_207_and_updates_the_rest(hs):
    resp = hs.post("/crm/v3/objects/contacts/batch/update", {"inputs": [
        {"id": "503", "properties": {"lastname": "Builder"}},
        {"id": "999", "properties": {"lastname": "Nobody"}},
        {"id": "502", "properties": {"lastname": "Archived"}},
    ]})
    assert resp.status == 207
    assert [c["id"] for c in resp.body["results"]] == ["503"]
    assert resp.body["errors"][0]["context"] == {"ids": ["999", "502"]}
    assert hs.state.contacts["503"].properties["lastname"] == "Builder"
    assert "lastname" not in hs.state.contacts["502"].properties


def test_batch_update_by_email_id_property_is_rejected(hs):
    resp = hs.post("/crm/v3/objects/contacts/batch/update", {"inputs": [
        {"id": "bob@example.com", "idProperty": "email", "properties": {"lastname": "B"}},
    ]})
    assert resp.status == 400


def test_batch_upsert_by_email_creates_and_updates(hs):
    resp = hs.post("/crm/v3/objects/contacts/batch/upsert", {"inputs": [
        {"id": "bob@example.com", "idProperty": "email", "properties": {"lastname": "B"}},
        {"id": "Fresh@Example.com", "idProperty": "email", "properties": {"firstname": "F"}},
    ]})
    assert resp.status == 200
    by_email = {r["properties"]["email"]: r for r in resp.body["results"]}
    assert by_email["bob@example.com"]["new"] is False
    assert by_email["fresh@example.com"]["new"] is True
    assert hs.state.contacts["503"].properties["lastname"] == "B"


def test_r13_upsert_by_secondary_email_updates_the_contact_keeping_primary(hs):
    resp = hs.post("/crm/v3/objects/contacts/batch/upsert", {"inputs": [
        {"id": "jd@old.example.org", "idProperty": "email",
         "properties": {"email": "jd@old.example.org", "lastname": "X"}},
    ]})
    assert resp.status == 200
    assert resp.body["results"][0]["id"] == "501"
    assert resp.body["results"][0]["properties"]["email"] == "jane@example.com"
    assert hs.state.contacts["501"].email == "jane@example.com"


def test_batch_upsert_two_inputs_resolving_to_one_contact_is_400(hs):
    resp = hs.post("/crm/v3/objects/contacts/batch/upsert", {"inputs": [
        {"id": "jane@example.com", "idProperty": "email", "properties": {"lastname": "A"}},
        {"id": "jd@old.example.org", "idProperty": "email", "properties": {"lastname": "B"}},
    ]})
    assert resp.status == 400
    assert hs.state.contacts["501"].properties["lastname"] == "Doe"


def test_r14_deleted_contact_email_can_be_created_again_as_new_contact(hs):
    assert hs.delete("/crm/v3/objects/contacts/503").status == 204
    assert hs.state.contacts["503"].archived
    resp = hs.post("/crm/v3/objects/contacts",
                   {"properties": {"email": "bob@example.com"}, "associations": []})
    assert resp.status == 201
    assert resp.body["id"] != "503"  # a NEW contact: the connector must remember deletions


def test_search_email_eq_matches_primary_only_additional_via_its_own_property(hs):
    def search(prop, value):
        return hs.post("/crm/v3/objects/contacts/search", {
            "filterGroups": [{"filters": [{"propertyName": prop, "operator": "EQ",
                                           "value": value}]}],
            "properties": ["email"], "sorts": [], "limit": 10, "after": "0"})

    assert search("email", "jd@old.example.org").body["total"] == 0
    hit = search("hs_additional_emails", "jd@old.example.org").body
    assert hit["total"] == 1 and hit["results"][0]["properties"]["email"] == "jane@example.com"
    assert search("email", "JANE@example.com").body["results"][0]["id"] == "501"
    assert search("email", "gone@example.com").body["total"] == 0  # never archived


def test_search_paging(hs):
    for i in range(5):
        hs.post("/crm/v3/objects/contacts",
                {"properties": {"email": f"p{i}@page.example", "company": "Page"},
                 "associations": []})
    body = {"filterGroups": [{"filters": [{"propertyName": "company", "operator": "EQ",
                                           "value": "Page"}]}],
            "properties": [], "sorts": [], "limit": 2, "after": "0"}
    first = hs.post("/crm/v3/objects/contacts/search", body).body
    assert first["total"] == 5 and len(first["results"]) == 2
    body["after"] = first["paging"]["next"]["after"]
    second = hs.post("/crm/v3/objects/contacts/search", body).body
    assert {r["id"] for r in second["results"]}.isdisjoint({r["id"] for r in first["results"]})


def test_get_contact_by_id_and_by_email_and_404(hs):
    assert hs.get("/crm/v3/objects/contacts/501").body["properties"]["email"] == "jane@example.com"
    by_email = hs.get("/crm/v3/objects/contacts/jane@example.com", query={"idProperty": "email"})
    assert by_email.status == 200 and by_email.body["id"] == "501"
    missing = hs.get("/crm/v3/objects/contacts/999")
    assert missing.status == 404 and missing.body["category"] == "OBJECT_NOT_FOUND"
    assert hs.get("/crm/v3/objects/contacts/502").status == 404
    assert hs.get("/crm/v3/objects/contacts/502", query={"archived": "true"}).status == 200


def test_expired_token_is_401_expired_authentication(hs):
    hs.token = str(hs.state.issue_token(60))
    assert _read_by_email(hs, ["jane@example.com"]).status == 200
    hs.advance(75)
    resp = _read_by_email(hs, ["jane@example.com"])
    assert resp.status == 401
    assert resp.body["category"] == "EXPIRED_AUTHENTICATION"
    assert resp.body["message"] == "The OAuth token used to make this call expired 15 second(s) ago."


def test_missing_or_unknown_token_is_401_invalid_authentication(hs):
    assert hs.post(READ, {"inputs": []}, token=None).body["category"] == "INVALID_AUTHENTICATION"
    assert hs.post(READ, {"inputs": []}, token="nope").status == 401


def test_snapshot_shape(hs):
    snap = hs.state.snapshot()
    assert snap["portal_id"] == 62515
    jane = next(c for c in snap["contacts"] if c["id"] == "501")
    assert jane == {"id": "501", "archived": False, "additional_emails": ["jd@old.example.org"],
                    "properties": {"email": "jane@example.com", "firstname": "Jane",
                                   "lastname": "Doe"}}
    assert {"property_groups", "properties", "timeline_events", "marketing_events"} <= set(snap)


def test_scenario_unknown_key_names_its_path():
    with pytest.raises(ScenarioError, match=r"hubspot\.contacts\[2\]\.emial"):
        HubSpotState.from_scenario({"contacts": [{}, {}, {"emial": "x@example.com"}]})
    with pytest.raises(ScenarioError, match=r"hubspot\.portl_id"):
        HubSpotState.from_scenario({"portl_id": 1})


def test_scenario_duplicate_live_email_rejected():
    with pytest.raises(ScenarioError, match="already used"):
        HubSpotState.from_scenario({"contacts": [
            {"email": "a@example.com"}, {"email": "b@example.com",
                                         "additional_emails": ["A@example.com"]}]})


def test_scenario_defaults():
    state = HubSpotState.from_scenario({})
    assert state.portal_id == 62515
    assert state.users and state.business_units[0]["primary"] is True
    created = state.contact_new({"email": "a@example.com"})
    assert int(created.id) >= 1001
