"""The real-time path with a real Celery worker (marked `services`): the endpoint stores and
answers at once, the worker processes the events, HubSpot gets the write within seconds."""

from __future__ import annotations

import time

import pytest

from connector.models import SyncRun, WebhookEvent
from connector.services.sandbox_connect import sandbox_connect
from connector.services.sync import portal_sync
from tests.celery_worker import celery_worker_running
from tests.webhooks.conftest import subscribe
from tests.webhooks.test_rows import FUTURE, contact

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def worker(transactional_db):
    with celery_worker_running() as proc:
        yield proc


def test_b1_webhooks_processed_by_a_worker_reach_hubspot(worker, webhook_settings, sandbox):
    from zoomsync.celery import app

    sandbox.load("demo")
    sandbox.configure(rate_limits=False)
    app.conf.task_always_eager = True
    try:
        portal = sandbox_connect(url=sandbox.url)
        portal_sync(portal=portal, run=SyncRun.objects.create(portal=portal, trigger="cli"))
    finally:
        app.conf.task_always_eager = False
    subscribe(sandbox)
    emails = [f"worker{i}@example.com" for i in range(5)]
    for email in emails:
        out = sandbox.act("register", account_id="zacc_main", webinar_id=FUTURE, registrant={"email": email})
        assert out["deliveries"][0]["status"] == 200
        assert out["deliveries"][0]["ms"] < 2000  # stored and answered, the work is the worker's
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and WebhookEvent.objects.exclude(status__in=("processed", "ignored")).exists():
        time.sleep(0.5)
    assert not WebhookEvent.objects.exclude(status__in=("processed", "ignored")).exists()
    # Processed: handed to a sync run; the runs finish.
    while time.monotonic() < deadline and SyncRun.objects.filter(status__in=("queued", "running")).exists():
        time.sleep(0.5)
    assert list(SyncRun.objects.filter(trigger="webhook").exclude(status="succeeded").values_list("error", flat=True)) == []
    state = sandbox.state()
    for email in emails:
        found = contact(state, email)
        assert found is not None and found["properties"]["zoomsync_registration_count"] == "1"
    # A burst is gathered: fewer refreshes than events.
    assert SyncRun.objects.filter(trigger="webhook").count() < len(emails)
