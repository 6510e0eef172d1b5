"""A real Celery worker process for the tests marked `services` (real Redis, real PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def celery_worker_running(*, pool: str = "solo", concurrency: int = 1) -> Iterator[subprocess.Popen]:
    """Start a worker on every queue, reading the test database; skip the test without services.

    Its log is printed when it stops (pytest shows it for a failing test)."""
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("CELERY_BROKER_URL does not point at Redis")
    if connection.vendor != "postgresql":
        pytest.skip("DATABASE_URL does not point at PostgreSQL")
    db = connection.settings_dict
    env = dict(os.environ)
    # The worker must read the test database, where the test's rows are committed.
    env["DATABASE_URL"] = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "zoomsync", "worker", "-Q", "sync,realtime,default",
             "--pool", pool, "--concurrency", str(concurrency), "-l", "warning", "--without-gossip",
             "--without-mingle"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a test may kill it with its children
        )
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.seek(0)
            sys.stdout.write(log.read().decode(errors="replace")[-5000:])
