"""The HubSpot client's typed per-item outcomes, one test per error shape HubSpot documents
(specs/hubspot `BatchResponse…WithErrors` / `StandardError` / `Error`; research/hubspot-api.md
§2, §3.2, §5.3): callers get an `Outcome` and a `HubSpotErrorCode` per input, never text."""

from __future__ import annotations

import json

import pytest

from connector.clients import HubSpotErrorCode, RateLimited, ServerError
from connector.clients.hubspot import ItemOutcome, Outcome

from .conftest import HUBSPOT

CONTACTS = f"{HUBSPOT}/crm/v3/objects/contacts"
TIMELINE = f"{HUBSPOT}/integrators/timeline/v3/events/batch/create"
APP_EVENTS = f"{HUBSPOT}/integrators/timeline/2026-03/events/batch"


def _error(category: str, message: str, **context: list[str]) -> dict:
    """One entry of a 207's `errors` (spec StandardError: all six fields required)."""
    return {"status": "error", "category": category, "message": message, "context": context, "errors": [], "links": {}}


def _create(email: str, trace: str) -> dict:
    return {"properties": {"email": email}, "associations": [], "objectWriteTraceId": trace}


def _by_key(result) -> dict[str, ItemOutcome]:
    return {i.key: i for i in result.items}


def test_create_207_created_duplicate_invalid_and_unanswered(hubspot, mocked):
    """Multi-status create (every input has a trace id): each input's own outcome; the 409
    text's "Existing ID: N" becomes the duplicate's id; an input HubSpot skipped is RETRY."""
    mocked.post(
        f"{CONTACTS}/batch/create",
        status=207,
        json={
            "status": "COMPLETE",
            "results": [{"id": "901", "objectWriteTraceId": "t1", "properties": {"email": "new@example.com"}}],
            "numErrors": 2,
            "errors": [
                _error("CONFLICT", "Contact already exists. Existing ID: 37765128953", objectWriteTraceId=["t2"]),
                _error(
                    "VALIDATION_ERROR",
                    'Property values were not valid: [{"isValid":false,"message":"Email address bad@x is invalid",'
                    '"error":"INVALID_EMAIL","name":"email"}]',
                    objectWriteTraceId=["t3"],
                ),
            ],
        },
    )

    result = hubspot.contacts_batch_create(
        [
            _create("new@example.com", "t1"),
            _create("jane@example.com", "t2"),
            _create("bad@x", "t3"),
            _create("silent@example.com", "t4"),
        ]
    )

    items = _by_key(result)
    assert (items["t1"].outcome, items["t1"].id, items["t1"].code) == (Outcome.CREATED, "901", None)
    assert (items["t2"].outcome, items["t2"].id, items["t2"].code) == (
        Outcome.DUPLICATE,
        "37765128953",
        HubSpotErrorCode.CONFLICT,
    )
    assert (items["t3"].outcome, items["t3"].code) == (Outcome.INVALID, HubSpotErrorCode.VALIDATION_ERROR)
    assert "invalid" in items["t3"].message  # kept for the admin's report
    assert (items["t4"].outcome, items["t4"].code) == (Outcome.RETRY, HubSpotErrorCode.NO_ANSWER)
    assert result.rejected is None
    assert [i.key for i in result.items] == ["t1", "t2", "t3", "t4"]  # input order


def test_create_result_without_trace_id_is_matched_by_email(hubspot, mocked):
    mocked.post(
        f"{CONTACTS}/batch/create",
        status=201,
        json={"status": "COMPLETE", "results": [
            {"id": "2", "properties": {"email": "b@example.com"}},
            {"id": "1", "properties": {"email": "A@Example.com"}},
        ]},
    )
    result = hubspot.contacts_batch_create([_create("a@example.com", "t1"), _create("b@example.com", "t2")])
    assert [(i.key, i.outcome, i.id) for i in result.items] == [
        ("t1", Outcome.CREATED, "1"),
        ("t2", Outcome.CREATED, "2"),
    ]


def test_update_207_gone_for_contacts_not_found(hubspot, mocked):
    mocked.post(
        f"{CONTACTS}/batch/update",
        status=207,
        json={
            "status": "COMPLETE",
            "results": [{"id": "501", "properties": {"zoomsync_attended_count": "2"}}],
            "errors": [_error("OBJECT_NOT_FOUND", "Could not get some CONTACT objects, they may be deleted or not exist.", ids=["502", "503"])],
        },
    )
    result = hubspot.contacts_batch_update([{"id": c, "properties": {}} for c in ("501", "502", "503")])
    assert [(i.key, i.outcome, i.code) for i in result.items] == [
        ("501", Outcome.UPDATED, None),
        ("502", Outcome.GONE, HubSpotErrorCode.OBJECT_NOT_FOUND),
        ("503", Outcome.GONE, HubSpotErrorCode.OBJECT_NOT_FOUND),
    ]


def test_upsert_says_created_or_updated(hubspot, mocked):
    mocked.post(
        f"{CONTACTS}/batch/upsert",
        json={"status": "COMPLETE", "results": [
            {"id": "1", "new": True, "properties": {"email": "a@x.com"}},
            {"id": "2", "new": False, "properties": {"email": "b@x.com"}},
        ]},
    )
    result = hubspot.contacts_batch_upsert([{"id": "a@x.com", "properties": {}}, {"id": "b@x.com", "properties": {}}])
    assert [(i.key, i.outcome) for i in result.items] == [("a@x.com", Outcome.CREATED), ("b@x.com", Outcome.UPDATED)]


def test_whole_batch_409_is_rejected_with_the_existing_id(hubspot, mocked):
    """Without trace ids a 409 refuses the batch and names only the first conflict (PY #51):
    nothing was written and no input is named, so the batch is `rejected`."""
    mocked.post(
        f"{CONTACTS}/batch/create",
        status=409,
        json={"status": "error", "message": "Contact already exists. Existing ID: 501", "correlationId": "c-1", "category": "CONFLICT"},
    )
    result = hubspot.contacts_batch_create(
        [{"properties": {"email": "a@example.com"}}, {"properties": {"email": "b@example.com"}}]
    )
    assert result.items == []
    assert result.rejected is not None
    assert (result.rejected.outcome, result.rejected.id, result.rejected.code) == (
        Outcome.DUPLICATE,
        "501",
        HubSpotErrorCode.CONFLICT,
    )
    assert len(mocked.calls) == 1


def test_whole_batch_400_is_rejected_invalid_and_a_single_input_gets_it(hubspot, mocked):
    body = {
        "status": "error",
        "message": "Property values were not valid",
        "correlationId": "c-2",
        "category": "VALIDATION_ERROR",
        "errors": [{"message": "Email address jane@localhost is invalid", "in": "email"}],
    }
    mocked.post(f"{CONTACTS}/batch/create", status=400, json=body)

    two = hubspot.contacts_batch_create([_create("a@example.com", "t1"), _create("jane@localhost", "t2")])
    assert two.items == [] and two.rejected is not None
    assert (two.rejected.outcome, two.rejected.code) == (Outcome.INVALID, HubSpotErrorCode.VALIDATION_ERROR)

    one = hubspot.contacts_batch_create([_create("jane@localhost", "t2")])
    assert one.rejected is None
    assert [(i.key, i.outcome, i.code) for i in one.items] == [
        ("t2", Outcome.INVALID, HubSpotErrorCode.VALIDATION_ERROR)
    ]


def test_app_events_409_none_accepted(hubspot, mocked):
    """App events: a repeated occurrence id refuses the whole batch ("none were accepted")."""
    mocked.post(
        APP_EVENTS,
        status=409,
        json={"status": "error", "category": "CONFLICT", "correlationId": "c-3",
              "message": "An occurrence for this event type and occurrence ID already exists. Occurrences are immutable."},
    )
    many = hubspot.app_events_batch_create([{"id": "o1", "eventTypeName": "x", "properties": {}}, {"id": "o2", "eventTypeName": "x", "properties": {}}])
    assert many.rejected is not None and many.rejected.outcome is Outcome.DUPLICATE
    one = hubspot.app_events_batch_create([{"id": "o2", "eventTypeName": "x", "properties": {}}])
    assert [(i.key, i.outcome) for i in one.items] == [("o2", Outcome.DUPLICATE)]


def test_timeline_event_id_in_use_is_a_duplicate(hubspot, mocked):
    """HubSpot's documented answer to an event id sent again (research §5.3) carries no
    CONFLICT category; a missing contact is GONE; a bad token value INVALID."""
    mocked.post(
        TIMELINE,
        status=207,
        json={
            "status": "COMPLETE",
            "results": [{"id": "e1", "eventTemplateId": "1", "objectId": "501"}],
            "errors": [
                _error("VALIDATION_ERROR", "Event ID already in use, please choose a new unique ID", id=["e2"]),
                _error("OBJECT_NOT_FOUND", "objectId 999 not found", id=["e3"]),
                _error("VALIDATION_ERROR", "Token attendance_percent must be a number", id=["e4"]),
            ],
        },
    )
    result = hubspot.timeline_events_batch_create([{"id": f"e{n}"} for n in range(1, 5)])
    assert [(i.key, i.outcome) for i in result.items] == [
        ("e1", Outcome.CREATED),
        ("e2", Outcome.DUPLICATE),
        ("e3", Outcome.GONE),
        ("e4", Outcome.INVALID),
    ]


def test_rate_limited_item_is_retry(hubspot, mocked):
    mocked.post(
        TIMELINE,
        status=207,
        json={"status": "COMPLETE", "results": [{"id": "e1"}],
              "errors": [_error("RATE_LIMITS", "You have reached your ten_secondly_rolling limit.", id=["e2"])]},
    )
    result = hubspot.timeline_events_batch_create([{"id": "e1"}, {"id": "e2"}])
    assert (result.outcome_of("e2").outcome, result.outcome_of("e2").code) == (Outcome.RETRY, HubSpotErrorCode.RATE_LIMIT)


def test_errors_naming_no_input_leave_the_unanswered_inputs_to_retry(hubspot, mocked):
    mocked.post(
        TIMELINE,
        status=207,
        json={"status": "COMPLETE", "results": [{"id": "e1"}],
              "errors": [{"status": "error", "category": "VALIDATION_ERROR", "message": "something was wrong"}]},
    )
    result = hubspot.timeline_events_batch_create([{"id": "e1"}, {"id": "e2"}, {"id": "e3"}])
    assert [(i.key, i.outcome) for i in result.items] == [
        ("e1", Outcome.CREATED),
        ("e2", Outcome.RETRY),
        ("e3", Outcome.RETRY),
    ]
    assert result.outcome_of("e2").message == "something was wrong"


def test_participations_by_contact_and_by_email(hubspot, mocked):
    mocked.post(
        f"{HUBSPOT}/marketing/v3/marketing-events/attendance/zs-1/attend/create",
        json={"status": "COMPLETE", "results": [{"vid": 501}], "errors": [_error("OBJECT_NOT_FOUND", "Contact 502 not found.", vid=["502"])]},
    )
    mocked.post(
        f"{HUBSPOT}/marketing/v3/marketing-events/attendance/zs-1/register/email-create",
        json={"status": "COMPLETE", "results": [{"email": "a@x.com", "vid": 7}],
              "errors": [_error("VALIDATION_ERROR", "Email address B@X is invalid", email=["B@X"])]},
    )
    by_contact = hubspot.marketing_event_attendance("zs-1", "attend", by="contact", inputs=[{"vid": 501}, {"vid": 502}])
    assert [(i.key, i.outcome, i.id) for i in by_contact.items] == [("501", Outcome.OK, "501"), ("502", Outcome.GONE, "")]
    by_email = hubspot.marketing_event_attendance("zs-1", "register", by="email", inputs=[{"email": "a@x.com"}, {"email": "b@x"}])
    assert [(i.key, i.outcome) for i in by_email.items] == [("a@x.com", Outcome.OK), ("b@x", Outcome.INVALID)]


def test_read_errors_are_gone_and_a_refused_read_raises(hubspot, mocked):
    from connector.clients import BadRequest

    mocked.post(f"{CONTACTS}/batch/read", status=400, json={"status": "error", "message": "bad", "category": "VALIDATION_ERROR"})
    with pytest.raises(BadRequest):
        hubspot.contacts_batch_read(["a@x.com", "b@x.com"], properties=["email"])


@pytest.mark.parametrize(("status", "error"), [(429, RateLimited), (503, ServerError)])
def test_a_whole_batch_429_or_5xx_raises_after_the_retries(hubspot, mocked, status, error):
    """Not an item's outcome: the call itself failed, so the rows stay pending (outbox) and the
    run is retried as a whole; the transport retried first."""
    mocked.post(TIMELINE, status=status, json={"status": "error", "message": "later", "errorType": "RATE_LIMIT"}, headers={"Retry-After": "0"})
    with pytest.raises(error):
        hubspot.timeline_events_batch_create([{"id": "e1"}, {"id": "e2"}])
    assert len(mocked.calls) == 4  # 1 + max_retries
    assert json.loads(mocked.calls[0].request.body)["inputs"] == [{"id": "e1"}, {"id": "e2"}]
