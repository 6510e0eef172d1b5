"""Timeline v3 (event templates with tokens; events single and batch) and app events 2026-03.

Facts modelled (research/hubspot-api.md §5): templates are managed with the developer API key,
events with an OAuth token; events need an existing template and tokens defined on it; with
`objectId` the contact must exist (no contact is created), with only `email` a missing contact IS
created (as HubSpot documents), so a connector that wants R12/R13 must send `objectId`.

Choices where the facts are unknown (docs/sandbox.md): a repeated event `id` for the same
template is 409 CONFLICT on the single endpoint and a per-item error (207) in batch/create;
batch/create takes at most 100 inputs. App events: a repeated (eventTypeName, id) is 409 and a
batch with any invalid or repeated occurrence is rejected whole (as the 2026-03 spec says);
app events never create contacts (an unknown email is a 400).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sandbox.hubspot.contacts import EMAIL_RE, NUMBER_RE, Answer, batch_envelope
from sandbox.hubspot.errors import HubSpotError, batch_limit_check, item_error
from sandbox.hubspot.state import Contact, HubSpotState, iso, parse_time

TOKEN_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")
TOKEN_TYPES = {"string", "number", "date", "enumeration"}
OBJECT_TYPES = {"contacts", "companies", "deals", "tickets"}


# ---------------------------------------------------------------- templates

def _tokens_check(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise HubSpotError(400, "Invalid input JSON: `tokens` must be a list.")
    tokens, names = [], set()
    for tok in raw:
        if not isinstance(tok, dict):
            raise HubSpotError(400, "Invalid input JSON: each token must be an object.")
        name, label, type_ = tok.get("name"), tok.get("label"), tok.get("type")
        if not name or not label or not type_:
            raise HubSpotError(400, "Each token needs `name`, `label` and `type`.")
        if not TOKEN_NAME_RE.match(str(name)) or name in ("log", "lookup"):
            raise HubSpotError(400, f"Token name {name!r} is not allowed: use letters, digits, "
                                    "'.', '-' and '_' (and not 'log' or 'lookup').")
        if type_ not in TOKEN_TYPES:
            raise HubSpotError(400, f"Token type {type_!r} is not one of {sorted(TOKEN_TYPES)}.")
        options = tok.get("options") or []
        if type_ == "enumeration" and not options:
            raise HubSpotError(400, f"Enumeration token {name!r} needs options.")
        if name in names:
            raise HubSpotError(400, f"Duplicate token name {name!r}.")
        names.add(name)
        out = {"name": str(name), "label": str(label), "type": type_,
               "options": [{"label": str(o.get("label", "")), "value": str(o.get("value", ""))}
                           for o in options]}
        if tok.get("objectPropertyName"):
            out["objectPropertyName"] = str(tok["objectPropertyName"])
        tokens.append(out)
    if len(tokens) > 500:
        raise HubSpotError(400, "A template can have at most 500 tokens.")
    return tokens


def _template_out(t: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in t.items() if k != "appId"}


def template_create(state: HubSpotState, app_id: str, body: Any) -> Answer:
    if not isinstance(body, dict):
        raise HubSpotError(400, "Invalid input JSON.")
    missing = [k for k in ("name", "objectType", "tokens") if k not in body]
    if missing:
        raise HubSpotError(400, f"Invalid input JSON: missing required fields {missing}.")
    object_type = str(body["objectType"]).lower()
    if object_type not in OBJECT_TYPES:
        raise HubSpotError(400, f"objectType {body['objectType']!r} is not supported.")
    tokens = _tokens_check(body["tokens"])
    with state.lock:
        if sum(1 for t in state.event_templates.values() if t["appId"] == app_id) >= 750:
            raise HubSpotError(400, "An app can have at most 750 event templates.")
        now = iso(state.clock())
        template: dict[str, Any] = {
            "id": str(state.next_template_id), "appId": app_id, "name": str(body["name"]),
            "objectType": object_type, "tokens": tokens,
            "headerTemplate": str(body.get("headerTemplate", "")),
            "detailTemplate": str(body.get("detailTemplate", "")),
            "createdAt": now, "updatedAt": now,
        }
        state.next_template_id += 1
        state.event_templates[template["id"]] = template
        return 201, _template_out(template)


def templates_list(state: HubSpotState, app_id: str) -> Answer:
    with state.lock:
        return 200, {"results": [_template_out(t) for t in state.event_templates.values()
                                 if t["appId"] == app_id]}


def _template(state: HubSpotState, app_id: str, template_id: str) -> dict[str, Any]:
    template = state.event_templates.get(str(template_id))
    if template is None or template["appId"] != app_id:
        raise HubSpotError(404, f"Event template {template_id} not found for app {app_id}.",
                           category="OBJECT_NOT_FOUND")
    return template


def template_get(state: HubSpotState, app_id: str, template_id: str) -> Answer:
    with state.lock:
        return 200, _template_out(_template(state, app_id, template_id))


def template_update(state: HubSpotState, app_id: str, template_id: str, body: Any) -> Answer:
    if not isinstance(body, dict) or "name" not in body or "tokens" not in body:
        raise HubSpotError(400, "Invalid input JSON: `id`, `name` and `tokens` are required.")
    tokens = _tokens_check(body["tokens"])
    with state.lock:
        template = _template(state, app_id, template_id)
        template.update({"name": str(body["name"]), "tokens": tokens,
                         "updatedAt": iso(state.clock())})
        for key in ("headerTemplate", "detailTemplate"):
            if key in body:
                template[key] = str(body[key])
        return 200, _template_out(template)


def template_delete(state: HubSpotState, app_id: str, template_id: str) -> Answer:
    with state.lock:
        template = _template(state, app_id, template_id)
        del state.event_templates[template["id"]]
    return 204, None


def token_add(state: HubSpotState, app_id: str, template_id: str, body: Any) -> Answer:
    [token] = _tokens_check([body])
    with state.lock:
        template = _template(state, app_id, template_id)
        if any(t["name"] == token["name"] for t in template["tokens"]):
            raise HubSpotError(409, f"Token {token['name']} already exists.",
                               category="OBJECT_ALREADY_EXISTS")
        template["tokens"].append(token)
        return 200, token


# ---------------------------------------------------------------- object resolution

def _contact_resolve(state: HubSpotState, item: dict[str, Any], *, create: bool
                     ) -> tuple[Contact | None, str | None]:
    """(contact, error message). objectId > utk > email (research §5.3)."""
    if item.get("objectId") not in (None, ""):
        contact = state.contacts.get(str(item["objectId"]))
        if contact is None or contact.archived:
            return None, f"Could not find contact with objectId {item['objectId']}."
        return contact, None
    if item.get("utk"):
        return None, "The sandbox does not know any visitor token (utk); send objectId."
    email = str(item.get("email") or "").strip().lower()
    if email:
        contact = state.contact_by_email(email)
        if contact is not None:
            return contact, None
        if not EMAIL_RE.match(email):
            return None, f"Email address {email} is invalid."
        if create:
            # Documented: an event sent with only an email creates the contact.
            return state.contact_new({"email": email}), None
        return None, f"No contact has the email {email}."
    return None, "One of objectId, utk or email is required."


def _token_values_check(template: dict[str, Any], raw: Any) -> tuple[dict[str, str], str | None]:
    if not isinstance(raw, dict):
        return {}, "`tokens` must be an object of token name to value."
    defined = {t["name"]: t for t in template["tokens"]}
    unknown = sorted(k for k in raw if k not in defined)
    if unknown:
        return {}, f"The following tokens are not defined for event template {template['id']}: {unknown}"
    values: dict[str, str] = {}
    for name, value in raw.items():
        text = "" if value is None else (
            ("true" if value else "false") if isinstance(value, bool) else str(value)
        )
        kind = defined[name]["type"]
        if text and kind == "number" and not NUMBER_RE.match(text):
            return {}, f"Token {name} must be a number, got {text!r}."
        if text and kind == "date" and parse_time(text) is None:
            return {}, f"Token {name} must be a date (epoch milliseconds), got {text!r}."
        if text and kind == "enumeration" and text not in {
            o["value"] for o in defined[name]["options"]
        }:
            return {}, f"Token {name} must be one of the template's options, got {text!r}."
        values[name] = text
    return values, None


# ---------------------------------------------------------------- v3 events

def _event_build(state: HubSpotState, item: Any, pending: set[tuple[str, str]]
                 ) -> tuple[dict[str, Any] | None, tuple[int, str, str] | None, str]:
    """Validate one event → (record, (status, category, message) error, event id)."""
    if not isinstance(item, dict):
        return None, (400, "VALIDATION_ERROR", "Each event must be an object."), ""
    if not item.get("eventTemplateId"):
        return None, (400, "VALIDATION_ERROR", "Cannot build TimelineEvent, some of required "
                                               "attributes are not set [eventTemplateId]"), ""
    event_id = str(item.get("id") or uuid.uuid4())
    if "{{uuid}}" in event_id:
        event_id = event_id.replace("{{uuid}}", str(uuid.uuid4()))
    template = state.event_templates.get(str(item["eventTemplateId"]))
    if template is None:
        return None, (404, "OBJECT_NOT_FOUND",
                      f"Event template {item['eventTemplateId']} not found."), event_id
    key = (template["id"], event_id)
    if key in state.timeline_events or key in pending:
        return None, (409, "CONFLICT",
                      "Event ID already in use, please choose a new unique ID"), event_id
    tokens, problem = _token_values_check(template, item.get("tokens", {}))
    if problem:
        return None, (400, "VALIDATION_ERROR", problem), event_id
    if item.get("timestamp") not in (None, "") and parse_time(item["timestamp"]) is None:
        return None, (400, "VALIDATION_ERROR", "timestamp must be ISO-8601 or epoch ms."), event_id
    contact, problem = _contact_resolve(state, item, create=False)
    needs_creation = contact is None and problem is not None and problem.startswith("No contact")
    if problem and not needs_creation:
        return None, (404 if "objectId" in problem else 400,
                      "OBJECT_NOT_FOUND" if "objectId" in problem else "VALIDATION_ERROR",
                      problem), event_id
    ts = parse_time(item.get("timestamp")) or state.clock()
    record = {
        "id": event_id, "eventTemplateId": template["id"], "template_name": template["name"],
        "objectId": contact.id if contact else None, "email": item.get("email"),
        "objectType": template["objectType"], "tokens": tokens, "timestamp": iso(ts),
        "extraData": item.get("extraData"), "timelineIFrame": item.get("timelineIFrame"),
        "_create_email": str(item.get("email")).strip().lower() if needs_creation else None,
    }
    return record, None, event_id


def _event_commit(state: HubSpotState, record: dict[str, Any]) -> dict[str, Any]:
    email = record.pop("_create_email")
    if email:
        record["objectId"] = state.contact_new({"email": email}).id
    record["createdAt"] = iso(state.clock())
    state.timeline_events[(record["eventTemplateId"], record["id"])] = record
    _stamp_properties(state, record)
    return _event_out(record)


def _stamp_properties(state: HubSpotState, record: dict[str, Any]) -> None:
    """Tokens with `objectPropertyName` write their value onto the contact (if it exists)."""
    template = state.event_templates.get(record["eventTemplateId"])
    contact = state.contacts.get(record["objectId"] or "")
    if template is None or contact is None:
        return
    known = state.properties.get("contacts", {})
    stamps = {t["objectPropertyName"]: record["tokens"][t["name"]] for t in template["tokens"]
              if t.get("objectPropertyName") in known and t["name"] in record["tokens"]}
    if stamps:
        state.contact_set_properties(contact, stamps)


def _event_out(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in record.items()
           if k not in ("template_name", "_create_email") and v is not None}
    return out


def event_create(state: HubSpotState, body: Any) -> Answer:
    with state.lock:
        record, error, _ = _event_build(state, body, set())
        if error:
            status, category, message = error
            raise HubSpotError(status, message, category=category)
        assert record is not None
        return 201, _event_out(_event_commit(state, record))


def events_batch_create(state: HubSpotState, body: Any) -> Answer:
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise HubSpotError(400, "Invalid input JSON: `inputs` must be a list.")
    batch_limit_check(body["inputs"])
    started = state.clock()
    with state.lock:
        results, errors = [], []
        pending: set[tuple[str, str]] = set()
        built = []
        for item in body["inputs"]:
            record, error, event_id = _event_build(state, item, pending)
            if error:
                _status, category, message = error
                errors.append(item_error(category, message, context={"id": [event_id]}))
                continue
            assert record is not None
            pending.add((record["eventTemplateId"], record["id"]))
            built.append(record)
        for record in built:
            results.append(_event_commit(state, record))
    status, answer = batch_envelope(state, started, results, errors)
    return (207 if errors else 201), answer


def event_get(state: HubSpotState, template_id: str, event_id: str) -> Answer:
    with state.lock:
        record = state.timeline_events.get((str(template_id), str(event_id)))
        if record is None:
            raise HubSpotError(404, f"Event {event_id} not found.", category="OBJECT_NOT_FOUND")
        return 200, _event_out(record)


# ---------------------------------------------------------------- app events (2026-03)

def _occurrence_build(state: HubSpotState, item: Any, pending: set[tuple[str, str]]
                      ) -> tuple[dict[str, Any] | None, tuple[int, str] | None]:
    if not isinstance(item, dict):
        return None, (400, "Each occurrence must be an object.")
    missing = [k for k in ("eventTypeName", "id", "properties") if k not in item]
    if missing:
        return None, (400, f"Missing required fields {missing}.")
    type_name, occ_id = str(item["eventTypeName"]), str(item["id"])
    if state.app_event_types is not None and type_name not in state.app_event_types:
        return None, (400, f"Unknown app event type {type_name!r}.")
    if not isinstance(item["properties"], dict):
        return None, (400, "`properties` must be an object.")
    key = (type_name, occ_id)
    if key in state.app_events or key in pending:
        return None, (409, "An occurrence for this event type and occurrence ID already exists. "
                           "Occurrences are immutable.")
    contact, problem = _contact_resolve(state, item, create=False)
    if problem:
        return None, (400, problem)
    assert contact is not None
    ts = parse_time(item.get("timestamp")) or state.clock()
    return {
        "eventTypeName": type_name, "id": occ_id, "objectId": contact.id,
        "properties": {k: ("" if v is None else str(v)) for k, v in item["properties"].items()},
        "timestamp": iso(ts),
        **({"extraData": item["extraData"]} if "extraData" in item else {}),
    }, None


def app_event_create(state: HubSpotState, body: Any) -> Answer:
    with state.lock:
        record, error = _occurrence_build(state, body, set())
        if error:
            status, message = error
            raise HubSpotError(status, message,
                               category="CONFLICT" if status == 409 else "VALIDATION_ERROR")
        assert record is not None
        state.app_events[(record["eventTypeName"], record["id"])] = record
        return 201, dict(record)


def app_events_batch(state: HubSpotState, body: Any) -> Answer:
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise HubSpotError(400, "Invalid input JSON: `inputs` must be a list.")
    batch_limit_check(body["inputs"])
    started = state.clock()
    with state.lock:
        pending: set[tuple[str, str]] = set()
        records = []
        for item in body["inputs"]:
            record, error = _occurrence_build(state, item, pending)
            if error:
                status, message = error
                # "none were accepted" (spec): the whole batch is rejected.
                raise HubSpotError(status, message,
                                   category="CONFLICT" if status == 409 else "VALIDATION_ERROR")
            assert record is not None
            pending.add((record["eventTypeName"], record["id"]))
            records.append(record)
        for record in records:
            state.app_events[(record["eventTypeName"], record["id"])] = record
    return batch_envelope(state, started, [dict(r) for r in records], [])
