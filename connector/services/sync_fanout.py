"""The fan-out's steps by their old names (docs/sync.md, "Celery"): thin wrappers over the
pipeline's stages (`services/pipeline.py`), which the in-process sync runs too."""

from __future__ import annotations

from typing import Any

from connector.models import Portal, SyncRun, SyncRunStatus
from connector.services.pipeline import (
    PHASE_PULL,
    RunBusy,
    SyncLeaseLost,
    pipeline_failed,
    pipeline_finish,
    pipeline_webinar,
    run_claim,
    stage_pull,
    webinar_parts_pending,
)

__all__ = ["SyncLeaseLost", "sync_fanout_begin", "sync_fanout_failed", "sync_fanout_finish", "sync_fanout_webinar"]

# A webinar task's hard time limit.
WEBINAR_TASK_TIME_LIMIT = 30 * 60


def sync_fanout_begin(*, portal: Portal, run: SyncRun, full: bool = False) -> list[int] | None:
    """Claim the run and run its account-level pull; returns the webinar pks still to pull,
    or None when the run is live in another worker or finished (a redelivered task).
    Raises SyncAlreadyRunning when another run holds the lease (nothing changed)."""
    if full and not run.full:
        SyncRun.objects.filter(pk=run.pk).update(full=True)
    try:
        run = run_claim(run=run)
    except RunBusy:
        return None
    if run.status != SyncRunStatus.RUNNING:
        return None
    if run.phase == PHASE_PULL:
        return stage_pull(run=run)
    return webinar_parts_pending(run=run)


def sync_fanout_webinar(*, sync_run_id: int, webinar_pk: int) -> dict[str, Any] | None:
    return pipeline_webinar(sync_run_id=sync_run_id, webinar_pk=webinar_pk)


def sync_fanout_finish(*, sync_run_id: int) -> dict[str, Any] | None:
    return pipeline_finish(sync_run_id=sync_run_id)


def sync_fanout_failed(*, sync_run_id: int, error: str) -> None:
    pipeline_failed(sync_run_id=sync_run_id, error=error)
