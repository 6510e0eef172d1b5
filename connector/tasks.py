"""Celery tasks: thin, take ids, load fresh state, call one service.

`portal_sync_task` syncs one portal (queue "sync"); a second task for a portal whose lease
is held ends at once with the run marked as such. Transient API errors (rate limit, 5xx,
transport) are retried with exponential backoff, capped below the broker's visibility
timeout. `portal_sync_all_task` is the beat entry ("zoomsync: sync all portals", every
15 minutes, created by migration 0005).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.utils import timezone

from connector.clients.errors import RateLimited, ServerError, TransportError
from connector.models import ConnectionStatus, Portal, SyncRun, SyncRunStatus
from connector.services.sync import SyncAlreadyRunning, portal_sync, sync_run_start

logger = logging.getLogger("zoomsync.tasks")


@shared_task(
    name="connector.tasks.portal_sync_task",
    queue="sync",
    acks_late=True,
    time_limit=60 * 60,
    soft_time_limit=55 * 60,
    autoretry_for=(RateLimited, ServerError, TransportError),
    retry_backoff=30,
    retry_backoff_max=30 * 60,  # below the broker's visibility timeout (1 hour)
    retry_jitter=True,
    max_retries=5,
)
def portal_sync_task(portal_id: int, sync_run_id: int | None = None, full: bool = False) -> dict[str, Any] | None:
    portal = Portal.objects.filter(pk=portal_id).first()
    if portal is None or not portal.is_active:
        logger.info("portal %s is gone or not connected: nothing to sync", portal_id)
        if sync_run_id is not None:
            SyncRun.objects.filter(pk=sync_run_id).update(
                status=SyncRunStatus.FAILED, error="portal not connected", finished_at=timezone.now()
            )
        return None
    run = SyncRun.objects.filter(pk=sync_run_id, portal=portal).first() if sync_run_id else None
    try:
        return portal_sync(portal=portal, run=run, full=full)
    except SyncAlreadyRunning as exc:
        logger.info("%s", exc)
        if run is not None:
            SyncRun.objects.filter(pk=run.pk).update(
                status=SyncRunStatus.FAILED, error=f"not started: {exc}", finished_at=timezone.now()
            )
        return None


@shared_task(
    name="connector.tasks.portal_sync_all_task", queue="sync", acks_late=True, time_limit=120, soft_time_limit=100
)
def portal_sync_all_task() -> list[int]:
    """Beat: queue a sync for every active portal (the polling safety net)."""
    started = []
    for portal in Portal.objects.filter(status=ConnectionStatus.CONNECTED).order_by("pk"):
        started.append(sync_run_start(portal=portal, trigger="beat").pk)
    return started
