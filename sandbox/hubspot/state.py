"""In-memory state of the fake HubSpot portal.

One `HubSpotState` holds a single portal: contacts (indexed by id and by lower-cased primary and
additional email, so no request scans all contacts), property groups and properties, OAuth
tokens, timeline event templates and events, app events, marketing events with participations,
completed workflow callbacks and custom action definitions.

Every mutation happens under `self.lock` (an RLock of its own, independent of the sandbox core).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.hubspot.defaults import (
    DEFAULT_CONTACT_PROPERTIES,
    DEFAULT_GROUPS,
    DEFAULT_SCOPES,
)
from sandbox.scenario import ScenarioError

DEFAULT_PORTAL_ID = 62515
DEFAULT_APP_ID = 1160452
DEFAULT_TOKEN_LIFETIME_S = 1800  # "expires after 30 minutes" (research/hubspot-api.md §1.2)
FIRST_CONTACT_ID = 1001


def iso(ts: float) -> str:
    """HubSpot's timestamp format: ISO-8601 UTC with milliseconds."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_time(value: Any) -> float | None:
    """ISO-8601 string or epoch milliseconds (number or digit string) → epoch seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) / 1000.0
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text) / 1000.0
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass
class Contact:
    id: str
    properties: dict[str, str]
    additional_emails: list[str] = field(default_factory=list)
    archived: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0
    archived_at: float | None = None

    @property
    def email(self) -> str:
        return self.properties.get("email", "")

    def all_properties(self) -> dict[str, str]:
        """Stored values plus the computed system properties HubSpot always has."""
        props = dict(self.properties)
        if self.additional_emails:
            props["hs_additional_emails"] = ";".join(self.additional_emails)
        props["hs_object_id"] = self.id
        props["createdate"] = iso(self.created_at)
        props["lastmodifieddate"] = iso(self.updated_at)
        return props


class IssuedToken(str):
    """An access token string that also unpacks as `(token, expires_in)`.

    The interface fixed for the sandbox core is `issue_token(lifetime_s) -> (token, expires_in)`;
    callers that want only the string can use the value as a str.
    """

    expires_in: int

    def __new__(cls, token: str, expires_in: int) -> IssuedToken:
        obj = super().__new__(cls, token)
        obj.expires_in = expires_in
        return obj

    def __iter__(self):  # type: ignore[override]
        return iter((str(self), self.expires_in))


class TokenCheck(tuple[bool, int]):
    """`(valid, seconds_since_expiry)`; truthy only when valid (so `if token_valid(t)` works).

    seconds_since_expiry is -1 for an unknown token, 0 for a valid one.
    """

    def __bool__(self) -> bool:
        return bool(self[0])


@dataclass
class TokenInfo:
    expires_at: float
    refresh_token: str
    scopes: list[str]


# ---------------------------------------------------------------- scenario validation helpers

def _obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(f"{path}: expected an object, got {type(value).__name__}")
    return value


def _keys(value: dict[str, Any], allowed: set[str], path: str) -> None:
    for key in value:
        if key not in allowed:
            raise ScenarioError(
                f"{path}.{key}: unknown key (allowed: {', '.join(sorted(allowed))})",
                path=f"{path}.{key}",
            )


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ScenarioError(f"{path}: expected a list, got {type(value).__name__}")
    return value


def _str(value: Any, path: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ScenarioError(f"{path}: expected a string")
    return str(value)


def _int(value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise ScenarioError(f"{path}: expected an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ScenarioError(f"{path}: expected an integer") from None


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ScenarioError(f"{path}: expected true or false")
    return value


HUBSPOT_KEYS = {
    "portal_id", "users", "business_units", "contacts",
    # Extensions (INTERFACES.md §3 allows extending): app identity, credentials and portal setup.
    "app_id", "client_id", "client_secret", "developer_api_key", "token_lifetime_s", "scopes",
    "hub_domain", "time_zone", "property_groups", "properties", "app_event_types",
}
CONTACT_KEYS = {"id", "email", "firstname", "lastname", "additional_emails", "archived",
                "properties", "created_at"}
USER_KEYS = {"id", "email", "firstName", "lastName", "superAdmin", "roleIds", "primaryTeamId"}
BUSINESS_UNIT_KEYS = {"id", "name", "primary"}
GROUP_KEYS = {"name", "label", "displayOrder", "objectType"}
PROPERTY_KEYS = {"name", "label", "type", "fieldType", "groupName", "description", "objectType",
                 "options", "numberDisplayHint", "hidden", "formField", "displayOrder"}


class HubSpotState:
    """The fake portal. Build with `from_scenario`; read with `snapshot`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clock: Callable[[], float] = time.time
        self.portal_id = DEFAULT_PORTAL_ID
        self.app_id = DEFAULT_APP_ID
        self.client_id: str | None = None
        self.client_secret: str | None = None
        self.developer_api_key: str | None = None
        # None: the sandbox knob `token_lifetime_s` (default 1800 s) decides.
        self.token_lifetime_s: int | None = None
        self.scopes: list[str] = list(DEFAULT_SCOPES)
        self.hub_domain = "acme-62515.example"
        self.time_zone = "US/Eastern"
        self.users: list[dict[str, Any]] = []
        self.business_units: list[dict[str, Any]] = []
        self.app_event_types: set[str] | None = None
        # contacts
        self.contacts: dict[str, Contact] = {}
        self.email_index: dict[str, str] = {}  # live contacts: lower email (primary + additional) → id
        self.archived_email_index: dict[str, list[str]] = {}
        self.next_contact_id = FIRST_CONTACT_ID
        # properties: objectType → name → definition
        self.property_groups: dict[str, dict[str, dict[str, Any]]] = {}
        self.properties: dict[str, dict[str, dict[str, Any]]] = {}
        # OAuth
        self.access_tokens: dict[str, TokenInfo] = {}
        self.refresh_tokens: dict[str, list[str]] = {}  # refresh token → scopes
        self.used_codes: set[str] = set()
        # timeline, app events, marketing events, automation
        self.event_templates: dict[str, dict[str, Any]] = {}
        self.next_template_id = 1000001
        self.timeline_events: dict[tuple[str, str], dict[str, Any]] = {}  # (template, id)
        self.app_events: dict[tuple[str, str], dict[str, Any]] = {}
        self.marketing_events: dict[tuple[str, str], dict[str, Any]] = {}
        self.marketing_events_by_object_id: dict[str, dict[str, Any]] = {}
        self.next_marketing_object_id = 7000001
        self.callbacks_completed: dict[str, dict[str, Any]] = {}
        self.action_definitions: dict[str, dict[str, Any]] = {}
        self.next_definition_id = 3000001
        # webhooks v3 management (sandbox/hubspot/webhooks_v3.py)
        self.webhook_settings: dict[str, Any] | None = None
        self.webhook_subscriptions: dict[str, dict[str, Any]] = {}
        self._install_default_properties()

    # ------------------------------------------------------------------ construction

    def _install_default_properties(self) -> None:
        for object_type, groups in DEFAULT_GROUPS.items():
            self.property_groups[object_type] = {
                g["name"]: {**g, "archived": False} for g in groups
            }
        self.properties["contacts"] = {
            p["name"]: dict(p) for p in DEFAULT_CONTACT_PROPERTIES
        }

    @classmethod
    def from_scenario(cls, data: dict[str, Any], *, path: str = "hubspot") -> HubSpotState:
        """Validate the `hubspot` part of a scenario (INTERFACES.md §3) and build the state.

        Unknown keys raise ScenarioError naming the key path (`hubspot.contacts[2].emial`).
        """
        state = cls()
        data = _obj(data if data is not None else {}, path)
        _keys(data, HUBSPOT_KEYS, path)
        if "portal_id" in data:
            state.portal_id = _int(data["portal_id"], f"{path}.portal_id")
        if "app_id" in data:
            state.app_id = _int(data["app_id"], f"{path}.app_id")
        for key in ("client_id", "client_secret", "developer_api_key", "hub_domain", "time_zone"):
            if key in data and data[key] is not None:
                setattr(state, key, _str(data[key], f"{path}.{key}"))
        if "hub_domain" not in data:
            state.hub_domain = f"acme-{state.portal_id}.example"
        if "token_lifetime_s" in data:
            state.token_lifetime_s = _int(data["token_lifetime_s"], f"{path}.token_lifetime_s")
        if "scopes" in data:
            state.scopes = [
                _str(s, f"{path}.scopes[{i}]")
                for i, s in enumerate(_list(data["scopes"], f"{path}.scopes"))
            ]
        if "app_event_types" in data:
            state.app_event_types = {
                _str(s, f"{path}.app_event_types[{i}]")
                for i, s in enumerate(_list(data["app_event_types"], f"{path}.app_event_types"))
            }
        state._load_users(data.get("users"), f"{path}.users")
        state._load_business_units(data.get("business_units"), f"{path}.business_units")
        for i, raw in enumerate(_list(data.get("property_groups", []), f"{path}.property_groups")):
            p = f"{path}.property_groups[{i}]"
            g = _obj(raw, p)
            _keys(g, GROUP_KEYS, p)
            obj_type = _str(g.get("objectType", "contacts"), f"{p}.objectType")
            name = _str(g.get("name", ""), f"{p}.name")
            if not name:
                raise ScenarioError(f"{p}.name: required")
            state.property_groups.setdefault(obj_type, {})[name] = {
                "name": name, "label": str(g.get("label", name)),
                "displayOrder": _int(g.get("displayOrder", -1), f"{p}.displayOrder"),
                "archived": False,
            }
        for i, raw in enumerate(_list(data.get("properties", []), f"{path}.properties")):
            p = f"{path}.properties[{i}]"
            d = _obj(raw, p)
            _keys(d, PROPERTY_KEYS, p)
            obj_type = _str(d.get("objectType", "contacts"), f"{p}.objectType")
            for req in ("name", "type", "groupName"):
                if req not in d:
                    raise ScenarioError(f"{p}.{req}: required")
            definition = {k: v for k, v in d.items() if k != "objectType"}
            definition.setdefault("label", definition["name"])
            definition.setdefault("fieldType", "text")
            state.properties.setdefault(obj_type, {})[str(d["name"])] = state._property_full(
                definition
            )
        state._load_contacts(data.get("contacts"), f"{path}.contacts")
        return state

    def _load_users(self, raw: Any, path: str) -> None:
        if raw is None:
            # A portal always has at least the user who installed the app.
            raw = [{"id": "9001", "email": f"admin@{self.hub_domain}", "superAdmin": True}]
        for i, item in enumerate(_list(raw, path)):
            p = f"{path}[{i}]"
            u = _obj(item, p)
            _keys(u, USER_KEYS, p)
            if "email" not in u:
                raise ScenarioError(f"{p}.email: required")
            user = {
                "id": _str(u.get("id", str(9001 + i)), f"{p}.id"),
                "email": _str(u["email"], f"{p}.email"),
                "firstName": str(u.get("firstName", "")),
                "lastName": str(u.get("lastName", "")),
                "superAdmin": _bool(u.get("superAdmin", i == 0), f"{p}.superAdmin"),
                "roleIds": [str(r) for r in _list(u.get("roleIds", []), f"{p}.roleIds")],
            }
            if "primaryTeamId" in u:
                user["primaryTeamId"] = _str(u["primaryTeamId"], f"{p}.primaryTeamId")
            self.users.append(user)

    def _load_business_units(self, raw: Any, path: str) -> None:
        if raw is None:
            # Every portal has its default business unit (brand) with id 0.
            raw = [{"id": "0", "name": "Acme", "primary": True}]
        units = []
        for i, item in enumerate(_list(raw, path)):
            p = f"{path}[{i}]"
            b = _obj(item, p)
            _keys(b, BUSINESS_UNIT_KEYS, p)
            units.append({
                "id": _str(b.get("id", str(i)), f"{p}.id"),
                "name": _str(b.get("name", f"Business unit {i}"), f"{p}.name"),
                "primary": _bool(b.get("primary", False), f"{p}.primary"),
            })
        if units and not any(u["primary"] for u in units):
            units[0]["primary"] = True
        self.business_units = units

    def _load_contacts(self, raw: Any, path: str) -> None:
        items = _list(raw if raw is not None else [], path)
        explicit_ids = []
        for i, item in enumerate(items):
            c = _obj(item, f"{path}[{i}]")
            if "id" in c:
                explicit_ids.append(_int(c["id"], f"{path}[{i}].id"))
        self.next_contact_id = max([FIRST_CONTACT_ID, *[x + 1 for x in explicit_ids]])
        now = self.clock()
        for i, item in enumerate(items):
            p = f"{path}[{i}]"
            c = _obj(item, p)
            _keys(c, CONTACT_KEYS, p)
            cid = str(_int(c["id"], f"{p}.id")) if "id" in c else self._new_contact_id()
            if cid in self.contacts:
                raise ScenarioError(f"{p}.id: duplicate contact id {cid}")
            props_raw = _obj(c.get("properties", {}), f"{p}.properties")
            props = {str(k): _prop_value(v) for k, v in props_raw.items() if v is not None}
            for key in ("email", "firstname", "lastname"):
                if key in c and c[key] is not None:
                    props[key] = _str(c[key], f"{p}.{key}")
            if props.get("email"):
                props["email"] = props["email"].strip().lower()  # HubSpot stores emails lower-cased
            if "hs_additional_emails" in props:
                raise ScenarioError(
                    f"{p}.properties.hs_additional_emails: use {p}.additional_emails"
                )
            additional = [
                _str(e, f"{p}.additional_emails[{j}]").strip().lower()
                for j, e in enumerate(_list(c.get("additional_emails", []), f"{p}.additional_emails"))
            ]
            created = parse_time(c.get("created_at")) or now
            contact = Contact(
                id=cid, properties={k: v for k, v in props.items() if v != ""},
                additional_emails=additional,
                archived=_bool(c.get("archived", False), f"{p}.archived"),
                created_at=created, updated_at=created,
                archived_at=now if c.get("archived") else None,
            )
            if not contact.archived:
                for email in [contact.email, *additional]:
                    key = email.strip().lower()
                    if key and key in self.email_index:
                        raise ScenarioError(
                            f"{p}: email {email!r} is already used by contact "
                            f"{self.email_index[key]} (emails are unique among live contacts)"
                        )
            self.contacts[cid] = contact
            self.index_add(contact)

    # ------------------------------------------------------------------ contacts index

    def _new_contact_id(self) -> str:
        cid = str(self.next_contact_id)
        self.next_contact_id += 1
        return cid

    def index_add(self, contact: Contact) -> None:
        emails = [e.strip().lower() for e in [contact.email, *contact.additional_emails] if e]
        if contact.archived:
            for e in emails:
                self.archived_email_index.setdefault(e, []).append(contact.id)
        else:
            for e in emails:
                self.email_index[e] = contact.id

    def index_remove(self, contact: Contact) -> None:
        emails = [e.strip().lower() for e in [contact.email, *contact.additional_emails] if e]
        for e in emails:
            if contact.archived:
                ids = self.archived_email_index.get(e, [])
                if contact.id in ids:
                    ids.remove(contact.id)
                if not ids:
                    self.archived_email_index.pop(e, None)
            elif self.email_index.get(e) == contact.id:
                del self.email_index[e]

    def contact_by_email(self, email: str, *, archived: bool = False) -> Contact | None:
        """Live contact whose primary OR additional email is `email` (case-insensitive).

        With archived=True: the most recently archived contact holding that email.
        """
        key = (email or "").strip().lower()
        if archived:
            ids = self.archived_email_index.get(key)
            return self.contacts[ids[-1]] if ids else None
        cid = self.email_index.get(key)
        return self.contacts.get(cid) if cid else None

    def contact_new(self, properties: dict[str, str]) -> Contact:
        now = self.clock()
        contact = Contact(id=self._new_contact_id(), properties=dict(properties),
                          created_at=now, updated_at=now)
        self.contacts[contact.id] = contact
        self.index_add(contact)
        return contact

    def contact_archive(self, contact: Contact) -> None:
        if contact.archived:
            return
        self.index_remove(contact)
        contact.archived = True
        contact.archived_at = self.clock()
        self.index_add(contact)

    def contact_erase(self, contact: Contact) -> None:
        """GDPR delete: the contact is gone for good, with its timeline events and participations."""
        self.index_remove(contact)
        self.contacts.pop(contact.id, None)
        self.timeline_events = {k: e for k, e in self.timeline_events.items()
                                if str(e.get("objectId")) != contact.id}
        for event in self.marketing_events.values():
            event["participations"].pop(contact.id, None)

    def contact_merge(self, primary: Contact, merged: Contact) -> int:
        """Merge `merged` into `primary`: its emails become additional emails of the primary,
        its timeline events and participations move, the merged record is gone. Returns how
        many properties were moved (filled on the primary where it had none)."""
        self.index_remove(primary)
        self.index_remove(merged)
        moved = 0
        for key, value in merged.properties.items():
            if key != "email" and value and not primary.properties.get(key):
                primary.properties[key] = value
                moved += 1
        for email in [merged.email, *merged.additional_emails]:
            if email and email.lower() != primary.email.lower() and email not in primary.additional_emails:
                primary.additional_emails.append(email)
        self.contacts.pop(merged.id, None)
        for event in self.timeline_events.values():
            if str(event.get("objectId")) == merged.id:
                event["objectId"] = primary.id
        for mevent in self.marketing_events.values():
            parts = mevent["participations"]
            if merged.id in parts:
                part = parts.pop(merged.id)
                parts.setdefault(primary.id, part)
        primary.updated_at = self.clock()
        self.index_add(primary)
        return moved

    def contact_set_properties(self, contact: Contact, properties: dict[str, str]) -> None:
        """Apply already-validated values; "" clears a property (as in HubSpot)."""
        self.index_remove(contact)
        for key, value in properties.items():
            if value == "":
                contact.properties.pop(key, None)
            else:
                contact.properties[key] = value
        contact.updated_at = self.clock()
        self.index_add(contact)

    # ------------------------------------------------------------------ properties

    def _property_full(self, d: dict[str, Any]) -> dict[str, Any]:
        now = iso(self.clock())
        full = {
            "name": d["name"], "label": d.get("label", d["name"]), "type": d["type"],
            "fieldType": d.get("fieldType", "text"), "groupName": d["groupName"],
            "description": d.get("description", ""), "options": d.get("options", []),
            "displayOrder": d.get("displayOrder", -1), "hidden": d.get("hidden", False),
            "formField": d.get("formField", False), "calculated": False,
            "externalOptions": False, "hasUniqueValue": d.get("hasUniqueValue", False),
            "hubspotDefined": d.get("hubspotDefined", False), "archived": False,
            "createdAt": now, "updatedAt": now,
            "modificationMetadata": {"archivable": True, "readOnlyDefinition": False,
                                     "readOnlyValue": d.get("readOnlyValue", False)},
        }
        for key in ("numberDisplayHint", "textDisplayHint", "referencedObjectType",
                    "dataSensitivity", "calculationFormula"):
            if key in d:
                full[key] = d[key]
        if d.get("hubspotDefined"):
            full["modificationMetadata"]["archivable"] = False
            full["modificationMetadata"]["readOnlyDefinition"] = True
        return full

    # ------------------------------------------------------------------ OAuth tokens

    def issue_token(self, lifetime_s: int | None = None) -> IssuedToken:
        """A new access token valid for `lifetime_s` seconds → (token, expires_in)."""
        with self.lock:
            lifetime = self.default_token_lifetime() if lifetime_s is None else int(lifetime_s)
            token = "CJS" + secrets.token_urlsafe(48)
            self.access_tokens[token] = TokenInfo(
                expires_at=self.clock() + lifetime, refresh_token="", scopes=list(self.scopes)
            )
            return IssuedToken(token, lifetime)

    def issue_token_pair(self, lifetime_s: int | None = None,
                         refresh_token: str | None = None) -> dict[str, Any]:
        """The OAuth token response: a new access token, the (new or kept) refresh token."""
        with self.lock:
            token, expires_in = tuple(self.issue_token(lifetime_s))
            if refresh_token is None:
                refresh_token = "na1-" + secrets.token_hex(4) + "-" + secrets.token_hex(12)
                self.refresh_tokens[refresh_token] = list(self.scopes)
            self.access_tokens[token].refresh_token = refresh_token
            return {
                "token_type": "bearer", "token_use": "access_token",
                "access_token": token, "refresh_token": refresh_token,
                "expires_in": expires_in, "hub_id": self.portal_id,
                "user_id": self.installer_user_id(), "scopes": list(self.scopes),
            }

    def default_token_lifetime(self) -> int:
        """The scenario's `token_lifetime_s`, else the sandbox knob, else HubSpot's 1800 s."""
        if self.token_lifetime_s is not None:
            return self.token_lifetime_s
        from sandbox.config import knobs

        return int(getattr(knobs(), "token_lifetime_s", DEFAULT_TOKEN_LIFETIME_S))

    def adopt_tokens(self, old: HubSpotState) -> None:
        """Keep OAuth tokens across a scenario swap, so a connected connector stays connected."""
        with self.lock:
            self.access_tokens.update(getattr(old, "access_tokens", {}))
            self.refresh_tokens.update(getattr(old, "refresh_tokens", {}))
            self.used_codes |= getattr(old, "used_codes", set())

    def token_valid(self, token: str) -> TokenCheck:
        """(valid, seconds since expiry). Unknown tokens give (False, -1)."""
        info = self.access_tokens.get(token)
        if info is None:
            return TokenCheck((False, -1))
        remaining = info.expires_at - self.clock()
        if remaining > 0:
            return TokenCheck((True, 0))
        return TokenCheck((False, int(-remaining)))

    def token_expired_seconds_ago(self, token: str) -> int | None:
        """Seconds since a known token expired; None when unknown or still valid."""
        valid, ago = self.token_valid(token)
        return None if valid or ago < 0 else ago

    def token_info(self, token: str) -> TokenInfo | None:
        return self.access_tokens.get(token)

    def installer_user_id(self) -> int:
        for user in self.users:
            if str(user["id"]).isdigit():
                return int(user["id"])
        return 9001

    # ------------------------------------------------------------------ snapshot

    def snapshot(self) -> dict[str, Any]:
        """The `hubspot` part of GET /_sandbox/state (INTERFACES.md §3), plus extensions."""
        with self.lock:
            contacts = [
                {
                    "id": c.id,
                    "archived": c.archived,
                    "additional_emails": list(c.additional_emails),
                    "properties": dict(c.properties),
                }
                for c in sorted(self.contacts.values(), key=lambda c: int(c.id))
            ]
            groups = [
                {"name": g["name"], "label": g["label"], "objectType": obj_type}
                for obj_type, by_name in self.property_groups.items()
                for g in by_name.values()
                if not g.get("hubspotDefined") and not g.get("archived")
            ]
            props = [
                {"name": p["name"], "type": p["type"], "fieldType": p["fieldType"],
                 "groupName": p["groupName"], "label": p["label"], "objectType": obj_type}
                for obj_type, by_name in self.properties.items()
                for p in by_name.values()
                if not p.get("hubspotDefined") and not p.get("archived")
            ]
            return {
                "portal_id": self.portal_id,
                "contacts": contacts,
                "property_groups": groups,
                "properties": props,
                "timeline_events": [
                    {k: e[k] for k in ("id", "template_name", "eventTemplateId", "objectId",
                                       "tokens", "timestamp")}
                    for e in self.timeline_events.values()
                ],
                "marketing_events": [
                    {
                        "externalEventId": m["externalEventId"],
                        "externalAccountId": m["externalAccountId"],
                        "objectId": m["objectId"],
                        "eventName": m["eventName"],
                        "startDateTime": m.get("startDateTime"),
                        "endDateTime": m.get("endDateTime"),
                        "participations": [
                            {"contactId": cid, "state": p["state"],
                             "attendanceDurationSeconds": p.get("attendanceDurationSeconds"),
                             "history": list(p["history"])}
                            for cid, p in m["participations"].items()
                        ],
                    }
                    for m in self.marketing_events.values()
                ],
                "event_templates": [
                    {"id": t["id"], "appId": t["appId"], "name": t["name"],
                     "objectType": t["objectType"], "tokens": [tk["name"] for tk in t["tokens"]]}
                    for t in self.event_templates.values()
                ],
                "app_events": list(self.app_events.values()),
                "callbacks_completed": list(self.callbacks_completed.values()),
                "action_definitions": list(self.action_definitions.values()),
                "users": [dict(u) for u in self.users],
                "business_units": [dict(b) for b in self.business_units],
            }


def _prop_value(value: Any) -> str:
    """HubSpot stores every property value as a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


prop_value = _prop_value
