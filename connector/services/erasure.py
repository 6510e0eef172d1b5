"""Erasure of personal data (B3, B4): a person of a portal, a Zoom account, a whole portal.

`person_erase` removes a person from every table: registrant and participant rows, the
registrations the connector made (R17), computed stats, the contact link, outbox payloads,
skip records, and (through the signals below) the workflow action's records and the
settings audit log. Only a keyed hash of the email stays (ErasedPerson), never the email
itself, so the sync recognises the person when Zoom lists them again and never creates
their contact again (R14).

The core never imports an outer app: the workflows and settings apps erase their own rows
in receivers of `person_erasing`, `zoom_account_erasing` and `retention_pruning`, each
returning a {table: rows} dict that is added to the result.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.crypto import salted_hmac

from connector.models import (
    ConnectionStatus,
    ContactLink,
    DirtyPerson,
    ErasedPerson,
    ExternalRegistration,
    OutboxItem,
    ParticipantRow,
    PersonStats,
    Portal,
    PortalSyncSettings,
    Registrant,
    SkipRecord,
    SyncRun,
    SyncRunPart,
    Webinar,
    ZoomAccount,
    ZoomUser,
    ZoomUserSetting,
)
from connector.models.inbox import WebhookEvent

logger = logging.getLogger("zoomsync.erasure")

ERASED = "[erased]"
_HASH_SALT = "zoomsync.erasure.email"

# Receivers: fn(sender, *, portal, email, contact_id, email_hash) -> dict[str, int]
person_erasing = Signal()
# Receivers: fn(sender, *, account) -> dict[str, int]
zoom_account_erasing = Signal()
# Receivers: fn(sender, *, cutoff) -> dict[str, int]
retention_pruning = Signal()


@dataclass
class ErasureResult:
    """What an erasure changed: rows deleted or scrubbed, per table."""

    counts: dict[str, int] = field(default_factory=dict)
    email_hash: str = ""

    def add(self, table: str, rows: int) -> None:
        if rows:
            self.counts[table] = self.counts.get(table, 0) + rows

    def merge(self, counts: object) -> None:
        """Add a receiver's {table: rows} answer (anything else is ignored)."""
        if isinstance(counts, dict):
            for table, rows in counts.items():
                self.add(str(table), int(rows))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def email_hash_of(*, portal: Portal, email: str) -> str:
    """A keyed hash of a (normalised) email, per portal: not reversible without SECRET_KEY."""
    normalised = email.strip().lower()
    return salted_hmac(_HASH_SALT, f"{portal.pk}:{normalised}", algorithm="sha256").hexdigest()


def erased_among(*, portal: Portal, emails: Iterable[str]) -> set[str]:
    """Which of these emails belong to people erased on request (R14: never created again)."""
    by_hash = {email_hash_of(portal=portal, email=e): e for e in emails if e}
    if not by_hash:
        return set()
    found = ErasedPerson.objects.filter(portal=portal, email_hash__in=list(by_hash)).values_list(
        "email_hash", flat=True
    )
    return {by_hash[h] for h in found}


def json_scrub(value: Any, needles: Iterable[str]) -> tuple[Any, bool]:
    """`value` with every string mentioning one of `needles` (case-insensitive) replaced by
    "[erased]" and list items equal to a needle dropped; also whether anything changed."""
    lowered = [n.lower() for n in needles if n]
    if not lowered:
        return value, False

    def walk(node: Any) -> tuple[Any, bool]:
        if isinstance(node, str):
            low = node.lower()
            return (ERASED, True) if any(n in low for n in lowered) else (node, False)
        if isinstance(node, list):
            out: list[Any] = []
            changed = False
            for item in node:
                if isinstance(item, str) and item.lower() in lowered:
                    changed = True
                    continue
                new, c = walk(item)
                out.append(new)
                changed = changed or c
            return out, changed
        if isinstance(node, dict):
            result: dict[Any, Any] = {}
            changed = False
            for key, item in node.items():
                new_key, ck = walk(key) if isinstance(key, str) else (key, False)
                new, c = walk(item)
                result[new_key] = new
                changed = changed or c or ck
            return result, changed
        return node, False

    return walk(value)


def _json_mentions(value: Any, *, email: str, contact_id: str) -> bool:
    """Does a payload name the person (their email anywhere, their contact id as an id)?"""
    if isinstance(value, str):
        return bool(email) and email in value.lower()
    if isinstance(value, list):
        return any(_json_mentions(v, email=email, contact_id=contact_id) for v in value)
    if isinstance(value, dict):
        for key, item in value.items():
            if contact_id and key in ("objectId", "id", "contactId", "vid") and str(item) == contact_id:
                return True
            if _json_mentions(item, email=email, contact_id=contact_id):
                return True
    return False


def _emails_of(*, portal: Portal, email: str | None, contact_id: str | None) -> tuple[set[str], str]:
    emails: set[str] = set()
    if email and email.strip():
        emails.add(email.strip().lower())
    cid = str(contact_id or "").strip()
    if cid:
        emails.update(
            e.lower()
            for e in ContactLink.objects.filter(portal=portal, contact_id=cid).values_list("email", flat=True)
        )
    elif emails:
        # Asked by email: the contact id we linked it to names the person in payloads too.
        cid = next(
            iter(
                ContactLink.objects.filter(portal=portal, email__in=list(emails))
                .exclude(contact_id="")
                .values_list("contact_id", flat=True)
            ),
            "",
        )
    return emails, cid


def person_erase(
    *, portal: Portal, email: str | None = None, contact_id: str | None = None
) -> ErasureResult:
    """Erase a person (by email, by HubSpot contact id, or both) from every table of the
    portal (B3). A keyed hash of each of their emails stays so they are never recreated."""
    if not (email and email.strip()) and not str(contact_id or "").strip():
        raise ValueError("person_erase needs an email or a contact id")
    emails, cid = _emails_of(portal=portal, email=email, contact_id=contact_id)
    result = ErasureResult()
    with transaction.atomic():
        for address in sorted(emails):
            email_hash = email_hash_of(portal=portal, email=address)
            result.email_hash = result.email_hash or email_hash
            _, created = ErasedPerson.objects.get_or_create(portal=portal, email_hash=email_hash)
            result.add("erased person", int(created))
            _person_rows_erase(portal=portal, email=address, contact_id=cid, result=result)
        if cid and not emails:
            # Only the contact id is known (we never linked an email to it): its payloads.
            _outbox_erase(portal=portal, email="", contact_id=cid, result=result)
        for address in sorted(emails) or [""]:
            for _receiver, counts in person_erasing.send(
                sender=Portal,
                portal=portal,
                email=address,
                contact_id=cid,
                email_hash=email_hash_of(portal=portal, email=address) if address else "",
            ):
                result.merge(counts)
    logger.info("person erased", extra={"hub_id": portal.hub_id, "rows": result.total})
    return result


def _person_rows_erase(*, portal: Portal, email: str, contact_id: str, result: ErasureResult) -> None:
    webinars = Webinar.objects.filter(account__portal=portal)
    registrants = Registrant.objects.filter(webinar__in=webinars, email__iexact=email)
    registrant_ids = list(registrants.values_list("registrant_id", flat=True))
    result.add("registrant", registrants.delete()[0])
    participants = ParticipantRow.objects.filter(session__webinar__in=webinars).filter(
        Q(email__iexact=email) | Q(registrant_id__in=[r for r in registrant_ids if r])
    )
    result.add("participant row", participants.delete()[0])
    result.add("person stats", PersonStats.objects.filter(portal=portal, email__iexact=email).delete()[0])
    result.add("contact link", ContactLink.objects.filter(portal=portal, email__iexact=email).delete()[0])
    result.add("dirty person", DirtyPerson.objects.filter(portal=portal, email__iexact=email).delete()[0])
    result.add(
        "external registration",
        ExternalRegistration.objects.filter(portal=portal, email__iexact=email).delete()[0],
    )
    # Webhook deliveries naming the person: their bodies go (the row and its dedupe key stay).
    result.add(
        "webhook event",
        WebhookEvent.objects.filter(portal=portal, raw_body__icontains=email).update(raw_body="{}"),
    )
    _outbox_erase(portal=portal, email=email, contact_id=contact_id, result=result)
    runs = SyncRun.objects.filter(portal=portal)
    skips = SkipRecord.objects.filter(sync_run__in=runs).filter(
        Q(subject__iexact=email) | Q(detail__icontains=email)
    )
    result.add("skip record", skips.delete()[0])
    for run in runs.only("pk", "report", "progress", "error"):
        report, c1 = json_scrub(run.report, [email])
        progress, c2 = json_scrub(run.progress, [email])
        error, c3 = json_scrub(run.error, [email])
        if c1 or c2 or c3:
            SyncRun.objects.filter(pk=run.pk).update(report=report, progress=progress, error=error)
            result.add("sync run", 1)
    for part in SyncRunPart.objects.filter(sync_run__in=runs).only("pk", "state"):
        state, changed = json_scrub(part.state, [email])
        if changed:
            SyncRunPart.objects.filter(pk=part.pk).update(state=state)
            result.add("sync run part", 1)
    # The person may also be a Zoom user of a connected account (a host).
    accounts = ZoomAccount.objects.filter(portal=portal)
    result.add("zoom user", ZoomUser.objects.filter(account__in=accounts, email__iexact=email).delete()[0])
    result.add("zoom user setting", ZoomUserSetting.objects.filter(portal=portal, email__iexact=email).delete()[0])
    result.add("webinar", webinars.filter(host_email__iexact=email).update(host_email=""))
    for webinar in webinars.exclude(alternative_hosts=[]).only("pk", "alternative_hosts"):
        hosts, changed = json_scrub(webinar.alternative_hosts, [email])
        if changed:
            Webinar.objects.filter(pk=webinar.pk).update(alternative_hosts=hosts)
            result.add("webinar", 1)
    result.add(
        "zoom account", accounts.filter(connected_user_email__iexact=email).update(connected_user_email="")
    )
    for sync_settings in PortalSyncSettings.objects.filter(portal=portal):
        selected, changed = json_scrub(sync_settings.selected_users, [email])
        if changed:
            PortalSyncSettings.objects.filter(pk=sync_settings.pk).update(selected_users=selected)
            result.add("sync settings", 1)
    result.add(
        "portal",
        Portal.objects.filter(pk=portal.pk, installed_by_hubspot_email__iexact=email).update(
            installed_by_hubspot_email=""
        ),
    )


def _outbox_erase(*, portal: Portal, email: str, contact_id: str, result: ErasureResult) -> None:
    doomed = [
        item.pk
        for item in OutboxItem.objects.filter(portal=portal).only("pk", "payload", "dedupe_key").iterator()
        if _json_mentions(item.payload, email=email, contact_id=contact_id)
        or (email and email in item.dedupe_key.lower())
    ]
    if doomed:
        result.add("outbox item", OutboxItem.objects.filter(pk__in=doomed).delete()[0])


def _zoom_account_data_erase(*, account: ZoomAccount, result: ErasureResult) -> None:
    """Everything pulled or received through a Zoom account: the other apps' rows (signal),
    its users and webinars (with their registrants, sessions, participants and recordings),
    and the bodies of its webhook deliveries (the rows and their dedupe keys stay)."""
    for _receiver, counts in zoom_account_erasing.send(sender=ZoomAccount, account=account):
        result.merge(counts)
    # Registrations the connector made in that account (R17) go with its registrants.
    result.add("external registration", ExternalRegistration.objects.filter(zoom_account=account).delete()[0])
    for queryset in (ZoomUser.objects.filter(account=account), Webinar.objects.filter(account=account)):
        _deleted, per_model = queryset.delete()
        for label, rows in per_model.items():
            result.add(label.rsplit(".", 1)[-1].lower(), rows)
    result.add(
        "webhook event",
        WebhookEvent.objects.filter(zoom_account=account).exclude(raw_body="{}").update(raw_body="{}"),
    )


def zoom_account_erase(*, account: ZoomAccount) -> ErasureResult:
    """The account, its tokens and everything pulled through it are deleted (an uninstalled
    portal's erasure)."""
    result = ErasureResult()
    with transaction.atomic():
        _zoom_account_data_erase(account=account, result=result)
        _deleted, per_model = account.delete()
        for label, rows in per_model.items():
            result.add(label.rsplit(".", 1)[-1].lower(), rows)
    logger.info("zoom account erased", extra={"rows": result.total})
    return result


def zoom_account_deauthorize(*, account: ZoomAccount) -> ErasureResult:
    """A Zoom deauthorization (B4): the account's tokens and everything pulled through it go;
    the connection itself stays, shown as disconnected until an admin connects it again."""
    result = ErasureResult()
    with transaction.atomic():
        _zoom_account_data_erase(account=account, result=result)
        ZoomAccount.objects.filter(pk=account.pk).update(
            status=ConnectionStatus.UNINSTALLED, access_token="", refresh_token="", token_expires_at=None,
            status_detail="The Zoom app was removed from this Zoom account. Connect it again to sync it.",
        )
    logger.info("zoom account deauthorized and its data erased", extra={"rows": result.total})
    return result


def uninstall_grace() -> timedelta:
    return timedelta(days=settings.ZOOMSYNC_UNINSTALL_GRACE_DAYS)


class PortalStillInstalled(Exception):
    """The portal is installed, or was uninstalled less than the grace period ago."""


def portal_erase(*, portal: Portal, force: bool = False) -> ErasureResult:
    """A HubSpot uninstall (B4): after the grace period (ZOOMSYNC_UNINSTALL_GRACE_DAYS, so
    that an accidental uninstall can be undone by installing again), the portal and every
    row hanging off it are deleted. `force` skips the grace period, never the uninstall."""
    if portal.status != ConnectionStatus.UNINSTALLED or portal.uninstalled_at is None:
        raise PortalStillInstalled(f"{portal} is installed")
    if not force and portal.uninstalled_at > timezone.now() - uninstall_grace():
        raise PortalStillInstalled(f"{portal} was uninstalled less than the grace period ago")
    result = ErasureResult()
    with transaction.atomic():
        for account in ZoomAccount.objects.filter(portal=portal):
            result.merge(zoom_account_erase(account=account).counts)
        _, per_model = portal.delete()
        for label, rows in per_model.items():
            result.add(label.rsplit(".", 1)[-1].lower(), rows)
    logger.info("portal erased", extra={"rows": result.total})
    return result


def portals_erase_due(*, now: Any = None) -> int:
    """Erase every portal uninstalled longer ago than the grace period; how many."""
    cutoff = (now or timezone.now()) - uninstall_grace()
    due = Portal.objects.filter(status=ConnectionStatus.UNINSTALLED, uninstalled_at__lt=cutoff)
    erased = 0
    for portal in due:
        portal_erase(portal=portal)
        erased += 1
    return erased
