"""The action definition JSON, publish_workflow_action, and the OpenAPI schema."""

from __future__ import annotations

import json
from io import StringIO

import pytest
import responses
import yaml
from django.core.management import CommandError, call_command

from tests.workflows.conftest import PUBLIC_URL, action_body
from workflows.services.definition import DEFINITION_FILE, action_definition_build
from workflows.services.outcome import HOST_CANNOT_REGISTER_MESSAGE, ErrorCode

API = "https://api.hubspot.test"
APP_ID = "4242"


def test_definition_follows_interfaces_and_spec():
    d = action_definition_build()
    assert d["actionUrl"] == f"{PUBLIC_URL}/workflows/add-to-zoom-webinar"
    assert d["objectTypes"] == ["CONTACT"]
    assert d["objectRequestOptions"] == {"properties": ["email", "firstname", "lastname"]}
    (webinar_input,) = d["inputFields"]
    assert webinar_input["typeDefinition"]["name"] == "webinarId"
    assert webinar_input["typeDefinition"]["type"] == "string"
    assert webinar_input["supportedValueTypes"] == ["STATIC_VALUE", "OBJECT_PROPERTY"]  # R24
    assert webinar_input["isRequired"] is True
    outputs = {o["typeDefinition"]["name"] for o in d["outputFields"]}
    assert {"errorCode", "registrantId", "joinUrl"} <= outputs
    # Required by the spec's PublicActionDefinitionEgg.
    for key in ("actionUrl", "functions", "inputFields", "labels", "objectTypes", "published"):
        assert key in d
    assert "en" in d["labels"] and d["labels"]["en"]["actionName"] == "Add contact to Zoom webinar"


def test_definition_has_an_execution_rule_and_message_for_every_error_code():
    d = action_definition_build()
    rule_codes = [r["conditions"]["errorCode"] for r in d["executionRules"]]
    assert sorted(rule_codes) == sorted(c.value for c in ErrorCode)
    messages = d["labels"]["en"]["executionRules"]
    for rule in d["executionRules"]:
        assert messages[rule["labelName"]]
    options = next(o for o in d["outputFields"] if o["typeDefinition"]["name"] == "errorCode")
    assert sorted(o["value"] for o in options["typeDefinition"]["options"]) == sorted(c.value for c in ErrorCode)
    # R26's wording, exactly.
    host_rule = next(r for r in d["executionRules"] if r["conditions"]["errorCode"] == "HOST_CANNOT_REGISTER")
    assert messages[host_rule["labelName"]] == HOST_CANNOT_REGISTER_MESSAGE


@pytest.mark.contract
def test_definition_validates_against_the_official_spec_schema():
    """PublicActionDefinitionEgg from shared/specs/hubspot/automation-actions-v4.json.

    Skipped when the specs are not there (a fresh clone); REQUIRE_SPECS=1 makes that a failure.
    """
    from sandbox.contract import specs_require

    specs_require()
    from tests.workflows.spec_schema import validate_against_component

    definition = action_definition_build()
    # The generated spec types each condition value as an object (a Java `Object` artifact);
    # HubSpot's guide uses a value or a list of values, as we do. Everything else must match.
    for rule in definition["executionRules"]:
        assert all(isinstance(v, str | list) for v in rule["conditions"].values())
        rule["conditions"] = {}
    validate_against_component("automation-actions-v4.json", "PublicActionDefinitionEgg", definition)


@responses.activate
def test_publish_creates_when_no_definition_has_our_url(settings):
    settings.HUBSPOT_APP_ID = APP_ID
    settings.HUBSPOT_DEVELOPER_API_KEY = "dev-key"
    responses.get(
        f"{API}/automation/v4/actions/{APP_ID}",
        json={"results": [{"id": "1", "actionUrl": "https://elsewhere.example/x"}]},
    )
    responses.post(f"{API}/automation/v4/actions/{APP_ID}", status=201, json={"id": "77", "revisionId": "1"})
    out = StringIO()
    call_command("publish_workflow_action", "--api-base", API, stdout=out)
    assert "Created action definition 77" in out.getvalue()
    post = responses.calls[-1].request
    assert "hapikey=dev-key" in post.url
    assert json.loads(post.body)["actionUrl"] == f"{PUBLIC_URL}/workflows/add-to-zoom-webinar"


@responses.activate
def test_publish_updates_the_existing_definition_for_our_url(settings):
    settings.HUBSPOT_APP_ID = APP_ID
    settings.HUBSPOT_DEVELOPER_API_KEY = "dev-key"
    responses.get(
        f"{API}/automation/v4/actions/{APP_ID}",
        json={"results": [{"id": "55", "actionUrl": f"{PUBLIC_URL}/workflows/add-to-zoom-webinar"}]},
    )
    responses.patch(f"{API}/automation/v4/actions/{APP_ID}/55", json={"id": "55", "revisionId": "2"})
    out = StringIO()
    call_command("publish_workflow_action", "--api-base", API, stdout=out)
    assert "Updated action definition 55" in out.getvalue()
    patch = json.loads(responses.calls[-1].request.body)
    assert "functions" not in patch  # not part of PublicActionDefinitionPatch
    assert patch["labels"]["en"]["actionName"] == "Add contact to Zoom webinar"
    assert not [c for c in responses.calls if c.request.method == "POST"]


def test_publish_without_developer_key_is_a_clear_error(settings):
    settings.HUBSPOT_APP_ID = ""
    settings.HUBSPOT_DEVELOPER_API_KEY = ""
    with pytest.raises(CommandError, match="HUBSPOT_DEVELOPER_API_KEY"):
        call_command("publish_workflow_action", "--api-base", API)


def test_publish_dry_run_prints_the_definition():
    out = StringIO()
    call_command("publish_workflow_action", "--dry-run", "--unpublished", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["published"] is False
    assert printed["actionUrl"].endswith("/workflows/add-to-zoom-webinar")


def test_definition_file_is_valid_json():
    json.loads(DEFINITION_FILE.read_text())


@pytest.mark.django_db
def test_openapi_schema_includes_the_action_endpoint(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    operation = schema["paths"]["/workflows/add-to-zoom-webinar"]["post"]
    assert operation["operationId"] == "workflow_add_to_zoom_webinar"
    assert {"200", "401", "429"} <= set(operation["responses"])
    request_schema = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "callbackId" in schema["components"]["schemas"][request_schema]["properties"]


def test_publish_workflow_action_against_the_sandbox_creates_then_updates(sandbox, db, settings):
    """The command through the fake HubSpot's automation v4 API (developer key auth)."""
    from connector.models import Portal

    sandbox.load({"hubspot": {"portal_id": 62515}, "zoom": {"accounts": []}})
    Portal.objects.create(hub_id=62515, api_base=sandbox.hubspot_api_base, access_token="x")
    settings.HUBSPOT_APP_ID = APP_ID
    settings.HUBSPOT_DEVELOPER_API_KEY = "dev-key"

    out = StringIO()
    call_command("publish_workflow_action", "--portal", "62515", stdout=out)
    assert "Created action definition" in out.getvalue()
    call_command("publish_workflow_action", "--portal", "62515", stdout=out)
    assert "Updated action definition" in out.getvalue()

    listed = sandbox.session.get(
        f"{sandbox.hubspot_api_base}/automation/v4/actions/{APP_ID}", params={"hapikey": "dev-key"}, timeout=10
    ).json()["results"]
    (definition,) = listed  # created once, then updated: never two
    assert definition["actionUrl"] == f"{PUBLIC_URL}/workflows/add-to-zoom-webinar"
    assert definition["published"] is True
    assert definition["revisionId"] == "2"
    assert definition["objectRequestOptions"] == {"properties": ["email", "firstname", "lastname"]}
    assert [f["typeDefinition"]["name"] for f in definition["inputFields"]] == ["webinarId"]


def test_swagger_ui_is_served(client, db):
    assert client.get("/api/docs/").status_code == 200


def test_admin_lists_executions_read_only(admin_client, post_action, db):
    post_action(action_body(portal_id=999))
    listing = admin_client.get("/admin/workflows/actionexecution/")
    assert listing.status_code == 200 and b"ap-62515-1-1-0" in listing.content
    assert admin_client.get("/admin/workflows/actionexecution/add/").status_code == 403
