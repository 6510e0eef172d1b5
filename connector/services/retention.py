"""Retention (B4): personal data is kept only as long as the sync needs it.

`retention_prune` runs daily (Celery beat) and after ZOOMSYNC_RETENTION_DAYS days
empties the payloads of sent outbox items (the row and its dedupe key stay, so nothing is
sent twice), deletes the skip records of old sync runs (each portal's latest run keeps
its own), and lets the workflows app empty old workflow request bodies (receivers of
erasure.retention_pruning). Callback ids are never deleted here: HubSpot retries a
workflow request for up to 3 days, and a retry must find its first answer. docs/privacy.md
lists what is kept and for how long.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from connector.models import OutboxItem, OutboxStatus, SkipRecord, SyncRun
from connector.services.erasure import retention_pruning

logger = logging.getLogger("zoomsync.retention")

# HubSpot retries a workflow action request for up to 3 days: anything a retry needs is
# kept at least this long, whatever the retention setting says.
CALLBACK_RETRY_WINDOW = timedelta(days=3, hours=12)


@dataclass
class RetentionResult:
    cutoff: datetime
    counts: dict[str, int] = field(default_factory=dict)


def retention_cutoff(*, now: datetime | None = None, days: int | None = None) -> datetime:
    keep = settings.ZOOMSYNC_RETENTION_DAYS if days is None else days
    return (now or timezone.now()) - timedelta(days=max(int(keep), 0))


def retention_prune(*, now: datetime | None = None, days: int | None = None) -> RetentionResult:
    """Prune what is older than the retention period (see the module docstring)."""
    cutoff = retention_cutoff(now=now, days=days)
    result = RetentionResult(cutoff=cutoff)
    result.counts["outbox payload"] = (
        OutboxItem.objects.filter(status=OutboxStatus.SENT, sent_at__lt=cutoff)
        .exclude(payload={})
        .update(payload={})
    )
    latest = SyncRun.objects.values("portal").annotate(last=Max("pk")).values_list("last", flat=True)
    result.counts["skip record"] = (
        SkipRecord.objects.filter(sync_run__created_at__lt=cutoff).exclude(sync_run__in=list(latest)).delete()[0]
    )
    # Workflow bodies: never younger than a HubSpot retry can be.
    workflow_cutoff = min(cutoff, (now or timezone.now()) - CALLBACK_RETRY_WINDOW)
    for _receiver, counts in retention_pruning.send(sender=SyncRun, cutoff=workflow_cutoff):
        if isinstance(counts, dict):
            for table, rows in counts.items():
                result.counts[str(table)] = result.counts.get(str(table), 0) + int(rows)
    logger.info("retention pruned", extra={"counts": result.counts})
    return result
