"""HubSpot API client: one short method per endpoint, no business rules.

Paths and bodies follow shared/specs/hubspot/*.json (see SOURCES.md there); the settings
users path is the SDKs' `/settings/v3/users/` (the spec's `/settings/users/v3` differs).
Auth: the portal's OAuth token by default; the app's developer key (`hapikey`) for
app-level definitions (timeline event templates, workflow action definitions).

Batch endpoints answer 200, 201 or 207 (multi-status), or refuse the whole batch (400 for an
invalid input, 409 for one that already exists). Every answer becomes a `BatchResult`: one
typed `ItemOutcome` per input (created, updated, ok, duplicate with the existing id, gone,
invalid, retry), keyed by the input's own key, with HubSpot's error category as a
`HubSpotErrorCode`. HubSpot's error shapes are parsed here and nowhere else, so callers
never read an error message. A whole-request 401/403/404/429/5xx or a timeout still raises
the typed `ApiError` (the rows stay pending and the run is retried as a whole).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

import requests

from .base import BaseClient
from .errors import ApiError, BadRequest, Conflict, HubSpotErrorCode, NotFound
from .ratelimit import Rate

BATCH_LIMIT = 100
# Requests kept under the limit HubSpot's X-HubSpot-RateLimit-* headers announce (B2).
HEADER_RATE_MARGIN = 3
# HubSpot's documented 409 text (research/hubspot-api.md §3.2): the only place it is read.
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")
# HubSpot's documented answer to a timeline event id sent again (research §5.3), which may
# come without the CONFLICT category.
_EVENT_ID_IN_USE = "event id already in use"


class Outcome(StrEnum):
    """What became of one input of a batch call."""

    CREATED = "created"
    UPDATED = "updated"
    OK = "ok"  # read, or recorded (marketing participations)
    DUPLICATE = "duplicate"  # it already exists in HubSpot (`id` names it when HubSpot does)
    GONE = "gone"  # the record, or the contact it points at, does not exist (404)
    INVALID = "invalid"  # HubSpot refused this input (4xx validation): sending it again is useless
    RETRY = "retry"  # not done, for a passing reason (429, 5xx, no answer): send again later


@dataclass(frozen=True)
class ItemOutcome:
    key: str  # the input's key (see each batch method), as the caller gave it
    outcome: Outcome
    id: str = ""  # the HubSpot record: created, updated, found, or the existing one (DUPLICATE)
    code: HubSpotErrorCode | None = None  # set on every outcome that is not a success
    message: str = ""  # HubSpot's words, for the admin's report only: never decided on
    record: Mapping[str, Any] = field(default_factory=dict)  # the object HubSpot returned


@dataclass
class BatchResult:
    """One outcome per input (`items`), or `rejected`: the whole batch was refused for an
    input HubSpot does not name (nothing was written; the caller splits the batch to find
    it). A refused batch of one input is that input's outcome, so it is never `rejected`."""

    items: list[ItemOutcome] = field(default_factory=list)
    status: int = 200
    rejected: ItemOutcome | None = None
    _by_key: dict[str, ItemOutcome] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_key = {i.key: i for i in self.items if i.key}

    def outcome_of(self, key: str) -> ItemOutcome | None:
        return self._by_key.get(key)

    def of(self, *outcomes: Outcome) -> list[ItemOutcome]:
        return [i for i in self.items if i.outcome in outcomes]


@dataclass(frozen=True)
class _BatchKeys:
    """How one endpoint names its inputs and results, and what success is called there."""

    success: Outcome
    of_input: Callable[[Mapping[str, Any]], str]
    of_result: Callable[[Mapping[str, Any]], str]
    fold_case: bool = False  # keys are emails: HubSpot answers them lower-cased
    # A second name HubSpot may answer an input by (creates: the email, when a result or an
    # error does not echo the trace id).
    alias: Callable[[Mapping[str, Any]], str] | None = None


def _field(name: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda item: str(item.get(name) or "")


def _property(name: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda item: str((item.get("properties") or {}).get(name) or "")


def _first(*getters: Callable[[Mapping[str, Any]], str]) -> Callable[[Mapping[str, Any]], str]:
    def get(item: Mapping[str, Any]) -> str:
        return next((v for v in (g(item) for g in getters) if v), "")

    return get


def _classify(error: Mapping[str, Any], *, status: int) -> tuple[Outcome, HubSpotErrorCode]:
    """One HubSpot error (a 207 entry, or the body of a refused batch) → outcome and code."""
    code = HubSpotErrorCode.parse(error.get("category") or error.get("errorType"))
    message = str(error.get("message") or "").lower()
    if code in (HubSpotErrorCode.CONFLICT, HubSpotErrorCode.OBJECT_ALREADY_EXISTS) or status == 409:
        return Outcome.DUPLICATE, code if code is not HubSpotErrorCode.OTHER else HubSpotErrorCode.CONFLICT
    if _EVENT_ID_IN_USE in message:
        return Outcome.DUPLICATE, HubSpotErrorCode.CONFLICT
    if code is HubSpotErrorCode.OBJECT_NOT_FOUND or status == 404:
        return Outcome.GONE, HubSpotErrorCode.OBJECT_NOT_FOUND
    if code is HubSpotErrorCode.RATE_LIMIT or status == 429:
        return Outcome.RETRY, HubSpotErrorCode.RATE_LIMIT
    if status >= 500 or str(error.get("status") or "").startswith("5"):
        return Outcome.RETRY, HubSpotErrorCode.SERVER_ERROR
    return Outcome.INVALID, code


def _error_outcome(error: Mapping[str, Any], *, key: str, status: int) -> ItemOutcome:
    outcome, code = _classify(error, status=status)
    message = str(error.get("message") or error.get("category") or "")
    existing = ""
    if outcome is Outcome.DUPLICATE:
        match = _EXISTING_ID.search(message)
        existing = match.group(1) if match else ""
    return ItemOutcome(key=key, outcome=outcome, id=existing, code=code, message=message[:1000])


def _error_subjects(error: Mapping[str, Any]) -> list[str]:
    """The strings an error's `context` names (ids, emails, objectWriteTraceIds, vids)."""
    subjects: list[str] = []
    context = error.get("context") or {}
    if isinstance(context, Mapping):
        for value in context.values():
            values = value if isinstance(value, list) else [value]
            subjects.extend(str(v) for v in values if isinstance(v, str | int))
    return subjects


def _known(wanted: Mapping[str, str], name: str) -> str:
    return wanted.get(name, "") if name else ""


def batch_result_parse(
    *,
    keys: list[str],
    body: Any,
    status: int,
    success: Outcome,
    of_result: Callable[[Mapping[str, Any]], str],
    fold_case: bool = False,
    aliases: Mapping[str, str] | None = None,
    alias_of_result: Callable[[Mapping[str, Any]], str] | None = None,
) -> BatchResult:
    """A 200/201/207 batch answer → one outcome per input key (HubSpot's batch envelope:
    `results` and `errors`, each error naming its inputs in `context`). An input named by
    neither is RETRY (NO_ANSWER); so is every input when errors name no input at all, unless
    exactly one input and one answer are left (then the answer is that input's)."""
    norm = (lambda k: k.strip().lower()) if fold_case else (lambda k: k)
    wanted = {norm(a): k for a, k in (aliases or {}).items() if a}
    wanted.update({norm(k): k for k in keys})
    body = body if isinstance(body, Mapping) else {}
    found: dict[str, ItemOutcome] = {}
    unattributed_results: list[ItemOutcome] = []
    for record in body.get("results") or []:
        if not isinstance(record, Mapping):
            continue
        key = _known(wanted, norm(of_result(record)))
        if not key and alias_of_result is not None:
            key = _known(wanted, norm(alias_of_result(record)))
        outcome = ItemOutcome(key=key, outcome=success, id=str(record.get("id") or record.get("vid") or ""), record=record)
        if key and key not in found:
            found[key] = outcome
        else:
            unattributed_results.append(outcome)
    unnamed: list[Mapping[str, Any]] = []
    for error in body.get("errors") or []:
        if not isinstance(error, Mapping):
            continue
        named = [wanted[norm(s)] for s in _error_subjects(error) if norm(s) in wanted]
        if not named:
            unnamed.append(error)
        for key in named:
            found.setdefault(key, _error_outcome(error, key=key, status=status))
    left = [k for k in dict.fromkeys(keys) if k not in found]
    # HubSpot answers every input once, in `results` or in `errors`: one input left and one
    # answer that names no input are each other's.
    if len(left) == 1 and len(unnamed) + len(unattributed_results) == 1:
        if unnamed:
            found[left[0]] = _error_outcome(unnamed[0], key=left[0], status=status)
        else:
            found[left[0]] = replace(unattributed_results.pop(), key=left[0])
        left = []
    hint = str(unnamed[0].get("message") or "") if unnamed else "HubSpot did not answer for this item"
    code = _classify(unnamed[0], status=status)[1] if unnamed else HubSpotErrorCode.NO_ANSWER
    for key in left:
        found[key] = ItemOutcome(key=key, outcome=Outcome.RETRY, code=code, message=hint[:1000])
    items = [found[k] for k in dict.fromkeys(keys)] + unattributed_results
    if success is Outcome.UPDATED:  # upserts say which inputs they created
        items = [replace(i, outcome=Outcome.CREATED) if i.record.get("new") is True else i for i in items]
    return BatchResult(items=items, status=status)


def batch_rejection_parse(exc: ApiError, *, keys: list[str]) -> BatchResult:
    """A refused batch (400 / 409: nothing written). With one input it is that input's
    outcome; otherwise `rejected`, for the caller to split."""
    body = exc.body if isinstance(exc.body, Mapping) else {"message": exc.message, "category": exc.code}
    outcome = _error_outcome(body, key="", status=exc.status)
    unique = list(dict.fromkeys(keys))
    if len(unique) == 1:
        return BatchResult(items=[replace(outcome, key=unique[0])], status=exc.status)
    return BatchResult(status=exc.status, rejected=outcome)


def _check_batch(inputs: list[Any], what: str = "inputs") -> None:
    # The spec has no maxItems; HubSpot enforces 100 per batch server-side.
    if len(inputs) > BATCH_LIMIT:
        raise ValueError(f"at most {BATCH_LIMIT} {what} per batch call, got {len(inputs)}")


_READ_BY_ID = _BatchKeys(Outcome.OK, of_input=_field("id"), of_result=_field("id"))
_READ_BY_EMAIL = _BatchKeys(Outcome.OK, of_input=_field("id"), of_result=_property("email"), fold_case=True)
# Creates are keyed by their `objectWriteTraceId` when they carry one (HubSpot echoes it and
# names failed inputs by it), else by their email.
_CONTACT_CREATE = _BatchKeys(
    Outcome.CREATED,
    of_input=_first(_field("objectWriteTraceId"), _property("email")),
    of_result=_field("objectWriteTraceId"),
    fold_case=True,
    alias=_property("email"),
)
_CONTACT_UPDATE = _BatchKeys(Outcome.UPDATED, of_input=_field("id"), of_result=_field("id"))
_CONTACT_UPSERT = _BatchKeys(Outcome.UPDATED, of_input=_field("id"), of_result=_property("email"), fold_case=True)
_PROPERTY_CREATE = _BatchKeys(Outcome.CREATED, of_input=_field("name"), of_result=_field("name"))
_EVENT_CREATE = _BatchKeys(Outcome.CREATED, of_input=_field("id"), of_result=_field("id"))
_PARTICIPATION_BY_CONTACT = _BatchKeys(Outcome.OK, of_input=_field("vid"), of_result=_field("vid"))
_PARTICIPATION_BY_EMAIL = _BatchKeys(Outcome.OK, of_input=_field("email"), of_result=_field("email"), fold_case=True)


class HubSpotClient(BaseClient):
    service = "hubspot"

    def __init__(
        self, *, developer_api_key: str = "", app_id: str | int = "", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.developer_api_key = developer_api_key
        self.app_id = str(app_id)

    # --- auth and rate-limit hooks ------------------------------------------------

    def auth_apply(self, auth: str | bool, headers: dict[str, str], params: dict[str, Any]) -> None:
        if auth == "developer":
            if not self.developer_api_key:
                from .errors import Unauthorized

                raise Unauthorized("HUBSPOT_DEVELOPER_API_KEY is not configured", status=401)
            params["hapikey"] = self.developer_api_key
            return
        super().auth_apply(auth, headers, params)

    def after_response(self, response: requests.Response, limiter_key: str) -> None:
        """If HubSpot says the window is nearly used up (another app or worker sharing the
        portal's 110/10 s), push our schedule back a little so we never reach a 429."""
        remaining = _int_header(response, "X-HubSpot-RateLimit-Remaining")
        limit = _int_header(response, "X-HubSpot-RateLimit-Max")
        interval_ms = _int_header(response, "X-HubSpot-RateLimit-Interval-Milliseconds")
        if remaining is None or not limit or not interval_ms or self.limiter is None:
            return
        learnable = not limiter_key.endswith(":search")  # the search API has its own 5/s
        if learnable and hasattr(self.limiter, "rate_learn") and limit > HEADER_RATE_MARGIN:
            # B2: pace at the limit HubSpot announces, a little under it (clock jitter).
            self.limiter.rate_learn(limiter_key, Rate(limit=limit - HEADER_RATE_MARGIN, period=interval_ms / 1000))
        low_water = max(3, limit // 20)
        if remaining < low_water and hasattr(self.limiter, "slow_down"):
            per_request = interval_ms / 1000 / limit
            self.limiter.slow_down(limiter_key, per_request * (low_water - remaining))

    def _batch(
        self,
        path_template: str,
        body: dict[str, Any],
        *,
        keys: _BatchKeys,
        path_params: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        refusal_as_result: bool = True,
    ) -> BatchResult:
        """Every batch call goes through here. `refusal_as_result`: a 400 or 409 that refuses
        the whole batch is an outcome (writes), not an exception (reads raise it)."""
        inputs = body.get("inputs") or []
        if not inputs:
            return BatchResult()  # nothing to send: no API call spent
        input_keys = [keys.of_input(i) if isinstance(i, Mapping) else "" for i in inputs]
        aliases = (
            {keys.alias(i): k for i, k in zip(inputs, input_keys, strict=True) if isinstance(i, Mapping)}
            if keys.alias is not None
            else None
        )
        try:
            response = self.request(
                "POST", path_template, path_params=path_params, params=params, json=body
            )
        except (BadRequest, Conflict) as exc:
            if not refusal_as_result:
                raise
            return batch_rejection_parse(exc, keys=input_keys)
        reply = response.json() if response.content else {}
        return batch_result_parse(
            keys=input_keys,
            body=reply,
            status=response.status_code,
            success=keys.success,
            of_result=keys.of_result,
            fold_case=keys.fold_case,
            aliases=aliases,
            alias_of_result=keys.alias,
        )

    # --- contacts -------------------------------------------------------------------

    def contacts_batch_read(
        self,
        ids: list[str],
        *,
        id_property: str | None = "email",
        properties: list[str],
        archived: bool = False,
    ) -> BatchResult:
        """Keys: the ids asked for. Found contacts are OK outcomes with the contact as
        `record` (by email, keyed by the input their primary email equals; a contact found by
        a secondary email has no key: the caller tells primary from secondary, R13); ids not
        found are GONE. `archived=True` returns only archived. A refused read raises."""
        _check_batch(ids, "ids")
        body: dict[str, Any] = {
            "properties": list(properties),
            "propertiesWithHistory": [],
            "inputs": [{"id": str(i)} for i in ids],
        }
        if id_property:
            body["idProperty"] = id_property
        return self._batch(
            "/crm/v3/objects/contacts/batch/read",
            body,
            keys=_READ_BY_EMAIL if id_property == "email" else _READ_BY_ID,
            params={"archived": "true" if archived else "false"},
            refusal_as_result=False,
        )

    def contacts_batch_create(self, inputs: list[dict[str, Any]]) -> BatchResult:
        """`inputs`: [{"properties": {...}, "objectWriteTraceId": ...}]; keys: the trace id
        (else the email). With a trace id on every input HubSpot answers per input (207); an
        existing email is DUPLICATE with the existing contact's id. Without, a 409 refuses the
        batch and names only the first conflict (research §3.2)."""
        _check_batch(inputs)
        return self._batch("/crm/v3/objects/contacts/batch/create", {"inputs": inputs}, keys=_CONTACT_CREATE)

    def contacts_batch_update(self, inputs: list[dict[str, Any]]) -> BatchResult:
        """`inputs`: [{"id": "501", "properties": {...}}] (record ids only); keys: the ids.
        A contact that no longer exists is GONE."""
        _check_batch(inputs)
        return self._batch("/crm/v3/objects/contacts/batch/update", {"inputs": inputs}, keys=_CONTACT_UPDATE)

    def contacts_batch_upsert(
        self, inputs: list[dict[str, Any]], *, id_property: str = "email"
    ) -> BatchResult:
        """`inputs`: [{"id": "jane@x.com", "properties": {...}}]; each gets `idProperty`.
        Keys: the ids; CREATED for the contacts HubSpot marks `new`, else UPDATED."""
        _check_batch(inputs)
        body = {"inputs": [{"idProperty": id_property, **item} for item in inputs]}
        return self._batch("/crm/v3/objects/contacts/batch/upsert", body, keys=_CONTACT_UPSERT)

    def contacts_search(self, body: dict[str, Any]) -> dict[str, Any]:
        # The search API has its own 5/s limit, separate from the 110/10 s one.
        return self.request_json(
            "POST", "/crm/v3/objects/contacts/search", json=body, limit_label="search"
        )

    def contact_get(
        self, contact_id: str | int, *, properties: list[str] | None = None, archived: bool = False
    ) -> dict[str, Any]:
        params = {
            "properties": ",".join(properties) if properties else None,
            "archived": "true" if archived else "false",
        }
        return self.request_json(
            "GET",
            "/crm/v3/objects/contacts/{contactId}",
            path_params={"contactId": contact_id},
            params=params,
        )

    # --- properties -----------------------------------------------------------------

    def property_groups_list(self, object_type: str = "contacts") -> list[dict[str, Any]]:
        body = self.request_json(
            "GET", "/crm/v3/properties/{objectType}/groups", path_params={"objectType": object_type}
        )
        return list((body or {}).get("results") or [])

    def property_group_create(
        self, object_type: str, *, name: str, label: str, display_order: int = -1
    ) -> dict[str, Any]:
        return self.request_json(
            "POST",
            "/crm/v3/properties/{objectType}/groups",
            path_params={"objectType": object_type},
            json={"name": name, "label": label, "displayOrder": display_order},
        )

    def properties_list(self, object_type: str = "contacts") -> list[dict[str, Any]]:
        body = self.request_json(
            "GET", "/crm/v3/properties/{objectType}", path_params={"objectType": object_type}
        )
        return list((body or {}).get("results") or [])

    def properties_batch_create(
        self, object_type: str, inputs: list[dict[str, Any]]
    ) -> BatchResult:
        """Keys: the property names; a name already taken is DUPLICATE."""
        _check_batch(inputs)
        return self._batch(
            "/crm/v3/properties/{objectType}/batch/create",
            {"inputs": inputs},
            keys=_PROPERTY_CREATE,
            path_params={"objectType": object_type},
        )

    # --- timeline events (v3) and app events (2026-03) --------------------------------

    def timeline_templates_list(self) -> list[dict[str, Any]]:
        body = self.request_json(
            "GET",
            "/integrators/timeline/v3/{appId}/event-templates",
            path_params={"appId": self.app_id},
            auth="developer",
        )
        return list((body or {}).get("results") or [])

    def timeline_template_create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request_json(
            "POST",
            "/integrators/timeline/v3/{appId}/event-templates",
            path_params={"appId": self.app_id},
            json=body,
            auth="developer",
        )

    def timeline_events_batch_create(self, events: list[dict[str, Any]]) -> BatchResult:
        """OAuth only (a developer key cannot create events). Keys: the event ids; an id
        sent before is DUPLICATE, a contact or template that does not exist GONE."""
        _check_batch(events, "events")
        return self._batch("/integrators/timeline/v3/events/batch/create", {"inputs": events}, keys=_EVENT_CREATE)

    def app_events_batch_create(self, events: list[dict[str, Any]]) -> BatchResult:
        """Keys: the occurrence ids. A 409 means an occurrence id already exists and *none*
        of the batch was accepted (spec): `rejected` (DUPLICATE), for the caller to split."""
        _check_batch(events, "events")
        return self._batch("/integrators/timeline/2026-03/events/batch", {"inputs": events}, keys=_EVENT_CREATE)

    # --- marketing events -----------------------------------------------------------

    def marketing_event_upsert(
        self, external_event_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        return self.request_json(
            "PUT",
            "/marketing/v3/marketing-events/events/{externalEventId}",
            path_params={"externalEventId": external_event_id},
            json=body,
        )

    def marketing_events_upsert(self, inputs: list[dict[str, Any]]) -> BatchResult:
        """`inputs`: [{"externalEventId": ..., "body": {...}}], one PUT each (the API has no
        batch upsert). Keys: the external event ids; an event HubSpot refuses (4xx) is that
        input's outcome (INVALID, DUPLICATE, GONE), the others go through. Transient errors
        (429, 5xx, timeouts after the client's retries) raise, as every whole call does."""
        _check_batch(inputs)
        items: list[ItemOutcome] = []
        for item in inputs:
            key = str(item["externalEventId"])
            try:
                record = self.marketing_event_upsert(key, item["body"])
            except (BadRequest, Conflict, NotFound) as exc:
                items.extend(batch_rejection_parse(exc, keys=[key]).items)
                continue
            items.append(ItemOutcome(key=key, outcome=Outcome.OK, id=str(record.get("objectId") or ""), record=record))
        return BatchResult(items=items)

    def marketing_event_attendance(
        self,
        external_event_id: str,
        subscriber_state: str,
        *,
        by: Literal["email", "contact"],
        inputs: list[dict[str, Any]],
        external_account_id: str | None = None,
    ) -> BatchResult:
        """Record participations: `subscriber_state` is register / attend / cancel.
        by="email": inputs [{email, interactionDateTime, properties, contactProperties}];
        by="contact": inputs [{vid, interactionDateTime, properties}]. Keys: the emails or
        the vids; a contact that does not exist is GONE. A missing marketing event raises."""
        _check_batch(inputs)
        if by == "email":
            template = "/marketing/v3/marketing-events/attendance/{externalEventId}/{subscriberState}/email-create"
        elif by == "contact":
            template = "/marketing/v3/marketing-events/attendance/{externalEventId}/{subscriberState}/create"
        else:
            raise ValueError(f"by must be 'email' or 'contact', got {by!r}")
        return self._batch(
            template,
            {"inputs": inputs},
            keys=_PARTICIPATION_BY_EMAIL if by == "email" else _PARTICIPATION_BY_CONTACT,
            path_params={"externalEventId": external_event_id, "subscriberState": subscriber_state},
            params={"externalAccountId": external_account_id},
        )

    # --- account users and business units (R12, R25) ----------------------------------

    def settings_users_iter(self, *, limit: int = 100) -> Iterator[dict[str, Any]]:
        return self._cursor_pages("/settings/v3/users/", params={"limit": limit})

    def business_units_for_user(self, user_id: str | int) -> list[dict[str, Any]]:
        body = self.request_json(
            "GET",
            "/business-units/v3/business-units/user/{userId}",
            path_params={"userId": user_id},
        )
        return list((body or {}).get("results") or [])

    # --- workflow action -------------------------------------------------------------

    def automation_callback_complete(self, callback_id: str, output_fields: dict[str, Any]) -> None:
        """Finish a BLOCKed action execution. `typedOutputs` is required by the spec even
        though the docs' examples omit it."""
        self.request(
            "POST",
            "/automation/v4/actions/callbacks/{callbackId}/complete",
            path_params={"callbackId": callback_id},
            json={
                "outputFields": {k: str(v) for k, v in output_fields.items()},
                "typedOutputs": {},
            },
        )

    def action_definitions_list(self) -> list[dict[str, Any]]:
        return list(
            self._cursor_pages(
                "/automation/v4/actions/{appId}",
                path_params={"appId": self.app_id},
                params={"limit": 100},
                auth="developer",
            )
        )

    def action_definition_create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request_json(
            "POST",
            "/automation/v4/actions/{appId}",
            path_params={"appId": self.app_id},
            json=body,
            auth="developer",
        )

    def action_definition_update(
        self, definition_id: str | int, body: dict[str, Any]
    ) -> dict[str, Any]:
        return self.request_json(
            "PATCH",
            "/automation/v4/actions/{appId}/{definitionId}",
            path_params={"appId": self.app_id, "definitionId": definition_id},
            json=body,
            auth="developer",
        )

    # --- OAuth ------------------------------------------------------------------------

    def access_token_info(self, token: str) -> dict[str, Any]:
        """hub_id, user, scopes, expires_in of an access token (the token is the path;
        only the template is ever logged)."""
        return self.request_json(
            "GET", "/oauth/v1/access-tokens/{token}", path_params={"token": token}, auth="none"
        )

    # --- pagination -------------------------------------------------------------------

    def _cursor_pages(
        self,
        path_template: str,
        *,
        path_params: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        auth: str | bool = True,
    ) -> Iterator[dict[str, Any]]:
        """Follow `paging.next.after` with a hard page cap (BaseClient.max_pages)."""
        page_params = dict(params or {})
        seen: set[str] = set()
        for _page in range(self.max_pages):
            body = self.request_json(
                "GET", path_template, path_params=path_params, params=page_params, auth=auth
            )
            body = body if isinstance(body, dict) else {}
            yield from body.get("results") or []
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            if after in seen:
                raise ApiError(
                    "HubSpot returned the same paging cursor twice",
                    method="GET",
                    path=path_template,
                )
            seen.add(str(after))
            page_params["after"] = after
        raise ApiError(
            f"pagination exceeded {self.max_pages} pages", method="GET", path=path_template
        )


def _int_header(response: requests.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        # Some servers send "10000.0"; a count is still a count.
        return int(float(value)) if value is not None else None
    except ValueError:
        return None
