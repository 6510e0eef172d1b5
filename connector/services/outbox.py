"""The outbox: every intended HubSpot write is first a row here, then sent in batches.

- `outbox_enqueue` inserts with ignore_conflicts on (portal, kind, dedupe_key): a re-run that
  wants the same write again finds the row already there and enqueues nothing.
- `outbox_batches` hands out pending rows of one kind, oldest first, up to 100 at a time;
  the sender marks them sent in the same transaction as the ContactLink change it implies.
- A permanent per-item error marks the row FAILED with `last_error` (reported); an item that
  could not be resolved is retried a few times, then FAILED. Transient errors (rate limits,
  5xx, timeouts after the client's own retries) propagate: the rows stay PENDING and the next
  run (or the Celery retry) resumes from them. A crash anywhere loses nothing, and since a
  row is sent at most once after it is marked, nothing is sent twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils import timezone

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
