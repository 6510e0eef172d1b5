"""Loaded with `-p` (pyproject addopts) before Django settings are read.

- Test-run environment defaults (development secrets allowed, sandbox app mounted).
- Skips that must not happen in CI become failures: REQUIRE_SERVICES=1 (tests marked
  `services`), REQUIRE_SPECS=1 (`contract`), REQUIRE_BROWSER=1 (`browser`).
- Celery runs eagerly in tests unless a test is marked `services` (those talk to a real
  worker), so the suite behaves the same with or without CELERY_BROKER_URL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

# The test suite is a development context: development secrets are allowed.
os.environ.setdefault("DEBUG", "1")
# The sandbox app is part of every test run (it is how "it syncs" is shown).
os.environ.setdefault("ZOOMSYNC_SANDBOX", "1")



def _broker_per_xdist_worker() -> None:
    """Each xdist worker process gets its own Redis database for Celery: the `services` tests
    of two xdist workers each start a real Celery worker, and two Celery workers on one broker
    take each other's tasks (and read the other test database's runs). gw0 keeps the
    configured database, gw1 uses the one two below it, and so on."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url = os.environ.get("CELERY_BROKER_URL", "")
    base, _, db = url.rpartition("/")
    if not worker.startswith("gw") or not worker[2:].isdigit() or not url.startswith("redis") or not db.isdigit():
        return
    moved = f"{base}/{(int(db) - 2 * int(worker[2:])) % 16}"
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REDIS_URL"):
        if os.environ.get(name) == url:
            os.environ[name] = moved


_broker_per_xdist_worker()

REQUIRED_WHEN = {"services": "REQUIRE_SERVICES", "contract": "REQUIRE_SPECS", "browser": "REQUIRE_BROWSER"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome: Any = yield
    report = outcome.get_result()
    if not report.skipped:
        return
    for marker, env_name in REQUIRED_WHEN.items():
        if item.get_closest_marker(marker) and os.environ.get(env_name) == "1":
            report.outcome = "failed"
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
            report.longrepr = f"{env_name}=1 but this `{marker}` test was skipped: {reason}"
            return


@pytest.fixture(autouse=True)
def _celery_mode(request: pytest.FixtureRequest) -> Iterator[None]:
    from zoomsync.celery import app

    eager = request.node.get_closest_marker("services") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager or previous
    try:
        yield
    finally:
        app.conf.task_always_eager = previous
