"""One sync per portal (SyncLease), the run's life cycle, the tasks and the beat entry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connector.models import SyncLease, SyncRun, SyncRunStatus
from connector.services import pipeline as pipeline_service
from connector.services.sync import (
    SyncAlreadyRunning,
    portal_sync,
    sync_lease_acquire,
    sync_lease_release,
    sync_lease_renew,
)


def test_lease_second_owner_refused_until_released(portal):
    sync_lease_acquire(portal=portal, owner="a", run=None)
    with pytest.raises(SyncAlreadyRunning):
        sync_lease_acquire(portal=portal, owner="b", run=None)
    assert sync_lease_renew(portal=portal, owner="a")
    assert not sync_lease_renew(portal=portal, owner="b")
    sync_lease_release(portal=portal, owner="a")
    sync_lease_acquire(portal=portal, owner="b", run=None)
    assert SyncLease.objects.get(portal=portal).owner == "b"


def test_stale_lease_is_taken_over(portal):
    sync_lease_acquire(portal=portal, owner="dead-worker", run=None)
    SyncLease.objects.filter(portal=portal).update(expires_at=timezone.now() - timedelta(seconds=1))
    sync_lease_acquire(portal=portal, owner="b", run=None)
    assert SyncLease.objects.get(portal=portal).owner == "b"
    # The dead worker, back from the grave, cannot renew what it lost.
    assert not sync_lease_renew(portal=portal, owner="dead-worker")


def test_portal_sync_refused_while_another_holds_the_lease(portal, monkeypatch):
    """Two syncs of one portal: while the first holds the lease the second is refused and
    changes nothing; once released, the second runs."""
    from connector.models import ZoomAccount

    ZoomAccount.objects.create(portal=portal, account_id="zacc_main", auth_type="s2s")
    pulled = []
    monkeypatch.setattr(pipeline_service.pull, "account_level_pull", lambda **kw: pulled.append(kw["account"]) or [])
    first_run = SyncRun.objects.create(portal=portal)
    sync_lease_acquire(portal=portal, owner="first-worker", run=first_run)
    second_run = SyncRun.objects.create(portal=portal)
    with pytest.raises(SyncAlreadyRunning):
        portal_sync(portal=portal, run=second_run)
    second_run.refresh_from_db()
    assert second_run.status == SyncRunStatus.QUEUED  # never started
    assert pulled == []
    sync_lease_release(portal=portal, owner="first-worker")
    report = portal_sync(portal=portal, run=second_run, pull_only=True)
    assert len(pulled) == 1
    assert report["portal"] == portal.hub_id
    second_run.refresh_from_db()
    assert second_run.status == SyncRunStatus.SUCCEEDED
    assert second_run.report == report
    assert SyncLease.objects.get(portal=portal).owner == ""  # released


def test_failed_sync_marks_run_and_releases_lease(portal, monkeypatch):
    from connector.models import ZoomAccount

    ZoomAccount.objects.create(portal=portal, account_id="zacc_main", auth_type="s2s")

    def boom(**kwargs):
        raise RuntimeError("crash in the middle")

    monkeypatch.setattr(pipeline_service.pull, "account_level_pull", boom)
    run = SyncRun.objects.create(portal=portal)
    with pytest.raises(RuntimeError):
        portal_sync(portal=portal, run=run)
    run.refresh_from_db()
    assert run.status == SyncRunStatus.FAILED and "crash in the middle" in run.error
    assert SyncLease.objects.get(portal=portal).owner == ""


def test_b2_task_leaves_run_queued_when_lease_held(portal, monkeypatch):
    """B2: a sync that could not start yet is not a failure: the run stays queued."""
    from connector.tasks import portal_sync_task

    run = SyncRun.objects.create(portal=portal)
    sync_lease_acquire(portal=portal, owner="other", run=None)
    assert portal_sync_task.apply(args=(portal.pk, run.pk)).get() is None
    run.refresh_from_db()
    assert run.status == SyncRunStatus.QUEUED and run.error == ""


def test_beat_entry_exists_after_migrate(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="zoomsync: sync all portals")
    assert task.task == "connector.tasks.portal_sync_all_task"
    assert (task.interval.every, task.interval.period) == (15, "minutes")
    assert task.enabled
    from zoomsync.celery import app

    app.loader.import_default_modules()  # what a worker/beat does at start (autodiscovery)
    assert "connector.tasks.portal_sync_all_task" in app.tasks
    assert app.tasks["connector.tasks.portal_sync_task"].queue == "sync"


def test_sync_all_task_queues_every_active_portal(portal, monkeypatch, django_capture_on_commit_callbacks):
    from connector.models import Portal
    from connector.tasks import portal_sync_all_task

    Portal.objects.create(hub_id=2, status="uninstalled")
    synced = []
    monkeypatch.setattr("connector.tasks.pipeline_run", lambda **kw: synced.append(kw) or {})
    with django_capture_on_commit_callbacks(execute=True):
        run_ids = portal_sync_all_task.apply().get()
    assert len(run_ids) == 1
    run = SyncRun.objects.get(pk=run_ids[0])
    assert run.trigger == "beat" and run.portal == portal
    # No broker in tests: the queued task ran in-process once the transaction committed.
    assert [(kw["run"].portal, kw["run"]) for kw in synced] == [(portal, run)]


def test_transient_api_error_propagates_so_the_task_retries(portal, monkeypatch):
    from connector.clients.errors import RateLimited, ServerError, TransportError
    from connector.models import ZoomAccount
    from connector.tasks import portal_sync_task

    ZoomAccount.objects.create(portal=portal, account_id="zacc_main", auth_type="s2s")

    def down(**kwargs):
        raise ServerError("GET /users HTTP 503", status=503)

    monkeypatch.setattr(pipeline_service.pull, "account_level_pull", down)
    run = SyncRun.objects.create(portal=portal)
    with pytest.raises(ServerError):
        portal_sync(portal=portal, run=run)
    run.refresh_from_db()
    assert run.status == SyncRunStatus.FAILED and "503" in run.error
    assert SyncLease.objects.get(portal=portal).owner == ""
    assert set(portal_sync_task.autoretry_for) >= {RateLimited, ServerError, TransportError}
    assert portal_sync_task.retry_backoff and portal_sync_task.max_retries


def test_one_account_failing_for_good_is_reported_and_the_others_sync(portal, monkeypatch):
    from connector.clients.errors import NotFound
    from connector.models import ZoomAccount

    ZoomAccount.objects.create(portal=portal, account_id="zacc_gone", auth_type="s2s")
    ZoomAccount.objects.create(portal=portal, account_id="zacc_ok", auth_type="s2s")
    pulled = []

    def pull(**kwargs):
        if kwargs["account"].account_id == "zacc_gone":
            raise NotFound("account does not exist", status=404, code=1001)
        pulled.append(kwargs["account"].account_id)
        return []

    monkeypatch.setattr(pipeline_service.pull, "account_level_pull", pull)
    report = portal_sync(portal=portal, pull_only=True)
    assert pulled == ["zacc_ok"]
    assert len(report["errors"]) == 1 and "zacc_gone" in report["errors"][0]


def test_b2_nightly_full_reconciliation_beat_entry(db):
    import json

    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="zoomsync: nightly full reconciliation")
    assert task.task == "connector.tasks.portal_sync_all_task" and task.enabled
    assert json.loads(task.kwargs) == {"full": True}
    assert (task.crontab.hour, task.crontab.minute) == ("3", "30")


def test_b2_full_beat_asks_for_a_full_sync(portal, monkeypatch):
    from connector.services import sync_requests
    from connector.tasks import portal_sync_all_task

    monkeypatch.setattr(sync_requests, "_enqueue", lambda run: None)
    [run_id] = portal_sync_all_task.apply(kwargs={"full": True}).get()
    assert SyncRun.objects.get(pk=run_id).full


# --- B2: who may continue a running run (chaos benchmark findings) --------------------------


def _running(portal, owner="vm:1:live-task#0"):
    run = SyncRun.objects.create(portal=portal, status=SyncRunStatus.QUEUED)
    run = pipeline_service.run_claim(run=run, attempt=pipeline_service.Attempt(task_id="live-task", retries=0))
    assert run.status == SyncRunStatus.RUNNING and run.owner.endswith(":live-task#0")
    return run


def test_b2_retry_of_a_duplicate_delivery_does_not_run_a_live_run_twice(portal):
    """Chaos: a duplicate portal_sync_task that met the run's own lease was retried and, being
    a retry, took the live owner's token: two workers ran the same push at once. A retry
    continues only a run its own earlier attempt left."""
    run = _running(portal)
    other_retry = pipeline_service.Attempt(task_id="duplicate-task", retries=1)
    with pytest.raises(pipeline_service.RunBusy):
        pipeline_service.run_claim(run=run, attempt=other_retry)
    run.refresh_from_db()
    assert run.owner.endswith(":live-task#0")
    # The same message delivered again (same task id, same retry number) is busy too.
    with pytest.raises(pipeline_service.RunBusy):
        pipeline_service.run_claim(run=run, attempt=pipeline_service.Attempt(task_id="live-task", retries=0))


def test_b2_retry_of_the_same_task_continues_its_run(portal):
    """The task's earlier attempt failed on a database error before it could record anything:
    its retry continues the run at once (no waiting for the lease to expire)."""
    run = _running(portal)
    run = pipeline_service.run_claim(run=run, attempt=pipeline_service.Attempt(task_id="live-task", retries=1))
    assert run.status == SyncRunStatus.RUNNING and run.owner.endswith(":live-task#1")
    assert SyncLease.objects.get(portal=portal).owner == run.owner
    # And a failed run is reopened by that retry only.
    pipeline_service.run_fail(run=run, error="OperationalError: server closed the connection")
    assert pipeline_service.run_claim(
        run=run, attempt=pipeline_service.Attempt(task_id="someone-else", retries=3)
    ).status == SyncRunStatus.FAILED
    run = pipeline_service.run_claim(run=run, attempt=pipeline_service.Attempt(task_id="live-task", retries=2))
    assert run.status == SyncRunStatus.RUNNING and run.error == ""


def test_b2_two_deliveries_claiming_at_once_one_is_busy_not_failed(portal):
    """Both saw the run queued; the second finds its own run holding the lease: RunBusy (the
    task returns), never SyncAlreadyRunning (which retried it and later ran it twice)."""
    run = SyncRun.objects.create(portal=portal, status=SyncRunStatus.QUEUED)
    seen_queued = SyncRun.objects.get(pk=run.pk)
    pipeline_service.run_claim(run=run, attempt=pipeline_service.Attempt(task_id="first", retries=0))
    # The second delivery read the run before the first claimed it.
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRunStatus.QUEUED)
    with pytest.raises(pipeline_service.RunBusy):
        pipeline_service.run_claim(run=seen_queued, attempt=pipeline_service.Attempt(task_id="second", retries=0))


def test_b2_replaced_worker_cannot_fail_the_run_that_took_over(portal):
    """The run was taken over (new owner); the old worker, still alive, hits an error and
    records its failure: the run of the new owner is untouched, its lease kept."""
    run = _running(portal)
    old = SyncRun.objects.get(pk=run.pk)
    stale = timezone.now() - pipeline_service.RUN_STALE_AFTER - timedelta(seconds=1)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=stale)
    SyncLease.objects.filter(portal=portal).update(expires_at=stale)
    new = pipeline_service.run_claim(run=run, attempt=pipeline_service.Attempt(task_id="redelivered", retries=0))
    assert new.owner != old.owner
    pipeline_service.run_fail(run=old, error="SyncLeaseLost: another worker took over")
    new.refresh_from_db()
    assert new.status == SyncRunStatus.RUNNING
    assert SyncLease.objects.get(portal=portal).owner == new.owner


def test_b2_tasks_of_an_old_fanout_do_nothing_after_a_takeover(portal):
    """A webinar or finish task launched by the owner a takeover replaced stops at once."""
    run = _running(portal)
    assert pipeline_service.pipeline_webinar(sync_run_id=run.pk, webinar_pk=1, owner="vm:1:old#0") is None
    assert pipeline_service.pipeline_finish(sync_run_id=run.pk, owner="vm:1:old#0") is None
    run.refresh_from_db()
    assert run.status == SyncRunStatus.RUNNING and run.phase == "pull"


@pytest.mark.django_db(transaction=True)
def test_b2_keepalive_beats_while_the_stage_runs_and_notices_a_takeover(portal, monkeypatch):
    """On PostgreSQL a worker's run is kept alive by a background heartbeat (a long call
    makes no progress calls); once another owner takes the run, the next progress call
    raises SyncLeaseLost."""
    import time as time_module

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the background heartbeat runs on PostgreSQL")
    monkeypatch.setattr(pipeline_service, "HEARTBEAT_EVERY", 0.2)
    run = _running(portal)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=1))
    with pipeline_service.KeepAlive(run) as keeper:
        assert keeper.beating
        time_module.sleep(1.0)  # a long call: no progress callback
        assert SyncRun.objects.get(pk=run.pk).heartbeat_at > timezone.now() - timedelta(seconds=2)
        SyncRun.objects.filter(pk=run.pk).update(owner="vm:2:took-over#0")
        time_module.sleep(1.0)
        assert keeper.lost.is_set()
        with pytest.raises(pipeline_service.SyncLeaseLost):
            pipeline_service.Heartbeat(run=run)("push", 1, 10)


@pytest.mark.django_db(transaction=True)
def test_b2_follow_up_run_survives_a_broker_outage_at_the_end_of_a_run(portal, monkeypatch):
    """Chaos: Redis restarting as a run ends. The run asked for again queues its follow-up,
    whose message cannot be sent: the run still succeeds (its work is done) and the follow-up
    stays queued, handed out again by the next request, instead of the task failing."""
    from kombu.exceptions import OperationalError as BrokerError

    from connector.services import sync_requests

    def broker_down(run):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(sync_requests, "_enqueue", broker_down)
    monkeypatch.setattr(pipeline_service, "stage_pull", lambda *, run, progress=None: _no_webinars(run))
    run = SyncRun.objects.create(portal=portal, requested_again=True)
    pipeline_service.portal_sync(portal=portal, run=run, pull_only=True)
    run.refresh_from_db()
    assert run.status == SyncRunStatus.SUCCEEDED
    assert SyncRun.objects.filter(portal=portal, status=SyncRunStatus.QUEUED).exclude(pk=run.pk).count() == 1


def _no_webinars(run):
    from connector.models import SyncRunPart

    SyncRunPart.objects.create(sync_run=run, webinar=None, attempts=1, done=True, state={})
    SyncRun.objects.filter(pk=run.pk).update(phase=pipeline_service.PHASE_WEBINARS)
    run.phase = pipeline_service.PHASE_WEBINARS
    return []


def test_b2_run_of_a_dead_local_worker_is_taken_over_before_its_lease_expires(portal):
    """Its owner process is gone from this host: the claim takes the run and its lease at
    once (the lease has not expired yet), and continues the run from its phase."""
    import socket
    import subprocess

    from connector.services.pipeline import Attempt, run_claim

    gone = subprocess.Popen(["true"])
    gone.wait()
    dead_owner = f"{socket.gethostname()[:40]}:{gone.pid}:old-task#0"
    run = SyncRun.objects.create(
        portal=portal, status=SyncRunStatus.RUNNING, phase="finish", owner=dead_owner,
        started_at=timezone.now(), heartbeat_at=timezone.now(),
    )
    SyncLease.objects.create(portal=portal, owner=dead_owner, sync_run=run,
                             expires_at=timezone.now() + timedelta(seconds=15))
    claimed = run_claim(run=run, attempt=Attempt(task_id="new-task", retries=0))
    assert claimed.status == SyncRunStatus.RUNNING and claimed.phase == "finish"
    assert claimed.owner != dead_owner and claimed.owner.endswith("new-task#0")
    assert SyncLease.objects.get(portal=portal).owner == claimed.owner
