"""Contacts (CRM objects v3): batch read / create / update / upsert / archive, search, get.

Modelled quirks (research/hubspot-api.md §3; docs/sandbox.md "HubSpot"):
- more than 100 batch inputs → 400 VALIDATION_ERROR;
- batch read by `idProperty=email` also matches `hs_additional_emails` and returns the contact
  with its PRIMARY email in `properties.email`; ids not found → 207 with one OBJECT_NOT_FOUND error;
- archived contacts are found only with `archived=true` (and then only archived ones);
- create with an email that a live contact holds (primary or additional) → 409 CONFLICT
  "Contact already exists. Existing ID: N" (the first conflict only); with an
  `objectWriteTraceId` on every input the batch runs in multi-status mode → 207 per-item errors;
- emails are unique among live contacts only, so a deleted contact's email can be created again;
- properties that do not exist, read-only ones, bad numbers and bad emails → 400
  "Property values were not valid: [...]";
- search `email EQ` matches primary emails only; `hs_additional_emails` filters match secondary ones.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sandbox.hubspot.defaults import ALWAYS_RETURNED, DEFAULT_RETURNED
from sandbox.hubspot.errors import HubSpotError, batch_limit_check, item_error
from sandbox.hubspot.state import Contact, HubSpotState, iso, prop_value

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")
SEARCH_MAX_LIMIT = 200
SEARCH_MAX_RESULTS = 10_000
NOT_FOUND_MESSAGE = (
    "Could not get some CONTACT objects, they may be deleted or not exist. "
    "Check that ids are valid."
)

Answer = tuple[int, dict[str, Any] | None]


# ---------------------------------------------------------------- shared helpers

def _inputs(body: Any) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise HubSpotError(400, "Invalid input JSON: `inputs` must be a list.")
    inputs = body["inputs"]
    batch_limit_check(inputs)
    return inputs


def batch_envelope(state: HubSpotState, started: float, results: list[dict[str, Any]],
                   errors: list[dict[str, Any]]) -> Answer:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso(started),
        "completedAt": iso(state.clock()),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
        return 207, body
    return 200, body


def requested_properties(raw: Any) -> list[str] | None:
    """`properties` from a body list or a query value list (comma-separated allowed)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = [raw]
    names: list[str] = []
    for item in raw:
        names.extend(p.strip() for p in str(item).split(",") if p.strip())
    return names or None


def contact_out(contact: Contact, properties: list[str] | None,
                *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A contact as HubSpot returns it: only requested properties (plus system ones), no nulls.

    HubSpot answers unset requested properties with null; the spec's property map holds
    strings only, so the sandbox leaves unset properties out (a client reading with .get()
    sees the same thing).
    """
    all_props = contact.all_properties()
    names = list(DEFAULT_RETURNED) if properties is None else [*properties, *ALWAYS_RETURNED]
    props = {n: all_props[n] for n in names if n in all_props}
    out: dict[str, Any] = {
        "id": contact.id,
        "properties": props,
        "createdAt": iso(contact.created_at),
        "updatedAt": iso(contact.updated_at),
        "archived": contact.archived,
    }
    if contact.archived and contact.archived_at is not None:
        out["archivedAt"] = iso(contact.archived_at)
    if extra:
        out.update(extra)
    return out


def _invalid(name: str, error: str, message: str) -> dict[str, Any]:
    return {"isValid": False, "message": message, "error": error, "name": name}


def properties_validate(state: HubSpotState, raw: Any, *, object_type: str = "contacts"
                        ) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Coerce values to strings and check them against the portal's property definitions."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise HubSpotError(400, "Invalid input JSON: `properties` must be an object.")
    known = state.properties.get(object_type, {})
    values: dict[str, str] = {}
    problems: list[dict[str, Any]] = []
    for name, value in raw.items():
        definition = known.get(name)
        if definition is None or definition.get("archived"):
            problems.append(_invalid(name, "PROPERTY_DOESNT_EXIST",
                                     f'Property "{name}" does not exist'))
            continue
        if definition.get("modificationMetadata", {}).get("readOnlyValue"):
            problems.append(_invalid(name, "READ_ONLY_VALUE",
                                     f'"{name}" is a read only property; its value cannot be set.'))
            continue
        text = "" if value is None else prop_value(value)
        if text and definition["type"] == "number" and not NUMBER_RE.match(text):
            problems.append(_invalid(name, "INVALID_FLOAT",
                                     f"{text} was not a valid number."))
            continue
        if name == "email" and text:
            text = text.strip().lower()  # HubSpot stores email addresses lower-cased
            if not EMAIL_RE.match(text):
                problems.append(_invalid(name, "INVALID_EMAIL",
                                         f"Email address {text} is invalid"))
                continue
        values[name] = text
    return values, problems


def _raise_invalid(problems: list[dict[str, Any]]) -> None:
    if problems:
        raise HubSpotError(
            400,
            "Property values were not valid: " + json.dumps(problems, separators=(",", ":")),
            category="VALIDATION_ERROR",
        )


def _conflict(existing_id: str) -> HubSpotError:
    return HubSpotError(409, f"Contact already exists. Existing ID: {existing_id}",
                        category="CONFLICT")


def _find(state: HubSpotState, key: str, id_property: str | None, *, archived: bool
          ) -> Contact | None:
    if id_property == "email":
        return state.contact_by_email(key, archived=archived)
    contact = state.contacts.get(str(key).strip())
    if contact is None or contact.archived != archived:
        return None
    return contact


def _id_property(raw: Any) -> str | None:
    if raw in (None, "", "hs_object_id", "id"):
        return None
    if raw == "email":
        return "email"
    raise HubSpotError(400, f"Property {raw} is not a unique identifier property for contacts.")


# ---------------------------------------------------------------- reads

def contacts_batch_read(state: HubSpotState, body: Any, *, archived: bool) -> Answer:
    started = state.clock()
    inputs = _inputs(body)
    id_property = _id_property(body.get("idProperty"))
    props = requested_properties(body.get("properties"))
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    missing: list[str] = []
    with state.lock:
        for item in inputs:
            key = str(item.get("id", "")) if isinstance(item, dict) else ""
            contact = _find(state, key, id_property, archived=archived)
            if contact is None:
                missing.append(key)
                continue
            if contact.id not in seen:  # two inputs naming one contact return it once
                seen.add(contact.id)
                results.append(contact_out(contact, props))
    errors = []
    if missing:
        errors.append(item_error("OBJECT_NOT_FOUND", NOT_FOUND_MESSAGE, context={"ids": missing}))
    return batch_envelope(state, started, results, errors)


def contact_get(state: HubSpotState, contact_id: str, query: dict[str, Any]) -> Answer:
    archived = str(query.get("archived", "false")).lower() == "true"
    id_property = _id_property(query.get("idProperty"))
    with state.lock:
        contact = _find(state, contact_id, id_property, archived=archived)
        if contact is None:
            raise HubSpotError(404, "resource not found", category="OBJECT_NOT_FOUND")
        return 200, contact_out(contact, requested_properties(query.get("properties")))


def contacts_list(state: HubSpotState, query: dict[str, Any]) -> Answer:
    archived = str(query.get("archived", "false")).lower() == "true"
    limit = _limit(query.get("limit"), default=10, maximum=100)
    after = int(query["after"]) if str(query.get("after", "")).isdigit() else 0
    props = requested_properties(query.get("properties"))
    with state.lock:
        ids = sorted(int(c.id) for c in state.contacts.values()
                     if c.archived == archived and int(c.id) > after)
        page = ids[:limit]
        results = [contact_out(state.contacts[str(i)], props) for i in page]
    body: dict[str, Any] = {"results": results}
    if len(ids) > limit:
        body["paging"] = {"next": {"after": str(page[-1])}}
    return 200, body


def _limit(raw: Any, *, default: int, maximum: int) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise HubSpotError(400, f"limit must be an integer, got {raw!r}") from None
    return max(1, min(value, maximum))


# ---------------------------------------------------------------- writes

def _create_inputs_check(state: HubSpotState, inputs: list[Any]) -> list[dict[str, str]]:
    validated: list[dict[str, str]] = []
    problems: list[dict[str, Any]] = []
    for item in inputs:
        if not isinstance(item, dict):
            raise HubSpotError(400, "Invalid input JSON: each input must be an object.")
        values, item_problems = properties_validate(state, item.get("properties"))
        problems.extend(item_problems)
        validated.append(values)
    _raise_invalid(problems)
    emails = [v.get("email", "") for v in validated if v.get("email")]
    duplicates = sorted({e for e in emails if emails.count(e) > 1})
    if duplicates:
        raise HubSpotError(400, f"Duplicate emails found in batch input: {duplicates}",
                           category="VALIDATION_ERROR")
    return validated


def contacts_batch_create(state: HubSpotState, body: Any) -> Answer:
    started = state.clock()
    inputs = _inputs(body)
    with state.lock:
        validated = _create_inputs_check(state, inputs)
        multi_status = bool(inputs) and all(
            isinstance(i, dict) and i.get("objectWriteTraceId") for i in inputs
        )
        conflicts: dict[int, str] = {}
        for n, values in enumerate(validated):
            existing = state.contact_by_email(values.get("email", ""))
            if existing is not None:
                conflicts[n] = existing.id
        if conflicts and not multi_status:
            # Only the first conflict is named (PY #51); nothing is created.
            raise _conflict(conflicts[min(conflicts)])
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for n, values in enumerate(validated):
            trace = inputs[n].get("objectWriteTraceId")
            if n in conflicts:
                errors.append(item_error(
                    "CONFLICT", f"Contact already exists. Existing ID: {conflicts[n]}",
                    context={"objectWriteTraceId": [str(trace)]},
                ))
                continue
            contact = state.contact_new({k: v for k, v in values.items() if v != ""})
            extra = {"objectWriteTraceId": str(trace)} if trace else None
            results.append(contact_out(contact, list(values), extra=extra))
    status, answer = batch_envelope(state, started, results, errors)
    return (207 if errors else 201), answer


def contact_create(state: HubSpotState, body: Any) -> Answer:
    if not isinstance(body, dict):
        raise HubSpotError(400, "Invalid input JSON.")
    with state.lock:
        values, problems = properties_validate(state, body.get("properties"))
        _raise_invalid(problems)
        existing = state.contact_by_email(values.get("email", ""))
        if existing is not None:
            raise _conflict(existing.id)
        contact = state.contact_new({k: v for k, v in values.items() if v != ""})
        return 201, contact_out(contact, list(values))


def _email_change_check(state: HubSpotState, contact: Contact, values: dict[str, str]) -> None:
    new_email = values.get("email")
    if new_email:
        holder = state.contact_by_email(new_email)
        if holder is not None and holder.id != contact.id:
            raise _conflict(holder.id)


def contacts_batch_update(state: HubSpotState, body: Any) -> Answer:
    started = state.clock()
    inputs = _inputs(body)
    if any(isinstance(i, dict) and i.get("idProperty") == "email" for i in inputs):
        # Batch update must use record ids (NODE #548).
        raise HubSpotError(400, "Unable to perform update/upsert by non-unique 0-1 property",
                           category="VALIDATION_ERROR")
    with state.lock:
        ids = [str(i.get("id", "")) if isinstance(i, dict) else "" for i in inputs]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise HubSpotError(400, f"Duplicate IDs found in batch input: {duplicates}")
        checked: list[tuple[Contact | None, dict[str, str], Any]] = []
        problems: list[dict[str, Any]] = []
        for item, cid in zip(inputs, ids, strict=True):
            values, item_problems = properties_validate(state, item.get("properties"))
            problems.extend(item_problems)
            contact = state.contacts.get(cid)
            if contact is not None and contact.archived:
                contact = None
            checked.append((contact, values, item.get("objectWriteTraceId")))
        _raise_invalid(problems)
        for contact, values, _trace in checked:
            if contact is not None:
                _email_change_check(state, contact, values)
        results = []
        missing = []
        for (contact, values, trace), cid in zip(checked, ids, strict=True):
            if contact is None:
                missing.append(cid)
                continue
            state.contact_set_properties(contact, values)
            extra = {"objectWriteTraceId": str(trace)} if trace else None
            results.append(contact_out(contact, list(values), extra=extra))
    errors = []
    if missing:
        errors.append(item_error("OBJECT_NOT_FOUND", NOT_FOUND_MESSAGE, context={"ids": missing}))
    return batch_envelope(state, started, results, errors)


def contact_update(state: HubSpotState, contact_id: str, body: Any,
                   query: dict[str, Any]) -> Answer:
    if not isinstance(body, dict):
        raise HubSpotError(400, "Invalid input JSON.")
    id_property = _id_property(query.get("idProperty"))
    with state.lock:
        contact = _find(state, contact_id, id_property, archived=False)
        if contact is None:
            raise HubSpotError(404, "resource not found", category="OBJECT_NOT_FOUND")
        values, problems = properties_validate(state, body.get("properties"))
        _raise_invalid(problems)
        _email_change_check(state, contact, values)
        state.contact_set_properties(contact, values)
        return 200, contact_out(contact, list(values))


def contacts_batch_upsert(state: HubSpotState, body: Any) -> Answer:
    """Upsert by `idProperty=email`: all-or-nothing (partial upserts by email unsupported, §0.3)."""
    started = state.clock()
    inputs = _inputs(body)
    with state.lock:
        plan: list[tuple[str, Contact | None, dict[str, str]]] = []
        problems: list[dict[str, Any]] = []
        targets: list[str] = []
        for item in inputs:
            if not isinstance(item, dict) or not item.get("id"):
                raise HubSpotError(400, "Invalid input JSON: each input needs an `id`.")
            if item.get("idProperty") != "email":
                raise HubSpotError(
                    400, "Unable to perform update/upsert by non-unique 0-1 property",
                    category="VALIDATION_ERROR",
                )
            email = str(item["id"]).strip().lower()
            values, item_problems = properties_validate(state, item.get("properties"))
            problems.extend(item_problems)
            if not EMAIL_RE.match(email):
                problems.append(_invalid("email", "INVALID_EMAIL",
                                         f"Email address {email} is invalid"))
            contact = state.contact_by_email(email)
            # Matched by primary or additional email: the contact keeps its primary email.
            values.pop("email", None)
            plan.append((email, contact, values))
            targets.append(contact.id if contact else email)
        _raise_invalid(problems)
        duplicates = sorted({t for t in targets if targets.count(t) > 1})
        if duplicates:
            # Two inputs resolving to one record: rejected, non-retryable (segment PR #3969).
            raise HubSpotError(400, f"Duplicate IDs found in batch input: {duplicates}",
                               category="VALIDATION_ERROR")
        results = []
        for email, contact, values in plan:
            if contact is None:
                created = state.contact_new(
                    {"email": email, **{k: v for k, v in values.items() if v != ""}}
                )
                results.append(contact_out(created, ["email", *values], extra={"new": True}))
            else:
                state.contact_set_properties(contact, values)
                results.append(contact_out(contact, ["email", *values], extra={"new": False}))
    return batch_envelope(state, started, results, [])


def contact_archive(state: HubSpotState, contact_id: str) -> Answer:
    """DELETE: to the recycle bin. 204 whether or not it existed (as batch/archive does)."""
    with state.lock:
        contact = state.contacts.get(str(contact_id))
        if contact is not None:
            state.contact_archive(contact)
    return 204, None


def contacts_batch_archive(state: HubSpotState, body: Any) -> Answer:
    inputs = _inputs(body)
    with state.lock:
        for item in inputs:
            contact = state.contacts.get(str(item.get("id", ""))) if isinstance(item, dict) else None
            if contact is not None:
                state.contact_archive(contact)
    return 204, None


# ---------------------------------------------------------------- search

def _filter_match(contact: Contact, flt: dict[str, Any]) -> bool:
    name = flt.get("propertyName")
    op = flt.get("operator", "EQ")
    if name == "email":
        values = [contact.email]
    elif name == "hs_additional_emails":
        values = list(contact.additional_emails)
    else:
        v = contact.all_properties().get(str(name))
        values = [v] if v is not None else []
    lowered = [v.lower() for v in values if v]
    if op == "HAS_PROPERTY":
        return bool(lowered)
    if op == "NOT_HAS_PROPERTY":
        return not lowered
    target = str(flt.get("value", "")).lower()
    wanted = [str(v).lower() for v in flt.get("values", [])]
    if op in ("EQ", "CONTAINS_TOKEN"):
        return target in lowered
    if op == "NEQ":
        return target not in lowered
    if op == "IN":
        return any(v in lowered for v in wanted)
    if op == "NOT_IN":
        return not any(v in lowered for v in wanted)
    raise HubSpotError(400, f"Operator {op} is not supported by the sandbox for {name}.")


def _candidates(state: HubSpotState, filters: list[dict[str, Any]]) -> list[Contact] | None:
    """Use the email index for an indexed equality filter; None means "scan everything"."""
    for flt in filters:
        name, op = flt.get("propertyName"), flt.get("operator", "EQ")
        if name in ("email", "hs_additional_emails", "hs_object_id") and op in (
            "EQ", "IN", "CONTAINS_TOKEN"
        ):
            keys = [flt.get("value", "")] if op != "IN" else list(flt.get("values", []))
            found = []
            for key in keys:
                if name == "hs_object_id":
                    c = state.contacts.get(str(key))
                else:
                    c = state.contact_by_email(str(key))
                if c is not None and not c.archived:
                    found.append(c)
            return found
    return None


def contacts_search(state: HubSpotState, body: Any) -> Answer:
    if not isinstance(body, dict):
        raise HubSpotError(400, "Invalid input JSON.")
    groups = body.get("filterGroups") or []
    if len(groups) > 5 or any(len(g.get("filters", [])) > 6 for g in groups) or sum(
        len(g.get("filters", [])) for g in groups
    ) > 18:
        raise HubSpotError(400, "Too many filters: at most 5 filterGroups of 6 filters, 18 in all.")
    limit = _limit(body.get("limit"), default=10, maximum=SEARCH_MAX_LIMIT)
    after = str(body.get("after") or "0")
    offset = int(after) if after.isdigit() else 0
    if offset + limit > SEARCH_MAX_RESULTS:
        raise HubSpotError(400, "Paging beyond 10,000 results is not supported.")
    props = requested_properties(body.get("properties"))
    with state.lock:
        matched: dict[str, Contact] = {}
        if not groups:
            for c in state.contacts.values():
                if not c.archived:
                    matched[c.id] = c
        for group in groups:
            filters = group.get("filters", [])
            pool = _candidates(state, filters)
            if pool is None:
                pool = [c for c in state.contacts.values() if not c.archived]
            for c in pool:
                if all(_filter_match(c, f) for f in filters):
                    matched[c.id] = c
        ordered = sorted(matched.values(), key=lambda c: int(c.id))
        page = ordered[offset:offset + limit]
        answer: dict[str, Any] = {
            "total": len(ordered),
            "results": [contact_out(c, props) for c in page],
        }
    if offset + limit < len(ordered):
        answer["paging"] = {"next": {"after": str(offset + limit)}}
    return 200, answer
