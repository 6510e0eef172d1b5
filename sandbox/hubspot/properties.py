"""Properties and property groups (CRM properties v3).

Choices where the facts sheet is silent (research/hubspot-api.md §4, §12): creating a group or
property whose name exists answers 409 OBJECT_ALREADY_EXISTS; in `batch/create` existing names
become per-item errors in a 207 answer while the new ones are created.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.hubspot.contacts import Answer, batch_envelope
from sandbox.hubspot.errors import HubSpotError, batch_limit_check, item_error
from sandbox.hubspot.state import HubSpotState

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
FIELD_TYPES = {
    "number": {"number", "calculation_equation"},
    "string": {"text", "textarea", "html", "file", "phonenumber"},
    "date": {"date"},
    "datetime": {"date"},
    "enumeration": {"select", "radio", "checkbox", "booleancheckbox"},
    "bool": {"booleancheckbox"},
    "phone_number": {"phonenumber"},
}
OBJECT_TYPE_ALIASES = {"0-1": "contacts", "contact": "contacts", "0-2": "companies",
                       "company": "companies", "0-3": "deals", "0-5": "tickets"}


def object_type_norm(object_type: str) -> str:
    return OBJECT_TYPE_ALIASES.get(object_type, object_type)


def _group_out(group: dict[str, Any]) -> dict[str, Any]:
    return {"name": group["name"], "label": group["label"],
            "displayOrder": group.get("displayOrder", -1), "archived": group.get("archived", False)}


def _property_out(prop: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in prop.items() if k != "readOnlyValue"}


def groups_list(state: HubSpotState, object_type: str) -> Answer:
    with state.lock:
        groups = state.property_groups.get(object_type_norm(object_type), {})
        return 200, {"results": [_group_out(g) for g in groups.values() if not g.get("archived")]}


def group_get(state: HubSpotState, object_type: str, group_name: str) -> Answer:
    with state.lock:
        group = state.property_groups.get(object_type_norm(object_type), {}).get(group_name)
        if group is None or group.get("archived"):
            raise HubSpotError(404, f"Unable to find property group {group_name}",
                               category="OBJECT_NOT_FOUND")
        return 200, _group_out(group)


def group_create(state: HubSpotState, object_type: str, body: Any) -> Answer:
    if not isinstance(body, dict) or not body.get("name") or not body.get("label"):
        raise HubSpotError(400, "Invalid input JSON: `name` and `label` are required.")
    name = str(body["name"])
    if not NAME_RE.match(name):
        raise HubSpotError(400, f"Property group name {name!r} must be lower-case letters, "
                                "digits and underscores, starting with a letter.")
    with state.lock:
        groups = state.property_groups.setdefault(object_type_norm(object_type), {})
        existing = groups.get(name)
        if existing is not None and not existing.get("archived"):
            raise HubSpotError(409, f"A property group named {name} already exists.",
                               category="OBJECT_ALREADY_EXISTS")
        group = {"name": name, "label": str(body["label"]),
                 "displayOrder": int(body.get("displayOrder", -1)), "archived": False}
        groups[name] = group
        return 201, _group_out(group)


def properties_list(state: HubSpotState, object_type: str, query: dict[str, Any]) -> Answer:
    archived = str(query.get("archived", "false")).lower() == "true"
    with state.lock:
        props = state.properties.get(object_type_norm(object_type), {})
        return 200, {"results": [_property_out(p) for p in props.values()
                                 if bool(p.get("archived")) == archived]}


def property_get(state: HubSpotState, object_type: str, name: str) -> Answer:
    with state.lock:
        prop = state.properties.get(object_type_norm(object_type), {}).get(name)
        if prop is None or prop.get("archived"):
            raise HubSpotError(404, f"Unable to find property {name}",
                               category="OBJECT_NOT_FOUND")
        return 200, _property_out(prop)


def _property_check(state: HubSpotState, object_type: str, body: Any) -> dict[str, Any]:
    """Validate a PropertyCreate; raise 400 with the reason."""
    if not isinstance(body, dict):
        raise HubSpotError(400, "Invalid input JSON.")
    missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
    if missing:
        raise HubSpotError(400, f"Invalid input JSON: missing required fields {missing}.")
    name = str(body["name"])
    if not NAME_RE.match(name):
        raise HubSpotError(400, f"Property name {name!r} must be lower-case letters, digits and "
                                "underscores, starting with a letter.")
    type_, field_type = body["type"], body["fieldType"]
    if type_ not in FIELD_TYPES:
        raise HubSpotError(400, f"Unknown property type {type_!r}.")
    if field_type not in FIELD_TYPES[type_]:
        raise HubSpotError(400, f"fieldType {field_type!r} is not valid for type {type_!r}.")
    if type_ == "enumeration" and not body.get("options"):
        raise HubSpotError(400, "Enumeration properties need `options`.")
    group = state.property_groups.get(object_type, {}).get(body["groupName"])
    if group is None or group.get("archived"):
        raise HubSpotError(400, f"Property group {body['groupName']} does not exist.",
                           category="VALIDATION_ERROR")
    return body


def property_create(state: HubSpotState, object_type: str, body: Any) -> Answer:
    object_type = object_type_norm(object_type)
    with state.lock:
        _property_check(state, object_type, body)
        props = state.properties.setdefault(object_type, {})
        existing = props.get(body["name"])
        if existing is not None and not existing.get("archived"):
            raise HubSpotError(409, f"Property {body['name']} already exists.",
                               category="OBJECT_ALREADY_EXISTS")
        prop = state._property_full(body)
        props[prop["name"]] = prop
        return 201, _property_out(prop)


def properties_batch_create(state: HubSpotState, object_type: str, body: Any) -> Answer:
    object_type = object_type_norm(object_type)
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise HubSpotError(400, "Invalid input JSON: `inputs` must be a list.")
    batch_limit_check(body["inputs"])
    started = state.clock()
    with state.lock:
        for item in body["inputs"]:
            _property_check(state, object_type, item)
        names = [i["name"] for i in body["inputs"]]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise HubSpotError(400, f"Duplicate property names in batch input: {duplicates}")
        props = state.properties.setdefault(object_type, {})
        results, errors = [], []
        for item in body["inputs"]:
            existing = props.get(item["name"])
            if existing is not None and not existing.get("archived"):
                errors.append(item_error("OBJECT_ALREADY_EXISTS",
                                         f"Property {item['name']} already exists.",
                                         context={"name": [item["name"]]}))
                continue
            prop = state._property_full(item)
            props[prop["name"]] = prop
            results.append(_property_out(prop))
    status, answer = batch_envelope(state, started, results, errors)
    return (207 if errors else 201), answer
