"""Asking for a sync: the one way the UI, beat, the workflow action, webhooks and the CLI
start one (B2). Stable public API:

- `sync_request(portal=…, full=False, source=…, webinar_ids=None) -> SyncRun`
- `people_mark_dirty(portal=…, emails=…) -> int`

Requests are merged: while a run of the portal is queued, a request returns that run (made
full, or widened to more webinars, when the request asks for more); while one is running,
the request sets the run's "requested again" flag and returns it, and the pipeline starts
one more run when it ends. A request never creates a FAILED run for a sync that was simply
not needed. A running run whose worker stopped (no heartbeat for `RUN_STALE_AFTER`) is
handed to a worker again, which takes it over and continues it from its stage.

The run is handed to workers through an injected enqueue (`sync_enqueue_set`, wired in
`connector.apps`): services never import tasks.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from connector.models import DirtyPerson, Portal, SyncLease, SyncRun, SyncRunStatus
from connector.services.sync_settings import email_normalize

# A running run whose heartbeat is older than this has nobody working on it (a worker beats
# every 4 s from a background thread while it works on the run: pipeline.KeepAlive).
RUN_STALE_AFTER = timedelta(seconds=20)
# A queued run this old may have lost its message (a broker restart): queue it once more
# (harmless: a run is claimed by one worker only, a duplicate message finds it taken).
QUEUED_REQUEUE_AFTER = timedelta(minutes=1)

Enqueue = Callable[[SyncRun], None]
_enqueue: Enqueue | None = None


def sync_enqueue_set(enqueue: Enqueue) -> None:
    """Wire how a run reaches a worker (connector.apps does: the Celery task)."""
    global _enqueue
    _enqueue = enqueue


def sync_enqueue(run: SyncRun) -> None:
    """Hand the run to a worker once the current transaction commits."""
    if _enqueue is None:  # pragma: no cover - wired by connector.apps at start
        raise RuntimeError("no sync enqueue wired (connector.apps sets it)")
    enqueue = _enqueue
    transaction.on_commit(lambda: enqueue(run))


def _targets(webinar_ids: Iterable[str] | None) -> list[str] | None:
    if webinar_ids is None:
        return None
    return sorted({str(w).strip() for w in webinar_ids if str(w).strip()})


def _union(a: list[str] | None, b: list[str] | None) -> list[str] | None:
    """Webinar targets merged: None (every webinar) wins."""
    if a is None or b is None:
        return None
    return sorted(set(a) | set(b))


def _portal_lock(portal: Portal) -> None:
    """Serialise the requests of one portal: a row lock on PostgreSQL, the write lock on
    SQLite (an UPDATE takes it at once, so two requests never both see "no run")."""
    try:
        with transaction.atomic():
            SyncLease.objects.get_or_create(portal=portal)
    except IntegrityError:
        pass  # created by a concurrent request at the same moment
    SyncLease.objects.select_for_update().filter(portal=portal).update(portal=portal)


def run_is_abandoned(run: SyncRun, *, now: object = None) -> bool:
    """A running run nobody works on: its heartbeat (or start) is older than RUN_STALE_AFTER,
    or the process that owns it was on this host and is gone (a worker killed and restarted
    on the same machine is taken over at once, without waiting for the heartbeat to age)."""
    if run.status != SyncRunStatus.RUNNING:
        return False
    if run.owner and owner_process_gone(run.owner):
        return True
    seen = run.heartbeat_at or run.started_at or run.created_at
    return seen is None or seen < timezone.now() - RUN_STALE_AFTER


def runs_abandoned_hand_on() -> list[int]:
    """B2: every running run nobody works on any more is handed to a worker again (which takes
    it over and continues it). A worker calls this as it starts: one restarted after a crash
    on the same host picks its runs up at once instead of waiting for the next request.
    Returns the runs handed on."""
    handed = []
    for run in SyncRun.objects.filter(status=SyncRunStatus.RUNNING).order_by("pk"):
        if run_is_abandoned(run):
            sync_enqueue(run)
            handed.append(run.pk)
    return handed


def owner_process_gone(owner: str) -> bool:
    """The owner token (`host:pid:tag`, pipeline.lease_owner_new) names a process of this host
    that no longer exists. False whenever that cannot be known for sure: another host, this
    very process, a process we may not signal, a pid already reused (then the heartbeat's
    age decides)."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:40] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid <= 1 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists (another user's) or cannot be asked
    return False


def run_abandon(*, run: SyncRun, reason: str) -> bool:
    """Close a run whose worker died (B2); True when this call closed it."""
    closed = SyncRun.objects.filter(pk=run.pk, status=SyncRunStatus.RUNNING).update(
        status=SyncRunStatus.FAILED,
        phase="done",
        owner="",
        error=f"abandoned: {reason}"[:5000],
        error_code="lease_lost",  # another worker took over: the UI's words
        finished_at=timezone.now(),
    )
    return bool(closed)


def sync_request(
    *,
    portal: Portal,
    full: bool = False,
    source: str,
    webinar_ids: Iterable[str] | None = None,
) -> SyncRun:
    """Ask for a sync of the portal; returns the run that will do it.

    `source` is who asks ("manual", "beat", "cli", "workflow", "webhook"; stored as the run's
    trigger). `full` re-checks everyone (R14 deletions, late report rows); `webinar_ids`
    (Zoom webinar ids) narrows the sync to those webinars, None means all of them.

    Merged with the portal's queued run (returned, widened as asked) or running run (its
    "requested again" flag set: one more run follows it). A running run without a heartbeat
    for RUN_STALE_AFTER is also queued again: a worker takes it over and continues it.
    Never creates a FAILED run.
    """
    targets = _targets(webinar_ids)
    with transaction.atomic():
        _portal_lock(portal)
        active = list(
            SyncRun.objects.select_for_update()
            .filter(portal=portal, status__in=[SyncRunStatus.QUEUED, SyncRunStatus.RUNNING])
            .order_by("pk")
        )
        queued = [r for r in active if r.status == SyncRunStatus.QUEUED]
        running = [r for r in active if r.status == SyncRunStatus.RUNNING]
        if queued:
            run = queued[0]
            run.full = run.full or full
            run.webinar_ids = _union(run.webinar_ids, targets)
            run.save(update_fields=["full", "webinar_ids"])
            if run.created_at < timezone.now() - QUEUED_REQUEUE_AFTER:
                sync_enqueue(run)
            return run
        if running:
            run = running[0]
            _again_set(run, full=full, targets=targets)
            if run_is_abandoned(run):
                # B2: a dead worker's run is handed to a worker again, which takes it over and
                # goes on from the stage it reached (the pulled webinars stay pulled, the
                # outbox keeps what was sent); nothing is failed, nothing is started afresh.
                sync_enqueue(run)
            return run
        run = SyncRun.objects.create(
            portal=portal,
            trigger=source[:20],
            status=SyncRunStatus.QUEUED,
            full=full,
            webinar_ids=targets,
        )
        sync_enqueue(run)
        return run


def _again_set(run: SyncRun, *, full: bool, targets: list[str] | None) -> None:
    """A request while the run runs: one more run follows it, with what was asked (B2)."""
    if run.requested_again:
        run.again_full = run.again_full or full
        run.again_webinar_ids = _union(run.again_webinar_ids, targets)
    else:
        run.requested_again = True
        run.again_full = full
        run.again_webinar_ids = targets
    run.save(update_fields=["requested_again", "again_full", "again_webinar_ids"])


def sync_request_again(*, run: SyncRun) -> SyncRun | None:
    """The end of a run: when it was asked for again while it ran, request the follow-up run
    with what was asked (None when it was not asked again)."""
    with transaction.atomic():
        _portal_lock(run.portal)
        asked = SyncRun.objects.filter(pk=run.pk, requested_again=True).values("again_full", "again_webinar_ids").first()
        if asked is None:
            return None
        SyncRun.objects.filter(pk=run.pk).update(requested_again=False)
        run.requested_again = False
        return sync_request(
            portal=run.portal, full=asked["again_full"], source=run.trigger, webinar_ids=asked["again_webinar_ids"]
        )


def people_mark_dirty(*, portal: Portal, emails: Iterable[str]) -> int:
    """Mark people (by email) changed: the next sync recomputes and pushes them (B2).

    Call it inside the transaction that changed their rows. Returns how many distinct,
    non-empty emails were marked.
    """
    normalized = {email_normalize(e)[:254] for e in emails if e}
    normalized.discard("")
    if not normalized:
        return 0
    now = timezone.now()
    DirtyPerson.objects.bulk_create(
        [DirtyPerson(portal=portal, email=e, marked_at=now) for e in sorted(normalized)],
        update_conflicts=True,
        unique_fields=["portal", "email"],
        update_fields=["marked_at"],
    )
    return len(normalized)


def webinar_people_mark_dirty(*, portal: Portal, webinar_pks: Iterable[int]) -> int:
    """Mark every person of these webinars changed (registrants and attendees): their
    verdict, what their events show, or their recording changed (B2)."""
    from connector.models import ParticipantRow, Registrant

    pks = sorted(set(webinar_pks))
    if not pks:
        return 0
    emails = set(Registrant.objects.filter(webinar_id__in=pks).exclude(email="").values_list("email", flat=True))
    emails |= set(
        ParticipantRow.objects.filter(session__webinar_id__in=pks).exclude(email="").values_list("email", flat=True)
    )
    return people_mark_dirty(portal=portal, emails=emails)
