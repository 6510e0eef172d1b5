"""Resolve people (PersonStats, keyed by lower-cased email) to HubSpot contacts, and send the
contact creates and property updates queued in the outbox.

Rules applied here (SPEC.md):
- R12 HubSpot account users are never created, never updated and get no events.
- R13 only the primary email creates and updates contacts: a batch read by email that returns
  a contact whose primary `email` differs from the one asked for matched a secondary email →
  skipped, no event, no new contact.
- R14 a deleted contact is never recreated: a person not found is looked up again among
  archived contacts, and our own ContactLink remembers contacts that disappeared.
- R7 excluded contact domains stop creation only: an existing contact is still updated.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction

from connector.clients.errors import BadRequest
from connector.clients.hubspot import HubSpotClient, existing_contact_id
from connector.models import (
    ContactLink,
    ContactState,
    OutboxItem,
    OutboxKind,
    PersonStats,
    Portal,
    SkipReason,
    SyncRun,
)
from connector.services.hubspot_schema import (
    PROP_ATTENDED,
    PROP_AVERAGE,
    PROP_LAST_REGISTERED,
    PROP_REGISTRATIONS,
)
from connector.services.outbox import outbox_mark_failed, outbox_mark_retry, outbox_mark_sent
from connector.services.sanitize import zoom_url_clean
from connector.services.sync_settings import email_normalize

if TYPE_CHECKING:
    from connector.selectors import SyncRules
    from connector.services.report import SyncReport

logger = logging.getLogger("zoomsync.push")

READ_PROPERTIES = ["email", "firstname", "lastname", "hs_additional_emails"]
PERMANENT_CATEGORIES = {"VALIDATION_ERROR", "INVALID_EMAIL", "PROPERTY_DOESNT_EXIST", "INVALID_INTEGER"}


@dataclass
class PushContext:
    """What every step of one portal's push shares."""

    portal: Portal
    client: HubSpotClient
    report: SyncReport
    rules: SyncRules
    run: SyncRun | None
    # Called inside the transaction that links people to contacts: enqueue their events
    # (and, for contacts that already existed, their property update). Set by push.py.
    on_linked: Callable[[dict[str, str], set[str]], None] | None = None


def desired_properties(stats: PersonStats) -> dict[str, str]:
    """The four contact properties (INTERFACES.md §1, §5) as HubSpot stores them (strings)."""
    average = stats.average_attendance_percent
    return {
        PROP_AVERAGE: f"{average:.1f}" if average is not None else "",
        PROP_LAST_REGISTERED: zoom_url_clean(stats.last_registered_url),  # https on Zoom only
        PROP_REGISTRATIONS: str(stats.registration_count),
        PROP_ATTENDED: str(stats.attended_count),
    }


def account_user_emails(*, client: HubSpotClient) -> frozenset[str]:
    """R12: the HubSpot account's users (a few hundred at most), lower-cased."""
    return frozenset(email_normalize(u["email"]) for u in client.settings_users_iter() if u.get("email"))


@dataclass
class Lookup:
    primary: dict[str, str] = field(default_factory=dict)  # email → contact id (primary match)
    secondary: dict[str, str] = field(default_factory=dict)  # email → id of the contact holding it as secondary
    missing: list[str] = field(default_factory=list)
    # B6: the primary matches' values of the extra properties asked for (email → values).
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)


def contacts_lookup(
    *, client: HubSpotClient, emails: list[str], archived: bool = False, extra_properties: Iterable[str] = ()
) -> Lookup:
    """One batch read by email (≤ 100). HubSpot (and the sandbox) also match secondary
    emails, returning the contact with its primary email: that is R13's signal.
    `extra_properties` are read in the same call (B6: the mapped answer properties)."""
    lookup = Lookup()
    if not emails:
        return lookup
    extra = [p for p in extra_properties if p not in READ_PROPERTIES]
    result = client.contacts_batch_read(
        emails, id_property="email", properties=READ_PROPERTIES + extra, archived=archived
    )
    wanted = set(emails)
    for contact in result.results:
        props = contact.get("properties") or {}
        primary = email_normalize(props.get("email") or "")
        contact_id = str(contact.get("id"))
        if primary in wanted:
            lookup.primary[primary] = contact_id
            if extra:
                lookup.properties[primary] = {p: props.get(p) for p in extra}
        extras = {email_normalize(e) for e in (props.get("hs_additional_emails") or "").split(";") if e.strip()}
        for email in extras & wanted:
            if email not in lookup.primary:
                lookup.secondary[email] = contact_id
        if primary not in wanted and not extras & wanted:
            # A match we cannot attribute from the properties: the batch-read answer names
            # the input it answered in `id` only for id lookups, so fall back on the
            # requested ids HubSpot echoes (propertiesWithHistory / "inputs" not returned).
            logger.warning("batch read returned contact %s matching none of the requested emails", contact_id)
    for error in result.errors:
        for subject in error_subjects(error):
            email = email_normalize(subject)
            if email in wanted and email not in lookup.primary and email not in lookup.secondary:
                lookup.missing.append(email)
    seen = set(lookup.primary) | set(lookup.secondary) | set(lookup.missing)
    # Emails neither returned nor named in an error: not found (HubSpot may just omit them).
    lookup.missing.extend(e for e in emails if e not in seen)
    lookup.missing = list(dict.fromkeys(lookup.missing))
    return lookup


def error_subjects(error: dict[str, Any]) -> set[str]:
    """Every string an error's `context` names (ids, emails, objectWriteTraceIds)."""
    subjects: set[str] = set()
    context = error.get("context") or {}
    if isinstance(context, dict):
        for value in context.values():
            if isinstance(value, list):
                subjects.update(str(v) for v in value)
            elif isinstance(value, str | int):
                subjects.add(str(value))
    return subjects


def _is_conflict(error: dict[str, Any]) -> bool:
    text = f"{error.get('category', '')} {error.get('message', '')}".lower()
    return "conflict" in text or "already exists" in text or bool(error.get("existingId"))


def links_save(*, portal: Portal, changes: dict[str, tuple[str, str]]) -> None:
    """Upsert ContactLinks: {email: (state, contact_id)}; pushed_properties are kept."""
    if not changes:
        return
    ContactLink.objects.bulk_create(
        [ContactLink(portal=portal, email=email, state=state, contact_id=cid) for email, (state, cid) in changes.items()],
        update_conflicts=True,
        unique_fields=["portal", "email"],
        update_fields=["state", "contact_id", "updated_at"],
    )


def _links_pushed(*, portal: Portal, pushed: dict[str, tuple[str, dict[str, str]]]) -> None:
    """Record the property values just written: {email: (contact_id, properties)}, in one
    statement (the contact is linked: a write to it succeeded)."""
    if not pushed:
        return
    ContactLink.objects.bulk_create(
        [
            ContactLink(portal=portal, email=email, state=ContactState.LINKED, contact_id=cid, pushed_properties=props)
            for email, (cid, props) in pushed.items()
        ],
        update_conflicts=True,
        unique_fields=["portal", "email"],
        update_fields=["state", "contact_id", "pushed_properties", "updated_at"],
    )


def _bisect(
    *, ctx: PushContext, items: list[OutboxItem], exc: BadRequest, send: Callable[..., None]
) -> None:
    """HubSpot rejects a whole batch (400) for one invalid input (a malformed email, a value
    of the wrong type): split it until the bad input is alone, then that one is a permanent
    per-item error and every other input still goes through."""
    if len(items) == 1:
        with transaction.atomic():
            outbox_mark_failed(item=items[0], error=exc.message or str(exc), report=ctx.report)
        return
    half = len(items) // 2
    send(ctx=ctx, items=items[:half])
    send(ctx=ctx, items=items[half:])


# --- creates -------------------------------------------------------------------------


def contact_create_item(
    *, portal: Portal, run: SyncRun | None, stats: PersonStats, extra: dict[str, str] | None = None
) -> OutboxItem:
    """A new contact with email, first name, last name and its four properties at once
    (and, B6, the registration answers mapped to contact properties: `extra`)."""
    props = {**desired_properties(stats), **(extra or {})}
    create = {"email": stats.email, "firstname": stats.first_name, "lastname": stats.last_name}
    create.update({k: v for k, v in props.items() if v != ""})
    create = {k: v for k, v in create.items() if v != ""}
    return OutboxItem(
        portal=portal,
        kind=OutboxKind.CONTACT_CREATE,
        dedupe_key=stats.email,
        sync_run=run,
        payload={"email": stats.email, "properties": create, "pushed": props},
    )


def contacts_create_send(*, ctx: PushContext, items: list[OutboxItem]) -> None:
    """Send one batch of creates; link what was created; resolve conflicts by reading back.

    A 409 ("Contact already exists. Existing ID: N") rejects the whole batch and names only
    the first conflict, and a 207 names failed items by objectWriteTraceId: either way, the
    items not created are read back by email (one call) and linked, skipped (R13) or retried.
    """
    by_email = {i.payload["email"]: i for i in items}
    by_trace = {str(i.pk): i for i in items}
    # `associations` is required by the spec (SimplePublicObjectInputForCreate), even empty.
    inputs = [
        {"properties": i.payload["properties"], "associations": [], "objectWriteTraceId": str(i.pk)} for i in items
    ]
    try:
        result = ctx.client.contacts_batch_create(inputs)
    except BadRequest as exc:
        _bisect(ctx=ctx, items=items, exc=exc, send=contacts_create_send)
        return

    created: dict[str, str] = {}
    for contact in result.results:
        email = email_normalize((contact.get("properties") or {}).get("email") or "")
        if email in by_email:
            created[email] = str(contact.get("id"))
    failed: dict[str, str] = {}  # email → permanent error
    conflicts = False
    for error in result.errors:
        if _is_conflict(error) or result.status == 409:
            conflicts = True
            continue
        item = next((by_trace[s] for s in error_subjects(error) if s in by_trace), None)
        if item is None:
            item = next((by_email[email_normalize(s)] for s in error_subjects(error) if email_normalize(s) in by_email), None)
        if item is not None and item.payload["email"] not in created:
            failed[item.payload["email"]] = str(error.get("message") or error.get("category") or error)[:500]

    unresolved = [e for e in by_email if e not in created and e not in failed]
    lookup = Lookup()
    if unresolved and (conflicts or result.errors):
        lookup = contacts_lookup(client=ctx.client, emails=unresolved)

    with transaction.atomic():
        links: dict[str, tuple[str, str]] = {}
        pushed = {email: (cid, by_email[email].payload["pushed"]) for email, cid in created.items()}
        existing = dict(lookup.primary)
        for email, cid in existing.items():
            links[email] = (ContactState.LINKED, cid)
        for email, cid in lookup.secondary.items():
            links[email] = (ContactState.SECONDARY_EMAIL, cid)
            ctx.report.skip(
                kind="person",
                reason=SkipReason.SECONDARY_EMAIL,
                subject=email,
                detail=f"HubSpot contact {cid} holds this address as a secondary email (R13)",
            )
        links_save(portal=ctx.portal, changes=links)
        _links_pushed(portal=ctx.portal, pushed=pushed)
        outbox_mark_sent(items=[by_email[e] for e in created])
        outbox_mark_sent(items=[by_email[e] for e in existing], note="not created: contact already exists")
        outbox_mark_sent(items=[by_email[e] for e in lookup.secondary], note="not created: secondary email (R13)")
        for email, message in failed.items():
            outbox_mark_failed(item=by_email[email], error=message, report=ctx.report)
        left = [by_email[e] for e in unresolved if e not in existing and e not in lookup.secondary]
        if left:
            hint = next((str(e.get("message")) for e in result.errors), "no result for this contact")
            outbox_mark_retry(items=left, error=hint, report=ctx.report)
        ctx.report.contacts_created += len(created)
        if ctx.on_linked is not None:
            ctx.on_linked({**created, **existing}, set(existing))


# --- updates -------------------------------------------------------------------------


def contact_update_items(
    *, portal: Portal, run: SyncRun | None, wanted: dict[str, tuple[str, dict[str, str], dict[str, str]]]
) -> list[OutboxItem]:
    """Property updates for linked contacts whose values changed: {email: (contact_id,
    desired, last pushed)}. The dedupe key names the transition (pushed → desired), so a
    re-run enqueues nothing new; a transition seen before (values that went A → B → A → B)
    gets a numbered key so it is still sent."""
    if not wanted:
        return []
    keyed: dict[str, tuple[str, str, dict[str, str]]] = {}
    for email, (cid, desired, pushed) in wanted.items():
        if desired == pushed:
            continue
        keyed[_update_key(email, pushed, desired)] = (email, cid, desired)
    if not keyed:
        return []
    existing = dict(
        OutboxItem.objects.filter(portal=portal, kind=OutboxKind.CONTACT_UPDATE, dedupe_key__in=list(keyed)).values_list(
            "dedupe_key", "status"
        )
    )
    # An older pending update for the same contact is replaced by this one (never sent stale).
    emails_with_new = [email for key, (email, _, _) in keyed.items() if key not in existing]
    if emails_with_new:
        OutboxItem.objects.filter(
            portal=portal, kind=OutboxKind.CONTACT_UPDATE, status="pending", payload__email__in=emails_with_new
        ).exclude(dedupe_key__in=list(keyed)).delete()
    items: list[OutboxItem] = []
    for key, (email, cid, desired) in keyed.items():
        status = existing.get(key)
        if status == "sent":
            # The same transition again after other values were pushed in between.
            n = 1
            while OutboxItem.objects.filter(
                portal=portal, kind=OutboxKind.CONTACT_UPDATE, dedupe_key=f"{key}#{n}", status__in=["sent", "failed"]
            ).exists():
                n += 1
            key = f"{key}#{n}"
        elif status == "failed":
            continue  # a permanent error: reported once, not retried blindly every sync
        items.append(
            OutboxItem(
                portal=portal,
                kind=OutboxKind.CONTACT_UPDATE,
                dedupe_key=key,
                sync_run=run,
                payload={"email": email, "id": cid, "properties": desired},
            )
        )
    return items


def _update_key(email: str, pushed: dict[str, str], desired: dict[str, str]) -> str:
    import hashlib

    digest = hashlib.sha256(
        (json.dumps(pushed, sort_keys=True) + ">" + json.dumps(desired, sort_keys=True)).encode()
    ).hexdigest()[:24]
    return f"{email}|{digest}"[:255]


def contacts_update_send(*, ctx: PushContext, items: list[OutboxItem]) -> None:
    """Send one batch of property updates (by record id, never by email: HubSpot refuses
    batch updates by a non-unique property). A contact gone meanwhile is R14."""
    # One input per contact: HubSpot rejects a batch naming the same record twice.
    latest: dict[str, OutboxItem] = {}
    for item in items:
        latest[item.payload["id"]] = item
    dropped = [i for i in items if latest[i.payload["id"]] is not i]
    batch = list(latest.values())
    try:
        result = ctx.client.contacts_batch_update(
            [{"id": i.payload["id"], "properties": i.payload["properties"]} for i in batch]
        )
    except BadRequest as exc:
        with transaction.atomic():
            outbox_mark_sent(items=dropped, note="superseded by a later update")
        _bisect(ctx=ctx, items=batch, exc=exc, send=contacts_update_send)
        return
    done = {str(r.get("id")) for r in result.results}
    gone: set[str] = set()
    failed: dict[str, str] = {}
    for error in result.errors:
        subjects = error_subjects(error)
        category = str(error.get("category") or "")
        for cid in subjects & set(latest):
            if category == "OBJECT_NOT_FOUND" or "not found" in str(error.get("message", "")).lower():
                gone.add(cid)
            else:
                failed[cid] = str(error.get("message") or category)[:500]
    with transaction.atomic():
        sent = [latest[c] for c in done if c in latest]
        _links_pushed(
            portal=ctx.portal, pushed={i.payload["email"]: (i.payload["id"], i.payload["properties"]) for i in sent}
        )
        outbox_mark_sent(items=sent)
        outbox_mark_sent(items=dropped, note="superseded by a later update")
        ctx.report.contacts_updated += len(sent)
        if gone:
            links_save(portal=ctx.portal, changes={latest[c].payload["email"]: (ContactState.DELETED, c) for c in gone})
            outbox_mark_sent(items=[latest[c] for c in gone], note="contact deleted in HubSpot (R14)")
            for cid in gone:
                ctx.report.skip(kind="person", reason=SkipReason.DELETED_CONTACT, subject=latest[cid].payload["email"])
        for cid, message in failed.items():
            outbox_mark_failed(item=latest[cid], error=message, report=ctx.report)
        left = [latest[c] for c in latest if c not in done and c not in gone and c not in failed]
        if left:
            outbox_mark_retry(items=left, error="no result for this contact", report=ctx.report)


def emails_of(items: Iterable[OutboxItem]) -> list[str]:
    return [i.payload["email"] for i in items]


__all__ = [
    "PushContext",
    "account_user_emails",
    "contact_create_item",
    "contact_update_items",
    "contacts_create_send",
    "contacts_lookup",
    "contacts_update_send",
    "desired_properties",
    "existing_contact_id",
    "links_save",
]
