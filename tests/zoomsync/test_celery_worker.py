"""A real Celery worker process, real Redis broker, real PostgreSQL (marked `services`)."""

from __future__ import annotations

import time

import pytest

from tests.celery_worker import celery_worker_running

pytestmark = pytest.mark.services


@pytest.fixture
def celery_worker_process(transactional_db):
    with celery_worker_running() as proc:
        yield proc


def test_task_round_trip_through_real_worker(celery_worker_process):
    from connector.models import Portal
    from zoomsync.celery import app, db_roundtrip, ping

    assert not app.conf.task_always_eager
    Portal.objects.create(hub_id=777001, name="Worker Portal")
    deadline = time.monotonic() + 60
    result = ping.delay("hello")
    assert result.get(timeout=60) == "pong:hello"
    # The worker process read this row through its own PostgreSQL connection.
    assert db_roundtrip.delay(777001).get(timeout=max(5, deadline - time.monotonic())) == "Worker Portal"
    assert celery_worker_process.poll() is None
