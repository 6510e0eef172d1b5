"""The fan-out's three steps called in-process (no broker needed): account-level pull,
per-webinar parts (re-run after a "redelivery"), finish (re-run sends nothing). The result
equals the one-piece sync's; a failed part fails the run and frees the lease."""

from __future__ import annotations

import pytest

from connector.clients.errors import ServerError
from connector.models import (
    ParticipantRow,
    Recording,
    Registrant,
    Session,
    SkipRecord,
    SyncLease,
    SyncRun,
    SyncRunPart,
    SyncRunStatus,
    Webinar,
)
from connector.services import pipeline
from connector.services import pull as pull_service
from connector.services.sandbox_connect import sandbox_connect
from connector.services.sync import SyncAlreadyRunning, portal_sync
from connector.services.sync_settings import sync_settings_import
from tests.connector.sync_scenarios import fanout_begin
from zoomsync.demo import DEMO_SETTINGS

pytestmark = pytest.mark.django_db(transaction=True)


def _connect_demo(sandbox):
    sandbox.reset()
    sandbox.load("demo")
    portal = sandbox_connect(url=sandbox.url)
    sync_settings_import(portal=portal, document=DEMO_SETTINGS)
    return portal


def _hubspot(sandbox):
    state = sandbox.state()["hubspot"]
    contacts = {
        c["properties"]["email"].lower(): {k: v for k, v in c["properties"].items() if k.startswith("zoomsync_")}
        for c in state["contacts"]
        if not c["archived"] and c["properties"].get("email")
    }
    return contacts, sorted(e["id"] for e in state["timeline_events"])


def _comparable(report):
    return {k: v for k, v in report.items() if k not in ("started_at", "finished_at")}


def test_fanout_steps_equal_the_one_piece_sync_and_reruns_change_nothing(sandbox):
    portal = _connect_demo(sandbox)
    reference = portal_sync(portal=portal, run=SyncRun.objects.create(portal=portal))
    reference_hubspot = _hubspot(sandbox)
    portal.delete()

    portal = _connect_demo(sandbox)
    run = SyncRun.objects.create(portal=portal)
    webinar_pks = fanout_begin(run)
    assert sorted(webinar_pks) == sorted(
        Webinar.objects.filter(account__portal=portal, skip_reason="").values_list("pk", flat=True)
    )
    # The lease stays held between the steps: another sync of the portal is refused.
    with pytest.raises(SyncAlreadyRunning):
        portal_sync(portal=portal, run=SyncRun.objects.create(portal=portal))
    # A redelivered task_begin (lease still held) launches nothing a second time.
    run.refresh_from_db()
    assert fanout_begin(run) is None
    for pk in webinar_pks:
        pipeline.pipeline_webinar(sync_run_id=run.pk, webinar_pk=pk)
    # Delivered again after it finished (worker killed before the ack): counted once.
    pipeline.pipeline_webinar(sync_run_id=run.pk, webinar_pk=webinar_pks[0])
    assert SyncRunPart.objects.get(sync_run=run, webinar_id=webinar_pks[0]).attempts == 2
    report = pipeline.pipeline_finish(sync_run_id=run.pk)
    run.refresh_from_db()
    assert run.status == SyncRunStatus.SUCCEEDED
    assert _comparable(report) == _comparable(reference)
    assert _hubspot(sandbox) == reference_hubspot
    skips = SkipRecord.objects.filter(sync_run=run).count()
    assert skips == sum(n for k in ("webinars", "people", "recordings") for n in report[k]["skipped"].values())
    assert SyncLease.objects.get(portal=portal).owner == ""

    # The finish task delivered again: nothing is sent, the report stays.
    sandbox.calls_clear()
    assert pipeline.pipeline_finish(sync_run_id=run.pk) == report
    assert sandbox.calls()["hubspot"] == {}
    assert _hubspot(sandbox) == reference_hubspot
    assert SkipRecord.objects.filter(sync_run=run).count() == skips


def _rows(webinar_pk):
    return (
        Registrant.objects.filter(webinar_id=webinar_pk).count(),
        Session.objects.filter(webinar_id=webinar_pk).count(),
        ParticipantRow.objects.filter(session__webinar_id=webinar_pk).count(),
        Recording.objects.filter(session__webinar_id=webinar_pk).count(),
    )


def test_fanout_webinar_part_killed_midway_runs_again_and_upserts_the_same_rows(sandbox):
    portal = _connect_demo(sandbox)
    run = SyncRun.objects.create(portal=portal)
    webinar_pks = fanout_begin(run)
    for pk in webinar_pks:
        pipeline.pipeline_webinar(sync_run_id=run.pk, webinar_pk=pk)
    before = {pk: _rows(pk) for pk in webinar_pks}
    assert sum(r[0] for r in before.values()) == 19  # the demo's registrants
    # The worker died before recording the part as done: the redelivered task pulls again.
    SyncRunPart.objects.filter(sync_run=run).exclude(webinar=None).update(done=False)
    for pk in webinar_pks:
        pipeline.pipeline_webinar(sync_run_id=run.pk, webinar_pk=pk)
    assert {pk: _rows(pk) for pk in webinar_pks} == before
    assert all(SyncRunPart.objects.filter(sync_run=run).values_list("done", flat=True))
    report = pipeline.pipeline_finish(sync_run_id=run.pk)
    assert report["errors"] == [] and report["people"]["contacts_created"] == 8


def test_fanout_failed_webinar_part_fails_the_run_and_frees_the_lease(sandbox, monkeypatch):
    portal = _connect_demo(sandbox)
    run = SyncRun.objects.create(portal=portal)
    webinar_pks = fanout_begin(run)

    def down(self, webinar, *, listed):
        raise ServerError("GET /webinars/x/registrants HTTP 503", status=503)

    monkeypatch.setattr(pull_service.AccountPull, "webinar_pull", down)
    # Transient: raised for the task to retry; the part is not done.
    with pytest.raises(ServerError):
        pipeline.pipeline_webinar(sync_run_id=run.pk, webinar_pk=webinar_pks[0])
    assert not SyncRunPart.objects.get(sync_run=run, webinar_id=webinar_pks[0]).done
    assert SyncLease.objects.get(portal=portal).owner != ""
    # Retries exhausted: the chord's error callback.
    pipeline.pipeline_failed(sync_run_id=run.pk, error="webinar pull failed: ServerError")
    run.refresh_from_db()
    assert run.status == SyncRunStatus.FAILED and "ServerError" in run.error
    assert SyncLease.objects.get(portal=portal).owner == ""
    # A late part of the failed run does nothing; the finish does not push.
    assert pipeline.pipeline_webinar(sync_run_id=run.pk, webinar_pk=webinar_pks[1]) is None
    pipeline.pipeline_finish(sync_run_id=run.pk)
    run.refresh_from_db()
    assert run.status == SyncRunStatus.FAILED
    assert sandbox.state()["hubspot"]["timeline_events"] == []


def test_eager_celery_keeps_the_one_piece_sync(portal, monkeypatch):
    """No broker (eager): portal_sync_task runs every stage in line (nothing launched)."""
    from connector.tasks import portal_sync_task

    synced = []
    monkeypatch.setattr("connector.tasks.pipeline_run", lambda **kw: synced.append(kw) or {})
    run = SyncRun.objects.create(portal=portal)
    portal_sync_task.apply(args=(portal.pk, run.pk)).get()
    assert [(kw["run"], kw["launch"]) for kw in synced] == [(run, None)]


def test_b2_abandoned_run_is_taken_over_and_continued(sandbox, django_capture_on_commit_callbacks):
    """A worker pulled the account level and half the webinars, then died (no heartbeat, its
    lease expired). The next request hands the same run to a worker, which takes it over:
    the webinars already pulled are not pulled again, the run succeeds with the one-piece
    sync's HubSpot state, and no run failed."""
    from datetime import timedelta

    from django.utils import timezone

    from connector.services.sync_requests import RUN_STALE_AFTER, sync_request

    portal = _connect_demo(sandbox)
    portal_sync(portal=portal, run=SyncRun.objects.create(portal=portal))
    reference_hubspot = _hubspot(sandbox)
    portal.delete()

    portal = _connect_demo(sandbox)
    run = SyncRun.objects.create(portal=portal, trigger="manual")
    webinar_pks = fanout_begin(run)
    assert webinar_pks and len(webinar_pks) > 2
    done = webinar_pks[: len(webinar_pks) // 2]
    for pk in done:
        pipeline.stage_webinar(run=run, webinar_pk=pk)
    stale = timezone.now() - RUN_STALE_AFTER - timedelta(seconds=5)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=stale)
    SyncLease.objects.filter(portal=portal).update(expires_at=stale)
    dead_owner = SyncRun.objects.get(pk=run.pk).owner

    pulled: list[str] = []
    real_pull = pull_service.webinar_data_pull

    def counting_pull(*, webinar, **kwargs):
        pulled.append(webinar.webinar_id)
        return real_pull(webinar=webinar, **kwargs)

    pull_service.webinar_data_pull = counting_pull
    try:
        with django_capture_on_commit_callbacks(execute=True):  # eager Celery: the task runs here
            again = sync_request(portal=portal, source="beat")
    finally:
        pull_service.webinar_data_pull = real_pull
    assert again.pk == run.pk
    run.refresh_from_db()
    assert run.status == SyncRunStatus.SUCCEEDED and not run.error, run.error
    assert run.owner != dead_owner  # taken over by a new owner
    # It pulled only the webinars not pulled yet (each part of the run pulled once); the
    # beat's request asked for a sync while the run ran, so one more (cheap) run followed.
    rest = set(Webinar.objects.filter(pk__in=set(webinar_pks) - set(done)).values_list("webinar_id", flat=True))
    assert set(pulled[: len(rest)]) == rest
    assert set(SyncRunPart.objects.filter(sync_run=run, webinar__isnull=False).values_list("attempts", flat=True)) == {1}
    assert SyncRun.objects.filter(portal=portal).count() == 2
    assert not SyncRun.objects.filter(portal=portal, status=SyncRunStatus.FAILED).exists()
    assert _hubspot(sandbox) == reference_hubspot
    assert SyncLease.objects.get(portal=portal).owner == ""


class _Killed(BaseException):
    """The worker dies here (as a SIGKILL would stop it)."""


def test_b2_continued_push_does_not_read_again_the_chunks_it_pushed(sandbox, monkeypatch, django_capture_on_commit_callbacks):
    """A first sync of ~350 people (4 push chunks) whose worker dies before the third chunk:
    the run taken over goes on after the people it had handled (its push cursor) — two batch
    reads by email, not four — and ends in the one-piece sync's HubSpot state."""
    from datetime import timedelta

    from django.utils import timezone

    from connector.services import push as push_service
    from connector.services.sync_requests import RUN_STALE_AFTER, sync_request
    from tests.connector.issue5_scenarios import connect, sync
    from tests.connector.test_sync_changes import scenario

    data = scenario(people=350)
    portal = connect(sandbox, data)
    sync(portal)
    reference = _hubspot(sandbox)
    portal.delete()
    sandbox.reset()

    portal = connect(sandbox, data)
    run = SyncRun.objects.create(portal=portal, trigger="manual")
    real_resolve = push_service._PortalPush._chunk_resolve
    chunks: list[int] = []

    def dying_resolve(self, chunk):
        chunks.append(len(chunk))
        if len(chunks) == 3:
            raise _Killed()
        return real_resolve(self, chunk)

    monkeypatch.setattr(push_service._PortalPush, "_chunk_resolve", dying_resolve)
    with pytest.raises(_Killed):
        pipeline.pipeline_run(run=run)
    monkeypatch.setattr(push_service._PortalPush, "_chunk_resolve", real_resolve)
    run.refresh_from_db()
    assert run.push_after_pk > 0 and run.scope_snapshot_at is not None
    # What a killed worker leaves: the run running, no heartbeat since, its lease expired.
    stale = timezone.now() - RUN_STALE_AFTER - timedelta(seconds=5)
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRunStatus.RUNNING, finished_at=None, error="", error_code="", heartbeat_at=stale
    )
    SyncLease.objects.filter(portal=portal).update(owner=run.owner, expires_at=stale, sync_run=run)

    sandbox.calls_clear()
    with django_capture_on_commit_callbacks(execute=True):  # eager Celery: the takeover runs here
        sync_request(portal=portal, source="manual")
    run.refresh_from_db()
    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    reads = sandbox.calls()["hubspot"]
    assert reads.get("POST /crm/v3/objects/contacts/batch/read", 0) <= 2 * 2  # two chunks: by email + archived
    assert _hubspot(sandbox) == reference
    assert not SyncRun.objects.filter(portal=portal, status=SyncRunStatus.FAILED).exists()
