"""Asking for a sync (B2): requests merge into the portal's queued or running run, a dead
worker's run is handed to a worker again (taken over, not replaced), people are marked changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connector.models import DirtyPerson, SyncRun, SyncRunStatus
from connector.services import sync_requests
from connector.services.sync_requests import RUN_STALE_AFTER, people_mark_dirty, sync_request


@pytest.fixture
def enqueued(monkeypatch):
    """The runs handed to workers (captured: nothing runs)."""
    runs: list[int] = []
    monkeypatch.setattr(sync_requests, "_enqueue", lambda run: runs.append(run.pk))
    return runs


def test_b2_five_requests_make_one_run_none_failed(portal, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        runs = [sync_request(portal=portal, source=s) for s in ("manual", "manual", "beat", "workflow", "cli")]
    assert len({r.pk for r in runs}) == 1
    assert SyncRun.objects.filter(portal=portal).count() == 1
    assert not SyncRun.objects.filter(status=SyncRunStatus.FAILED).exists()
    assert enqueued == [runs[0].pk]  # queued once
    assert runs[0].trigger == "manual"


def test_b2_request_widens_the_queued_run(portal, enqueued):
    first = sync_request(portal=portal, source="webhook", webinar_ids=["81000000001"])
    assert first.webinar_ids == ["81000000001"] and not first.full
    second = sync_request(portal=portal, source="webhook", webinar_ids=["81000000002"])
    assert second.pk == first.pk
    second.refresh_from_db()
    assert second.webinar_ids == ["81000000001", "81000000002"]
    third = sync_request(portal=portal, source="manual", full=True)
    third.refresh_from_db()
    assert third.pk == first.pk and third.full and third.webinar_ids is None


def test_b2_request_while_running_sets_the_again_flag(portal, enqueued):
    run = SyncRun.objects.create(
        portal=portal, status=SyncRunStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    again = sync_request(portal=portal, source="beat", webinar_ids=["81000000001"])
    assert again.pk == run.pk
    run.refresh_from_db()
    assert run.requested_again and run.again_webinar_ids == ["81000000001"] and not run.again_full
    sync_request(portal=portal, source="manual", full=True)
    run.refresh_from_db()
    assert run.again_full and run.again_webinar_ids is None
    assert run.status == SyncRunStatus.RUNNING
    assert SyncRun.objects.filter(portal=portal).count() == 1


def test_b2_abandoned_run_is_handed_on_not_replaced(portal, enqueued, django_capture_on_commit_callbacks):
    stale = timezone.now() - RUN_STALE_AFTER - timedelta(seconds=5)
    dead = SyncRun.objects.create(
        portal=portal, status=SyncRunStatus.RUNNING, started_at=stale, heartbeat_at=stale, phase="finish",
        owner="host:1:task#0",
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = sync_request(portal=portal, source="beat", full=True)
    assert run.pk == dead.pk  # the same run goes on: no FAILED run, no second run
    assert enqueued == [dead.pk]  # handed to a worker again, which takes it over
    dead.refresh_from_db()
    assert dead.status == SyncRunStatus.RUNNING and dead.phase == "finish" and not dead.error
    assert dead.requested_again and dead.again_full  # what was asked runs after it
    assert SyncRun.objects.filter(portal=portal).count() == 1

    # A live run (fresh heartbeat) is not handed out again.
    SyncRun.objects.filter(pk=dead.pk).update(heartbeat_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        sync_request(portal=portal, source="beat")
    assert enqueued == [dead.pk]


def test_b2_people_mark_dirty(portal):
    assert people_mark_dirty(portal=portal, emails=["Ada@Example.com ", "ada@example.com", "", "bo@example.com"]) == 2
    assert people_mark_dirty(portal=portal, emails=["bo@example.com"]) == 1
    assert sorted(DirtyPerson.objects.filter(portal=portal).values_list("email", flat=True)) == [
        "ada@example.com",
        "bo@example.com",
    ]


def test_b2_again_flag_queues_one_follow_up_run(portal, enqueued, django_capture_on_commit_callbacks):
    from connector.services.sync_requests import sync_request_again

    run = SyncRun.objects.create(portal=portal, status=SyncRunStatus.RUNNING, heartbeat_at=timezone.now())
    for _ in range(3):
        sync_request(portal=portal, source="manual")
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRunStatus.SUCCEEDED)
    with django_capture_on_commit_callbacks(execute=True):
        follow = sync_request_again(run=run)
    assert follow is not None and follow.pk != run.pk and follow.status == SyncRunStatus.QUEUED
    assert enqueued == [follow.pk]
    assert sync_request_again(run=run) is None  # once


def _dead_pid() -> int:
    import subprocess

    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def test_b2_run_of_a_worker_gone_from_this_host_is_handed_on_at_once(portal, enqueued, django_capture_on_commit_callbacks):
    """The owner token names a process of this host that no longer exists (a worker killed
    and restarted on the same machine): the run is handed on without waiting for its
    heartbeat to age. A live owner process, or another host's, is left alone."""
    import os
    import socket
    import subprocess

    from connector.services.sync_requests import owner_process_gone

    host = socket.gethostname()[:40]
    run = SyncRun.objects.create(
        portal=portal, status=SyncRunStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(),
        owner=f"{host}:{_dead_pid()}:task#0",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_request(portal=portal, source="beat").pk == run.pk
    assert enqueued == [run.pk]

    alive = subprocess.Popen(["sleep", "30"])
    try:
        assert not owner_process_gone(f"{host}:{alive.pid}:task#0")
        SyncRun.objects.filter(pk=run.pk).update(owner=f"{host}:{alive.pid}:task#0")
        with django_capture_on_commit_callbacks(execute=True):
            sync_request(portal=portal, source="beat")
        assert enqueued == [run.pk]  # live: not handed out again
    finally:
        alive.kill()
        alive.wait()
    assert not owner_process_gone(f"another-host:{_dead_pid()}:task#0")
    assert not owner_process_gone(f"{host}:{os.getpid()}:task#0")
    assert not owner_process_gone("garbage")


def test_b2_a_starting_worker_hands_on_the_runs_whose_worker_died(portal, enqueued, django_capture_on_commit_callbacks):
    """`worker_ready`: the runs nobody works on (stale heartbeat) are handed to a worker again;
    a live run and a finished one are not."""
    from connector.tasks import runs_abandoned_on_worker_start

    stale = timezone.now() - RUN_STALE_AFTER - timedelta(seconds=5)
    dead = SyncRun.objects.create(portal=portal, status=SyncRunStatus.RUNNING, heartbeat_at=stale, owner="h:2:t#0")
    SyncRun.objects.create(portal=portal, status=SyncRunStatus.RUNNING, heartbeat_at=timezone.now(), owner="h:3:t#0")
    SyncRun.objects.create(portal=portal, status=SyncRunStatus.SUCCEEDED, heartbeat_at=stale)
    with django_capture_on_commit_callbacks(execute=True):
        runs_abandoned_on_worker_start()
    assert enqueued == [dead.pk]
