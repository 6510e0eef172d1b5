"""The sync settings document (INTERFACES.md §4): validation, export, import.

The UI and the `sync_settings` command both go through here, so a document that one
accepts the other accepts too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from connector.models import Portal, PortalSyncSettings, SyncMode, WebinarSetting, ZoomUserSetting
from connector.services.registration_questions import (
    registration_fields_get,
    registration_fields_parse,
    registration_fields_set,
)

EVENT_SINKS = ("timeline", "app_events", "marketing_events")
DOCUMENT_KEYS = {
    "sync_mode",
    "selected_users",
    "excluded_host_domains",
    "excluded_recording_domains",
    "excluded_contact_domains",
    "users",
    "webinars",
    "event_sinks",
    "registration_fields",
    "registration_answers_to_contacts",
}
USER_KEYS = {"sync_new_webinars_by_default", "sync_recordings"}
WEBINAR_KEYS = {"sync"}
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def domain_normalize(value: str) -> str:
    """A domain as stored: lower-case ASCII (IDN as punycode), no '@', no trailing dot.

    Raises ValidationError with a message naming the bad value.
    """
    raw = value
    value = value.strip().lower().lstrip("@").rstrip(".")
    if not value or "@" in value or " " in value:
        raise ValidationError(f"{raw!r} is not a domain (example: acme.com)")
    try:
        ascii_value = value.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValidationError(f"{raw!r} is not a valid domain name") from exc
    labels = ascii_value.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or len(ascii_value) > 253:
        raise ValidationError(f"{raw!r} is not a valid domain name (example: acme.com)")
    if labels[-1].isdigit():
        raise ValidationError(f"{raw!r} is an IP address, not a domain")
    return ascii_value


def domains_normalize(values: Any, *, field_name: str) -> list[str]:
    """Normalise a list of domains; duplicates (after normalising) are refused."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValidationError(f"{field_name}: expected a list of domain strings")
    out: list[str] = []
    seen: set[str] = set()  # a set: 60,000 domains are checked in linear time
    for value in values:
        domain = domain_normalize(value)
        if domain in seen:
            raise ValidationError(f"{field_name}: {value!r} is listed twice")
        seen.add(domain)
        out.append(domain)
    return out


def email_normalize(value: str) -> str:
    """People and users are keyed by email, lower-cased and trimmed (INTERFACES.md §5)."""
    return value.strip().lower()


def email_domain(email: str) -> str:
    """The normalised domain of an email, or '' when it has none that parses."""
    _, _, domain = email_normalize(email).rpartition("@")
    try:
        return domain_normalize(domain) if domain else ""
    except ValidationError:
        return ""


@dataclass
class SettingsDocument:
    sync_mode: str = SyncMode.ALL
    selected_users: list[str] = field(default_factory=list)
    excluded_host_domains: list[str] = field(default_factory=list)
    excluded_recording_domains: list[str] = field(default_factory=list)
    excluded_contact_domains: list[str] = field(default_factory=list)
    users: dict[str, dict[str, bool]] = field(default_factory=dict)
    webinars: dict[str, dict[str, bool]] = field(default_factory=dict)
    event_sinks: list[str] = field(default_factory=lambda: ["timeline"])
    registration_fields: dict[str, str] = field(default_factory=dict)  # B6
    registration_answers_to_contacts: bool = False  # B6

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sync_mode": self.sync_mode,
            "selected_users": self.selected_users,
            "excluded_host_domains": self.excluded_host_domains,
            "excluded_recording_domains": self.excluded_recording_domains,
            "excluded_contact_domains": self.excluded_contact_domains,
            "users": self.users,
            "webinars": self.webinars,
            "event_sinks": self.event_sinks,
        }
        # B6: optional keys, exported once set (INTERFACES.md §4 defaults: {} and false).
        if self.registration_fields:
            out["registration_fields"] = self.registration_fields
        if self.registration_answers_to_contacts:
            out["registration_answers_to_contacts"] = True
        return out


def settings_document_parse(data: Any) -> SettingsDocument:
    """Validate a settings document; every error names the key at fault."""
    if not isinstance(data, dict):
        raise ValidationError("the settings document must be a JSON object")
    unknown = sorted(set(data) - DOCUMENT_KEYS)
    if unknown:
        raise ValidationError(f"unknown key {unknown[0]!r} in settings document")
    doc = SettingsDocument()
    mode = data.get("sync_mode", SyncMode.ALL)
    if mode not in SyncMode.values:
        raise ValidationError(f"sync_mode: {mode!r} is not one of none, all, selected")
    doc.sync_mode = mode
    selected = data.get("selected_users", [])
    if not isinstance(selected, list) or not all(isinstance(v, str) for v in selected):
        raise ValidationError("selected_users: expected a list of emails")
    for email in selected:
        try:
            validate_email(email.strip())
        except ValidationError as exc:
            raise ValidationError(f"selected_users: {email!r} is not an email address") from exc
    doc.selected_users = sorted({email_normalize(e) for e in selected})
    for key in ("excluded_host_domains", "excluded_recording_domains", "excluded_contact_domains"):
        setattr(doc, key, domains_normalize(data.get(key, []), field_name=key))
    users = data.get("users", {})
    if not isinstance(users, dict):
        raise ValidationError("users: expected an object keyed by email")
    for email, cfg in users.items():
        if not isinstance(cfg, dict):
            raise ValidationError(f"users.{email}: expected an object")
        bad = sorted(set(cfg) - USER_KEYS)
        if bad:
            raise ValidationError(f"unknown key {bad[0]!r} in users.{email}")
        if not all(isinstance(v, bool) for v in cfg.values()):
            raise ValidationError(f"users.{email}: values must be true or false")
        doc.users[email_normalize(email)] = {
            "sync_new_webinars_by_default": cfg.get("sync_new_webinars_by_default", True),
            "sync_recordings": cfg.get("sync_recordings", False),
        }
    webinars = data.get("webinars", {})
    if not isinstance(webinars, dict):
        raise ValidationError("webinars: expected an object keyed by webinar id")
    for webinar_id, cfg in webinars.items():
        wid = str(webinar_id).replace(" ", "").replace("-", "")
        if not wid.isdigit():
            raise ValidationError(f"webinars: {webinar_id!r} is not a Zoom webinar id")
        if not isinstance(cfg, dict) or set(cfg) - WEBINAR_KEYS or not isinstance(cfg.get("sync"), bool):
            raise ValidationError(f"webinars.{webinar_id}: expected {{\"sync\": true|false}}")
        doc.webinars[wid] = {"sync": cfg["sync"]}
    sinks = data.get("event_sinks", ["timeline"])
    if not isinstance(sinks, list) or not sinks:
        raise ValidationError("event_sinks: expected a non-empty list")
    for sink in sinks:
        if sink not in EVENT_SINKS:
            raise ValidationError(f"event_sinks: {sink!r} is not one of {', '.join(EVENT_SINKS)}")
    doc.event_sinks = list(dict.fromkeys(sinks))
    # B6: registration questions mapped to contact properties.
    doc.registration_fields = registration_fields_parse(data.get("registration_fields", {}))
    to_contacts = data.get("registration_answers_to_contacts", False)
    if not isinstance(to_contacts, bool):
        raise ValidationError("registration_answers_to_contacts: expected true or false")
    doc.registration_answers_to_contacts = to_contacts
    return doc


def portal_sync_settings_get_or_create(*, portal: Portal) -> PortalSyncSettings:
    obj, _ = PortalSyncSettings.objects.get_or_create(portal=portal)
    return obj


def sync_settings_export(*, portal: Portal) -> dict[str, Any]:
    """The portal's settings as the §4 document (keys sorted, stable for diffs)."""
    s = portal_sync_settings_get_or_create(portal=portal)
    doc = SettingsDocument(
        sync_mode=s.sync_mode,
        selected_users=sorted(s.selected_users),
        excluded_host_domains=list(s.excluded_host_domains),
        excluded_recording_domains=list(s.excluded_recording_domains),
        excluded_contact_domains=list(s.excluded_contact_domains),
        users={
            u.email: {
                "sync_new_webinars_by_default": u.sync_new_webinars_by_default,
                "sync_recordings": u.sync_recordings,
            }
            for u in portal.zoom_user_settings.order_by("email")
        },
        webinars={w.webinar_id: {"sync": w.sync} for w in portal.webinar_settings.order_by("webinar_id")},
        event_sinks=list(s.event_sinks),
        registration_fields=registration_fields_get(portal=portal),
        registration_answers_to_contacts=s.registration_answers_to_contacts,
    )
    return doc.as_dict()


@transaction.atomic
def sync_settings_import(*, portal: Portal, document: Any) -> dict[str, Any]:
    """Replace the portal's settings with a validated document. Returns the new export.

    Validation happens before anything is written: a bad document changes nothing.
    """
    doc = settings_document_parse(document)
    s = portal_sync_settings_get_or_create(portal=portal)
    s.sync_mode = doc.sync_mode
    s.selected_users = doc.selected_users
    s.excluded_host_domains = doc.excluded_host_domains
    s.excluded_recording_domains = doc.excluded_recording_domains
    s.excluded_contact_domains = doc.excluded_contact_domains
    s.event_sinks = doc.event_sinks
    s.registration_answers_to_contacts = doc.registration_answers_to_contacts
    s.save()
    registration_fields_set(portal=portal, fields=doc.registration_fields)
    portal.zoom_user_settings.exclude(email__in=list(doc.users)).delete()
    for email, cfg in doc.users.items():
        ZoomUserSetting.objects.update_or_create(portal=portal, email=email, defaults=cfg)
    portal.webinar_settings.exclude(webinar_id__in=list(doc.webinars)).delete()
    for webinar_id, cfg in doc.webinars.items():
        WebinarSetting.objects.update_or_create(portal=portal, webinar_id=webinar_id, defaults=cfg)
    return sync_settings_export(portal=portal)
