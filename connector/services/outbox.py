"""The outbox: every intended HubSpot write is first a row here, then sent in batches.

- `outbox_enqueue` inserts with ignore_conflicts on (portal, kind, dedupe_key): a re-run that
  wants the same write again finds the row already there and enqueues nothing.
- `outbox_batches` hands out pending rows of one kind, oldest first, up to 100 at a time;
  the sender marks them sent in the same transaction as the ContactLink change it implies.
- `outbox_send` is the one way rows reach HubSpot, for every kind: chunks of at most 100,
  one input per key, the client's typed outcome of each input mapped to a mark (sent, failed,
  retry) in one transaction with what the kind records (links, report counts), and a batch
  HubSpot refuses as a whole split in halves until the bad inputs are found alone.
- A permanent per-item error marks the row FAILED with `last_error` (reported); an item that
  could not be resolved is retried a few times, then FAILED. Transient errors of a whole call
  (rate limits, 5xx, timeouts after the client's own retries) propagate: the rows stay PENDING
  and the next run (or the Celery retry) resumes from them. A crash anywhere loses nothing,
  and since a row is sent at most once after it is marked, nothing is sent twice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from connector.clients.errors import HubSpotErrorCode
from connector.clients.hubspot import BatchResult, ItemOutcome, Outcome
from connector.models import OutboxItem, OutboxStatus, Portal

if TYPE_CHECKING:
    from connector.services.report import SyncReport

BATCH_SIZE = 100  # HubSpot's limit for every batch endpoint we use
MAX_ATTEMPTS = 3  # tries for an item HubSpot neither accepted nor rejected with a reason
ENQUEUE_CHUNK = 500


def outbox_enqueue(*, items: Iterable[OutboxItem]) -> None:
    """Insert intended writes; rows whose (portal, kind, dedupe_key) exists are ignored."""
    items = list(items)
    if items:
        OutboxItem.objects.bulk_create(items, ignore_conflicts=True, batch_size=ENQUEUE_CHUNK)


def outbox_pending_count(*, portal: Portal, kind: str) -> int:
    return OutboxItem.objects.filter(portal=portal, kind=kind, status=OutboxStatus.PENDING).count()


def outbox_batches(
    *, portal: Portal, kind: str, full_only: bool = False, size: int = BATCH_SIZE, order_by: tuple[str, ...] = ("id",)
) -> Iterator[list[OutboxItem]]:
    """Pending rows of `kind`, `size` at a time (oldest first). The caller must mark every row
    it is given (sent, failed or retried), else the loop would hand it out again: each pass
    re-reads the database, so rows enqueued meanwhile are picked up and nothing is held in
    memory beyond one batch. `full_only`: stop when fewer than `size` rows are pending."""
    while True:
        batch = list(
            OutboxItem.objects.filter(portal=portal, kind=kind, status=OutboxStatus.PENDING).order_by(*order_by)[:size]
        )
        if not batch or (full_only and len(batch) < size):
            return
        yield batch


def outbox_mark_sent(*, items: Iterable[OutboxItem], note: str = "") -> None:
    """Call inside the transaction that records what the write achieved (ContactLink)."""
    ids = [i.pk for i in items]
    if ids:
        OutboxItem.objects.filter(pk__in=ids).update(
            status=OutboxStatus.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=note[:1000]
        )


def outbox_mark_failed(*, item: OutboxItem, error: str, report: SyncReport | None) -> None:
    """A permanent per-item error: kept for the admin, counted in the report, not retried."""
    OutboxItem.objects.filter(pk=item.pk).update(
        status=OutboxStatus.FAILED, attempts=F("attempts") + 1, last_error=error[:1000]
    )
    if report is not None:
        report.error(f"{item.kind} {item.dedupe_key}: {error}"[:500])


def outbox_mark_retry(*, items: Iterable[OutboxItem], error: str, report: SyncReport | None) -> None:
    """Neither accepted nor rejected: try again later, up to MAX_ATTEMPTS, then FAILED."""
    for item in items:
        if item.attempts + 1 >= MAX_ATTEMPTS:
            outbox_mark_failed(item=item, error=f"gave up after {MAX_ATTEMPTS} attempts: {error}", report=report)
        else:
            OutboxItem.objects.filter(pk=item.pk).update(attempts=F("attempts") + 1, last_error=error[:1000])


@transaction.atomic
def outbox_supersede(*, portal: Portal, kind: str, dedupe_keys: Iterable[str], note: str) -> int:
    """Close pending rows made unnecessary (e.g. a create whose contact was found to exist)."""
    keys = list(dedupe_keys)
    if not keys:
        return 0
    return OutboxItem.objects.filter(
        portal=portal, kind=kind, status=OutboxStatus.PENDING, dedupe_key__in=keys
    ).update(status=OutboxStatus.SENT, sent_at=timezone.now(), last_error=note[:1000])


# --- sending: one function for every kind --------------------------------------------------


class Mark(StrEnum):
    """What becomes of an outbox row after HubSpot answered for it."""

    SENT = "sent"  # done (or found done already): never sent again
    FAILED = "failed"  # refused for good: kept for the admin, reported
    RETRY = "retry"  # not done: stays pending, tried again (at most MAX_ATTEMPTS)


# The mark of each outcome unless the kind decides otherwise (OutboxSender.apply).
DEFAULT_MARKS: dict[Outcome, Mark] = {
    Outcome.CREATED: Mark.SENT,
    Outcome.UPDATED: Mark.SENT,
    Outcome.OK: Mark.SENT,
    Outcome.DUPLICATE: Mark.SENT,
    Outcome.GONE: Mark.FAILED,
    Outcome.INVALID: Mark.FAILED,
    Outcome.RETRY: Mark.RETRY,
}
ALREADY_SENT = "already in HubSpot"
SUPERSEDED = "superseded by a later write to the same record"
NO_ANSWER = "HubSpot did not answer for this item"


@dataclass
class Delivery:
    """One row, what HubSpot answered for it, and what will be written on the row."""

    item: OutboxItem
    result: ItemOutcome
    mark: Mark
    note: str = ""  # the row's `last_error`: a note when sent, the reason when failed or retried


def _delivery(item: OutboxItem, result: ItemOutcome) -> Delivery:
    mark = DEFAULT_MARKS[result.outcome]
    if mark is Mark.SENT:
        note = ALREADY_SENT if result.outcome is Outcome.DUPLICATE else ""
    else:
        note = result.message or (result.code.value if result.code else result.outcome.value)
    return Delivery(item=item, result=result, mark=mark, note=note)


class OutboxSender(ABC):
    """What a kind of row says to `outbox_send`: each row's key in the batch, how to send a
    batch (the client call), and how to apply the outcomes (`apply`, optionally `prepare`)."""

    @abstractmethod
    def key(self, item: OutboxItem) -> str:
        """The key HubSpot's answer names the row's input by (see each client method)."""

    @abstractmethod
    def send(self, items: list[OutboxItem]) -> BatchResult:
        """One batch call for `items` (≤ 100, one per key)."""

    def prepare(self, deliveries: list[Delivery]) -> None:  # noqa: B027 (an optional hook)
        """Before the transaction: reads an outcome needs (e.g. an existing contact's email)."""

    def apply(self, deliveries: list[Delivery]) -> None:  # noqa: B027 (an optional hook)
        """Inside the transaction that marks the rows: record what the writes achieved
        (links, report counts); may change a delivery's mark and note."""


def outbox_send(*, sender: OutboxSender, items: list[OutboxItem], report: SyncReport | None) -> None:
    """Send `items` in chunks of ≤ 100 and mark every one of them (sent, failed or retry)."""
    for start in range(0, len(items), BATCH_SIZE):
        _chunk_send(sender=sender, items=items[start : start + BATCH_SIZE], report=report)


def _chunk_send(*, sender: OutboxSender, items: list[OutboxItem], report: SyncReport | None) -> None:
    # One input per key (HubSpot refuses a batch naming one record twice): the latest row wins.
    latest: dict[str, OutboxItem] = {}
    for item in items:
        latest[sender.key(item)] = item
    superseded = [i for i in items if latest[sender.key(i)] is not i]
    batch = list(latest.values())
    result = sender.send(batch)
    if result.rejected is not None and len(batch) > 1:
        # Refused as a whole for inputs HubSpot does not name: halves, until each bad input
        # is alone (its own outcome) and every other input has gone through.
        with transaction.atomic():
            outbox_mark_sent(items=superseded, note=SUPERSEDED)
        half = len(batch) // 2
        _chunk_send(sender=sender, items=batch[:half], report=report)
        _chunk_send(sender=sender, items=batch[half:], report=report)
        return
    deliveries = []
    for key, item in latest.items():
        outcome = result.outcome_of(key)
        if outcome is None:
            outcome = (
                replace(result.rejected, key=key)
                if result.rejected is not None
                else ItemOutcome(key=key, outcome=Outcome.RETRY, code=HubSpotErrorCode.NO_ANSWER, message=NO_ANSWER)
            )
        deliveries.append(_delivery(item, outcome))
    sender.prepare(deliveries)
    with transaction.atomic():
        sender.apply(deliveries)
        outbox_mark_sent(items=superseded, note=SUPERSEDED)
        _marks_write(deliveries, report=report)


def _marks_write(deliveries: list[Delivery], *, report: SyncReport | None) -> None:
    sent: dict[str, list[OutboxItem]] = defaultdict(list)
    retry: dict[str, list[OutboxItem]] = defaultdict(list)
    for delivery in deliveries:
        if delivery.mark is Mark.SENT:
            sent[delivery.note].append(delivery.item)
        elif delivery.mark is Mark.RETRY:
            retry[delivery.note].append(delivery.item)
        else:
            outbox_mark_failed(item=delivery.item, error=delivery.note, report=report)
    for note, rows in sent.items():
        outbox_mark_sent(items=rows, note=note)
    for note, rows in retry.items():
        outbox_mark_retry(items=rows, error=note, report=report)
