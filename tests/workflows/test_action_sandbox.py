"""The workflow action end to end: a request signed the way HubSpot signs it, our endpoint,
and the sandbox's fake Zoom over real HTTP (R11, R17, R24, R25, R26)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.workflows.conftest import HUB_ID, action_body
from workflows.models import ActionExecution, ExecutionStatus
from workflows.selectors import workflow_registrations_for_portal

HOST = "hal.host@acme.com"
ALT_HOST = "ada.alt@acme.com"
ADMIN = "zoe.admin@acme.com"
FUTURE = "2030-03-15T15:00:00Z"

WEBINAR_OPEN = 81000000005
WEBINAR_EXTRA_FIELDS = 81000000006
WEBINAR_NO_REGISTRATION = 81000000007
WEBINAR_LAST_NAME_REQUIRED = 81000000008
WEBINAR_EU = 82000000002


def scenario() -> dict:
    return {
        "hubspot": {
            "portal_id": HUB_ID,
            "business_units": [{"id": "0", "name": "Acme", "primary": True}, {"id": "101", "name": "Acme EU"}],
            "contacts": [{"id": "501", "email": "jane@example.com", "firstname": "Jane", "lastname": "Doe"}],
        },
        "zoom": {
            "accounts": [
                {
                    "account_id": "zacc_main",
                    "business_unit_id": "0",
                    "connected_user_id": "zu_admin",
                    "users": [
                        {"id": "zu_hal", "email": HOST, "first_name": "Hal", "last_name": "Host"},
                        {"id": "zu_ada", "email": ALT_HOST, "first_name": "Ada", "last_name": "Alt"},
                        {"id": "zu_admin", "email": ADMIN, "first_name": "Zoe", "last_name": "Admin"},
                    ],
                    "webinars": [
                        {"id": WEBINAR_OPEN, "host_id": "zu_hal", "topic": "Open", "start_time": FUTURE,
                         "approval_type": 0, "alternative_hosts": [ALT_HOST],
                         "questions": [{"field_name": "last_name", "required": False},
                                       {"field_name": "org", "required": False}],
                         "custom_questions": [{"title": "Anything else?", "type": "short", "required": False}]},
                        {"id": WEBINAR_EXTRA_FIELDS, "host_id": "zu_hal", "topic": "Extra", "start_time": FUTURE,
                         "approval_type": 0,
                         "questions": [{"field_name": "last_name", "required": True},
                                       {"field_name": "org", "required": True}],
                         "custom_questions": [{"title": "Team size", "type": "single_dropdown", "required": True,
                                               "answers": ["1-10", "11-50"]}]},
                        {"id": WEBINAR_NO_REGISTRATION, "host_id": "zu_hal", "topic": "Open door",
                         "start_time": FUTURE, "approval_type": 2},
                        {"id": WEBINAR_LAST_NAME_REQUIRED, "host_id": "zu_hal", "topic": "Formal",
                         "start_time": FUTURE, "approval_type": 0,
                         "questions": [{"field_name": "last_name", "required": True}]},
                    ],
                },
                {
                    "account_id": "zacc_eu",
                    "business_unit_id": "101",
                    "users": [{"id": "zu_eva", "email": "eva.eu@acme.eu", "first_name": "Eva", "last_name": "EU"}],
                    "webinars": [{"id": WEBINAR_EU, "host_id": "zu_eva", "topic": "EU", "start_time": FUTURE,
                                  "approval_type": 0}],
                },
            ]
        },
    }


@pytest.fixture
def world(sandbox, db):
    """The scenario loaded; a Portal and both Zoom accounts pointed at the sandbox."""
    return world_connect(sandbox)


def world_connect(sandbox):
    """Load the scenario and point a Portal and both Zoom accounts at the sandbox."""
    from connector.models import Portal, ZoomAccount

    sandbox.load(scenario())
    far = timezone.now() + timedelta(days=1)
    portal = Portal.objects.create(
        hub_id=HUB_ID, api_base=sandbox.hubspot_api_base, access_token=sandbox.token("hubspot"),
        refresh_token="r", token_expires_at=far,
    )
    for account_id, unit, primary, admin in (("zacc_main", "0", True, ADMIN), ("zacc_eu", "101", False, "")):
        ZoomAccount.objects.create(
            portal=portal, account_id=account_id, api_base=sandbox.zoom_api_base,
            oauth_base=sandbox.zoom_oauth_base, access_token=sandbox.token("zoom", account_id),
            refresh_token="r", token_expires_at=far, business_unit_id=unit, is_primary_business_unit=primary,
            connected_user_email=admin,
        )
    sandbox.calls_clear()
    return sandbox


def registrants(sandbox, webinar_id: int) -> list[dict]:
    for account in sandbox.state()["zoom"]["accounts"]:
        for webinar in account["webinars"]:
            if int(webinar["id"]) == webinar_id:
                return webinar.get("registrants", [])
    raise AssertionError(f"no webinar {webinar_id}")


def zoom_posts(sandbox) -> int:
    return sum(n for key, n in sandbox.calls()["zoom"].items() if key.startswith("POST ") and "registrants" in key)


def outputs(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()["outputFields"]


# --- R24 -------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["810 0000 0005", "810-0000-0005", " 81000000005 "])
def test_r24_webinar_id_with_spaces_and_dashes_registers_the_contact(world, post_action, typed):
    out = outputs(post_action(action_body(webinar_id=typed)))
    assert out["hs_execution_state"] == "SUCCESS"
    (registrant,) = [r for r in registrants(world, WEBINAR_OPEN) if r["email"].lower() == "jane@example.com"]
    assert out["registrantId"] == registrant["id"]
    assert out["joinUrl"] == registrant["join_url"]


def test_r24_webinar_id_from_a_contact_property_token_registers(world, post_action):
    """HubSpot resolves the property token before calling: the value arrives as the
    property's text (here a number property, sent unquoted)."""
    out = outputs(post_action(action_body(webinar_id=WEBINAR_OPEN)))
    assert out["hs_execution_state"] == "SUCCESS"
    assert any(r["email"].lower() == "jane@example.com" for r in registrants(world, WEBINAR_OPEN))


@pytest.mark.parametrize(
    "bad", ["", "  ", "https://zoom.us/j/81000000005", "8100000000x", "81.000.000.005", "8100 0000 05#", None, "12"]
)
def test_r24_anything_else_is_invalid_webinar_id_and_zoom_is_not_called(world, post_action, bad):
    out = outputs(post_action(action_body(webinar_id=bad)))
    assert out == {
        "hs_execution_state": "FAIL_CONTINUE",
        "errorCode": "INVALID_WEBINAR_ID",
        "errorMessage": out["errorMessage"],
    }
    assert world.calls()["zoom"] == {}


def test_r24_contact_is_registered_with_its_first_last_name_and_email(world, post_action):
    outputs(post_action(action_body(email="Jane@Example.com", firstname="Jane", lastname="Doe", webinar_id="81000000005")))
    (registrant,) = registrants(world, WEBINAR_OPEN)
    assert registrant["email"] == "Jane@Example.com"
    execution = ActionExecution.objects.get()
    assert (execution.first_name, execution.last_name, execution.email) == ("Jane", "Doe", "jane@example.com")


def test_missing_contact_email_fails_without_zoom_call(world, post_action):
    for n, email in enumerate(["", None, "not-an-email"]):
        out = outputs(post_action(action_body(callback_id=f"cb-{n}", email=email)))
        assert out["errorCode"] == "MISSING_CONTACT_EMAIL"
    assert world.calls()["zoom"] == {}


# --- R25 -------------------------------------------------------------------------------


def test_r25_webinar_of_the_secondary_business_unit_is_not_registered(world, post_action):
    out = outputs(post_action(action_body(webinar_id=str(WEBINAR_EU))))
    assert out["hs_execution_state"] == "FAIL_CONTINUE"
    assert out["errorCode"] == "NOT_PRIMARY_BUSINESS_UNIT"
    assert "primary business unit" in out["errorMessage"]
    assert registrants(world, WEBINAR_EU) == []
    assert zoom_posts(world) == 0


def test_r25_webinar_of_the_primary_business_unit_registers_with_two_accounts_connected(world, post_action):
    out = outputs(post_action(action_body(webinar_id=str(WEBINAR_OPEN))))
    assert out["hs_execution_state"] == "SUCCESS"
    assert ActionExecution.objects.get().zoom_account.account_id == "zacc_main"
    # Found in the primary account first: the EU account was never asked.
    assert zoom_posts(world) == 1


def test_r25_webinar_in_no_connected_account_is_not_found(world, post_action):
    out = outputs(post_action(action_body(webinar_id="89999999999")))
    assert out["errorCode"] == "WEBINAR_NOT_FOUND"
    assert zoom_posts(world) == 0


# --- R26 -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [HOST, HOST.upper(), ALT_HOST, ADMIN])
def test_r26_host_alternative_host_and_connected_user_cannot_register(world, post_action, who):
    out = outputs(post_action(action_body(email=who, webinar_id=str(WEBINAR_OPEN))))
    assert out["hs_execution_state"] == "FAIL_CONTINUE"
    assert out["errorCode"] == "HOST_CANNOT_REGISTER"
    assert out["errorMessage"] == "Webinar hosts cannot register for the webinar"
    assert registrants(world, WEBINAR_OPEN) == []
    assert zoom_posts(world) == 0  # refused before Zoom had to


def test_r26_zoom_3027_maps_to_host_cannot_register(world, post_action):
    """If our records miss a host (here: the connected user's email is unknown to us), Zoom's
    3027 gives the same answer."""
    from connector.models import ZoomAccount

    ZoomAccount.objects.filter(account_id="zacc_main").update(connected_user_email="", connected_user_id="")
    out = outputs(post_action(action_body(email=ADMIN, webinar_id=str(WEBINAR_OPEN))))
    assert out["errorCode"] == "HOST_CANNOT_REGISTER"
    assert out["errorMessage"] == "Webinar hosts cannot register for the webinar"
    assert zoom_posts(world) == 1
    assert registrants(world, WEBINAR_OPEN) == []


def test_r26_connected_user_known_only_by_id_is_looked_up(world, post_action):
    from connector.models import ZoomAccount

    ZoomAccount.objects.filter(account_id="zacc_main").update(connected_user_email="", connected_user_id="zu_admin")
    out = outputs(post_action(action_body(email=ADMIN, webinar_id=str(WEBINAR_OPEN))))
    assert out["errorCode"] == "HOST_CANNOT_REGISTER"
    assert zoom_posts(world) == 0


# --- R11 -------------------------------------------------------------------------------


def test_r11_extra_required_fields_are_named_and_zoom_registration_is_not_called(world, post_action):
    out = outputs(post_action(action_body(webinar_id=str(WEBINAR_EXTRA_FIELDS))))
    assert out["hs_execution_state"] == "FAIL_CONTINUE"
    assert out["errorCode"] == "EXTRA_REQUIRED_FIELDS"
    assert "Organization" in out["errorMessage"] and "Team size" in out["errorMessage"]
    assert "Last name" not in out["errorMessage"]  # sent by the action, so not "extra"
    assert zoom_posts(world) == 0
    assert registrants(world, WEBINAR_EXTRA_FIELDS) == []


def test_r11_optional_questions_do_not_block_and_only_three_fields_are_sent(world, post_action):
    out = outputs(post_action(action_body(webinar_id=str(WEBINAR_OPEN))))
    assert out["hs_execution_state"] == "SUCCESS"
    (registrant,) = registrants(world, WEBINAR_OPEN)
    assert (registrant["first_name"], registrant["last_name"]) == ("Jane", "Doe")
    # Nothing but the three fields reached Zoom: no org, no custom answers.
    assert not registrant.get("org") and not registrant.get("custom_questions")


def test_r11_registration_not_enabled_is_registration_closed(world, post_action):
    out = outputs(post_action(action_body(webinar_id=str(WEBINAR_NO_REGISTRATION))))
    assert out["errorCode"] == "REGISTRATION_CLOSED"
    assert zoom_posts(world) == 0


def test_r11_required_last_name_missing_on_the_contact(world, post_action):
    out = outputs(post_action(action_body(lastname="", webinar_id=str(WEBINAR_LAST_NAME_REQUIRED))))
    assert out["errorCode"] == "MISSING_CONTACT_NAME"
    assert zoom_posts(world) == 0
    ok = outputs(post_action(action_body(callback_id="cb-2", webinar_id=str(WEBINAR_LAST_NAME_REQUIRED))))
    assert ok["hs_execution_state"] == "SUCCESS"


# --- idempotency, retries, limits, R17 -----------------------------------------------------


def test_same_callback_id_twice_registers_once_through_the_sandbox(world, post_action):
    first = post_action(action_body(webinar_id=str(WEBINAR_OPEN)))
    second = post_action(action_body(webinar_id=str(WEBINAR_OPEN)))
    assert first.json() == second.json()
    assert zoom_posts(world) == 1
    assert len(registrants(world, WEBINAR_OPEN)) == 1


def test_zoom_5xx_answers_503_then_hubspot_retry_registers_once(world, post_action):
    world.configure(fault_rate=1.0)
    failed = post_action(action_body(webinar_id=str(WEBINAR_OPEN)))
    assert failed.status_code == 503 and failed["Retry-After"]
    assert ActionExecution.objects.get().status == ExecutionStatus.RETRY
    world.configure(fault_rate=0.0)
    out = outputs(post_action(action_body(webinar_id=str(WEBINAR_OPEN))))
    assert out["hs_execution_state"] == "SUCCESS"
    assert len(registrants(world, WEBINAR_OPEN)) == 1


def test_zoom_daily_registrant_limit_fails_continue(world, post_action):
    world.configure(registrant_daily_limit=1)
    assert outputs(post_action(action_body(callback_id="cb-1", webinar_id=str(WEBINAR_OPEN))))["hs_execution_state"] == "SUCCESS"
    out = outputs(post_action(action_body(callback_id="cb-2", webinar_id=str(WEBINAR_OPEN))))
    assert out["hs_execution_state"] == "FAIL_CONTINUE"
    assert out["errorCode"] == "ZOOM_DAILY_LIMIT"


def test_r17_registration_is_recorded_and_visible_to_the_next_pull(world, post_action):
    out = outputs(post_action(action_body(webinar_id="810-0000-0005")))
    (row,) = workflow_registrations_for_portal(portal=ActionExecution.objects.get().portal)
    assert (row.email, row.webinar_id, row.join_url) == ("jane@example.com", str(WEBINAR_OPEN), out["joinUrl"])
    assert row.registered_at is not None
    # Zoom's registrant list (what the next pull reads) has it, with create_time and join_url.
    (registrant,) = registrants(world, WEBINAR_OPEN)
    assert registrant["join_url"] == out["joinUrl"] and registrant["status"] == "approved"


def test_unsigned_request_changes_nothing_in_the_sandbox(world, post_action):
    response = post_action(action_body(webinar_id=str(WEBINAR_OPEN)), version="none")
    assert response.status_code == 401
    assert world.calls()["zoom"] == {}
    assert registrants(world, WEBINAR_OPEN) == []
    assert not ActionExecution.objects.exists()


@pytest.mark.contract
def test_action_zoom_and_hubspot_traffic_follows_the_official_specs(world, post_action, monkeypatch, contract_recorder, settings):
    """Every call the action makes to Zoom (webinar, questions, add registrant, refusals)
    and the definition publishing to HubSpot validate against shared/specs."""
    import requests

    from connector.clients import factories

    session = requests.Session()
    recorder = contract_recorder(session)
    original = factories.zoom_client_for
    monkeypatch.setattr(
        "workflows.services.registration.zoom_client_for",
        lambda account, **kw: original(account, **{**kw, "session": session}),
    )
    for n, (email, webinar) in enumerate(
        [("jane@example.com", WEBINAR_OPEN), (HOST, WEBINAR_OPEN), ("jane@example.com", WEBINAR_EXTRA_FIELDS),
         ("jane@example.com", WEBINAR_EU), ("jane@example.com", 89999999999), ("jane@example.com", WEBINAR_NO_REGISTRATION)]
    ):
        post_action(action_body(callback_id=f"cb-{n}", email=email, webinar_id=str(webinar)))
    from connector.models import ZoomAccount

    ZoomAccount.objects.filter(account_id="zacc_main").update(connected_user_email="", connected_user_id="")
    post_action(action_body(callback_id="cb-3027", email=ADMIN, webinar_id=str(WEBINAR_OPEN)))  # Zoom's 3027

    from workflows.services.definition import action_definition_build, action_definition_publish

    settings.HUBSPOT_APP_ID = "4242"
    hubspot = factories.hubspot_client_for(
        ActionExecution.objects.first().portal, session=session, developer_api_key="dev", app_id="4242"
    )
    action_definition_publish(client=hubspot, definition=action_definition_build())
    action_definition_publish(client=hubspot, definition=action_definition_build())

    assert recorder.exchanges >= 15
    # The one known deviation: execution-rule conditions carry values (strings), as in
    # HubSpot's guide; the generated spec types them as objects. Anything else fails.
    unexpected = []
    for problem in recorder.problems:
        where = [line.strip() for line in str(problem).splitlines() if line.strip().startswith("at ")]
        if not where or not all(re.match(r"at (results/\d+/)?executionRules/\d+/conditions/", w) for w in where):
            unexpected.append(problem)
    assert not unexpected, "\n\n".join(str(p)[-2000:] for p in unexpected)


def test_r17_workflow_registration_syncs_that_webinar_only(world, post_action, settings, django_capture_on_commit_callbacks):
    """Issue 10: the follow-up of a workflow registration is a run of that webinar (its
    registrants only, not a whole-portal sync) and the contact gets the R17 join URL."""
    from connector.models import SyncRun, SyncRunPart, SyncRunStatus
    from connector.services.pull import REGISTRANT_STATUSES

    settings.WORKFLOWS_SYNC_AFTER_REGISTRATION = True
    with django_capture_on_commit_callbacks() as follow_ups:
        out = outputs(post_action(action_body(webinar_id=str(WEBINAR_OPEN))))
    assert out["hs_execution_state"] == "SUCCESS" and len(follow_ups) == 1
    world.calls_clear()
    with django_capture_on_commit_callbacks(execute=True):
        follow_ups[0]()  # the follow-up task, then the run it asked for (in-process)

    run = SyncRun.objects.get()
    assert (run.trigger, run.webinar_ids, run.status) == ("workflow", [str(WEBINAR_OPEN)], SyncRunStatus.SUCCEEDED)
    pulled = SyncRunPart.objects.filter(sync_run=run, webinar__isnull=False)
    assert [p.webinar.webinar_id for p in pulled] == [str(WEBINAR_OPEN)]
    # Zoom: the account-level listing, then the registrants of one webinar of the five listed
    # (one page per listable status); a whole-portal sync reads them for all five.
    zoom = world.calls()["zoom"]
    assert zoom["GET /v2/webinars/{webinarId}/registrants"] == len(REGISTRANT_STATUSES)
    assert [key for key in zoom if "{webinarId}" in key] == ["GET /v2/webinars/{webinarId}/registrants"]
    (contact,) = [c for c in world.state()["hubspot"]["contacts"] if c["properties"]["email"] == "jane@example.com"]
    assert contact["properties"]["zoomsync_last_registered_webinar"] == out["joinUrl"]


def test_r17_workflow_registration_after_a_first_sync_updates_the_contact(world, post_action, settings, django_capture_on_commit_callbacks):
    """The same after a first whole sync: the follow-up is an incremental run of one webinar."""
    from connector.models import Portal, SyncRun, SyncRunStatus
    from connector.services.sync_requests import sync_request

    settings.WORKFLOWS_SYNC_AFTER_REGISTRATION = True
    with django_capture_on_commit_callbacks(execute=True):
        first = sync_request(portal=Portal.objects.get(), source="manual")
    first.refresh_from_db()
    assert (first.status, first.webinar_ids) == (SyncRunStatus.SUCCEEDED, None)
    with django_capture_on_commit_callbacks() as follow_ups:
        out = outputs(post_action(action_body(webinar_id=str(WEBINAR_OPEN))))
    world.calls_clear()
    with django_capture_on_commit_callbacks(execute=True):
        follow_ups[0]()
    run = SyncRun.objects.exclude(pk=first.pk).get()
    assert (run.trigger, run.webinar_ids, run.status) == ("workflow", [str(WEBINAR_OPEN)], SyncRunStatus.SUCCEEDED)
    (contact,) = [c for c in world.state()["hubspot"]["contacts"] if c["properties"]["email"] == "jane@example.com"]
    assert contact["properties"]["zoomsync_last_registered_webinar"] == out["joinUrl"]
    assert contact["properties"]["zoomsync_registration_count"] == "1"
