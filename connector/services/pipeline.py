"""The sync pipeline (B2): one code path for the in-process sync and for workers.

Stages, over one persisted run state (SyncRun columns `phase`, `owner`, `heartbeat_at`,
`full`, `webinar_ids`, and one SyncRunPart per stage with its counts):

  claim (the portal's lease) -> "pull" (account-level pull: users, Zoom Events, webinar
  listing and verdicts; one part per synced webinar) -> "webinars" (each webinar's
  registrants, sessions, participants, recordings: in line, or fanned out to workers by an
  injected `launch`) -> "finish" (merge the parts' counts, compute, push, report, release,
  a follow-up run when asked for again) -> "done".

Every stage is idempotent and records where the run is, so a task delivered again continues
the run from its phase (or sees it done), and a run whose worker died (no heartbeat for
RUN_STALE_AFTER) is taken over by the next task or request. The pipeline never imports
tasks: workers pass `launch`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from connector.clients.base import api_calls_counted
from connector.clients.errors import (
    ApiError,
    RateLimited,
    ServerError,
    TransportError,
    sync_error_code,
)
from connector.models import (
    ConnectionStatus,
    DirtyPerson,
    Portal,
    PortalSyncState,
    SkipRecord,
    SyncLease,
    SyncRun,
    SyncRunPart,
    SyncRunStatus,
    Webinar,
)
from connector.selectors import sync_rules_get
from connector.services import pull
from connector.services.compute import person_stats_compute, workflow_registrations_since
from connector.services.recordings import recordings_synced_count
from connector.services.report import CollectingReport, StageCounts, SyncReport, report_absorb
from connector.services.sync_requests import RUN_STALE_AFTER, run_abandon, sync_request_again
from zoomsync.log import log_context, log_context_pop, log_context_push
from zoomsync.metrics import sync_duration_observe

if TYPE_CHECKING:
    from connector.selectors import SyncRules

logger = logging.getLogger("zoomsync.sync")

Progress = Callable[[str, int, int], None]
# Hands the pending webinar parts of a run to workers (the tasks' chord); None: in line.
Launch = Callable[[SyncRun, list[int]], None]

# Renewed with every heartbeat; a little shorter than the run's staleness, so a run seen as
# abandoned has also lost its lease.
LEASE_TTL = RUN_STALE_AFTER - timedelta(seconds=5)
HEARTBEAT_EVERY = 4.0  # seconds
PROGRESS_SAVE_EVERY = 2.0  # seconds between SyncRun.progress writes
TRANSIENT_ERRORS = (RateLimited, ServerError, TransportError)

PHASE_PULL, PHASE_WEBINARS, PHASE_FINISH, PHASE_DONE = "pull", "webinars", "finish", "done"


class SyncAlreadyRunning(Exception):
    """Another live run holds this portal's sync lease."""

    def __init__(self, portal: Portal, lease: SyncLease) -> None:
        self.portal = portal
        self.lease = lease
        super().__init__(
            f"a sync of portal {portal.hub_id} is already running"
            f" (run {lease.sync_run_id}, lease held until {lease.expires_at:%Y-%m-%d %H:%M:%S} UTC)"
        )


class SyncLeaseLost(RuntimeError):
    """This run's lease was taken by another worker (ours had expired): the run must stop."""


class RunBusy(Exception):
    """The run is being worked on by a live worker (a duplicate delivery): try again later."""


# --- the lease ------------------------------------------------------------------------------


def lease_owner_new(attempt: Attempt | None = None) -> str:
    """host:pid:tag, the tag naming the task attempt (see Attempt) or random."""
    tag = attempt.tag if attempt is not None else uuid.uuid4().hex[:8]
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{tag}"[:100]


def sync_lease_acquire(
    *, portal: Portal, owner: str, run: SyncRun | None, ttl: timedelta = LEASE_TTL, replacing: str = ""
) -> SyncLease:
    """Take the portal's lease, or raise SyncAlreadyRunning.

    One conditional UPDATE decides (atomic on PostgreSQL and SQLite alike): the lease is free,
    expired (its worker died), already ours, or held by `replacing` (an owner known to have
    ended: an earlier attempt of the same task, or the dead worker of a run taken over). Taking an expired lease closes the run that
    held it as abandoned (B2: no run stays running with nobody on it).
    """
    try:
        with transaction.atomic():
            SyncLease.objects.get_or_create(portal=portal)
    except IntegrityError:
        pass  # created by a concurrent worker at the same moment
    now = timezone.now()
    held = SyncLease.objects.filter(portal=portal).values_list("owner", "sync_run_id").first()
    before: dict[str, Any] = {"owner": held[0], "sync_run_id": held[1]} if held else {}
    taken = (
        SyncLease.objects.filter(portal=portal)
        .filter(
            Q(owner="") | Q(expires_at__isnull=True) | Q(expires_at__lt=now) | Q(owner=owner)
            | (Q(owner=replacing) & ~Q(owner=""))
        )
        .update(owner=owner, expires_at=now + ttl, sync_run=run)
    )
    lease = SyncLease.objects.get(portal=portal)
    if not taken:
        raise SyncAlreadyRunning(portal, lease)
    previous = before.get("sync_run_id")
    if before.get("owner") not in ("", owner, replacing) and previous and previous != (run.pk if run else None):
        # B2: the takeover marks the old run.
        stale = SyncRun.objects.filter(pk=previous).first()
        if stale is not None and run_abandon(run=stale, reason="its worker stopped; another run took over"):
            logger.warning("sync run %s abandoned (lease expired), taken over", previous)
    return lease


def sync_lease_renew(*, portal: Portal, owner: str, ttl: timedelta = LEASE_TTL) -> bool:
    """Extend our lease; False when it was lost (taken over after expiring)."""
    return bool(
        SyncLease.objects.filter(portal=portal, owner=owner).update(expires_at=timezone.now() + ttl)
    )


def sync_lease_release(*, portal: Portal, owner: str) -> None:
    SyncLease.objects.filter(portal=portal, owner=owner).update(owner="", expires_at=None)


# --- heartbeat and progress ---------------------------------------------------------------


def _run_renew(run: SyncRun) -> bool:
    """One heartbeat: the run's heartbeat_at and the portal's lease; False when the run is no
    longer this owner's (taken over, or closed)."""
    alive = SyncRun.objects.filter(pk=run.pk, owner=run.owner, status=SyncRunStatus.RUNNING).update(
        heartbeat_at=timezone.now()
    )
    return bool(alive) and sync_lease_renew(portal=run.portal, owner=run.owner)


class KeepAlive:
    """While a task works on a run (`with KeepAlive(run):`), a background thread renews its
    heartbeat and lease every HEARTBEAT_EVERY on its own database connection, so a live run
    never looks abandoned during a long call, a 429 wait or a slow query, and the run of a
    killed worker goes stale within RUN_STALE_AFTER (B2). Only outside a transaction and not
    on an in-memory SQLite database (a worker, `make dev`, the CLI), where the thread's own
    connection sees the run; elsewhere (tests) the progress calls beat, throttled. A lost run sets `lost`: the next progress call
    raises SyncLeaseLost."""

    _live: dict[tuple[int, int], KeepAlive] = {}  # this process's kept-alive runs, by run pk and thread

    def __init__(self, run: SyncRun) -> None:
        self.run = run
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def beating(self) -> bool:
        return self._thread is not None

    def __enter__(self) -> KeepAlive:
        # SQLite's in-memory database (the tests) is one connection: no second thread on it.
        in_memory = connection.vendor == "sqlite" and bool(connection.is_in_memory_db())  # type: ignore[attr-defined]
        if not connection.in_atomic_block and not in_memory:
            self._thread = threading.Thread(target=self._loop, name=f"heartbeat-run-{self.run.pk}", daemon=True)
            self._thread.start()
        KeepAlive._live[(self.run.pk, threading.get_ident())] = self
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=HEARTBEAT_EVERY + 10)
            self._thread = None
        KeepAlive._live.pop((self.run.pk, threading.get_ident()), None)

    def _loop(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_EVERY):
                try:
                    if not _run_renew(self.run):
                        self.lost.set()
                        return
                except Exception:  # noqa: BLE001 - the database restarting: beat again next time
                    logger.warning("sync run %s: heartbeat failed, trying again", self.run.pk, exc_info=True)
                    connection.close()
        finally:
            connection.close()  # this thread's own connection

    @classmethod
    def of(cls, run: SyncRun) -> KeepAlive | None:
        return cls._live.get((run.pk, threading.get_ident()))


class Heartbeat:
    """The progress callback of every stage: records progress on the run and renews the run's
    heartbeat and lease (throttled; the KeepAlive thread does it when there is one); raises
    SyncLeaseLost when another owner took the run."""

    def __init__(self, *, run: SyncRun, progress: Progress | None = None) -> None:
        self.run, self.callback = run, progress
        self.last_save = 0.0
        self.last_beat = time.monotonic()
        self.phase = ""

    def beat(self) -> None:
        keeper = KeepAlive.of(self.run)
        if (keeper is not None and keeper.lost.is_set()) or not _run_renew(self.run):
            raise SyncLeaseLost(f"sync run {self.run.pk}: another worker took over")

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase != self.phase or now - self.last_save >= PROGRESS_SAVE_EVERY or done == total:
            self.phase = phase
            self.last_save = now
            self.run.progress = {"phase": phase, "done": done, "total": total}
            SyncRun.objects.filter(pk=self.run.pk).update(progress=self.run.progress)
        keeper = KeepAlive.of(self.run)
        if keeper is not None and keeper.lost.is_set():
            raise SyncLeaseLost(f"sync run {self.run.pk}: another worker took over")
        if (keeper is None or not keeper.beating) and now - self.last_beat >= HEARTBEAT_EVERY:
            self.last_beat = now
            self.beat()
        if self.callback is not None:
            self.callback(phase, done, total)


# --- claim ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """Which delivery of which task drives a run: the Celery task id (the same across the
    task's retries) and its retry number. A retry follows an attempt that has ended (Celery
    retries after it raised); a message delivered again carries the same number as the
    delivery that may still be running."""

    task_id: str
    retries: int

    @property
    def tag(self) -> str:
        return f"{self.task_id}#{self.retries}"

    def follows(self, owner: str) -> bool:
        """`owner` is an earlier attempt of this same task (so it has ended)."""
        task_id, _, number = owner.rsplit(":", 1)[-1].partition("#")
        return task_id == self.task_id and number.isdigit() and int(number) < self.retries


def run_claim(*, run: SyncRun, attempt: Attempt | None = None) -> SyncRun:
    """Start or continue the run in this worker: take the portal's lease for a new owner
    token and mark it running.

    A queued run is claimed. A running or failed run left by an earlier attempt of the same
    task (its retry) continues from its phase. Any other running run is live elsewhere
    (RunBusy: a duplicate delivery never runs it twice at once) unless its heartbeat is
    stale (its worker died): then it is taken over and marked so. A finished run is returned
    as it is (the caller sees it done). Raises SyncAlreadyRunning when another live run holds
    the lease (the run is unchanged).
    """
    from connector.services.sync_requests import run_is_abandoned

    run.refresh_from_db()
    ours = attempt is not None and bool(run.owner) and attempt.follows(run.owner)
    if run.status == SyncRunStatus.SUCCEEDED or (run.status == SyncRunStatus.FAILED and not ours):
        return run
    taken_over = False
    if run.status == SyncRunStatus.RUNNING and run.owner and not ours:
        if not run_is_abandoned(run):
            raise RunBusy(f"sync run {run.pk} is being worked on")
        taken_over = True
    owner = lease_owner_new(attempt)
    try:
        # The lease of the attempt this one follows, or of the dead worker taken over, is
        # taken even before it expires.
        sync_lease_acquire(portal=run.portal, owner=owner, run=run, replacing=run.owner if ours or taken_over else "")
    except SyncAlreadyRunning as exc:
        if exc.lease.sync_run_id == run.pk:
            # B2: two deliveries claimed the run at once; the other one won it.
            raise RunBusy(f"sync run {run.pk} is being worked on") from exc
        raise
    now = timezone.now()
    fields: dict[str, Any] = {"status": SyncRunStatus.RUNNING, "owner": owner, "heartbeat_at": now}
    if run.status != SyncRunStatus.RUNNING and run.phase in ("", PHASE_DONE):
        fields["phase"] = PHASE_PULL
    if run.started_at is None or run.phase in ("", PHASE_DONE):
        fields["started_at"] = now
    if run.status == SyncRunStatus.FAILED:
        fields.update(finished_at=None, error="", error_code="")
    if taken_over:
        # B2: a dead worker's run is continued from its stage by this worker (its new owner
        # token fences off anything the old worker still sends).
        logger.warning("sync run %s: its worker stopped (owner %s); taken over in its %s stage",
                       run.pk, run.owner, run.phase or PHASE_PULL)
    SyncRun.objects.filter(pk=run.pk).update(**fields)
    run.refresh_from_db()
    return run


def run_fail(
    *, run: SyncRun, error: str, error_code: str = "internal", report: dict[str, Any] | None = None
) -> None:
    """Close a run as failed and free its lease. Best effort: when the database itself is
    what failed, the run stays running without a heartbeat and is taken over later (B2:
    recording a failure never hides the failure)."""
    try:
        fields: dict[str, Any] = {
            "status": SyncRunStatus.FAILED,
            "error": error[:5000],
            "error_code": error_code,  # what kind of failure, for the UI's words
            "finished_at": timezone.now(),
            "heartbeat_at": None,
        }
        if report is not None:
            fields["report"] = report
        # Only while the run is still ours: a run taken over by another worker is not failed
        # by the worker it replaced.
        closed = SyncRun.objects.filter(pk=run.pk, owner=run.owner).exclude(status=SyncRunStatus.FAILED).exclude(
            status=SyncRunStatus.SUCCEEDED
        ).update(**fields)
        if closed:
            run.refresh_from_db()
            _duration_observe(run)
        if run.owner:
            sync_lease_release(portal=run.portal, owner=run.owner)
    except Exception:  # noqa: BLE001 - the original error is what propagates
        logger.exception("sync run %s: the failure could not be recorded", run.pk)


def run_fail_unstarted(*, sync_run_id: int, error: str, error_code: str = "internal") -> None:
    """A queued run that cannot start (its portal is gone or disconnected)."""
    SyncRun.objects.filter(pk=sync_run_id, status=SyncRunStatus.QUEUED).update(
        status=SyncRunStatus.FAILED, error=error[:5000], error_code=error_code, finished_at=timezone.now(),
        phase=PHASE_DONE,
    )


def _duration_observe(run: SyncRun) -> None:
    """The finished run's duration for the metrics (the runs are closed by UPDATE: no save
    signal)."""
    if run.finished_at and run.started_at:
        sync_duration_observe(status=run.status, seconds=(run.finished_at - run.started_at).total_seconds())


# --- stage 1: the account-level pull ---------------------------------------------------------


def _account_part(run: SyncRun) -> SyncRunPart | None:
    return SyncRunPart.objects.filter(sync_run=run, webinar__isnull=True).first()


def stage_pull(*, run: SyncRun, progress: Progress | None = None) -> list[int]:
    """Users, Zoom Events, the webinar listing and verdicts of every connected Zoom account;
    one part per webinar to pull. Returns the webinar pks. Phase -> "webinars"."""
    portal = run.portal
    beat = Heartbeat(run=run, progress=progress)
    # A stage run again starts afresh: its parts and skip records are recomputed whole.
    SkipRecord.objects.filter(sync_run=run).delete()
    SyncRunPart.objects.filter(sync_run=run).delete()
    report = CollectingReport(portal=portal)
    todo: list[tuple[Webinar, bool]] = []
    with api_calls_counted() as calls:
        rules = sync_rules_get(portal=portal)
        accounts = list(portal.zoom_accounts.filter(status=ConnectionStatus.CONNECTED).order_by("pk"))
        if not accounts:
            report.error("no connected Zoom account")
        targets = set(run.webinar_ids) if run.webinar_ids is not None else None
        for account in accounts:
            try:
                with log_context(account_id=account.account_id):  # log lines name the account
                    passing = pull.account_level_pull(
                        account=account, rules=rules, report=report, full=run.full, progress=beat
                    )
            except TRANSIENT_ERRORS:
                raise
            except ApiError as exc:
                logger.warning("pull of zoom account %s failed: %s", account.account_id, exc)
                report.error(f"Zoom account {account.account_id}: {exc}")
                continue
            if targets is not None:
                passing = [(w, listed) for w, listed in passing if w.webinar_id in targets]
            todo.extend(passing)
    SyncRunPart.objects.create(
        sync_run=run, webinar=None, attempts=1, done=True, state=report.counts(api_calls=calls).to_dict()
    )
    SyncRunPart.objects.bulk_create([SyncRunPart(sync_run=run, webinar=w, listed=listed) for w, listed in todo])
    SyncRun.objects.filter(pk=run.pk).update(
        phase=PHASE_WEBINARS, progress={"phase": "pull:webinar data", "done": 0, "total": len(todo)}
    )
    run.phase = PHASE_WEBINARS
    return [w.pk for w, _ in todo]


def webinar_parts_pending(*, run: SyncRun) -> list[int]:
    return list(
        SyncRunPart.objects.filter(sync_run=run, webinar__isnull=False, done=False)
        .order_by("webinar__account_id", "webinar__webinar_id")
        .values_list("webinar_id", flat=True)
    )


# --- stage 2: one webinar --------------------------------------------------------------------


def stage_webinar(*, run: SyncRun, webinar_pk: int, progress: Progress | None = None) -> dict[str, Any] | None:
    """One webinar's registrants, sessions, participants and recordings; its counts go to its
    part. A part already done (delivered again) pulls nothing. Transient API errors propagate
    (the task retries); another API error is reported and the other webinars still sync.
    Raises SyncLeaseLost when the run was taken over."""
    part = SyncRunPart.objects.select_related("webinar__account").filter(sync_run=run, webinar_id=webinar_pk).first()
    if part is None or part.webinar is None:
        logger.info("sync run %s, webinar %s: no such part", run.pk, webinar_pk)
        return None
    webinar = part.webinar
    SyncRunPart.objects.filter(pk=part.pk).update(attempts=F("attempts") + 1)
    beat = Heartbeat(run=run, progress=progress)
    beat.beat()
    if part.done:
        return {"webinar": webinar.webinar_id, "pulled": part.state.get("pulled", {})}
    report = CollectingReport(portal=run.portal)
    with api_calls_counted() as calls:
        rules = sync_rules_get(portal=run.portal)
        try:
            pull.webinar_data_pull(
                webinar=webinar, listed=part.listed, rules=rules, report=report, full=run.full, progress=beat
            )
        except TRANSIENT_ERRORS:
            raise
        except ApiError as exc:
            logger.warning("pull of webinar %s failed: %s", webinar.webinar_id, exc)
            report.error(f"Zoom account {webinar.account.account_id}: webinar {webinar.webinar_id}: {exc}")
    SyncRunPart.objects.filter(pk=part.pk).update(done=True, state=report.counts(api_calls=calls).to_dict())
    beat.beat()
    parts = SyncRunPart.objects.filter(sync_run=run, webinar__isnull=False)
    SyncRun.objects.filter(pk=run.pk, status=SyncRunStatus.RUNNING).update(
        progress={"phase": "pull:webinar data", "done": parts.filter(done=True).count(), "total": parts.count()}
    )
    return {"webinar": webinar.webinar_id, "pulled": dict(report.pulled)}


# --- stage 3: compute, push, report ----------------------------------------------------------

# Above this many changed people, computing everyone costs less than naming them all.
EVERYONE_ABOVE = 5000


@dataclass(frozen=True)
class ChangeScope:
    """Who the finish stage recomputes and pushes (B2): `emails` None is everyone."""

    emails: frozenset[str] | None
    recheck: bool  # list the HubSpot definitions and account users again
    snapshot: dt.datetime  # changes marked up to here are covered by this run
    rules_fingerprint: str


def rules_fingerprint(rules: SyncRules) -> str:
    """The settings as the sync applies them, in one stable form (a change: everyone)."""
    canonical = {
        key: sorted(value) if isinstance(value, (set, frozenset)) else value
        for key, value in dataclasses.asdict(rules).items()
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, default=sorted).encode()).hexdigest()


def change_scope(*, run: SyncRun, rules: SyncRules) -> ChangeScope:
    """B2: a full run, the first run, or a settings change recomputes and pushes everyone;
    otherwise only the people marked changed (and those the workflow action registered).
    A run whose finish stage runs again (taken over, retried) keeps the scope it first
    took (the same snapshot: later changes stay marked for the next run) and its push cursor."""
    state, _ = PortalSyncState.objects.get_or_create(portal=run.portal)
    fingerprint = rules_fingerprint(rules)
    snapshot = run.scope_snapshot_at
    if snapshot is None or run.scope_rules_fingerprint != fingerprint:
        # The first finish of this run, or the settings changed since it began: a new scope,
        # and its push starts from the first person.
        snapshot = run.scope_snapshot_at = timezone.now()
        run.scope_rules_fingerprint, run.push_after_pk = fingerprint, 0
        SyncRun.objects.filter(pk=run.pk).update(
            scope_snapshot_at=snapshot, scope_rules_fingerprint=fingerprint, push_after_pk=0
        )
    recheck = run.full or state.checked_at is None
    if run.full or state.computed_at is None or state.rules_fingerprint != fingerprint:
        return ChangeScope(emails=None, recheck=recheck, snapshot=snapshot, rules_fingerprint=fingerprint)
    emails = set(DirtyPerson.objects.filter(portal=run.portal, marked_at__lte=snapshot).values_list("email", flat=True))
    emails |= workflow_registrations_since(portal=run.portal, since=state.computed_at)
    if len(emails) > EVERYONE_ABOVE:
        return ChangeScope(emails=None, recheck=recheck, snapshot=snapshot, rules_fingerprint=fingerprint)
    return ChangeScope(emails=frozenset(emails), recheck=recheck, snapshot=snapshot, rules_fingerprint=fingerprint)


def change_scope_done(*, portal: Portal, scope: ChangeScope) -> None:
    """The push wrote everyone in the scope: their changes are done."""
    with transaction.atomic():
        DirtyPerson.objects.filter(portal=portal, marked_at__lte=scope.snapshot).delete()
        PortalSyncState.objects.filter(portal=portal).update(
            computed_at=scope.snapshot, rules_fingerprint=scope.rules_fingerprint
        )



def stage_finish(*, run: SyncRun, pull_only: bool = False, progress: Progress | None = None) -> dict[str, Any]:
    """Merge the parts' counts, compute, push through the outbox (a re-run sends nothing
    twice), store the report, release the lease and queue the follow-up run if asked."""
    from connector.services.push import link_skips_report, portal_push

    portal = run.portal
    SyncRun.objects.filter(pk=run.pk).update(phase=PHASE_FINISH)
    run.phase = PHASE_FINISH
    SkipRecord.objects.filter(sync_run=run).delete()  # a re-run replays them whole
    report = SyncReport(portal=portal, run=run)
    report.started_at = run.started_at or report.started_at
    stored = StageCounts()
    parts = list(
        SyncRunPart.objects.filter(sync_run=run)
        .select_related("webinar")
        .order_by(F("webinar_id").asc(nulls_first=True))
    )
    account_parts = [p for p in parts if p.webinar_id is None]
    webinar_parts = sorted(
        (p for p in parts if p.webinar is not None),
        key=lambda p: (p.webinar.account_id, p.webinar.webinar_id) if p.webinar else (0, ""),
    )
    for part in account_parts + webinar_parts:
        if not part.done:
            report.error(f"webinar {part.webinar.webinar_id if part.webinar else '?'}: not pulled")
            continue
        counts = StageCounts.from_dict(part.state)
        report_absorb(report=report, counts=counts)
        stored = stored.merge(StageCounts(api_calls=counts.api_calls))
    beat = Heartbeat(run=run, progress=progress)
    calls: dict[str, int] = {}
    try:
        with api_calls_counted() as calls:
            rules = sync_rules_get(portal=portal)
            scope = change_scope(run=run, rules=rules)
            beat("compute", 0, 1)
            person_stats_compute(portal=portal, report=report, emails=scope.emails)
            beat("compute", 1, 1)
            if not pull_only:
                portal_push(
                    portal=portal,
                    run=run,
                    report=report,
                    rules=rules,
                    progress=beat,
                    emails=scope.emails,
                    recheck=scope.recheck,
                )
                link_skips_report(portal=portal, report=report)
                # §6: recordings whose events this run sent (issue 5).
                report.recordings_synced = recordings_synced_count(portal=portal, since=report.started_at)
                change_scope_done(portal=portal, scope=scope)
    except BaseException as exc:
        total = stored.merge(StageCounts(api_calls=dict(calls))).api_calls
        try:
            report.finish()
            failed_report: dict[str, Any] | None = report.as_dict(api_calls=total)
        except Exception:  # noqa: BLE001 - the database may be what failed
            failed_report = None
        run_fail(run=run, error=f"{type(exc).__name__}: {exc}", error_code=sync_error_code(exc), report=failed_report)
        raise
    report.finish()
    result = report.as_dict(api_calls=stored.merge(StageCounts(api_calls=dict(calls))).api_calls)
    # The run is shown done and its lease is free in one commit: a worker killed right after
    # it (a deploy, Ctrl-C on `make dev`) leaves no lease behind a finished run.
    with transaction.atomic():
        SyncRun.objects.filter(pk=run.pk).update(
            status=SyncRunStatus.SUCCEEDED,
            phase=PHASE_DONE,
            finished_at=report.finished_at,
            report=result,
            progress={"phase": "done", "done": 1, "total": 1},
            heartbeat_at=None,
        )
        sync_lease_release(portal=portal, owner=run.owner)
    run.refresh_from_db()
    _duration_observe(run)
    try:
        sync_request_again(run=run)  # B2: asked for again while it ran: one more run follows
    except Exception:  # noqa: BLE001 - the broker down: the queued follow-up is handed out again later
        logger.warning("sync run %s: the follow-up run could not be queued now", run.pk, exc_info=True)
    return result


# --- the driver -------------------------------------------------------------------------------


def pipeline_run(
    *,
    run: SyncRun,
    launch: Launch | None = None,
    attempt: Attempt | None = None,
    pull_only: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any] | None:
    """Drive the run from where it is to its end (in line) or to the fan-out (`launch`).

    Returns the report when the run finished here (or had finished before), None when the
    webinar stage was handed to workers. Raises SyncAlreadyRunning (another live run holds
    the lease; this run is unchanged), RunBusy (this run is live in another worker).
    Transient errors propagate after the run is marked failed, so the task retries it (the
    next `attempt`) and the run continues from its phase.
    """
    run = run_claim(run=run, attempt=attempt)
    if run.status != SyncRunStatus.RUNNING:
        return run.report or None  # finished before: a duplicate delivery
    log_token = log_context_push(portal_id=run.portal.hub_id, run_id=run.pk)  # log lines name portal and run
    try:
        with KeepAlive(run):
            if run.phase == PHASE_PULL:
                stage_pull(run=run, progress=progress)
            if run.phase == PHASE_WEBINARS:
                pending = webinar_parts_pending(run=run)
                if launch is not None:
                    launch(run, pending)
                    return None
                total = SyncRunPart.objects.filter(sync_run=run, webinar__isnull=False).count()
                for n, webinar_pk in enumerate(pending, total - len(pending) + 1):
                    if progress is not None:
                        progress("pull:webinar data", n, total)
                    stage_webinar(run=run, webinar_pk=webinar_pk)
            return stage_finish(run=run, pull_only=pull_only, progress=progress)
    except BaseException as exc:
        if run.phase != PHASE_FINISH:  # stage_finish records its own failure with its report
            run_fail(run=run, error=f"{type(exc).__name__}: {exc}", error_code=sync_error_code(exc))
        raise
    finally:
        log_context_pop(log_token)


def _fanout_run(*, sync_run_id: int, owner: str | None) -> SyncRun | None:
    """The run a chord task works for, None when the run is gone or another owner took it
    over (this task belongs to an earlier fan-out: the new owner launched its own)."""
    run = SyncRun.objects.select_related("portal").filter(pk=sync_run_id).first()
    if run is not None and owner is not None and run.owner != owner:
        logger.info("sync run %s: taken over by another worker; this task of the old fan-out stops", sync_run_id)
        return None
    return run


def pipeline_finish(
    *, sync_run_id: int, owner: str | None = None, attempt: Attempt | None = None
) -> dict[str, Any] | None:
    """The fan-out's last step (the chord's callback): the finish stage of a running run.
    A retry of this task (`attempt`) continues the run its earlier attempt failed."""
    run = _fanout_run(sync_run_id=sync_run_id, owner=owner)
    if run is None:
        return None
    retry = attempt is not None and attempt.retries > 0
    if run.status == SyncRunStatus.SUCCEEDED or (run.status == SyncRunStatus.FAILED and not retry):
        return run.report or None
    if run.status == SyncRunStatus.QUEUED or not run.owner:
        return None
    sync_lease_acquire(portal=run.portal, owner=run.owner, run=run)
    if run.status == SyncRunStatus.FAILED:
        SyncRun.objects.filter(pk=run.pk, owner=run.owner, status=SyncRunStatus.FAILED).update(
            status=SyncRunStatus.RUNNING, finished_at=None, error="", error_code="", heartbeat_at=timezone.now()
        )
        run.refresh_from_db()
    with KeepAlive(run):
        return stage_finish(run=run)


def pipeline_webinar(*, sync_run_id: int, webinar_pk: int, owner: str | None = None) -> dict[str, Any] | None:
    """One webinar of a fanned-out run (a chord header task)."""
    run = _fanout_run(sync_run_id=sync_run_id, owner=owner)
    if run is None or run.status != SyncRunStatus.RUNNING:
        logger.info("sync run %s, webinar %s: the run is not running", sync_run_id, webinar_pk)
        return None
    with KeepAlive(run):
        return stage_webinar(run=run, webinar_pk=webinar_pk)


def pipeline_failed(
    *, sync_run_id: int, error: str, error_code: str = "internal", owner: str | None = None
) -> None:
    """A webinar task failed for good (the chord will not finish): the run failed, its lease
    is freed now. With `owner`, only while the run is still that owner's (not taken over)."""
    run = SyncRun.objects.select_related("portal").filter(pk=sync_run_id).first()
    if run is None or run.status != SyncRunStatus.RUNNING or (owner is not None and run.owner != owner):
        return
    run_fail(run=run, error=error, error_code=error_code)


def portal_sync(
    *,
    portal: Portal,
    run: SyncRun | None = None,
    full: bool = False,
    pull_only: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Sync one portal end to end in this process and return the report (INTERFACES.md §6).

    The same stages as the workers' fan-out, run in line. Raises SyncAlreadyRunning when
    another run holds the lease (nothing is changed).
    """
    if run is None:
        run = SyncRun.objects.create(portal=portal, trigger="manual", full=full)
    elif full and not run.full:
        SyncRun.objects.filter(pk=run.pk).update(full=True)
    report = pipeline_run(run=run, pull_only=pull_only, progress=progress)
    assert report is not None  # in line: the run ends here
    return report
