"""Orchestration of one portal's sync: lease, pull every Zoom account, compute, push, report.

One sync per portal at a time (SyncLease): a worker takes the lease, renews it as progress
happens, and releases it at the end; a lease past its expiry (a worker that died) may be
taken over. Progress is recorded on the SyncRun, and every step is idempotent (pull upserts,
compute recomputes, push goes through the outbox), so a re-run after a crash resumes.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from connector.clients import errors
from connector.clients.base import api_calls_counted
from connector.clients.errors import ApiError, RateLimited, ServerError, TransportError
from connector.models import ConnectionStatus, Portal, SkipRecord, SyncLease, SyncRun, SyncRunStatus
from connector.selectors import sync_rules_get
from connector.services.compute import person_stats_compute
from connector.services.pull import account_pull
from connector.services.recordings import recordings_synced_count
from connector.services.report import SyncReport
from zoomsync.log import log_context, log_context_pop, log_context_push

logger = logging.getLogger("zoomsync.sync")

Progress = Callable[[str, int, int], None]

LEASE_TTL = timedelta(minutes=10)
LEASE_RENEW_EVERY = 30.0  # seconds
PROGRESS_SAVE_EVERY = 2.0  # seconds between SyncRun.progress writes
TRANSIENT_ERRORS = (RateLimited, ServerError, TransportError)


class SyncAlreadyRunning(Exception):
    """Another worker holds this portal's sync lease."""

    def __init__(self, portal: Portal, lease: SyncLease) -> None:
        self.portal = portal
        self.lease = lease
        super().__init__(
            f"a sync of portal {portal.hub_id} is already running"
            f" (run {lease.sync_run_id}, lease held until {lease.expires_at:%Y-%m-%d %H:%M:%S} UTC)"
        )


# --- the lease ------------------------------------------------------------------------------


def lease_owner_new() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:100]


def sync_lease_acquire(*, portal: Portal, owner: str, run: SyncRun | None, ttl: timedelta = LEASE_TTL) -> SyncLease:
    """Take the portal's lease, or raise SyncAlreadyRunning.

    One conditional UPDATE decides (atomic on PostgreSQL and SQLite alike): the lease is free,
    expired (its worker died), or already ours.
    """
    try:
        with transaction.atomic():
            SyncLease.objects.get_or_create(portal=portal)
    except IntegrityError:
        pass  # created by a concurrent worker at the same moment
    now = timezone.now()
    taken = (
        SyncLease.objects.filter(portal=portal)
        .filter(Q(owner="") | Q(expires_at__isnull=True) | Q(expires_at__lt=now) | Q(owner=owner))
        .update(owner=owner, expires_at=now + ttl, sync_run=run)
    )
    lease = SyncLease.objects.get(portal=portal)
    if not taken:
        raise SyncAlreadyRunning(portal, lease)
    return lease


def sync_lease_renew(*, portal: Portal, owner: str, ttl: timedelta = LEASE_TTL) -> bool:
    """Extend our lease; False when it was lost (taken over after expiring)."""
    return bool(
        SyncLease.objects.filter(portal=portal, owner=owner).update(expires_at=timezone.now() + ttl)
    )


def sync_lease_release(*, portal: Portal, owner: str) -> None:
    SyncLease.objects.filter(portal=portal, owner=owner).update(owner="", expires_at=None)


# --- starting a run -------------------------------------------------------------------------


def sync_run_start(*, portal: Portal, trigger: str = "manual") -> SyncRun:
    """Ask for a sync of the portal (merged with a queued or running one): see
    `connector.services.sync_requests.sync_request`."""
    from connector.services.sync_requests import sync_request

    return sync_request(portal=portal, source=trigger)


class _Tracker:
    """Wraps the caller's progress callback: records progress on the run and renews the lease,
    both throttled so a page-by-page callback does not become a write per page."""

    def __init__(self, *, portal: Portal, run: SyncRun, owner: str, progress: Progress | None) -> None:
        self.portal, self.run, self.owner, self.callback = portal, run, owner, progress
        self.last_save = 0.0
        self.last_renew = time.monotonic()
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase != self.phase or now - self.last_save >= PROGRESS_SAVE_EVERY or done == total:
            self.phase = phase
            self.last_save = now
            self.run.progress = {"phase": phase, "done": done, "total": total}
            SyncRun.objects.filter(pk=self.run.pk).update(progress=self.run.progress)
        if now - self.last_renew >= LEASE_RENEW_EVERY:
            self.last_renew = now
            if not sync_lease_renew(portal=self.portal, owner=self.owner):
                raise RuntimeError("the sync lease was lost (another worker took over after it expired)")
        if self.callback is not None:
            self.callback(phase, done, total)


def _push(**kwargs: Any) -> None:
    from connector.services.push import portal_push

    portal_push(**kwargs)


def portal_sync(
    *,
    portal: Portal,
    run: SyncRun | None = None,
    full: bool = False,
    pull_only: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Sync one portal end to end and return the report (INTERFACES.md §6).

    Raises SyncAlreadyRunning when another worker holds the lease (nothing is changed).
    Transient API errors (rate limit, 5xx, transport) propagate after the run is marked
    failed, so the Celery task can retry; other API errors of one Zoom account are reported
    and the other accounts still sync.
    """
    if run is None:
        run = SyncRun.objects.create(portal=portal, trigger="manual")
    owner = lease_owner_new()
    sync_lease_acquire(portal=portal, owner=owner, run=run)
    log_token = log_context_push(portal_id=portal.hub_id, run_id=run.pk)  # log lines name portal and run
    try:
        # A retried run starts its skip records afresh (the report is recomputed whole).
        SkipRecord.objects.filter(sync_run=run).delete()
        run.status = SyncRunStatus.RUNNING
        run.started_at = timezone.now()
        run.finished_at = None
        run.error = ""
        run.save(update_fields=["status", "started_at", "finished_at", "error"])
        report = SyncReport(portal=portal, run=run)
        tracker = _Tracker(portal=portal, run=run, owner=owner, progress=progress)
        calls: dict[str, int] = {}
        try:
            with api_calls_counted() as calls:
                rules = sync_rules_get(portal=portal)
                accounts = list(portal.zoom_accounts.filter(status=ConnectionStatus.CONNECTED).order_by("pk"))
                if not accounts:
                    report.error("no connected Zoom account")
                for account in accounts:
                    try:
                        with log_context(account_id=account.account_id):  # log lines name the account
                            account_pull(account=account, rules=rules, report=report, full=full, progress=tracker)
                    except TRANSIENT_ERRORS:
                        raise
                    except ApiError as exc:
                        logger.warning("pull of zoom account %s failed: %s", account.account_id, exc)
                        report.error(f"Zoom account {account.account_id}: {exc}")
                tracker("compute", 0, 1)
                person_stats_compute(portal=portal, report=report)
                tracker("compute", 1, 1)
                if not pull_only:
                    _push(portal=portal, run=run, report=report, rules=rules, progress=tracker)
                    # §6: recordings whose events this run sent (issue 5).
                    report.recordings_synced = recordings_synced_count(portal=portal, since=report.started_at)
        except BaseException as exc:
            sync_run_fail(run=run, report=report, api_calls=calls, exc=exc)
            raise
        return sync_run_succeed(run=run, report=report, api_calls=calls)
    finally:
        sync_lease_release(portal=portal, owner=owner)
        log_context_pop(log_token)


def sync_run_fail(*, run: SyncRun, report: SyncReport, api_calls: dict[str, int], exc: BaseException) -> None:
    """Close a run as failed, keeping what its report counted so far."""
    report.finish()
    run.status = SyncRunStatus.FAILED
    run.error = f"{type(exc).__name__}: {exc}"[:5000]
    run.error_code = errors.sync_error_code(exc)  # what kind of failure, for the UI's words
    run.finished_at = report.finished_at
    run.report = report.as_dict(api_calls=api_calls)
    run.save(update_fields=["status", "error", "error_code", "finished_at", "report"])


def sync_run_succeed(*, run: SyncRun, report: SyncReport, api_calls: dict[str, int]) -> dict[str, Any]:
    """Close a run as succeeded; returns its report (INTERFACES.md §6)."""
    report.finish()
    result = report.as_dict(api_calls=api_calls)
    run.status = SyncRunStatus.SUCCEEDED
    run.finished_at = report.finished_at
    run.report = result
    run.progress = {"phase": "done", "done": 1, "total": 1}
    run.save(update_fields=["status", "finished_at", "report", "progress"])
    from connector.services.sync_requests import sync_request_again

    sync_request_again(run=run)  # B2: asked for again while it ran: one more run follows
    return result
