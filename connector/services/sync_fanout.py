"""One portal's sync fanned out over Celery workers: an account-level pull, one task per
synced webinar, then compute + push + report (docs/sync.md, "Celery").

1. `sync_fanout_begin` (in `portal_sync_task`): takes the portal's lease, pulls users, Zoom
   Events (R2), the webinar listing and verdicts (R4, R5, R8, R10) of every Zoom account,
   and records one `SyncRunPart` per passing webinar. The lease stays held.
2. `sync_fanout_webinar` (one `webinar_pull_task` per webinar, in parallel): registrants,
   sessions, participants and recordings of one webinar; renews the lease; stores what it
   counted (pulled, skips, errors, API calls) on its part row. A re-run (a redelivered task)
   upserts the same rows and overwrites its part's counts.
3. `sync_fanout_finish` (the chord's callback): merges the parts' counts into one report,
   computes, pushes through the outbox, stores the report and releases the lease. A re-run
   of a finished run does nothing; a re-run after a crash sends only what the outbox has not.

The counts never live only in a worker's memory: every part writes them to the database.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone

from connector.clients.base import api_calls_counted
from connector.clients.errors import ApiError
from connector.models import (
    ConnectionStatus,
    Portal,
    SkipRecord,
    SyncLease,
    SyncRun,
    SyncRunPart,
    SyncRunStatus,
)
from connector.selectors import sync_rules_get
from connector.services.compute import person_stats_compute
from connector.services.pull import account_level_pull, webinar_data_pull
from connector.services.recordings import recordings_synced_count
from connector.services.report import SyncReport
from connector.services.sync import (
    TRANSIENT_ERRORS,
    SyncAlreadyRunning,
    _push,
    _Tracker,
    lease_owner_new,
    sync_lease_acquire,
    sync_lease_release,
    sync_lease_renew,
    sync_run_fail,
    sync_run_succeed,
)

logger = logging.getLogger("zoomsync.sync")

# A webinar task renews the lease for longer than it may run (its hard time limit), so the
# lease cannot expire under a long webinar pull that reports no progress.
WEBINAR_TASK_TIME_LIMIT = 30 * 60
FANOUT_LEASE_TTL = timedelta(seconds=WEBINAR_TASK_TIME_LIMIT + 5 * 60)


class SyncLeaseLost(RuntimeError):
    """Another worker took the portal's lease (ours expired): this run must stop."""


class _CollectingReport(SyncReport):
    """A part's report: counts like SyncReport and keeps each skip, for the finish task to
    replay into the run's report (which writes the SkipRecords, once)."""

    def __init__(self, *, portal: Portal) -> None:
        super().__init__(portal=portal, run=None)
        self.skip_log: list[list[str]] = []

    def skip(self, *, kind: str, reason: str, subject: str, detail: str = "") -> None:
        seen = len(self._seen)
        super().skip(kind=kind, reason=reason, subject=subject, detail=detail)
        if len(self._seen) > seen:
            self.skip_log.append([kind, str(reason), str(subject)[:300], detail[:500]])

    def state(self, *, api_calls: dict[str, int]) -> dict[str, Any]:
        return {
            "webinars_synced": self.webinars_synced,
            "pulled": dict(self.pulled),
            "skips": self.skip_log,
            "errors": list(self.errors),
            "api_calls": dict(api_calls),
        }


def _account_part(run: SyncRun) -> SyncRunPart | None:
    return SyncRunPart.objects.filter(sync_run=run, webinar__isnull=True).first()


# --- 1. the account-level pull ----------------------------------------------------------------


def sync_fanout_begin(*, portal: Portal, run: SyncRun, full: bool = False) -> list[int] | None:
    """Take the lease and pull every account's users and webinars; returns the pks of the
    webinars whose data the per-webinar tasks pull, or None when this run's fan-out was
    already launched and still holds the lease (a redelivered task: nothing to do).

    Raises SyncAlreadyRunning when another run holds the lease (nothing changed).
    """
    launched = _account_part(run)
    if launched is not None and run.status == SyncRunStatus.RUNNING:
        owner = launched.state.get("owner", "")
        held = SyncLease.objects.filter(portal=portal, owner=owner, expires_at__gt=timezone.now()).exists()
        if held:
            logger.info("sync run %s: fan-out already launched", run.pk)
            return None
    owner = lease_owner_new()
    sync_lease_acquire(portal=portal, owner=owner, run=run)
    report = _CollectingReport(portal=portal)
    calls: dict[str, int] = {}
    try:
        # A retried run starts afresh: its skip records and parts are recomputed whole.
        SkipRecord.objects.filter(sync_run=run).delete()
        SyncRunPart.objects.filter(sync_run=run).delete()
        run.status = SyncRunStatus.RUNNING
        run.started_at = timezone.now()
        run.finished_at = None
        run.error = ""
        run.save(update_fields=["status", "started_at", "finished_at", "error"])
        tracker = _Tracker(portal=portal, run=run, owner=owner, progress=None)
        todo: list[tuple[Any, bool]] = []
        with api_calls_counted() as calls:
            rules = sync_rules_get(portal=portal)
            accounts = list(portal.zoom_accounts.filter(status=ConnectionStatus.CONNECTED).order_by("pk"))
            if not accounts:
                report.error("no connected Zoom account")
            for account in accounts:
                try:
                    todo.extend(account_level_pull(account=account, rules=rules, report=report, full=full, progress=tracker))
                except TRANSIENT_ERRORS:
                    raise
                except ApiError as exc:
                    logger.warning("pull of zoom account %s failed: %s", account.account_id, exc)
                    report.error(f"Zoom account {account.account_id}: {exc}")
        state = report.state(api_calls=calls) | {"owner": owner, "full": full}
        SyncRunPart.objects.create(sync_run=run, webinar=None, attempts=1, done=True, state=state)
        SyncRunPart.objects.bulk_create([SyncRunPart(sync_run=run, webinar=w, listed=listed) for w, listed in todo])
        sync_lease_renew(portal=portal, owner=owner, ttl=FANOUT_LEASE_TTL)
        run.progress = {"phase": "pull:webinar data", "done": 0, "total": len(todo)}
        run.save(update_fields=["progress"])
        return [w.pk for w, _ in todo]
    except BaseException as exc:
        sync_run_fail(run=run, report=report, api_calls=calls, exc=exc)
        sync_lease_release(portal=portal, owner=owner)
        raise


# --- 2. one webinar ---------------------------------------------------------------------------


def sync_fanout_webinar(*, sync_run_id: int, webinar_pk: int) -> dict[str, Any] | None:
    """Pull one synced webinar's data for a fanned-out run; its counts go to its part row.

    Transient API errors propagate (the task retries); any other API error is reported in
    the run's `errors` and the other webinars still sync. Raises SyncLeaseLost when the
    portal's lease was taken by another run.
    """
    part = (
        SyncRunPart.objects.select_related("sync_run__portal", "webinar__account")
        .filter(sync_run_id=sync_run_id, webinar_id=webinar_pk)
        .first()
    )
    if part is None or part.webinar is None or part.sync_run.status != SyncRunStatus.RUNNING:
        logger.info("sync run %s, webinar %s: no such running part", sync_run_id, webinar_pk)
        return None
    run, webinar = part.sync_run, part.webinar
    portal = run.portal
    account_part = _account_part(run)
    owner = account_part.state.get("owner", "") if account_part else ""
    full = bool(account_part.state.get("full")) if account_part else False
    SyncRunPart.objects.filter(pk=part.pk).update(attempts=F("attempts") + 1)
    if not sync_lease_renew(portal=portal, owner=owner, ttl=FANOUT_LEASE_TTL):
        raise SyncLeaseLost(f"sync run {run.pk}: the lease of portal {portal.hub_id} was taken by another run")
    if part.done:
        # Delivered again after it finished (killed before the ack): its counts are stored.
        return {"webinar": webinar.webinar_id, "pulled": part.state.get("pulled", {})}
    report = _CollectingReport(portal=portal)
    with api_calls_counted() as calls:
        rules = sync_rules_get(portal=portal)
        try:
            webinar_data_pull(webinar=webinar, listed=part.listed, rules=rules, report=report, full=full)
        except TRANSIENT_ERRORS:
            raise
        except ApiError as exc:
            logger.warning("pull of webinar %s failed: %s", webinar.webinar_id, exc)
            report.error(f"Zoom account {webinar.account.account_id}: webinar {webinar.webinar_id}: {exc}")
    SyncRunPart.objects.filter(pk=part.pk).update(done=True, state=report.state(api_calls=calls))
    sync_lease_renew(portal=portal, owner=owner, ttl=FANOUT_LEASE_TTL)
    parts = SyncRunPart.objects.filter(sync_run=run, webinar__isnull=False)
    SyncRun.objects.filter(pk=run.pk, status=SyncRunStatus.RUNNING).update(
        progress={"phase": "pull:webinar data", "done": parts.filter(done=True).count(), "total": parts.count()}
    )
    return {"webinar": webinar.webinar_id, "pulled": dict(report.pulled)}


# --- 3. compute, push, report -----------------------------------------------------------------


def sync_fanout_finish(*, sync_run_id: int) -> dict[str, Any] | None:
    """Merge the parts' counts, compute, push, store the report and release the lease.

    A run that is no longer running (finished, or failed) is left as it is: a re-run of this
    step sends nothing twice.
    """
    run = SyncRun.objects.select_related("portal").filter(pk=sync_run_id).first()
    if run is None:
        return None
    account_part = _account_part(run)
    # Running, or failed in this step (a transient error: the task retries it).
    retried = run.status == SyncRunStatus.FAILED and account_part is not None and account_part.state.get("finish_failed")
    if run.status != SyncRunStatus.RUNNING and not retried:
        return run.report or None
    portal = run.portal
    owner = account_part.state.get("owner", "") if account_part else ""
    try:
        sync_lease_acquire(portal=portal, owner=owner or lease_owner_new(), run=run)
    except SyncAlreadyRunning as exc:
        SyncRun.objects.filter(pk=run.pk).update(
            status=SyncRunStatus.FAILED, error=f"lease lost: {exc}", error_code="lease_lost",
            finished_at=timezone.now(),
        )
        return None
    try:
        if retried:
            run.status, run.error, run.finished_at = SyncRunStatus.RUNNING, "", None
            run.save(update_fields=["status", "error", "finished_at"])
        SkipRecord.objects.filter(sync_run=run).delete()  # a re-run replays them whole
        report = SyncReport(portal=portal, run=run)
        report.started_at = run.started_at or report.started_at
        stored_calls: Counter[str] = Counter()
        parts = [account_part] if account_part else []
        parts += list(
            SyncRunPart.objects.filter(sync_run=run, webinar__isnull=False)
            .select_related("webinar")
            .order_by("webinar__account_id", "webinar__webinar_id")
        )
        for part in parts:
            if part is None:
                continue
            if not part.done:
                report.error(f"webinar {part.webinar.webinar_id if part.webinar else '?'}: not pulled")
                continue
            state = part.state
            report.webinars_synced += int(state.get("webinars_synced", 0))
            for key, value in (state.get("pulled") or {}).items():
                report.pulled[key] = report.pulled.get(key, 0) + int(value)
            for kind, reason, subject, detail in state.get("skips") or []:
                report.skip(kind=kind, reason=reason, subject=subject, detail=detail)
            for message in state.get("errors") or []:
                report.error(message)
            stored_calls.update({k: int(v) for k, v in (state.get("api_calls") or {}).items()})
        tracker = _Tracker(portal=portal, run=run, owner=owner, progress=None)
        calls: dict[str, int] = {}
        try:
            with api_calls_counted() as calls:
                rules = sync_rules_get(portal=portal)
                tracker("compute", 0, 1)
                person_stats_compute(portal=portal, report=report)
                tracker("compute", 1, 1)
                _push(portal=portal, run=run, report=report, rules=rules, progress=tracker)
                # §6: recordings whose events this run sent (issue 5).
                report.recordings_synced = recordings_synced_count(portal=portal, since=report.started_at)
        except BaseException as exc:
            sync_run_fail(run=run, report=report, api_calls=dict(stored_calls + Counter(calls)), exc=exc)
            if account_part is not None:
                SyncRunPart.objects.filter(pk=account_part.pk).update(state=account_part.state | {"finish_failed": True})
            raise
        return sync_run_succeed(run=run, report=report, api_calls=dict(stored_calls + Counter(calls)))
    finally:
        sync_lease_release(portal=portal, owner=owner)


def sync_fanout_failed(*, sync_run_id: int, error: str) -> None:
    """A webinar task failed for good (the chord will not call finish): the run failed and
    the lease is released now rather than when it expires."""
    run = SyncRun.objects.select_related("portal").filter(pk=sync_run_id).first()
    if run is None:
        return
    SyncRun.objects.filter(pk=run.pk, status=SyncRunStatus.RUNNING).update(
        status=SyncRunStatus.FAILED, error=error[:5000], finished_at=timezone.now()
    )
    account_part = _account_part(run)
    if account_part is not None:
        sync_lease_release(portal=run.portal, owner=account_part.state.get("owner", ""))
