"""B2 through a real Celery worker (marked `services`: PostgreSQL, Redis): the same task
delivered five times and five requests at once make one run do the work, none FAILED; a run
whose worker died mid-way is taken over by its redelivered task and finishes."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from connector.models import SyncLease, SyncRun, SyncRunPart, SyncRunStatus
from connector.services.sync_requests import RUN_STALE_AFTER, sync_request
from tests.connector.sync_scenarios import fanout_begin
from tests.connector.test_fanout_worker import _connect_demo, fanout_worker  # noqa: F401 - the fixture

pytestmark = pytest.mark.services


def _settled(portal, worker, seconds=180):
    """Wait until no run of the portal is queued or running."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not SyncRun.objects.filter(portal=portal, status__in=[SyncRunStatus.QUEUED, SyncRunStatus.RUNNING]).exists():
            return
        assert worker.poll() is None, "the worker died"
        time.sleep(0.5)
    raise AssertionError("runs still under way: " + repr(list(SyncRun.objects.filter(portal=portal).values("pk", "status", "phase"))))


def test_b2_same_task_delivered_five_times_one_run_does_the_work(sandbox, fanout_worker):  # noqa: F811
    from connector.tasks import portal_sync_task

    portal = _connect_demo(sandbox)
    run = SyncRun.objects.create(portal=portal, trigger="manual")
    for _ in range(5):
        portal_sync_task.apply_async(args=(portal.pk, run.pk, False))
    _settled(portal, fanout_worker)
    run.refresh_from_db()
    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert SyncRun.objects.filter(portal=portal).count() == 1
    parts = SyncRunPart.objects.filter(sync_run=run, webinar__isnull=False)
    assert parts.count() == 8 and all(parts.values_list("done", flat=True))
    assert run.report["people"]["contacts_created"] == 8
    assert SyncLease.objects.get(portal=portal).owner == ""


def test_b2_five_requests_at_once_one_run_none_failed(sandbox, fanout_worker):  # noqa: F811
    portal = _connect_demo(sandbox)
    runs: list[int] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            runs.append(sync_request(portal=portal, source="manual").pk)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(runs)) == 1
    _settled(portal, fanout_worker)
    assert not SyncRun.objects.filter(portal=portal, status=SyncRunStatus.FAILED).exists()
    assert SyncRun.objects.filter(portal=portal).count() == 1
    assert SyncRun.objects.get(pk=runs[0]).status == SyncRunStatus.SUCCEEDED


def test_b2_run_of_a_dead_worker_is_taken_over_and_finishes(sandbox, fanout_worker):  # noqa: F811
    from connector.tasks import portal_sync_task

    portal = _connect_demo(sandbox)
    run = SyncRun.objects.create(portal=portal, trigger="manual")
    # A worker pulled the account level, then died: no heartbeat since, its lease expired.
    webinar_pks = fanout_begin(run)
    assert webinar_pks
    stale = timezone.now() - RUN_STALE_AFTER - timedelta(seconds=5)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=stale)
    SyncLease.objects.filter(portal=portal).update(expires_at=stale)
    dead_owner = SyncRun.objects.get(pk=run.pk).owner
    # Its message, delivered again (the broker restores unacknowledged messages).
    portal_sync_task.apply_async(args=(portal.pk, run.pk, False))
    _settled(portal, fanout_worker)
    run.refresh_from_db()
    assert run.status == SyncRunStatus.SUCCEEDED
    assert run.owner != dead_owner and not run.error  # continued, and a success shows no error
    assert run.report["people"]["contacts_created"] == 8
    assert SyncLease.objects.get(portal=portal).owner == ""


def test_b2_worker_killed_mid_sync_next_request_takes_over_and_finishes(sandbox, transactional_db):
    """Chaos: a prefork worker SIGKILLed with its children mid-sync (its messages stay
    unacknowledged for the broker's hour). Its run goes stale within RUN_STALE_AFTER (the
    heartbeat stops with it), the next request (as beat makes) hands it to a worker again,
    which takes it over and continues it: the same run succeeds, in the in-process sync's
    HubSpot state; no run FAILED, nothing is left running."""
    import os
    import signal

    from connector.services.sync import portal_sync
    from tests.celery_worker import celery_worker_running
    from tests.connector.test_fanout_worker import _hubspot

    portal = _connect_demo(sandbox)
    portal_sync(portal=portal, run=SyncRun.objects.create(portal=portal))
    reference = _hubspot(sandbox)
    portal.delete()

    portal = _connect_demo(sandbox)
    sandbox.configure(latency_ms=150)  # long enough to be killed mid-way
    with celery_worker_running(pool="prefork", concurrency=2) as worker:
        killed = sync_request(portal=portal, source="manual")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            killed.refresh_from_db()
            if killed.status == SyncRunStatus.RUNNING and killed.phase in ("webinars", "finish"):
                break
            time.sleep(0.2)
        assert killed.status == SyncRunStatus.RUNNING, killed.status
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    sandbox.configure(latency_ms=0)
    started = time.monotonic()
    with celery_worker_running(pool="prefork", concurrency=2) as worker:
        # Beat, every 5 s, until a run after the killed one has succeeded; then let it settle.
        deadline = time.monotonic() + RUN_STALE_AFTER.total_seconds() + 120
        while time.monotonic() < deadline:
            killed.refresh_from_db()
            if killed.status == SyncRunStatus.SUCCEEDED:
                break
            sync_request(portal=portal, source="beat")
            assert worker.poll() is None, "the worker died"
            time.sleep(5)
        _settled(portal, worker, seconds=60)
    took = time.monotonic() - started
    killed.refresh_from_db()
    assert killed.status == SyncRunStatus.SUCCEEDED and not killed.error, killed.error
    assert not SyncRun.objects.filter(portal=portal, status__in=[SyncRunStatus.QUEUED, SyncRunStatus.RUNNING]).exists()
    assert not SyncRun.objects.filter(portal=portal, status=SyncRunStatus.FAILED).exists()
    assert _hubspot(sandbox) == reference
    assert took < RUN_STALE_AFTER.total_seconds() + 60  # not the old 5 to 35 minutes
    assert SyncLease.objects.get(portal=portal).owner == ""
