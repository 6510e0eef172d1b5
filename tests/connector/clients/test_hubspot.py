"""HubSpot client: batches (200/201/207/409), limits, developer-key auth, paging.
The typed per-item outcomes of every error shape: test_hubspot_outcomes.py."""

from __future__ import annotations

import json

import pytest
from responses import matchers

from connector.clients import Conflict, HubSpotClient, HubSpotErrorCode
from connector.clients.hubspot import BatchResult, ItemOutcome, Outcome

from .conftest import HUBSPOT

CONTACTS = f"{HUBSPOT}/crm/v3/objects/contacts"


def test_batch_read_by_email_parses_207_results_and_errors(hubspot, mocked):
    mocked.post(
        f"{CONTACTS}/batch/read",
        status=207,
        match=[matchers.query_param_matcher({"archived": "false"})],
        json={
            "status": "COMPLETE",
            "results": [{"id": "501", "properties": {"email": "jane@example.com"}}],
            "numErrors": 1,
            "errors": [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "context": {"ids": ["nobody@example.com"]},
                }
            ],
        },
    )

    result = hubspot.contacts_batch_read(
        ["jane@example.com", "nobody@example.com"], properties=["email", "hs_additional_emails"]
    )

    assert result.status == 207
    jane, nobody = result.items
    assert (jane.key, jane.outcome, jane.id) == ("jane@example.com", Outcome.OK, "501")
    assert jane.record["properties"] == {"email": "jane@example.com"}
    assert (nobody.key, nobody.outcome, nobody.code) == (
        "nobody@example.com",
        Outcome.GONE,
        HubSpotErrorCode.OBJECT_NOT_FOUND,
    )
    sent = json.loads(mocked.calls[0].request.body)
    assert sent["idProperty"] == "email"
    assert sent["inputs"] == [{"id": "jane@example.com"}, {"id": "nobody@example.com"}]
    assert sent["properties"] == ["email", "hs_additional_emails"]


def test_batch_read_by_record_id_omits_id_property_and_can_ask_archived(hubspot, mocked):
    mocked.post(
        f"{CONTACTS}/batch/read",
        match=[matchers.query_param_matcher({"archived": "true"})],
        json={"status": "COMPLETE", "results": [{"id": "7", "archived": True}]},
    )
    result = hubspot.contacts_batch_read(
        ["7"], id_property=None, properties=["email"], archived=True
    )
    assert result == BatchResult(
        items=[ItemOutcome(key="7", outcome=Outcome.OK, id="7", record={"id": "7", "archived": True})],
        status=200,
    )
    assert "idProperty" not in json.loads(mocked.calls[0].request.body)


def test_batch_create_201_parsed_like_200(hubspot, mocked):
    mocked.post(
        f"{CONTACTS}/batch/create",
        status=201,
        json={"status": "COMPLETE", "results": [{"id": "9"}]},
    )
    result = hubspot.contacts_batch_create([{"properties": {"email": "new@example.com"}}])
    assert result.status == 201
    # The answer names no input, but one input and one answer are left: they go together.
    assert [(i.key, i.outcome, i.id) for i in result.items] == [("new@example.com", Outcome.CREATED, "9")]


def test_batch_create_409_conflict_returned_with_existing_id(hubspot, mocked):
    body = {
        "status": "error",
        "message": "Contact already exists. Existing ID: 37765128953",
        "correlationId": "c-1",
        "category": "CONFLICT",
    }
    mocked.post(f"{CONTACTS}/batch/create", status=409, json=body)

    result = hubspot.contacts_batch_create([{"properties": {"email": "jane@example.com"}}])

    assert result.status == 409
    assert result.rejected is None  # a refused batch of one input is that input's outcome
    (item,) = result.items
    assert (item.key, item.outcome, item.id, item.code) == (
        "jane@example.com",
        Outcome.DUPLICATE,
        "37765128953",
        HubSpotErrorCode.CONFLICT,
    )
    assert len(mocked.calls) == 1  # a conflict is not retried


def test_409_on_other_endpoints_still_raises_conflict(hubspot, mocked):
    mocked.post(
        f"{HUBSPOT}/crm/v3/properties/contacts/groups",
        status=409,
        json={"status": "error", "message": "group exists", "category": "CONFLICT"},
    )
    with pytest.raises(Conflict) as info:
        hubspot.property_group_create("contacts", name="zoomsync", label="Zoom")
    assert info.value.code == "CONFLICT"


@pytest.mark.parametrize(
    "call",
    [
        lambda c, n: c.contacts_batch_read([f"{i}@x.com" for i in range(n)], properties=["email"]),
        lambda c, n: c.contacts_batch_create([{"properties": {}}] * n),
        lambda c, n: c.contacts_batch_update([{"id": "1", "properties": {}}] * n),
        lambda c, n: c.contacts_batch_upsert([{"id": "a@x.com", "properties": {}}] * n),
        lambda c, n: c.timeline_events_batch_create([{}] * n),
        lambda c, n: c.app_events_batch_create([{}] * n),
        lambda c, n: c.marketing_event_attendance("e", "attend", by="email", inputs=[{}] * n),
    ],
)
def test_more_than_100_inputs_refused_before_any_call(hubspot, mocked, call):
    with pytest.raises(ValueError, match="at most 100"):
        call(hubspot, 101)
    assert len(mocked.calls) == 0


def test_batch_upsert_sets_id_property_on_each_input(hubspot, mocked):
    mocked.post(
        f"{CONTACTS}/batch/upsert",
        json={"status": "COMPLETE", "results": [{"id": "1", "new": True}]},
    )
    hubspot.contacts_batch_upsert([{"id": "a@x.com", "properties": {"firstname": "A"}}])
    assert json.loads(mocked.calls[0].request.body) == {
        "inputs": [{"idProperty": "email", "id": "a@x.com", "properties": {"firstname": "A"}}]
    }


def test_timeline_templates_use_developer_key_and_app_id(hubspot, mocked):
    mocked.get(
        f"{HUBSPOT}/integrators/timeline/v3/4242/event-templates",
        match=[matchers.query_param_matcher({"hapikey": "dev-key"})],
        json={"results": [{"id": "t1", "name": "Zoom: Webinar attendance"}]},
    )
    mocked.post(
        f"{HUBSPOT}/integrators/timeline/v3/4242/event-templates",
        match=[matchers.query_param_matcher({"hapikey": "dev-key"})],
        json={"id": "t2"},
    )

    assert hubspot.timeline_templates_list()[0]["id"] == "t1"
    assert hubspot.timeline_template_create(
        {"name": "x", "objectType": "contacts", "tokens": []}
    ) == {"id": "t2"}
    for call in mocked.calls:
        assert "Authorization" not in call.request.headers


def test_developer_key_never_logged(hubspot, mocked, caplog):
    import logging

    mocked.get(f"{HUBSPOT}/integrators/timeline/v3/4242/event-templates", status=500)
    with (
        caplog.at_level(logging.DEBUG, logger="zoomsync.clients"),
        pytest.raises(Exception) as info,
    ):
        hubspot.timeline_templates_list()
    assert "dev-key" not in caplog.text
    assert "dev-key" not in str(info.value)


def test_timeline_and_app_event_batches(hubspot, mocked):
    mocked.post(
        f"{HUBSPOT}/integrators/timeline/v3/events/batch/create",
        status=207,
        json={
            "status": "COMPLETE",
            "results": [{"id": "e1"}],
            "errors": [{"message": "Event ID already in use"}],
        },
    )
    mocked.post(
        f"{HUBSPOT}/integrators/timeline/2026-03/events/batch",
        status=409,
        json={"status": "error", "message": "already exists", "category": "CONFLICT"},
    )
    timeline = hubspot.timeline_events_batch_create([{"id": "e1"}, {"id": "e2"}])
    assert timeline.status == 207
    # The one error left names no input, and one input is left: it is that input's.
    assert [(i.key, i.outcome) for i in timeline.items] == [
        ("e1", Outcome.CREATED),
        ("e2", Outcome.DUPLICATE),
    ]
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer hs-token"
    app = hubspot.app_events_batch_create([{"id": "e1", "eventTypeName": "x", "properties": {}}])
    assert app.status == 409
    assert [(i.key, i.outcome) for i in app.items] == [("e1", Outcome.DUPLICATE)]


def test_marketing_event_paths(hubspot, mocked):
    mocked.put(
        f"{HUBSPOT}/marketing/v3/marketing-events/events/zs-1", json={"externalEventId": "zs-1"}
    )
    mocked.post(
        f"{HUBSPOT}/marketing/v3/marketing-events/attendance/zs-1/attend/email-create",
        json={"status": "COMPLETE", "results": [{"vid": 501}]},
    )
    mocked.post(
        f"{HUBSPOT}/marketing/v3/marketing-events/attendance/zs-1/register/create",
        json={"status": "COMPLETE", "results": [{"vid": 501}]},
    )
    assert hubspot.marketing_event_upsert("zs-1", {"eventName": "Launch"}) == {
        "externalEventId": "zs-1"
    }
    by_email = hubspot.marketing_event_attendance(
        "zs-1", "attend", by="email", inputs=[{"email": "a@x.com"}]
    )
    by_contact = hubspot.marketing_event_attendance(
        "zs-1", "register", by="contact", inputs=[{"vid": 501}]
    )
    assert [(i.key, i.outcome, i.id) for i in by_email.items] == [("a@x.com", Outcome.OK, "501")]
    assert [(i.key, i.outcome, i.id) for i in by_contact.items] == [("501", Outcome.OK, "501")]
    with pytest.raises(ValueError):
        hubspot.marketing_event_attendance("zs-1", "attend", by="phone", inputs=[])  # type: ignore[arg-type]


def test_b2_marketing_events_upsert_gives_each_event_its_own_outcome(hubspot, mocked):
    """B2 (typed results): one marketing event HubSpot refuses is that event's outcome; the
    others are upserted, and nothing is decided on HubSpot's words."""
    mocked.put(f"{HUBSPOT}/marketing/v3/marketing-events/events/zs-1", json={"objectId": "900"})
    mocked.put(
        f"{HUBSPOT}/marketing/v3/marketing-events/events/zs-2",
        status=400,
        json={"status": "error", "category": "VALIDATION_ERROR", "message": "eventName is required"},
    )
    mocked.put(f"{HUBSPOT}/marketing/v3/marketing-events/events/zs-3", json={"objectId": "902"})
    result = hubspot.marketing_events_upsert(
        [{"externalEventId": f"zs-{n}", "body": {"eventName": "Launch"}} for n in (1, 2, 3)]
    )
    assert [(i.key, i.outcome, i.id) for i in result.items] == [
        ("zs-1", Outcome.OK, "900"),
        ("zs-2", Outcome.INVALID, ""),
        ("zs-3", Outcome.OK, "902"),
    ]
    assert result.outcome_of("zs-2").code is HubSpotErrorCode.VALIDATION_ERROR
    assert result.rejected is None


def test_settings_users_follow_paging_after(hubspot, mocked):
    mocked.get(
        f"{HUBSPOT}/settings/v3/users/",
        match=[matchers.query_param_matcher({"limit": "100"})],
        json={"results": [{"id": "1", "email": "a@acme.com"}], "paging": {"next": {"after": "2"}}},
    )
    mocked.get(
        f"{HUBSPOT}/settings/v3/users/",
        match=[matchers.query_param_matcher({"limit": "100", "after": "2"})],
        json={"results": [{"id": "2", "email": "b@acme.com"}]},
    )
    assert [u["email"] for u in hubspot.settings_users_iter()] == ["a@acme.com", "b@acme.com"]


def test_business_units_callback_and_actions(hubspot, mocked):
    mocked.get(
        f"{HUBSPOT}/business-units/v3/business-units/user/9001", json={"results": [{"id": "0"}]}
    )
    mocked.post(f"{HUBSPOT}/automation/v4/actions/callbacks/ap-1/complete", status=204)
    mocked.get(
        f"{HUBSPOT}/automation/v4/actions/4242",
        match=[matchers.query_param_matcher({"hapikey": "dev-key", "limit": "100"})],
        json={"results": [{"id": "a1"}]},
    )
    mocked.post(f"{HUBSPOT}/automation/v4/actions/4242", json={"id": "a2"})
    mocked.patch(f"{HUBSPOT}/automation/v4/actions/4242/a2", json={"id": "a2", "revisionId": "2"})

    assert hubspot.business_units_for_user(9001) == [{"id": "0"}]
    assert hubspot.automation_callback_complete("ap-1", {"hs_execution_state": "SUCCESS"}) is None
    assert json.loads(mocked.calls[1].request.body) == {
        "outputFields": {"hs_execution_state": "SUCCESS"},
        "typedOutputs": {},
    }
    assert hubspot.action_definitions_list() == [{"id": "a1"}]
    assert hubspot.action_definition_create({"actionUrl": "x"}) == {"id": "a2"}
    assert hubspot.action_definition_update("a2", {"published": True})["revisionId"] == "2"


def test_access_token_info_sends_no_authorization(hubspot, mocked):
    mocked.get(f"{HUBSPOT}/oauth/v1/access-tokens/tok-123", json={"hub_id": 62515})
    assert hubspot.access_token_info("tok-123") == {"hub_id": 62515}
    assert "Authorization" not in mocked.calls[0].request.headers


def test_properties_and_search(hubspot, mocked):
    mocked.get(f"{HUBSPOT}/crm/v3/properties/contacts", json={"results": [{"name": "email"}]})
    mocked.get(
        f"{HUBSPOT}/crm/v3/properties/contacts/groups", json={"results": [{"name": "zoomsync"}]}
    )
    mocked.post(
        f"{HUBSPOT}/crm/v3/properties/contacts/batch/create",
        status=207,
        json={"status": "COMPLETE", "results": [{"name": "a"}], "errors": [{"message": "exists"}]},
    )
    mocked.post(f"{CONTACTS}/search", json={"total": 0, "results": []})

    assert hubspot.properties_list() == [{"name": "email"}]
    assert hubspot.property_groups_list() == [{"name": "zoomsync"}]
    created = hubspot.properties_batch_create("contacts", [{"name": "a"}, {"name": "b"}])
    assert created.status == 207
    assert [(i.key, i.outcome) for i in created.items] == [("a", Outcome.CREATED), ("b", Outcome.INVALID)]
    assert hubspot.contacts_search({"filterGroups": []}) == {"total": 0, "results": []}


def test_low_remaining_header_slows_the_limiter(mocked):
    pushed: list[tuple[str, float]] = []

    class Recorder:
        def acquire(self, key: str, cost: int = 1) -> None:
            pass

        def slow_down(self, key: str, seconds: float) -> None:
            pushed.append((key, seconds))

    client = HubSpotClient(
        base_url=HUBSPOT,
        token_provider=lambda: "t",
        limiter=Recorder(),
        limiter_key="hubspot:62515",
    )
    headers = {
        "X-HubSpot-RateLimit-Max": "110",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
    }
    mocked.get(f"{CONTACTS}/1", json={}, headers={**headers, "X-HubSpot-RateLimit-Remaining": "80"})
    mocked.get(f"{CONTACTS}/2", json={}, headers={**headers, "X-HubSpot-RateLimit-Remaining": "1"})
    client.contact_get("1")
    assert pushed == []
    client.contact_get("2")
    assert pushed and pushed[0][0] == "hubspot:62515" and 0 < pushed[0][1] < 1


def test_empty_batches_spend_no_api_call(hubspot, mocked):
    assert hubspot.contacts_batch_read([], properties=["email"]) == BatchResult()
    assert hubspot.contacts_batch_create([]) == BatchResult()
    assert hubspot.timeline_events_batch_create([]) == BatchResult()
    assert len(mocked.calls) == 0


def test_b2_limiter_follows_the_rate_limit_headers(mocked):
    """The limiter paces at what HubSpot announces (110 / 10 s here), a little under it,
    instead of the configured default; the search API keeps its own limit."""
    from connector.clients.ratelimit import InProcessLimiter, Rate

    limiter = InProcessLimiter(lambda key: Rate(100, 10.0), sleep=lambda s: None)
    client = HubSpotClient(base_url=HUBSPOT, token_provider=lambda: "t", limiter=limiter, limiter_key="hubspot:62515")
    headers = {
        "X-HubSpot-RateLimit-Max": "110",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        "X-HubSpot-RateLimit-Remaining": "90",
    }
    mocked.get(f"{CONTACTS}/1", json={}, headers=headers)
    client.contact_get("1")
    assert limiter.learned == {"hubspot:62515": Rate(107, 10.0)}
    assert abs(limiter.learned["hubspot:62515"].interval - 10.0 / 107) < 1e-9
