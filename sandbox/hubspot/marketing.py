"""Marketing events v3: events (create, upsert, batch upsert, read, delete), attendance by email
and by contact id, participation counters and breakdowns (research/hubspot-api.md §11).

Facts modelled: `attendance/.../email-create` creates a contact that does not exist (spec:
"If a contact does not exist, it will be automatically created"); `subscriberState` is
`register`, `attend` or `cancel`; `joinedAt`/`leftAt` properties give the attendance duration.

Choices where the facts are unknown (docs/sandbox.md): one participation per (event, contact)
whose state is the latest of REGISTERED / ATTENDED / CANCELLED, except that `register` never
downgrades ATTENDED; a repeated `attend` replaces the duration (replays never add up); POST
`/events` for an existing (externalAccountId, externalEventId) is 409 (PUT is the upsert);
attendance batches take at most 100 inputs; per-input problems (bad email, unknown contact id)
come back in `errors` of a 200 answer, as the spec defines no 207 there.
"""

from __future__ import annotations

from typing import Any

from sandbox.hubspot.contacts import EMAIL_RE, Answer, batch_envelope
from sandbox.hubspot.errors import HubSpotError, batch_limit_check, item_error
from sandbox.hubspot.state import Contact, HubSpotState, iso, parse_time

STATES = {"register": "REGISTERED", "attend": "ATTENDED", "cancel": "CANCELLED"}
EVENT_FIELDS = ("eventName", "eventOrganizer", "eventType", "startDateTime", "endDateTime",
                "eventDescription", "eventUrl", "eventCancelled", "eventCompleted")


def _event_key(state: HubSpotState, external_event_id: str, external_account_id: str | None
               ) -> tuple[str, str] | None:
    if external_account_id:
        key = (external_account_id, external_event_id)
        return key if key in state.marketing_events else None
    for key in state.marketing_events:
        if key[1] == external_event_id:
            return key
    return None


def _event(state: HubSpotState, external_event_id: str, external_account_id: str | None
           ) -> dict[str, Any]:
    key = _event_key(state, external_event_id, external_account_id)
    if key is None:
        raise HubSpotError(404, f"Marketing event {external_event_id} not found.",
                           category="OBJECT_NOT_FOUND")
    return state.marketing_events[key]


def _params_check(body: Any, *, external_event_id: str | None = None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise HubSpotError(400, "Invalid input JSON.")
    if external_event_id is not None:
        body = {**body, "externalEventId": body.get("externalEventId") or external_event_id}
        if str(body["externalEventId"]) != external_event_id:
            raise HubSpotError(400, "externalEventId in the body differs from the path.")
    missing = [k for k in ("externalAccountId", "externalEventId", "eventName", "eventOrganizer")
               if not body.get(k)]
    if missing:
        raise HubSpotError(400, f"Invalid input JSON: missing required fields {missing}.")
    for key in ("startDateTime", "endDateTime"):
        if body.get(key) and parse_time(body[key]) is None:
            raise HubSpotError(400, f"{key} must be an ISO-8601 date-time.")
    return body


def _event_write(state: HubSpotState, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    key = (str(body["externalAccountId"]), str(body["externalEventId"]))
    now = iso(state.clock())
    event = state.marketing_events.get(key)
    created = event is None
    if event is None:
        event = {"objectId": str(state.next_marketing_object_id), "externalAccountId": key[0],
                 "externalEventId": key[1], "createdAt": now, "participations": {},
                 "customProperties": []}
        state.next_marketing_object_id += 1
        state.marketing_events[key] = event
        state.marketing_events_by_object_id[event["objectId"]] = event
    for field in EVENT_FIELDS:
        if field in body:
            event[field] = body[field]
    if isinstance(body.get("customProperties"), list):
        event["customProperties"] = [
            {"name": str(p.get("name", "")), "value": str(p.get("value", ""))}
            for p in body["customProperties"] if isinstance(p, dict)
        ]
    event["updatedAt"] = now
    return event, created


def _event_out(event: dict[str, Any], *, public: bool) -> dict[str, Any]:
    out = {f: event[f] for f in EVENT_FIELDS if event.get(f) is not None}
    out["objectId"] = event["objectId"]
    # PropertyValue in the spec requires many fields the sandbox does not model: leave it empty.
    out["customProperties"] = []
    if public:
        out.update({"id": event["objectId"], "createdAt": event["createdAt"],
                    "updatedAt": event["updatedAt"]})
    return out


def event_create(state: HubSpotState, body: Any) -> Answer:
    body = _params_check(body)
    with state.lock:
        if (str(body["externalAccountId"]), str(body["externalEventId"])) in state.marketing_events:
            raise HubSpotError(409, f"Marketing event {body['externalEventId']} already exists.",
                               category="CONFLICT")
        event, _ = _event_write(state, body)
        return 200, _event_out(event, public=False)


def event_upsert(state: HubSpotState, external_event_id: str, body: Any) -> Answer:
    body = _params_check(body, external_event_id=external_event_id)
    with state.lock:
        event, _ = _event_write(state, body)
        return 200, _event_out(event, public=True)


def events_batch_upsert(state: HubSpotState, body: Any) -> Answer:
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise HubSpotError(400, "Invalid input JSON: `inputs` must be a list.")
    batch_limit_check(body["inputs"])
    started = state.clock()
    checked = [_params_check(item) for item in body["inputs"]]
    with state.lock:
        results = [_event_out(_event_write(state, item)[0], public=True) for item in checked]
    return batch_envelope(state, started, results, [])


def _counters(event: dict[str, Any]) -> dict[str, int]:
    parts = event["participations"].values()
    attended = sum(1 for p in parts if p["state"] == "ATTENDED")
    cancelled = sum(1 for p in parts if p["state"] == "CANCELLED")
    registered = sum(1 for p in parts
                     if p["state"] != "CANCELLED" and any(h["state"] == "REGISTERED"
                                                          for h in p["history"]))
    no_shows = 0
    if event.get("eventCompleted"):
        no_shows = sum(1 for p in parts if p["state"] == "REGISTERED")
    return {"attended": attended, "cancelled": cancelled, "registered": registered,
            "noShows": no_shows}


def event_get(state: HubSpotState, external_event_id: str, query: dict[str, Any]) -> Answer:
    with state.lock:
        event = _event(state, external_event_id, query.get("externalAccountId"))
        counters = _counters(event)
        out = _event_out(event, public=True)
        out.update({"externalEventId": event["externalEventId"],
                    "attendees": counters["attended"], "registrants": counters["registered"],
                    "cancellations": counters["cancelled"], "noShows": counters["noShows"]})
        return 200, out


def event_delete(state: HubSpotState, external_event_id: str, query: dict[str, Any]) -> Answer:
    with state.lock:
        key = _event_key(state, external_event_id, query.get("externalAccountId"))
        if key is None:
            raise HubSpotError(404, f"Marketing event {external_event_id} not found.",
                               category="OBJECT_NOT_FOUND")
        event = state.marketing_events.pop(key)
        state.marketing_events_by_object_id.pop(event["objectId"], None)
    return 204, None


# ---------------------------------------------------------------- attendance

def _state_name(subscriber_state: str) -> str:
    name = STATES.get(subscriber_state.lower())
    if name is None:
        raise HubSpotError(400, f"subscriberState must be one of {sorted(STATES)}, "
                                f"got {subscriber_state!r}.")
    return name


def _participation_record(state: HubSpotState, event: dict[str, Any], contact: Contact,
                          new_state: str, item: dict[str, Any]) -> None:
    props = item.get("properties") or {}
    occurred = parse_time(item.get("interactionDateTime")) or state.clock()
    duration = None
    if new_state == "ATTENDED":
        joined, left = parse_time(props.get("joinedAt")), parse_time(props.get("leftAt"))
        if joined is not None and left is not None and left >= joined:
            duration = int(left - joined)
    part = event["participations"].get(contact.id)
    if part is None:
        part = {"state": new_state, "history": [], "createdAt": iso(state.clock())}
        event["participations"][contact.id] = part
    entry = {"state": new_state, "occurredAt": int(occurred * 1000)}
    if duration is not None:
        entry["attendanceDurationSeconds"] = duration
    if not part["history"] or part["history"][-1] != entry:  # replays change nothing
        part["history"].append(entry)
    if not (new_state == "REGISTERED" and part["state"] == "ATTENDED"):
        part["state"] = new_state
    part["occurredAt"] = int(occurred * 1000)
    if duration is not None:
        part["attendanceDurationSeconds"] = duration
    for key in ("joinedAt", "leftAt"):
        if props.get(key) is not None:
            part[key] = str(props[key])


def _attendance_inputs(body: Any) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise HubSpotError(400, "Invalid input JSON: `inputs` must be a list.")
    batch_limit_check(body["inputs"])
    return body["inputs"]


def attendance_by_email(state: HubSpotState, external_event_id: str, subscriber_state: str,
                        body: Any, query: dict[str, Any]) -> Answer:
    started = state.clock()
    new_state = _state_name(subscriber_state)
    inputs = _attendance_inputs(body)
    with state.lock:
        event = _event(state, external_event_id, query.get("externalAccountId"))
        results, errors = [], []
        for item in inputs:
            email = str((item or {}).get("email") or "").strip().lower()
            if not EMAIL_RE.match(email):
                errors.append(item_error("VALIDATION_ERROR", f"Email address {email} is invalid",
                                         context={"email": [email]}))
                continue
            contact = state.contact_by_email(email)
            if contact is None:
                known = state.properties.get("contacts", {})
                extra = {k: str(v) for k, v in (item.get("contactProperties") or {}).items()
                         if k in known and v not in (None, "") and k != "email"}
                contact = state.contact_new({"email": email, **extra})
            _participation_record(state, event, contact, new_state, item)
            results.append({"email": email, "vid": int(contact.id)})
    _status, answer = batch_envelope(state, started, results, errors)
    return 200, answer


def attendance_by_contact_id(state: HubSpotState, external_event_id: str,
                             subscriber_state: str, body: Any, query: dict[str, Any]) -> Answer:
    started = state.clock()
    new_state = _state_name(subscriber_state)
    inputs = _attendance_inputs(body)
    with state.lock:
        event = _event(state, external_event_id, query.get("externalAccountId"))
        results, errors = [], []
        for item in inputs:
            vid = str((item or {}).get("vid", ""))
            contact = state.contacts.get(vid)
            if contact is None or contact.archived:
                errors.append(item_error("OBJECT_NOT_FOUND", f"Contact {vid} not found.",
                                         context={"vid": [vid]}))
                continue
            _participation_record(state, event, contact, new_state, item)
            results.append({"vid": int(contact.id)})
    _status, answer = batch_envelope(state, started, results, errors)
    return 200, answer


# ---------------------------------------------------------------- participations

def participation_counters(state: HubSpotState, external_account_id: str,
                           external_event_id: str) -> Answer:
    with state.lock:
        return 200, _counters(_event(state, external_event_id, external_account_id))


def participation_counters_by_object(state: HubSpotState, object_id: str) -> Answer:
    with state.lock:
        event = state.marketing_events_by_object_id.get(object_id)
        if event is None:
            raise HubSpotError(404, f"Marketing event {object_id} not found.",
                               category="OBJECT_NOT_FOUND")
        return 200, _counters(event)


def _breakdown_rows(state: HubSpotState, events: list[dict[str, Any]],
                    query: dict[str, Any], contact_filter: str | None) -> list[dict[str, Any]]:
    wanted_state = (query.get("state") or "").upper() or None
    ident = contact_filter or query.get("contactIdentifier")
    contact_id = None
    if ident:
        contact = (state.contact_by_email(ident) if "@" in ident else state.contacts.get(ident))
        contact_id = contact.id if contact else "-"
    rows = []
    for event in events:
        for cid, part in event["participations"].items():
            if contact_id is not None and cid != contact_id:
                continue
            if wanted_state and part["state"] != wanted_state:
                continue
            contact = state.contacts.get(cid)
            assoc_contact = {"contactId": cid, "email": contact.email if contact else ""}
            if contact is not None:
                for key in ("firstname", "lastname"):
                    if contact.properties.get(key):
                        assoc_contact[key] = contact.properties[key]
            props: dict[str, Any] = {"attendanceState": part["state"],
                                     "occurredAt": part["occurredAt"]}
            if part.get("attendanceDurationSeconds") is not None:
                props["attendanceDurationSeconds"] = part["attendanceDurationSeconds"]
            rows.append({
                "id": f"{event['objectId']}-{cid}",
                "createdAt": part["createdAt"],
                "associations": {
                    "contact": assoc_contact,
                    "marketingEvent": {"marketingEventId": event["objectId"],
                                       "name": event.get("eventName", ""),
                                       "externalAccountId": event["externalAccountId"],
                                       "externalEventId": event["externalEventId"]},
                },
                "properties": props,
            })
    return rows


def _page(rows: list[dict[str, Any]], query: dict[str, Any]) -> dict[str, Any]:
    try:
        limit = max(1, min(int(query.get("limit") or 10), 100))
    except ValueError:
        raise HubSpotError(400, "limit must be an integer") from None
    after = str(query.get("after") or "0")
    offset = int(after) if after.isdigit() else 0
    body: dict[str, Any] = {"total": len(rows), "results": rows[offset:offset + limit]}
    if offset + limit < len(rows):
        body["paging"] = {"next": {"after": str(offset + limit)}}
    return body


def participation_breakdown(state: HubSpotState, external_account_id: str,
                            external_event_id: str, query: dict[str, Any]) -> Answer:
    with state.lock:
        event = _event(state, external_event_id, external_account_id)
        return 200, _page(_breakdown_rows(state, [event], query, None), query)


def participation_breakdown_by_object(state: HubSpotState, object_id: str,
                                      query: dict[str, Any]) -> Answer:
    with state.lock:
        event = state.marketing_events_by_object_id.get(object_id)
        if event is None:
            raise HubSpotError(404, f"Marketing event {object_id} not found.",
                               category="OBJECT_NOT_FOUND")
        return 200, _page(_breakdown_rows(state, [event], query, None), query)


def participation_breakdown_for_contact(state: HubSpotState, contact_identifier: str,
                                        query: dict[str, Any]) -> Answer:
    with state.lock:
        events = list(state.marketing_events.values())
        return 200, _page(_breakdown_rows(state, events, query, contact_identifier), query)
