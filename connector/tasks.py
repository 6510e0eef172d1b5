"""Celery tasks: thin, take ids, load fresh state, call one service.

`portal_sync_task` syncs one portal (queue "sync"); a second task for a portal whose lease
is held ends at once with the run marked as such. With a broker (tasks go to workers) the
sync fans out: the account-level pull here, then a chord of `webinar_pull_task` (one per
synced webinar, in parallel) whose callback `portal_sync_finish_task` computes, pushes and
stores the report (services/sync_fanout.py). Eager (no broker), or ZOOMSYNC_SYNC_FANOUT
off, the whole sync runs in this one task. Transient API errors (rate limit, 5xx,
transport) are retried with exponential backoff, capped below the broker's visibility
timeout. `portal_sync_all_task` is the beat entry ("zoomsync: sync all portals", every
15 minutes, created by migration 0005).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import chord, shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connector.clients.errors import RateLimited, ServerError, TransportError
from connector.models import ConnectionStatus, Portal, SyncRun, SyncRunStatus
from connector.services import sync_fanout
from connector.services.sync import SyncAlreadyRunning, portal_sync, sync_run_start
from connector.services.tokens import TokenRefreshRetryable

logger = logging.getLogger("zoomsync.tasks")

# Retried with backoff: the provider or the network will likely answer later.
RETRY = {
    "autoretry_for": (RateLimited, ServerError, TransportError, TokenRefreshRetryable),
    "retry_backoff": 30,
    "retry_backoff_max": 30 * 60,  # below the broker's visibility timeout (1 hour)
    "retry_jitter": True,
    "max_retries": 5,
}


class _SyncRunTask(DjangoTask):  # type: ignore[misc]
    """Keeps SyncRun.retrying true while Celery will try a failed run again, so the UI shows
    "retrying" rather than flipping between failed and running."""

    def _mark(self, args: Any, kwargs: Any, *, retrying: bool) -> None:
        run_id = kwargs.get("sync_run_id", args[1] if len(args) > 1 else None)
        if run_id is not None:
            SyncRun.objects.filter(pk=run_id).update(retrying=retrying)

    def on_retry(self, exc: Any, task_id: Any, args: Any, kwargs: Any, einfo: Any) -> None:
        self._mark(args, kwargs, retrying=True)

    def on_failure(self, exc: Any, task_id: Any, args: Any, kwargs: Any, einfo: Any) -> None:
        self._mark(args, kwargs, retrying=False)

    def on_success(self, retval: Any, task_id: Any, args: Any, kwargs: Any) -> None:
        self._mark(args, kwargs, retrying=False)


def _fanout_enabled() -> bool:
    """Fan out only when tasks really go to workers: eager Celery runs everything in-process."""
    return not portal_sync_task.app.conf.task_always_eager and getattr(settings, "ZOOMSYNC_SYNC_FANOUT", True)


@shared_task(
    name="connector.tasks.portal_sync_task",
    queue="sync",
    acks_late=True,
    time_limit=60 * 60,
    soft_time_limit=55 * 60,
    base=_SyncRunTask,
    **RETRY,
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
    if run is not None and run.status in (SyncRunStatus.SUCCEEDED, SyncRunStatus.FAILED):
        return run.report or None  # delivered again after it finished: nothing to do
    full = full or bool(run is not None and run.full)
    try:
        if _fanout_enabled():
            return _portal_sync_fanout(portal=portal, run=run, full=full)
        return portal_sync(portal=portal, run=run, full=full)
    except SyncAlreadyRunning as exc:
        logger.info("%s", exc)
        if run is not None:
            SyncRun.objects.filter(pk=run.pk).update(
                status=SyncRunStatus.FAILED, error=f"not started: {exc}", finished_at=timezone.now()
            )
        return None


def sync_run_enqueue(run: SyncRun) -> None:
    """How a requested run reaches a worker (wired into the services by connector.apps)."""
    portal_sync_task.delay(run.portal_id, run.pk, run.full)


@shared_task(
    name="connector.tasks.portal_sync_all_task", queue="sync", acks_late=True, time_limit=120, soft_time_limit=100
)
def portal_sync_all_task() -> list[int]:
    """Beat: queue a sync for every active portal (the polling safety net)."""
    started = []
    for portal in Portal.objects.filter(status=ConnectionStatus.CONNECTED).order_by("pk"):
        started.append(sync_run_start(portal=portal, trigger="beat").pk)
    return started


def _portal_sync_fanout(*, portal: Portal, run: SyncRun | None, full: bool) -> dict[str, Any] | None:
    if run is None:
        run = SyncRun.objects.create(portal=portal, trigger="manual")
    webinar_pks = sync_fanout.sync_fanout_begin(portal=portal, run=run, full=full)
    if webinar_pks is None:
        return None  # a redelivered task: this run's fan-out is already under way
    transaction.on_commit(lambda: sync_fanout_launch(sync_run_id=run.pk, webinar_pks=webinar_pks))
    return {"sync_run": run.pk, "webinar_tasks": len(webinar_pks)}


def sync_fanout_launch(*, sync_run_id: int, webinar_pks: list[int]) -> None:
    """The chord: a webinar_pull_task per webinar, then portal_sync_finish_task; a webinar
    task failing for good calls portal_sync_failed_task instead of the finish."""
    finish = portal_sync_finish_task.si(sync_run_id)
    if not webinar_pks:
        finish.apply_async()
        return
    header = [webinar_pull_task.si(sync_run_id, pk) for pk in webinar_pks]
    chord(header)(finish.on_error(portal_sync_failed_task.s(sync_run_id=sync_run_id)))


@shared_task(
    name="connector.tasks.webinar_pull_task",
    queue="sync",
    acks_late=True,
    time_limit=sync_fanout.WEBINAR_TASK_TIME_LIMIT,
    soft_time_limit=sync_fanout.WEBINAR_TASK_TIME_LIMIT - 5 * 60,
    **RETRY,
)
def webinar_pull_task(sync_run_id: int, webinar_pk: int) -> dict[str, Any] | None:
    """One synced webinar's registrants, sessions, participants and recordings (a fanned-out
    sync's chord header). Idempotent: a redelivery upserts the same rows."""
    return sync_fanout.sync_fanout_webinar(sync_run_id=sync_run_id, webinar_pk=webinar_pk)


@shared_task(
    name="connector.tasks.portal_sync_finish_task",
    queue="sync",
    acks_late=True,
    time_limit=60 * 60,
    soft_time_limit=55 * 60,
    **RETRY,
)
def portal_sync_finish_task(sync_run_id: int) -> dict[str, Any] | None:
    """Compute, push (through the outbox: a re-run sends nothing twice), report, release."""
    return sync_fanout.sync_fanout_finish(sync_run_id=sync_run_id)


@shared_task(
    name="connector.tasks.portal_sync_failed_task", queue="sync", acks_late=True, time_limit=60, soft_time_limit=50
)
def portal_sync_failed_task(request: Any, exc: BaseException, traceback: Any, sync_run_id: int) -> None:
    """The chord's error callback: a webinar task failed for good, so the run failed."""
    sync_fanout.sync_fanout_failed(sync_run_id=sync_run_id, error=f"webinar pull failed: {type(exc).__name__}: {exc}")


@shared_task(name="connector.tasks.privacy_prune_task", queue="default", ignore_result=True)
def privacy_prune_task() -> dict[str, int]:
    """Daily (B4): prune past the retention period, erase portals uninstalled past the grace period."""
    from connector.services.erasure import portals_erase_due
    from connector.services.retention import retention_prune

    counts = retention_prune().counts
    counts["portals erased"] = portals_erase_due()
    return counts


from connector.webhooks.tasks import webhook_event_process_task, webhook_inbox_drain_task  # noqa: E402, F401
