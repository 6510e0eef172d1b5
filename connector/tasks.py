"""Celery tasks: thin, take ids, load fresh state, call the pipeline (services/pipeline.py).

`portal_sync_task` drives one run: in line when tasks run in-process (eager) or
ZOOMSYNC_SYNC_FANOUT is off; otherwise it runs the account-level pull and hands the webinar
stage to a chord of `webinar_pull_task` (one per webinar) whose callback
`portal_sync_finish_task` computes, pushes and reports. A task delivered again continues
its run from its phase (or sees it done); a run live in another worker is left to it.
Transient API, database and token errors are retried with exponential backoff, capped below
the broker's visibility timeout; a retry continues the run. `portal_sync_all_task` is the
beat entry ("zoomsync: sync all portals", every 15 minutes, migration 0005): it asks for a
sync of every portal (merged with any under way).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import chord, shared_task
from celery.contrib.django.task import DjangoTask
from celery.signals import worker_ready
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerError

from connector.clients.errors import RateLimited, ServerError, TransportError, sync_error_code
from connector.models import ConnectionStatus, Portal, SyncRun
from connector.services import pipeline
from connector.services.pipeline import Attempt, RunBusy, SyncAlreadyRunning, pipeline_run
from connector.services.sync_requests import runs_abandoned_hand_on, sync_request
from connector.services.tokens import TokenRefreshRetryable

logger = logging.getLogger("zoomsync.tasks")

# A webinar task's hard time limit.
WEBINAR_TASK_TIME_LIMIT = 30 * 60

# Retried with backoff: the provider, the network or the database will likely answer later.
RETRY = {
    "autoretry_for": (
        RateLimited,
        ServerError,
        TransportError,
        TokenRefreshRetryable,
        OperationalError,
        InterfaceError,
        BrokerError,
    ),
    # Short first waits (a restarting database or broker is back in seconds; while a task
    # waits nobody keeps its run alive, and a run stale for RUN_STALE_AFTER is taken over),
    # growing to 10 minutes: about 20 minutes in all before the run fails.
    "retry_backoff": 5,
    "retry_backoff_max": 10 * 60,  # below the broker's visibility timeout (1 hour)
    "retry_jitter": True,
    "max_retries": 8,
}
# A run whose lease another live run holds: look again this much later.
LEASE_BUSY_RETRY_SECONDS = 60


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


@worker_ready.connect
def runs_abandoned_on_worker_start(**_: Any) -> None:
    """A worker starting (perhaps restarted after a crash) hands on the runs whose worker died
    (B2), instead of leaving them until the next request."""
    try:
        handed = runs_abandoned_hand_on()
    except Exception:  # noqa: BLE001 - the database not up yet: the next request does it
        logger.warning("could not look for abandoned sync runs at start", exc_info=True)
        return
    finally:
        from django.db import connection

        if not connection.in_atomic_block:
            connection.close()  # the worker's main process keeps no connection of its own
    if handed:
        logger.warning("sync runs %s had lost their worker: handed to a worker again", handed)


def _fanout_enabled() -> bool:
    """Fan out only when tasks really go to workers: eager Celery runs everything in-process."""
    return not portal_sync_task.app.conf.task_always_eager and getattr(settings, "ZOOMSYNC_SYNC_FANOUT", True)


def sync_run_enqueue(run: SyncRun) -> None:
    """How a requested run reaches a worker (wired into the services by connector.apps)."""
    portal_sync_task.delay(run.portal_id, run.pk, run.full)


def _attempt(task: Any) -> Attempt:
    """This delivery of the task: its id (kept across retries) and retry number."""
    return Attempt(task_id=str(task.request.id or ""), retries=int(task.request.retries or 0))


def _launch(run: SyncRun, webinar_pks: list[int]) -> None:
    owner = run.owner
    transaction.on_commit(lambda: sync_fanout_launch(sync_run_id=run.pk, webinar_pks=webinar_pks, owner=owner))


@shared_task(
    bind=True,
    name="connector.tasks.portal_sync_task",
    queue="sync",
    acks_late=True,
    time_limit=60 * 60,
    soft_time_limit=55 * 60,
    base=_SyncRunTask,
    **RETRY,
)
def portal_sync_task(self: Any, portal_id: int, sync_run_id: int | None = None, full: bool = False) -> dict[str, Any] | None:
    portal = Portal.objects.filter(pk=portal_id).first()
    if portal is None or not portal.is_active:
        logger.info("portal %s is gone or not connected: nothing to sync", portal_id)
        if sync_run_id is not None:
            pipeline.run_fail_unstarted(
                sync_run_id=sync_run_id, error="portal not connected", error_code="not_connected"
            )
        return None
    run = SyncRun.objects.filter(pk=sync_run_id, portal=portal).first() if sync_run_id else None
    if run is None:
        run = SyncRun.objects.create(portal=portal, trigger="manual", full=full)
    elif full and not run.full:
        SyncRun.objects.filter(pk=run.pk).update(full=True)
    try:
        return pipeline_run(
            run=run, launch=_launch if _fanout_enabled() else None, attempt=_attempt(self)
        )
    except RunBusy as exc:
        logger.info("%s: delivered again while live elsewhere, left to that worker", exc)
        return None
    except SyncAlreadyRunning as exc:
        logger.info("%s", exc)
        if self.request.is_eager:
            return None  # the run stays queued; the next request for the portal hands it out again
        raise self.retry(exc=exc, countdown=LEASE_BUSY_RETRY_SECONDS, max_retries=60) from exc


@shared_task(
    name="connector.tasks.portal_sync_all_task", queue="sync", acks_late=True, time_limit=120, soft_time_limit=100
)
def portal_sync_all_task(full: bool = False) -> list[int]:
    """Beat: ask for a sync of every active portal (the polling safety net; `full` nightly:
    re-check everyone); merged with a run already queued or running."""
    started = []
    for portal in Portal.objects.filter(status=ConnectionStatus.CONNECTED).order_by("pk"):
        started.append(sync_request(portal=portal, source="beat", full=full).pk)
    return started


def sync_fanout_launch(*, sync_run_id: int, webinar_pks: list[int], owner: str | None = None) -> None:
    """The chord: a webinar_pull_task per webinar, then portal_sync_finish_task; a webinar
    task failing for good calls portal_sync_failed_task instead of the finish."""
    finish = portal_sync_finish_task.si(sync_run_id, owner)
    if not webinar_pks:
        finish.apply_async()
        return
    header = [webinar_pull_task.si(sync_run_id, pk, owner) for pk in webinar_pks]
    chord(header)(finish.on_error(portal_sync_failed_task.s(sync_run_id=sync_run_id, owner=owner)))


@shared_task(
    name="connector.tasks.webinar_pull_task",
    queue="sync",
    acks_late=True,
    time_limit=WEBINAR_TASK_TIME_LIMIT,
    soft_time_limit=WEBINAR_TASK_TIME_LIMIT - 5 * 60,
    **RETRY,
)
def webinar_pull_task(sync_run_id: int, webinar_pk: int, owner: str | None = None) -> dict[str, Any] | None:
    """One synced webinar's registrants, sessions, participants and recordings (a fanned-out
    run's chord header). Idempotent: a redelivery upserts the same rows; a task of a fan-out
    whose run another worker took over does nothing."""
    return pipeline.pipeline_webinar(sync_run_id=sync_run_id, webinar_pk=webinar_pk, owner=owner)


@shared_task(
    bind=True,
    name="connector.tasks.portal_sync_finish_task",
    queue="sync",
    acks_late=True,
    time_limit=60 * 60,
    soft_time_limit=55 * 60,
    **RETRY,
)
def portal_sync_finish_task(self: Any, sync_run_id: int, owner: str | None = None) -> dict[str, Any] | None:
    """Compute, push (through the outbox: a re-run sends nothing twice), report, release."""
    return pipeline.pipeline_finish(sync_run_id=sync_run_id, owner=owner, attempt=_attempt(self))


@shared_task(
    name="connector.tasks.portal_sync_failed_task", queue="sync", acks_late=True, time_limit=60, soft_time_limit=50
)
def portal_sync_failed_task(
    request: Any, exc: BaseException, traceback: Any, sync_run_id: int, owner: str | None = None
) -> None:
    """The chord's error callback: a webinar task failed for good, so the run failed."""
    pipeline.pipeline_failed(
        sync_run_id=sync_run_id, error=f"webinar pull failed: {type(exc).__name__}: {exc}",
        error_code=sync_error_code(exc), owner=owner,
    )


@shared_task(name="connector.tasks.privacy_prune_task", queue="default", ignore_result=True)
def privacy_prune_task() -> dict[str, int]:
    """Daily (B4): prune past the retention period, erase portals uninstalled past the grace period."""
    from connector.services.erasure import portals_erase_due
    from connector.services.retention import retention_prune

    counts = retention_prune().counts
    counts["portals erased"] = portals_erase_due()
    return counts


from connector.webhooks.tasks import webhook_event_process_task, webhook_inbox_drain_task  # noqa: E402, F401
