"""Fake HubSpot properties, OAuth, users, business units, account info."""

from __future__ import annotations

import pytest

from sandbox.hubspot.testkit import FakeHubSpot

pytestmark = pytest.mark.urls("sandbox.hubspot.testkit")

GROUP = {"name": "zoomsync", "label": "Zoom", "displayOrder": -1}
PROP = {"name": "zoomsync_registration_count", "label": "Zoom webinar registrations",
        "type": "number", "fieldType": "number", "groupName": "zoomsync"}


@pytest.fixture
def hs(monkeypatch):
    fake = FakeHubSpot(monkeypatch)
    fake.load({"portal_id": 62515,
               "users": [{"id": "9001", "email": "marketer@acme.com"},
                         {"id": "9002", "email": "sales@acme.com"},
                         {"id": "9003", "email": "ops@acme.com"}],
               "business_units": [{"id": "0", "name": "Acme"},
                                  {"id": "101", "name": "Acme EU", "primary": True}],
               "contacts": [{"id": "501", "email": "jane@example.com"}]})
    return fake


def test_r16_r19_group_and_property_create_then_409_on_repeat(hs):
    assert hs.post("/crm/v3/properties/contacts/groups", GROUP).status == 201
    again = hs.post("/crm/v3/properties/contacts/groups", GROUP)
    assert again.status == 409 and again.body["category"] == "OBJECT_ALREADY_EXISTS"
    created = hs.post("/crm/v3/properties/contacts", PROP)
    assert created.status == 201 and created.body["groupName"] == "zoomsync"
    assert hs.post("/crm/v3/properties/contacts", PROP).status == 409
    got = hs.get("/crm/v3/properties/contacts/zoomsync_registration_count")
    assert got.status == 200 and got.body["type"] == "number"
    snap = hs.state.snapshot()
    assert {"name": "zoomsync", "label": "Zoom", "objectType": "contacts"} in snap["property_groups"]
    assert any(p["name"] == "zoomsync_registration_count" and p["groupName"] == "zoomsync"
               for p in snap["properties"])
    # once the property exists, contacts accept values for it
    resp = hs.post("/crm/v3/objects/contacts/batch/update", {"inputs": [
        {"id": "501", "properties": {"zoomsync_registration_count": "2"}}]})
    assert resp.status == 200
    assert hs.state.contacts["501"].properties["zoomsync_registration_count"] == "2"
    bad = hs.post("/crm/v3/objects/contacts/batch/update", {"inputs": [
        {"id": "501", "properties": {"zoomsync_registration_count": "two"}}]})
    assert bad.status == 400


def test_property_needs_existing_group_and_matching_field_type(hs):
    assert hs.post("/crm/v3/properties/contacts", PROP).status == 400  # no group yet
    hs.post("/crm/v3/properties/contacts/groups", GROUP)
    assert hs.post("/crm/v3/properties/contacts", {**PROP, "fieldType": "text"}).status == 400
    assert hs.get("/crm/v3/properties/contacts/nope").status == 404


def test_properties_batch_create_existing_name_is_per_item_error(hs):
    hs.post("/crm/v3/properties/contacts/groups", GROUP)
    hs.post("/crm/v3/properties/contacts", PROP)
    other = {**PROP, "name": "zoomsync_attended_count", "label": "Attended"}
    resp = hs.post("/crm/v3/properties/contacts/batch/create", {"inputs": [PROP, other]})
    assert resp.status == 207
    assert [p["name"] for p in resp.body["results"]] == ["zoomsync_attended_count"]
    assert resp.body["errors"][0]["category"] == "OBJECT_ALREADY_EXISTS"
    fresh = {**PROP, "name": "zoomsync_average_attendance_percent", "label": "Avg"}
    assert hs.post("/crm/v3/properties/contacts/batch/create",
                   {"inputs": [fresh]}).status == 201


def test_groups_list_contains_defaults_and_created(hs):
    hs.post("/crm/v3/properties/contacts/groups", GROUP)
    names = [g["name"] for g in hs.get("/crm/v3/properties/contacts/groups").body["results"]]
    assert "contactinformation" in names and "zoomsync" in names


def test_oauth_code_exchange_refresh_keeps_refresh_token(hs):
    form = {"grant_type": "authorization_code", "code": "abc", "client_id": "c",
            "client_secret": "s", "redirect_uri": "http://127.0.0.1:8000/oauth/callback"}
    first = hs.post("/oauth/v1/token", form=form, token=None)
    assert first.status == 200
    assert first.body["expires_in"] == 1800 and first.body["token_type"] == "bearer"
    assert first.body["hub_id"] == 62515
    # the code is single-use
    assert hs.post("/oauth/v1/token", form=form, token=None).body["status"] == "BAD_AUTH_CODE"
    refreshed = hs.post("/oauth/v1/token", token=None, form={
        "grant_type": "refresh_token", "refresh_token": first.body["refresh_token"],
        "client_id": "c", "client_secret": "s"})
    assert refreshed.status == 200
    assert refreshed.body["refresh_token"] == first.body["refresh_token"]  # not rotated
    assert refreshed.body["access_token"] != first.body["access_token"]
    hs.token = refreshed.body["access_token"]
    assert hs.get("/account-info/v3/details").body["portalId"] == 62515


def test_oauth_bad_refresh_token_shape(hs):
    resp = hs.post("/oauth/v1/token", token=None, form={
        "grant_type": "refresh_token", "refresh_token": "nope", "client_id": "c",
        "client_secret": "s"})
    assert resp.status == 400
    assert resp.body["status"] == "BAD_REFRESH_TOKEN"
    assert resp.body["error"] == "invalid_grant"
    assert resp.body["message"] == "refresh token is invalid, expired or revoked"


def test_oauth_client_credentials_checked_only_when_configured(hs):
    hs.load({"client_id": "cid", "client_secret": "sec"})
    form = {"grant_type": "authorization_code", "code": "x", "client_id": "cid",
            "client_secret": "wrong", "redirect_uri": "http://localhost/cb"}
    assert hs.post("/oauth/v1/token", form=form, token=None).body["status"] == "BAD_CLIENT_SECRET"
    form["client_secret"] = "sec"
    assert hs.post("/oauth/v1/token", form=form, token=None).status == 200


def test_configured_token_lifetime(hs):
    hs.load({"token_lifetime_s": 120})
    resp = hs.post("/oauth/v1/token", token=None, form={
        "grant_type": "authorization_code", "code": "x", "redirect_uri": "http://localhost/cb"})
    assert resp.body["expires_in"] == 120
    hs.token = resp.body["access_token"]
    hs.advance(121)
    assert hs.get("/account-info/v3/details").body["category"] == "EXPIRED_AUTHENTICATION"


def test_access_token_info(hs):
    resp = hs.get(f"/oauth/v1/access-tokens/{hs.token}", token=None)
    assert resp.status == 200
    assert resp.body["hub_id"] == 62515 and resp.body["user_id"] == 9001
    assert "crm.objects.contacts.write" in resp.body["scopes"]
    assert hs.get("/oauth/v1/access-tokens/unknown", token=None).status == 404


def test_r12_settings_users_paged_with_after(hs):
    first = hs.get("/settings/v3/users/", query={"limit": 2})
    assert [u["email"] for u in first.body["results"]] == ["marketer@acme.com", "sales@acme.com"]
    after = first.body["paging"]["next"]["after"]
    second = hs.get("/settings/v3/users/", query={"limit": 2, "after": after})
    assert [u["email"] for u in second.body["results"]] == ["ops@acme.com"]
    assert "paging" not in second.body
    assert hs.get("/settings/users/v3").status == 200  # the spec's spelling too


def test_r25_business_units_primary_listed_first(hs):
    resp = hs.get("/business-units/v3/business-units/user/9001")
    assert [b["id"] for b in resp.body["results"]] == ["101", "0"]
    assert hs.get("/business-units/v3/business-units/user/1").status == 404
