"""A workflow registration's follow-up through a real Celery worker (marked `services`): the
run it asks for is of that webinar only, fanned out to one webinar task, and the contact gets
the R17 join URL (issue 10: requests merged, the core owns what it reads)."""

from __future__ import annotations

import time

import pytest

from connector.models import SyncRun, SyncRunPart, SyncRunStatus
from connector.services.pull import REGISTRANT_STATUSES
from tests.celery_worker import celery_worker_running
from tests.workflows.conftest import action_body
from tests.workflows.test_action_sandbox import WEBINAR_OPEN, outputs, world_connect

pytestmark = pytest.mark.services


@pytest.fixture
def worker_world(sandbox, transactional_db):
    world_connect(sandbox)
    with celery_worker_running(pool="threads", concurrency=2) as proc:
        yield sandbox, proc


def test_r17_workflow_follow_up_through_a_worker_pulls_that_webinar_only(worker_world, post_action, settings):
    sandbox, worker = worker_world
    settings.WORKFLOWS_SYNC_AFTER_REGISTRATION = True
    out = outputs(post_action(action_body(webinar_id=str(WEBINAR_OPEN))))
    assert out["hs_execution_state"] == "SUCCESS"
    # (The action itself lists no registrants: every registrants read below is the sync's.)

    deadline = time.monotonic() + 120
    run = None
    while time.monotonic() < deadline:
        run = SyncRun.objects.filter(trigger="workflow").first()
        if run is not None and run.status in (SyncRunStatus.SUCCEEDED, SyncRunStatus.FAILED):
            break
        assert worker.poll() is None, "the worker died"
        time.sleep(0.5)
    assert run is not None and run.status == SyncRunStatus.SUCCEEDED, run and f"{run.status}: {run.error}"
    assert run.webinar_ids == [str(WEBINAR_OPEN)] and SyncRun.objects.count() == 1
    parts = SyncRunPart.objects.filter(sync_run=run, webinar__isnull=False)
    assert [p.webinar.webinar_id for p in parts] == [str(WEBINAR_OPEN)]
    zoom = sandbox.calls()["zoom"]
    assert zoom["GET /v2/webinars/{webinarId}/registrants"] == len(REGISTRANT_STATUSES)
    (contact,) = [c for c in sandbox.state()["hubspot"]["contacts"] if c["properties"]["email"] == "jane@example.com"]
    assert contact["properties"]["zoomsync_last_registered_webinar"] == out["joinUrl"]
