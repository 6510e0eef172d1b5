"""Live changes of the sandbox's world (`POST /_sandbox/act`, INTERFACES.md §3).

Each act changes the fake Zoom or the fake HubSpot under the world lock, then sends the
webhooks the real provider would send (sandbox/webhooks.py), outside the lock, so the
connector can call the fake APIs while it handles them. Payloads follow
specs/zoom/meetings-webhooks.json and research/hubspot-api.md §9.2.

Extensions beyond the list in INTERFACES.md: `webinar_create` (`webinar.created`),
`webinar_update` (`webinar.updated`) and `webinar_delete` (`webinar.deleted`).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sandbox.config import knobs
from sandbox.hubspot.webhooks_v3 import delivery_target
from sandbox.scenario import ScenarioError, keys_check
from sandbox.state import SandboxState, sandbox_state
from sandbox.webhooks import webhook_hub
from sandbox.zoom.state import (
    REGISTRANT_STATUSES,
    Instance,
    Webinar,
    ZoomAccount,
    _participant_build,
    _webinar_build,
    id_derive,
    now_utc,
    time_format,
    time_parse,
)

_event_ids = itertools.count(4_000_000_001)
_subscription_ids = {"contact.deletion": 801, "contact.privacyDeletion": 802, "contact.merge": 803}


class ActError(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _now_ms() -> int:
    return int(time.time() * 1000)


# --- payloads -------------------------------------------------------------------------------


def _zoom_event(name: str, account_id: str, obj: dict[str, Any], **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"account_id": account_id}
    for key in ("operator", "operator_id"):
        if key in extra:
            payload[key] = extra.pop(key)
    payload["object"] = obj
    return {"event": name, "event_ts": _now_ms(), "payload": payload, **extra}


def _webinar_object(webinar: Webinar, *, id_as_string: bool = False) -> dict[str, Any]:
    # research/zoom-api.md §8.3: the id is a string in started/ended/participant_* payloads.
    return {
        "uuid": webinar.uuid,
        "id": str(webinar.id) if id_as_string else webinar.id,
        "host_id": webinar.host_id,
        "topic": webinar.topic,
        "type": webinar.type,
        "start_time": time_format(webinar.start),
        "duration": webinar.duration,
        "timezone": webinar.timezone,
    }


def _host_email(account: ZoomAccount, webinar: Webinar) -> str:
    host = account.user_find(webinar.host_id)
    return host.email if host else ""


def _hubspot_event(world: SandboxState, kind: str, object_id: str, **extra: Any) -> dict[str, Any]:
    hub = world.hubspot
    return {
        "objectId": int(object_id),
        "changeSource": "CRM_UI",
        "eventId": next(_event_ids),
        "subscriptionId": _subscription_ids.get(kind, 800),
        "portalId": hub.portal_id,
        "appId": hub.app_id,
        "occurredAt": _now_ms(),
        "subscriptionType": kind,
        "attemptNumber": 0,
        **extra,
    }


# --- lookups --------------------------------------------------------------------------------


def _account(world: SandboxState, body: dict[str, Any]) -> ZoomAccount:
    account = world.zoom.accounts.get(str(body.get("account_id", "")))
    if account is None:
        raise ActError(404, f"no Zoom account {body.get('account_id')!r} in the scenario")
    return account


def _webinar(world: SandboxState, account: ZoomAccount, body: dict[str, Any]) -> Webinar:
    try:
        webinar_id = int(body.get("webinar_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ActError(400, "webinar_id: a webinar id (integer)") from exc
    webinar = world.zoom.webinar_in_account(account.account_id, webinar_id)
    if webinar is None:
        raise ActError(404, f"no webinar {webinar_id} in Zoom account {account.account_id!r}")
    return webinar


def _built(account: ZoomAccount, webinar: Webinar, raw: dict[str, Any]) -> Webinar:
    """Build registrants / instances / recordings exactly as a scenario would (same defaults)."""
    base = {"id": webinar.id, "host_id": webinar.host_id, "start_time": time_format(webinar.start),
            "duration": webinar.duration, "type": webinar.type, **raw}
    try:
        return _webinar_build(base, path="act", account=account, index=0)
    except ScenarioError as exc:
        raise ActError(400, str(exc)) from exc


def _contact(world: SandboxState, contact_id: Any) -> Any:
    contact = world.hubspot.contacts.get(str(contact_id))
    if contact is None or contact.archived:
        raise ActError(404, f"no live contact {contact_id!r} in the fake HubSpot")
    return contact


# --- acts (each returns the zoom events and hubspot events to send) -------------------------

Events = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def _act_register(world: SandboxState, body: dict[str, Any]) -> Events:
    keys_check(body, allowed=("action", "account_id", "webinar_id", "registrant"), path="act")
    account = _account(world, body)
    webinar = _webinar(world, account, body)
    raw = body.get("registrant")
    if not isinstance(raw, dict) or not isinstance(raw.get("email"), str):
        raise ActError(400, "registrant: an object with an email, as in the scenario")
    if raw["email"].strip().lower() in webinar.by_email:
        raise ActError(409, f"{raw['email']} is already registered for webinar {webinar.id}")
    raw = {"create_time": time_format(now_utc()), **raw}
    if "id" not in raw:
        raw["id"] = id_derive("registrant", webinar.id, raw["email"].strip().lower(), len(webinar.registrants))
    registrant = _built(account, webinar, {"registrants": [raw]}).registrants[0]
    webinar.registrant_add(registrant)
    obj = _webinar_object(webinar)
    obj["registrant"] = {
        "id": registrant.id, "first_name": registrant.first_name, "last_name": registrant.last_name,
        "email": registrant.email, "status": "approved" if registrant.status == "approved" else "pending",
        "join_url": registrant.join_url,
        **{k: v for k, v in registrant.extra.items() if k != "custom_questions"},
        "custom_questions": list(registrant.extra.get("custom_questions", [])),
    }
    return [_zoom_event("webinar.registration_created", account.account_id, obj)], []


def _act_registration_status(world: SandboxState, body: dict[str, Any]) -> Events:
    keys_check(body, allowed=("action", "account_id", "webinar_id", "registrant_id", "status"), path="act")
    account = _account(world, body)
    webinar = _webinar(world, account, body)
    status = body.get("status")
    if status not in ("approved", "cancelled", "denied"):
        raise ActError(400, "status: approved, cancelled or denied")
    assert status in REGISTRANT_STATUSES
    registrant = webinar.by_id.get(str(body.get("registrant_id", "")))
    if registrant is None:
        raise ActError(404, f"no registrant {body.get('registrant_id')!r} of webinar {webinar.id}")
    registrant.status = status
    webinar.version += 1
    obj = _webinar_object(webinar)
    obj["registrant"] = {"id": registrant.id, "first_name": registrant.first_name,
                         "last_name": registrant.last_name, "email": registrant.email}
    if status == "approved":
        obj["registrant"]["join_url"] = registrant.join_url
    host = _host_email(account, webinar)
    event = _zoom_event(f"webinar.registration_{status}", account.account_id, obj,
                        operator=host, operator_id=webinar.host_id)
    return [event], []


def _act_hold_session(world: SandboxState, body: dict[str, Any]) -> Events:
    keys_check(body, allowed=("action", "account_id", "webinar_id", "instance"), path="act")
    account = _account(world, body)
    webinar = _webinar(world, account, body)
    raw = body.get("instance")
    if not isinstance(raw, dict):
        raise ActError(400, "instance: an object, as in the scenario")
    raw = dict(raw)
    raw.setdefault("start_time", time_format(now_utc() - timedelta(minutes=60)))
    raw.setdefault("end_time", time_format(now_utc()))
    participants = raw.pop("participants", [])
    built = _built(account, webinar, {"instances": [raw]})
    instance: Instance = built.instances[0]
    if instance.uuid in world.zoom.instances:
        raise ActError(409, f"instance {instance.uuid!r} was already held")
    account_emails = {u.email.lower() for u in account.users}
    try:
        rows = [_participant_build(p, path=f"act.instance.participants[{i}]", webinar=webinar,
                                   instance=instance, index=i, account_emails=account_emails)
                for i, p in enumerate(participants)]
    except ScenarioError as exc:
        raise ActError(400, str(exc)) from exc
    delay = knobs().report_delay_s
    instance.participants = [] if delay else rows
    webinar.instances.append(instance)
    world.zoom.instances[instance.uuid] = (webinar, instance)
    webinar.version += 1
    if delay:
        _later(delay, lambda: _report_ready(world, instance, rows))

    def session_object() -> dict[str, Any]:
        obj = _webinar_object(webinar, id_as_string=True)
        obj["uuid"] = instance.uuid
        obj["start_time"] = time_format(instance.start)
        return obj

    events = [_zoom_event("webinar.started", account.account_id, session_object())]
    for row in rows:
        for kind in ("joined", "left"):
            obj = session_object()
            participant = {
                "user_id": row["user_id"], "user_name": row["name"], "id": row["participant_user_id"],
                "email": row["user_email"], "registrant_id": row["registrant_id"],
                "participant_user_id": row["participant_user_id"], "participant_uuid": row["id"],
                "customer_key": row["customer_key"],
            }
            if kind == "joined":
                participant["join_time"] = row["join_time"]
            else:
                participant["leave_time"] = row["leave_time"]
                participant["leave_reason"] = "left the webinar"
            obj["participant"] = participant
            events.append(_zoom_event(f"webinar.participant_{kind}", account.account_id, obj))
    ended = session_object()
    ended["end_time"] = time_format(instance.end)
    ended["practice_session"] = False
    events.append(_zoom_event("webinar.ended", account.account_id, ended))
    return events, []


def _report_ready(world: SandboxState, instance: Instance, rows: list[dict[str, Any]]) -> None:
    with world.lock:
        instance.participants = rows


def _later(delay: float, fn: Callable[[], None]) -> None:
    timer = threading.Timer(delay, fn)
    timer.daemon = True
    timer.start()


def _act_recording(world: SandboxState, body: dict[str, Any]) -> Events:
    keys_check(body, allowed=("action", "account_id", "webinar_id", "recording"), path="act")
    account = _account(world, body)
    webinar = _webinar(world, account, body)
    raw = body.get("recording")
    if not isinstance(raw, dict):
        raise ActError(400, "recording: an object, as in the scenario")
    latest = webinar.instance_latest()
    uuid = raw.get("instance_uuid", latest.uuid if latest else None)
    instance = next((i for i in webinar.instances if i.uuid == uuid), None)
    if instance is None:
        raise ActError(404, f"no held instance {uuid!r} of webinar {webinar.id}")
    inst_raw = {"uuid": instance.uuid, "start_time": time_format(instance.start),
                "end_time": time_format(instance.end)}
    recording = _built(account, webinar, {"instances": [inst_raw],
                                          "recordings": [{**raw, "instance_uuid": instance.uuid}]}
                       ).recordings[instance.uuid]
    webinar.recordings[instance.uuid] = recording
    webinar.version += 1
    obj = {
        "id": webinar.id, "uuid": instance.uuid, "host_id": webinar.host_id,
        "account_id": account.account_id, "topic": webinar.topic, "type": webinar.type,
        "start_time": time_format(instance.start), "password": recording.password,
        "timezone": webinar.timezone, "host_email": _host_email(account, webinar),
        "duration": int((instance.end - instance.start).total_seconds() // 60),
        "share_url": recording.share_url, "total_size": recording.total_size,
        "recording_count": len(recording.files),
        "recording_files": [_webhook_file(f) for f in recording.files],
    }
    token = id_derive("download", instance.uuid, length=40)
    events = [_zoom_event("recording.completed", account.account_id, obj, download_token=token)]
    if any(f["file_type"] == "TRANSCRIPT" for f in recording.files):
        transcript: dict[str, Any] = dict(obj)
        transcript["recording_files"] = [_webhook_file(f) for f in recording.files
                                         if f["file_type"] == "TRANSCRIPT"]
        transcript["recording_count"] = len(transcript["recording_files"])
        events.append(_zoom_event("recording.transcript_completed", account.account_id, transcript,
                                  download_token=token))
    return events, []


def _webhook_file(api_file: dict[str, Any]) -> dict[str, Any]:
    item = dict(api_file)
    if item.get("recording_type") == "audio_transcript":
        # The webhook spec's enum lacks "audio_transcript" (its description lists it); the
        # payload uses the enum's transcript value so it validates against the spec.
        item["recording_type"] = "cc_transcript"
    return item


def _act_webinar_update(world: SandboxState, body: dict[str, Any]) -> Events:
    keys_check(body, allowed=("action", "account_id", "webinar_id", "changes"), path="act")
    account = _account(world, body)
    webinar = _webinar(world, account, body)
    changes = body.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise ActError(400, "changes: an object of topic, start_time, duration, agenda")
    keys_check(changes, allowed=("topic", "start_time", "duration", "agenda"), path="act.changes")
    old = {k: v for k, v in _webinar_object(webinar).items() if k in changes or k == "id"}
    try:
        if "topic" in changes:
            webinar.topic = str(changes["topic"])
        if "agenda" in changes:
            webinar.agenda = str(changes["agenda"])
        if "start_time" in changes:
            webinar.start = time_parse(changes["start_time"], path="act.changes.start_time")
        if "duration" in changes:
            webinar.duration = int(changes["duration"])
    except (ScenarioError, TypeError, ValueError) as exc:
        raise ActError(400, str(exc)) from exc
    webinar.version += 1
    new = {k: v for k, v in _webinar_object(webinar).items() if k in changes or k == "id"}
    event = _zoom_event("webinar.updated", account.account_id, new, operator=_host_email(account, webinar),
                        operator_id=webinar.host_id)
    event["payload"]["old_object"] = old
    event["payload"]["time_stamp"] = _now_ms()
    return [event], []


def _act_webinar_create(world: SandboxState, body: dict[str, Any]) -> Events:
    keys_check(body, allowed=("action", "account_id", "webinar"), path="act")
    account = _account(world, body)
    raw = body.get("webinar")
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
        raise ActError(400, "webinar: an object with an id, as in the scenario")
    if raw["id"] in world.zoom.webinars:
        raise ActError(409, f"webinar {raw['id']} exists")
    try:
        webinar = _webinar_build(raw, path="act.webinar", account=account, index=len(account.webinars))
    except ScenarioError as exc:
        raise ActError(400, str(exc)) from exc
    account.webinars[webinar.id] = webinar
    world.zoom.webinars[webinar.id] = webinar
    obj = {**_webinar_object(webinar), "join_url": webinar.join_url, "creation_source": "web_portal",
           "settings": {"use_pmi": False, "alternative_hosts": ",".join(webinar.alternative_hosts)}}
    event = _zoom_event("webinar.created", account.account_id, obj, operator=_host_email(account, webinar),
                        operator_id=webinar.host_id)
    return [event], []


def _act_webinar_delete(world: SandboxState, body: dict[str, Any]) -> Events:
    keys_check(body, allowed=("action", "account_id", "webinar_id"), path="act")
    account = _account(world, body)
    webinar = _webinar(world, account, body)
    account.webinars.pop(webinar.id, None)
    world.zoom.webinars.pop(webinar.id, None)
    for instance in webinar.instances:
        world.zoom.instances.pop(instance.uuid, None)
    obj = {"uuid": webinar.uuid, "id": webinar.id, "host_id": webinar.host_id, "topic": webinar.topic,
           "type": webinar.type, "start_time": time_format(webinar.start), "duration": webinar.duration,
           "timezone": webinar.timezone}
    event = _zoom_event("webinar.deleted", account.account_id, obj, operator=_host_email(account, webinar),
                        operator_id=webinar.host_id)
    return [event], []


def _act_delete_contact(world: SandboxState, body: dict[str, Any]) -> Events:
    keys_check(body, allowed=("action", "contact_id"), path="act")
    contact = _contact(world, body.get("contact_id"))
    world.hubspot.contact_archive(contact)
    return [], [_hubspot_event(world, "contact.deletion", contact.id)]


def _act_privacy_delete_contact(world: SandboxState, body: dict[str, Any]) -> Events:
    keys_check(body, allowed=("action", "contact_id"), path="act")
    contact = _contact(world, body.get("contact_id"))
    world.hubspot.contact_erase(contact)
    # research/hubspot-api.md §9.2: a privacy deletion also triggers the contact deletion event.
    return [], [_hubspot_event(world, "contact.privacyDeletion", contact.id),
                _hubspot_event(world, "contact.deletion", contact.id)]


def _act_merge_contacts(world: SandboxState, body: dict[str, Any]) -> Events:
    keys_check(body, allowed=("action", "primary_id", "merged_id"), path="act")
    primary = _contact(world, body.get("primary_id"))
    merged = _contact(world, body.get("merged_id"))
    if primary.id == merged.id:
        raise ActError(400, "a contact cannot be merged into itself")
    moved = world.hubspot.contact_merge(primary, merged)
    event = _hubspot_event(world, "contact.merge", primary.id, primaryObjectId=int(primary.id),
                           mergedObjectIds=[int(merged.id)], newObjectId=int(primary.id),
                           numberOfPropertiesMoved=moved)
    return [], [event]


def _act_deauthorize(world: SandboxState, body: dict[str, Any]) -> Events:
    keys_check(body, allowed=("action", "account_id"), path="act")
    account = _account(world, body)
    world.zoom.tokens_revoke_account(account.account_id)
    event = {
        "event": "app_deauthorized",
        "event_ts": _now_ms(),
        "payload": {
            "account_id": account.account_id,
            "user_id": account.connected_user_id or (account.users[0].id if account.users else ""),
            "signature": id_derive("deauth", account.account_id, length=64),
            "deauthorization_time": time_format(now_utc()),
            "client_id": account.client_id or "zoomsync",
        },
    }
    return [event], []


ACTS: dict[str, Callable[[SandboxState, dict[str, Any]], Events]] = {
    "register": _act_register,
    "registration_status": _act_registration_status,
    "hold_session": _act_hold_session,
    "recording": _act_recording,
    "webinar_create": _act_webinar_create,
    "webinar_update": _act_webinar_update,
    "webinar_delete": _act_webinar_delete,
    "delete_contact": _act_delete_contact,
    "privacy_delete_contact": _act_privacy_delete_contact,
    "merge_contacts": _act_merge_contacts,
    "deauthorize": _act_deauthorize,
}


def act(body: dict[str, Any]) -> dict[str, Any]:
    """Apply one act, then deliver its webhooks; the answer lists every delivery."""
    action = body.get("action")
    handler = ACTS.get(action) if isinstance(action, str) else None
    if handler is None:
        raise ActError(400, f"action: one of {', '.join(ACTS)}")
    world = sandbox_state()
    with world.lock:
        try:
            zoom_events, hubspot_events = handler(world, body)
        except ScenarioError as exc:
            raise ActError(400, str(exc)) from exc
        app_target = delivery_target(world.hubspot)
    hub = webhook_hub()
    deliveries = hub.send_zoom(zoom_events) + hub.send_hubspot(hubspot_events, app_target=app_target)
    return {"deliveries": deliveries,
            "events": [e["event"] for e in zoom_events] + [e["subscriptionType"] for e in hubspot_events]}
