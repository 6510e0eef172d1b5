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

from connector.clients.hubspot import BatchResult, HubSpotClient, Outcome
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
from connector.services.outbox import Delivery, Mark, OutboxSender, outbox_send
from connector.services.sanitize import zoom_url_clean
from connector.services.sync_settings import email_normalize

if TYPE_CHECKING:
    from connector.selectors import SyncRules
    from connector.services.report import SyncReport

logger = logging.getLogger("zoomsync.push")

READ_PROPERTIES = ["email", "firstname", "lastname", "hs_additional_emails"]


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
    for found in result.of(Outcome.OK):
        contact = found.record
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
    for gone in result.of(Outcome.GONE):
        email = email_normalize(gone.key)
        if email in wanted and email not in lookup.primary and email not in lookup.secondary:
            lookup.missing.append(email)
    seen = set(lookup.primary) | set(lookup.secondary) | set(lookup.missing)
    # Emails neither returned nor named in an error: not found (HubSpot may just omit them).
    lookup.missing.extend(e for e in emails if e not in seen)
    lookup.missing = list(dict.fromkeys(lookup.missing))
    return lookup


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


class ContactCreateSender(OutboxSender):
    """Creates, keyed by `objectWriteTraceId` (the row's id), so HubSpot answers per input.

    A contact that already exists (DUPLICATE: created meanwhile, or the address is another
    contact's secondary email) is read back by email in one call and linked, or skipped
    (R13); one neither created nor found is retried."""

    def __init__(self, ctx: PushContext) -> None:
        self.ctx = ctx
        self.lookup = Lookup()

    def key(self, item: OutboxItem) -> str:
        return str(item.pk)

    def send(self, items: list[OutboxItem]) -> BatchResult:
        # `associations` is required by the spec (SimplePublicObjectInputForCreate), even empty.
        return self.ctx.client.contacts_batch_create(
            [{"properties": i.payload["properties"], "associations": [], "objectWriteTraceId": str(i.pk)} for i in items]
        )

    def prepare(self, deliveries: list[Delivery]) -> None:
        unresolved = [
            d.item.payload["email"] for d in deliveries if d.result.outcome in (Outcome.DUPLICATE, Outcome.RETRY)
        ]
        self.lookup = contacts_lookup(client=self.ctx.client, emails=unresolved)

    def apply(self, deliveries: list[Delivery]) -> None:
        ctx, lookup = self.ctx, self.lookup
        created: dict[str, str] = {}
        pushed: dict[str, tuple[str, dict[str, str]]] = {}
        links: dict[str, tuple[str, str]] = {}
        for d in deliveries:
            email = d.item.payload["email"]
            if d.result.outcome is Outcome.CREATED:
                created[email] = d.result.id
                pushed[email] = (d.result.id, d.item.payload["pushed"])
            elif d.result.outcome not in (Outcome.DUPLICATE, Outcome.RETRY):
                continue  # INVALID, GONE: failed, as marked
            elif email in lookup.primary:
                links[email] = (ContactState.LINKED, lookup.primary[email])
                d.mark, d.note = Mark.SENT, "not created: contact already exists"
            elif email in lookup.secondary:
                cid = lookup.secondary[email]
                links[email] = (ContactState.SECONDARY_EMAIL, cid)
                d.mark, d.note = Mark.SENT, "not created: secondary email (R13)"
                ctx.report.skip(  # R13
                    kind="person",
                    reason=SkipReason.SECONDARY_EMAIL,
                    subject=email,
                    detail=f"HubSpot contact {cid} holds this address as a secondary email (R13)",
                )
            else:
                d.mark = Mark.RETRY  # exists, but not found by its email yet: again later
        existing = {e: cid for e, (state, cid) in links.items() if state == ContactState.LINKED}
        links_save(portal=ctx.portal, changes=links)
        _links_pushed(portal=ctx.portal, pushed=pushed)
        ctx.report.contacts_created += len(created)
        if ctx.on_linked is not None:
            ctx.on_linked({**created, **existing}, set(existing))


def contacts_create_send(*, ctx: PushContext, items: list[OutboxItem]) -> None:
    """Send queued contact creates; link what was created or found to exist."""
    outbox_send(sender=ContactCreateSender(ctx), items=items, report=ctx.report)


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


class ContactUpdateSender(OutboxSender):
    """Property updates by record id, never by email (HubSpot refuses batch updates by a
    non-unique property). A contact gone meanwhile is R14: its link is marked deleted."""

    def __init__(self, ctx: PushContext) -> None:
        self.ctx = ctx

    def key(self, item: OutboxItem) -> str:
        return str(item.payload["id"])

    def send(self, items: list[OutboxItem]) -> BatchResult:
        return self.ctx.client.contacts_batch_update(
            [{"id": i.payload["id"], "properties": i.payload["properties"]} for i in items]
        )

    def apply(self, deliveries: list[Delivery]) -> None:
        ctx = self.ctx
        updated = [d.item for d in deliveries if d.result.outcome is Outcome.UPDATED]
        _links_pushed(
            portal=ctx.portal, pushed={i.payload["email"]: (i.payload["id"], i.payload["properties"]) for i in updated}
        )
        ctx.report.contacts_updated += len(updated)
        gone = [d for d in deliveries if d.result.outcome is Outcome.GONE]
        if gone:
            # R14: the contact was deleted in HubSpot; never recreated, nothing more sent to it.
            links_save(
                portal=ctx.portal,
                changes={d.item.payload["email"]: (ContactState.DELETED, d.item.payload["id"]) for d in gone},
            )
            for d in gone:
                d.mark, d.note = Mark.SENT, "contact deleted in HubSpot (R14)"
                ctx.report.skip(kind="person", reason=SkipReason.DELETED_CONTACT, subject=d.item.payload["email"])


def contacts_update_send(*, ctx: PushContext, items: list[OutboxItem]) -> None:
    """Send queued property updates (one per contact: the latest wins)."""
    outbox_send(sender=ContactUpdateSender(ctx), items=items, report=ctx.report)


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
    "links_save",
]
