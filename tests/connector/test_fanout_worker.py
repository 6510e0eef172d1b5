"""A sync fanned out over a real Celery worker (marked `services`): the account-level pull in
`portal_sync_task`, one `webinar_pull_task` per synced webinar running in parallel, then
`portal_sync_finish_task`. The HubSpot state it leaves equals an in-process sync's."""

from __future__ import annotations

import time

import pytest

from connector.models import SyncLease, SyncRun, SyncRunPart, SyncRunStatus, Webinar
from connector.services.sandbox_connect import sandbox_connect
from connector.services.sync import portal_sync, sync_run_start
from connector.services.sync_settings import sync_settings_import
from tests.celery_worker import celery_worker_running
from tests.connector.sync_scenarios import fanout_begin
from zoomsync.demo import DEMO_SETTINGS

pytestmark = pytest.mark.services



@pytest.fixture
def fanout_worker(transactional_db):
    # Two threads: the per-webinar tasks of the fan-out really run in parallel.
    with celery_worker_running(pool="threads", concurrency=2) as proc:
        yield proc


def _hubspot(sandbox) -> tuple[dict[str, dict], list[str]]:
    """Live contacts by email (properties without timestamps/ids) and every event id sent."""
    state = sandbox.state()["hubspot"]
    contacts = {}
    for c in state["contacts"]:
        props = c["properties"]
        if c["archived"] or not props.get("email"):
            continue
        contacts[props["email"].lower()] = {
            k: v for k, v in props.items() if k not in ("createdate", "lastmodifieddate", "hs_object_id")
        }
    events = sorted(e["id"] for e in state["timeline_events"])
    return contacts, events


def _comparable(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in ("started_at", "finished_at")}


def _connect_demo(sandbox):
    sandbox.reset()
    sandbox.load("demo")
    portal = sandbox_connect(url=sandbox.url)
    sync_settings_import(portal=portal, document=DEMO_SETTINGS)
    return portal


def test_fanout_sync_through_a_real_worker_equals_the_in_process_sync(sandbox, fanout_worker):
    from zoomsync.celery import app

    assert not app.conf.task_always_eager
    # The reference: the same scenario synced in this process, in one piece.
    portal = _connect_demo(sandbox)
    reference_report = portal_sync(portal=portal, run=SyncRun.objects.create(portal=portal))
    reference_contacts, reference_events = _hubspot(sandbox)
    assert reference_report["errors"] == [] and reference_events
    portal.delete()

    portal = _connect_demo(sandbox)
    run = sync_run_start(portal=portal, trigger="manual")  # queued: the worker picks it up
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (SyncRunStatus.SUCCEEDED, SyncRunStatus.FAILED):
            break
        assert fanout_worker.poll() is None, "the worker died"
        time.sleep(0.5)
    assert run.status == SyncRunStatus.SUCCEEDED, f"run {run.status}: {run.error}"

    # One webinar_pull_task per synced webinar, each run once (no retry, no redelivery).
    synced = set(Webinar.objects.filter(account__portal=portal, skip_reason="").values_list("pk", flat=True))
    parts = SyncRunPart.objects.filter(sync_run=run, webinar__isnull=False)
    assert len(synced) == run.report["webinars"]["synced"] == 8
    assert set(parts.values_list("webinar_id", flat=True)) == synced
    assert sorted(parts.values_list("attempts", flat=True)) == [1] * len(synced)
    assert all(parts.values_list("done", flat=True))

    # The same HubSpot state as the in-process sync: contacts, their properties, event ids.
    contacts, events = _hubspot(sandbox)
    assert contacts == reference_contacts
    assert events == reference_events
    # The same report, pulled counts and skips included (each part's counts merged), and
    # the same skip records.
    assert _comparable(run.report) == _comparable(reference_report)
    assert run.skips.count() == sum(
        n for kind in ("webinars", "people", "recordings") for n in run.report[kind]["skipped"].values()
    )
    assert SyncLease.objects.get(portal=portal).owner == ""  # released by the finish task


def _wait_finished(run, worker, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (SyncRunStatus.SUCCEEDED, SyncRunStatus.FAILED):
            return
        assert worker.poll() is None, "the worker died"
        time.sleep(0.5)


def test_fanout_webinar_task_failing_for_good_fails_the_run_through_the_chord_errback(sandbox, fanout_worker):
    """The lease is taken by another run after the account-level pull: every webinar task
    refuses to pull (SyncLeaseLost, not retried), the chord's error callback marks the run
    failed, and nothing reaches HubSpot."""
    from connector.tasks import sync_fanout_launch

    portal = _connect_demo(sandbox)
    run = SyncRun.objects.create(portal=portal)
    webinar_pks = fanout_begin(run)
    assert webinar_pks
    SyncLease.objects.filter(portal=portal).update(owner="another-run")
    sync_fanout_launch(sync_run_id=run.pk, webinar_pks=webinar_pks)
    _wait_finished(run, fanout_worker)
    assert run.status == SyncRunStatus.FAILED
    assert "SyncLeaseLost" in run.error
    assert sandbox.state()["hubspot"]["timeline_events"] == []
    assert SyncLease.objects.get(portal=portal).owner == "another-run"  # not ours to release
