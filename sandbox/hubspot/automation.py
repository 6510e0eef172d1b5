"""Automation v4: custom workflow action definitions (developer key) and callback completion.

Facts modelled (research/hubspot-api.md §6): definitions are created unpublished unless
`published: true`; completing a callback answers 204; `outputFields` is required.
Choices: a callback id may be completed once; a second completion is 400 (HubSpot's answer is
not documented; the conservative reading is that a finished action cannot be finished again).
`typedOutputs`, required by the spec but absent from HubSpot's own examples, is not enforced.
"""

from __future__ import annotations

from typing import Any

from sandbox.hubspot.contacts import Answer
from sandbox.hubspot.errors import HubSpotError, batch_limit_check
from sandbox.hubspot.state import HubSpotState, iso

EXECUTION_STATES = {"SUCCESS", "FAIL_CONTINUE", "BLOCK", "ASYNC"}
PATCHABLE = ("actionUrl", "published", "inputFields", "outputFields", "labels", "objectTypes",
             "objectRequestOptions", "executionRules", "inputFieldDependencies")


def _completion_check(state: HubSpotState, callback_id: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("outputFields"), dict):
        raise HubSpotError(400, "Invalid input JSON: `outputFields` (an object) is required.")
    execution = body["outputFields"].get("hs_execution_state")
    if execution is not None and execution not in EXECUTION_STATES:
        raise HubSpotError(400, f"hs_execution_state must be one of {sorted(EXECUTION_STATES)}.")
    if not callback_id:
        raise HubSpotError(400, "callbackId is required.")
    if callback_id in state.callbacks_completed:
        raise HubSpotError(400, f"Callback {callback_id} was already completed.")
    return {
        "callbackId": callback_id,
        "outputFields": {k: ("" if v is None else str(v)) for k, v in body["outputFields"].items()},
        "typedOutputs": body.get("typedOutputs"),
        "failureReasonType": body.get("failureReasonType"),
        "completedAt": iso(state.clock()),
    }


def callback_complete(state: HubSpotState, callback_id: str, body: Any) -> Answer:
    with state.lock:
        record = _completion_check(state, callback_id, body)
        state.callbacks_completed[callback_id] = record
    return 204, None


def callbacks_complete_batch(state: HubSpotState, body: Any) -> Answer:
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise HubSpotError(400, "Invalid input JSON: `inputs` must be a list.")
    batch_limit_check(body["inputs"])
    with state.lock:
        records = []
        seen: set[str] = set()
        for item in body["inputs"]:
            callback_id = str((item or {}).get("callbackId") or "")
            if callback_id in seen:
                raise HubSpotError(400, f"Duplicate callbackId {callback_id} in batch input.")
            seen.add(callback_id)
            records.append(_completion_check(state, callback_id, item))
        for record in records:
            state.callbacks_completed[record["callbackId"]] = record
    return 204, None


# ---------------------------------------------------------------- definitions

def _fields_norm(fields: Any) -> Any:
    """HubSpot answers every typeDefinition with `options` (the spec requires it)."""
    if not isinstance(fields, list):
        return fields
    out = []
    for field in fields:
        if isinstance(field, dict) and isinstance(field.get("typeDefinition"), dict):
            field = {**field, "typeDefinition": {"options": [], **field["typeDefinition"]}}
        out.append(field)
    return out


def _definition_out(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in ("appId", "archived")}


def definition_create(state: HubSpotState, app_id: str, body: Any) -> Answer:
    if not isinstance(body, dict):
        raise HubSpotError(400, "Invalid input JSON.")
    missing = [k for k in ("actionUrl", "inputFields", "labels") if k not in body]
    if missing:
        raise HubSpotError(400, f"Invalid input JSON: missing required fields {missing}.")
    if not isinstance(body["labels"], dict) or "en" not in body["labels"]:
        raise HubSpotError(400, "labels.en is required.")
    with state.lock:
        definition = {
            "id": str(state.next_definition_id), "revisionId": "1", "appId": app_id,
            "actionUrl": str(body["actionUrl"]), "published": bool(body.get("published", False)),
            "inputFields": _fields_norm(body["inputFields"]),
            "outputFields": _fields_norm(body.get("outputFields", [])),
            "labels": body["labels"], "objectTypes": body.get("objectTypes", []),
            "functions": [{"functionType": f.get("functionType"), "id": f.get("id", "")}
                          for f in body.get("functions", []) if isinstance(f, dict)],
            "archived": False,
        }
        for key in ("objectRequestOptions", "executionRules", "inputFieldDependencies"):
            if key in body:
                definition[key] = body[key]
        state.next_definition_id += 1
        state.action_definitions[definition["id"]] = definition
        return 201, _definition_out(definition)


def _definition(state: HubSpotState, app_id: str, definition_id: str) -> dict[str, Any]:
    d = state.action_definitions.get(definition_id)
    if d is None or d["appId"] != app_id or d["archived"]:
        raise HubSpotError(404, f"Action definition {definition_id} not found.",
                           category="OBJECT_NOT_FOUND")
    return d


def definitions_list(state: HubSpotState, app_id: str, query: dict[str, Any]) -> Answer:
    with state.lock:
        rows = [_definition_out(d) for d in state.action_definitions.values()
                if d["appId"] == app_id and not d["archived"]]
    try:
        limit = max(1, min(int(query.get("limit") or 100), 100))
    except ValueError:
        raise HubSpotError(400, "limit must be an integer") from None
    after = str(query.get("after") or "0")
    offset = int(after) if after.isdigit() else 0
    body: dict[str, Any] = {"results": rows[offset:offset + limit]}
    if offset + limit < len(rows):
        body["paging"] = {"next": {"after": str(offset + limit)}}
    return 200, body


def definition_get(state: HubSpotState, app_id: str, definition_id: str) -> Answer:
    with state.lock:
        return 200, _definition_out(_definition(state, app_id, definition_id))


def definition_patch(state: HubSpotState, app_id: str, definition_id: str, body: Any) -> Answer:
    if not isinstance(body, dict):
        raise HubSpotError(400, "Invalid input JSON.")
    with state.lock:
        d = _definition(state, app_id, definition_id)
        for key in PATCHABLE:
            if key in body:
                d[key] = _fields_norm(body[key]) if key.endswith("Fields") else body[key]
        d["revisionId"] = str(int(d["revisionId"]) + 1)
        return 200, _definition_out(d)


def definition_delete(state: HubSpotState, app_id: str, definition_id: str) -> Answer:
    with state.lock:
        _definition(state, app_id, definition_id)["archived"] = True
    return 204, None
