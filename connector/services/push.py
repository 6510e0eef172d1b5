"""Push: our database → HubSpot, through the outbox (issue 4, items 4–5).

`portal_push` runs after E1's pull and compute (PersonStats are written). It

1. makes sure the property group, the four properties and the event templates exist;
2. walks PersonStats in chunks of 100 (memory-flat): account users are skipped (R12), the
   rest are read by email in one batch call per chunk — a primary match is linked, a
   secondary match skipped (R13), a contact that vanished after we linked it is deleted
   (R14); people not found go to a buffer that is read again with archived=true in full
   batches of 100 (R14: deleted contacts are never recreated), and the rest are queued as
   creates unless their domain is excluded (R7);
3. queues property updates only for values that changed since last pushed, and the
   registration/attendance events of every linked person, on each event sink;
4. sends the outbox in batches of 100 by kind: creates and updates as soon as 100 are
   pending (so contact ids are known early), events once everyone is resolved.

Every write is an outbox row before it is sent, so a crash at any point is resumed by the
next run from the pending rows, and deterministic keys mean nothing is sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from connector.clients.factories import before_push, hubspot_client_for
from connector.clients.hubspot import HubSpotClient
from connector.models import (
    ContactLink,
    ContactState,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    PersonStats,
    Portal,
    PortalSyncState,
    SkipReason,
    SyncRun,
)
from connector.services.compute import synced_webinars_of
from connector.services.contacts import (
    PushContext,
    account_user_emails,
    contact_create_item,
    contact_update_items,
    contacts_create_send,
    contacts_lookup,
    contacts_update_send,
    desired_properties,
    links_save,
)
from connector.services.erasure import erased_among
from connector.services.events import (
    app_events_send,
    event_outbox_items,
    marketing_events_send,
    marketing_participations_send,
    person_events_build,
    timeline_events_send,
)
from connector.services.hubspot_schema import HubSpotSchema, hubspot_schema_ensure
from connector.services.outbox import BATCH_SIZE, outbox_batches, outbox_enqueue, outbox_supersede
from connector.services.recordings import recording_outbox_items
from connector.services.registration_answers import AnswerWriter
from connector.services.sanitize import email_is_valid

if TYPE_CHECKING:
    from connector.selectors import SyncRules
    from connector.services.report import SyncReport

logger = logging.getLogger("zoomsync.push")

CHUNK = 100


def portal_push(
    *,
    portal: Portal,
    run: SyncRun | None,
    report: SyncReport,
    rules: SyncRules,
    progress: Callable[[str, int, int], None] | None = None,
    client: HubSpotClient | None = None,
    emails: frozenset[str] | None = None,
    recheck: bool = True,
) -> None:
    """Push the portal's PersonStats to HubSpot by every person-level rule: everyone, or
    only `emails` (B2: the people who changed). `recheck` lists the HubSpot definitions and
    account users again; otherwise those remembered from the last check are used (B2).
    With nobody to push and nothing pending in the outbox, no HubSpot call is made."""
    pending = OutboxItem.objects.filter(portal=portal, status=OutboxStatus.PENDING)
    before_push(portal=portal)  # a wired connection hook may refuse it (none in production)
    if emails is not None and not emails and not recheck and not pending.exists():
        return  # B2: nothing changed, nothing to send
    client = client or hubspot_client_for(portal)
    push = _PortalPush(
        ctx=PushContext(portal=portal, client=client, report=report, rules=rules, run=run),
        progress=progress,
        emails=emails,
        recheck=recheck,
    )
    push.run()


# What a person's link remembers, as the skip the report counts (B2: people not looked at
# again in this run are still reported with the reason they were skipped for).
LINK_SKIPS = {
    ContactState.ACCOUNT_USER: SkipReason.ACCOUNT_USER,  # R12
    ContactState.SECONDARY_EMAIL: SkipReason.SECONDARY_EMAIL,  # R13
    ContactState.DELETED: SkipReason.DELETED_CONTACT,  # R14
    ContactState.NOT_CREATED: SkipReason.INTERNAL_DOMAIN,  # R7
}


def link_skips_report(*, portal: Portal, report: SyncReport) -> None:
    """Count the people skipped by a person-level rule as their links remember it (each
    person once per run: those the push just resolved are already counted)."""
    links = (
        ContactLink.objects.filter(portal=portal, state__in=list(LINK_SKIPS))
        .filter(email__in=PersonStats.objects.filter(portal=portal).values("email"))
        .order_by("email")
        .values_list("email", "state", "contact_id")
    )
    for email, state, contact_id in links.iterator(chunk_size=2000):
        detail = ""
        if state == ContactState.SECONDARY_EMAIL and contact_id:
            detail = f"HubSpot contact {contact_id} holds this address as a secondary email (R13)"
        elif state == ContactState.DELETED and contact_id:
            detail = f"HubSpot contact {contact_id} was deleted (R14)"
        report.skip(kind="person", reason=LINK_SKIPS[ContactState(state)], subject=email, detail=detail)


class _PortalPush:
    def __init__(
        self,
        *,
        ctx: PushContext,
        progress: Callable[[str, int, int], None] | None,
        emails: frozenset[str] | None = None,
        recheck: bool = True,
    ) -> None:
        self.ctx = ctx
        self.emails = emails
        self.recheck = recheck
        self.portal = ctx.portal
        self.progress = progress
        self.sinks = tuple(ctx.rules.event_sinks) or ("timeline",)
        self.webinars = synced_webinars_of(portal=ctx.portal)
        self.schema = HubSpotSchema()
        self.account_users: frozenset[str] = frozenset()
        self.archived_buffer: list[PersonStats] = []
        self._cursor = 0  # B2: the run's push_after_pk as last stored
        # B6: registrants' answers to the mapped contact properties (inactive when off).
        self.answers = AnswerWriter.for_portal(portal=ctx.portal)
        ctx.on_linked = self._linked

    # --- the run ---------------------------------------------------------------------

    def run(self) -> None:
        self._schema_and_users()
        people = PersonStats.objects.filter(portal=self.portal)
        if self.emails is not None:
            people = people.filter(email__in=self.emails)  # B2: only who changed
        total = people.count()
        # B2: a run continued after its worker died starts after the people it had handled.
        last_pk = self._cursor = self.ctx.run.push_after_pk if self.ctx.run is not None else 0
        done = people.filter(pk__lte=last_pk).count() if last_pk else 0
        self._report_progress(done, total)
        while True:
            chunk = list(people.filter(pk__gt=last_pk).order_by("pk")[:CHUNK])
            if not chunk:
                break
            last_pk = chunk[-1].pk
            self._chunk_resolve(chunk)
            self._archived_flush(force=False)
            self._contacts_flush(full_only=True)
            self._cursor_save(last_pk)
            done += len(chunk)
            self._report_progress(done, total)
        self._archived_flush(force=True)
        self._contacts_flush(full_only=False)
        self._events_flush()

    def _cursor_save(self, last_pk: int) -> None:
        """Everyone up to here has their link and their outbox rows stored, except the people
        still waiting for the archived look-up (in memory): the cursor stops before them."""
        if self.ctx.run is None:
            return
        cursor = min(s.pk for s in self.archived_buffer) - 1 if self.archived_buffer else last_pk
        if cursor > self._cursor:
            self._cursor = cursor
            SyncRun.objects.filter(pk=self.ctx.run.pk).update(push_after_pk=cursor)

    def _schema_and_users(self) -> None:
        """The property group, properties and templates (created when missing) and the
        account's users (R12): checked when `recheck`, else as remembered (B2)."""
        state, _ = PortalSyncState.objects.get_or_create(portal=self.portal)
        fingerprint = ",".join(sorted(self.sinks))
        if not self.recheck and state.checked_at is not None and state.schema_fingerprint == fingerprint:
            self.schema = HubSpotSchema(template_ids=dict(state.template_ids))
            self.account_users = frozenset(state.account_users)
            return
        self.schema = hubspot_schema_ensure(client=self.ctx.client, event_sinks=self.sinks)
        self.account_users = account_user_emails(client=self.ctx.client)
        PortalSyncState.objects.filter(pk=state.pk).update(
            schema_fingerprint=fingerprint,
            template_ids=self.schema.template_ids,
            account_users=sorted(self.account_users),
            checked_at=timezone.now(),
        )

    def _report_progress(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress("push", done, total)

    # --- resolution ------------------------------------------------------------------

    def _chunk_resolve(self, chunk: list[PersonStats]) -> None:
        report, rules = self.ctx.report, self.ctx.rules
        stats_by_email = {s.email: s for s in chunk}
        links = {link.email: link for link in ContactLink.objects.filter(portal=self.portal, email__in=list(stats_by_email))}
        changes: dict[str, tuple[str, str]] = {}
        to_read: list[str] = []
        known: dict[str, str] = {}  # linked people not read again: {email: contact id}
        for email in stats_by_email:
            link = links.get(email)
            if email in self.account_users:
                # R12: never created, never updated, no events.
                report.skip(kind="person", reason=SkipReason.ACCOUNT_USER, subject=email)
                changes[email] = (ContactState.ACCOUNT_USER, links[email].contact_id if email in links else "")
            elif not email_is_valid(email):  # not an email address: reported, never created
                report.skip(kind="person", reason=SkipReason.INVALID_EMAIL, subject=email)
            elif link is not None and self._read_skippable(link):
                known[email] = link.contact_id
            else:
                to_read.append(email)
        lookup = contacts_lookup(client=self.ctx.client, emails=to_read, extra_properties=self.answers.read_properties)
        for email, cid in lookup.secondary.items():
            # R13: a registration made with a contact's secondary email: no event, no contact.
            report.skip(
                kind="person",
                reason=SkipReason.SECONDARY_EMAIL,
                subject=email,
                detail=f"HubSpot contact {cid} holds this address as a secondary email (R13)",
            )
            changes[email] = (ContactState.SECONDARY_EMAIL, cid)
        for email in lookup.missing:
            link = links.get(email)
            if link is not None and link.contact_id and link.state in (ContactState.LINKED, ContactState.DELETED):
                # R14, our own record: we linked this person once and the contact is gone.
                report.skip(
                    kind="person",
                    reason=SkipReason.DELETED_CONTACT,
                    subject=email,
                    detail=f"HubSpot contact {link.contact_id} was deleted (R14)",
                )
                changes[email] = (ContactState.DELETED, link.contact_id)
            elif rules.contact_domain_excluded(email):
                # R7: no new contact for the company's own people (an existing one is updated).
                report.skip(kind="person", reason=SkipReason.INTERNAL_DOMAIN, subject=email)
                changes[email] = (ContactState.NOT_CREATED, "")
            else:
                self.archived_buffer.append(stats_by_email[email])
        for email, cid in lookup.primary.items():
            changes[email] = (ContactState.LINKED, cid)
        with transaction.atomic():
            links_save(portal=self.portal, changes=changes)
            # A create queued by a run that crashed after HubSpot made the contact: done.
            outbox_supersede(
                portal=self.portal,
                kind=OutboxKind.CONTACT_CREATE,
                dedupe_keys=list(lookup.primary),
                note="not created: contact found by email",
            )
            self._linked(
                dict(lookup.primary), set(lookup.primary), stats=stats_by_email, links=links, current=lookup.properties
            )
            # Linked people not read again keep their contact: only what they are sent.
            self._linked(known, set(known), stats=stats_by_email, links=links, current={})

    def _read_skippable(self, link: ContactLink) -> bool:
        """A targeted push (B2: only who changed) does not read again a person already linked
        to a contact: HubSpot reports deletions and merges by webhook (B3, R14), a contact
        deleted unseen fails its next update and is marked then, and the full reconciliation still
        reads everyone. Not when the push needs the contact's current values (B6 answers)."""
        return (
            self.emails is not None  # R14: a full push reads everyone
            and not self.answers.read_properties  # B6
            and link.state == ContactState.LINKED
            and bool(link.contact_id)
        )

    def _archived_flush(self, *, force: bool) -> None:
        """R14: people not found by email are looked up among archived (deleted) contacts,
        in full batches of 100; whoever is not there either is queued for creation."""
        while len(self.archived_buffer) >= BATCH_SIZE or (force and self.archived_buffer):
            batch, self.archived_buffer = self.archived_buffer[:BATCH_SIZE], self.archived_buffer[BATCH_SIZE:]
            emails = [s.email for s in batch]
            lookup = contacts_lookup(client=self.ctx.client, emails=emails, archived=True)
            deleted = {**lookup.primary, **lookup.secondary}
            created_before = set(
                OutboxItem.objects.filter(
                    portal=self.portal, kind=OutboxKind.CONTACT_CREATE, dedupe_key__in=emails, status=OutboxStatus.SENT
                ).values_list("dedupe_key", flat=True)
            )
            created_before |= erased_among(portal=self.portal, emails=emails)  # R14: erased on request
            changes: dict[str, tuple[str, str]] = {}
            creates: list[OutboxItem] = []
            answers = self.answers.properties_for(emails=emails, current={}, pushed={}, new=True)  # B6
            for stats in batch:
                if stats.email in deleted or stats.email in created_before:
                    # Deleted in HubSpot (archived), or we created it once and it is gone for
                    # good (e.g. a GDPR delete): never recreated.
                    self.ctx.report.skip(kind="person", reason=SkipReason.DELETED_CONTACT, subject=stats.email)
                    changes[stats.email] = (ContactState.DELETED, deleted.get(stats.email, ""))
                else:
                    creates.append(
                        contact_create_item(
                            portal=self.portal, run=self.ctx.run, stats=stats, extra=answers.get(stats.email)
                        )
                    )
            with transaction.atomic():
                links_save(portal=self.portal, changes=changes)
                outbox_enqueue(items=creates)

    # --- what a linked person gets -----------------------------------------------------

    def _linked(
        self,
        contacts: dict[str, str],
        need_update: set[str],
        *,
        stats: dict[str, PersonStats] | None = None,
        links: dict[str, ContactLink] | None = None,
        current: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """Queue the property update (when values changed) and the events of people just
        linked to a contact. Runs inside the caller's transaction."""
        if not contacts:
            return
        if need_update:
            if stats is None:
                stats = {s.email: s for s in PersonStats.objects.filter(portal=self.portal, email__in=list(need_update))}
            if links is None:
                links = {
                    link.email: link for link in ContactLink.objects.filter(portal=self.portal, email__in=list(need_update))
                }
            pushed = {e: links[e].pushed_properties if e in links else {} for e in need_update}
            # B6: answers for mapped properties the contact has empty, in the same update.
            answers = self.answers.properties_for(emails=need_update, current=current or {}, pushed=pushed)
            wanted = {
                email: (
                    contacts[email],
                    {**desired_properties(stats[email]), **answers.get(email, {})},
                    pushed[email],
                )
                for email in need_update
                if email in stats
            }
            outbox_enqueue(items=contact_update_items(portal=self.portal, run=self.ctx.run, wanted=wanted))
        facts = person_events_build(
            portal=self.portal,
            webinars=self.webinars,
            contacts=contacts,
            with_cancelled="marketing_events" in self.sinks,
        )
        outbox_enqueue(items=event_outbox_items(portal=self.portal, run=self.ctx.run, facts=facts, sinks=self.sinks))
        # R20 (issue 5): recording events of the same people, on the sinks that carry them.
        outbox_enqueue(
            items=recording_outbox_items(
                portal=self.portal,
                run=self.ctx.run,
                webinars=self.webinars,
                contacts=contacts,
                rules=self.ctx.rules,
                sinks=self.sinks,
            )
        )

    # --- sending -----------------------------------------------------------------------

    def _contacts_flush(self, *, full_only: bool) -> None:
        for batch in outbox_batches(portal=self.portal, kind=OutboxKind.CONTACT_CREATE, full_only=full_only):
            contacts_create_send(ctx=self.ctx, items=batch)
        for batch in outbox_batches(portal=self.portal, kind=OutboxKind.CONTACT_UPDATE, full_only=full_only):
            contacts_update_send(ctx=self.ctx, items=batch)

    def _events_flush(self) -> None:
        for batch in outbox_batches(portal=self.portal, kind=OutboxKind.TIMELINE_EVENT):
            timeline_events_send(ctx=self.ctx, items=batch, template_ids=self.schema.template_ids)
        for batch in outbox_batches(portal=self.portal, kind=OutboxKind.APP_EVENT):
            app_events_send(ctx=self.ctx, items=batch)
        for batch in outbox_batches(portal=self.portal, kind=OutboxKind.MARKETING_EVENT):
            marketing_events_send(ctx=self.ctx, items=batch)
        self._participations_flush()

    def _participations_flush(self) -> None:
        """Participations go by (marketing event, state): group pending rows that way."""
        while True:
            head = (
                OutboxItem.objects.filter(
                    portal=self.portal, kind=OutboxKind.MARKETING_PARTICIPATION, status=OutboxStatus.PENDING
                )
                .order_by("id")
                .first()
            )
            if head is None:
                return
            external_id, state = head.payload["externalEventId"], head.payload["state"]
            prefix = f"{external_id}|{state}|"
            batch = list(
                OutboxItem.objects.filter(
                    portal=self.portal,
                    kind=OutboxKind.MARKETING_PARTICIPATION,
                    status=OutboxStatus.PENDING,
                    dedupe_key__startswith=prefix,
                ).order_by("id")[:BATCH_SIZE]
            )
            marketing_participations_send(ctx=self.ctx, items=batch)
