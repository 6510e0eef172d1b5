"""A real Celery worker process, real Redis broker, real PostgreSQL (marked `services`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]


def _services_configured() -> str | None:
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        return "CELERY_BROKER_URL does not point at Redis"
    if connection.vendor != "postgresql":
        return "DATABASE_URL does not point at PostgreSQL"
    return None


@pytest.fixture
def celery_worker_process(transactional_db):
    reason = _services_configured()
    if reason:
        pytest.skip(reason)
    db = connection.settings_dict
    env = dict(os.environ)
    # The worker must read the test database, where this test's rows are committed.
    env["DATABASE_URL"] = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "zoomsync", "worker", "-Q", "sync,realtime,default",
         "--pool", "solo", "--concurrency", "1", "-l", "warning", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


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
