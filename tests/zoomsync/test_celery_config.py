"""Celery configuration (issue 2, item 7): JSON only, named queues, time limits,
acks_late + reject_on_worker_lost, database beat scheduler, eager without a broker."""

from __future__ import annotations

import logging
import os

from django.conf import settings

from zoomsync.celery import app, log_mode, ping


def test_json_only():
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"


def test_named_queues():
    assert {q.name for q in app.conf.task_queues} == {"sync", "realtime", "default"}
    assert app.conf.task_default_queue == "default"


def test_time_limits_and_idempotent_delivery():
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_countdowns_stay_below_visibility_timeout():
    # A longer countdown than the visibility timeout makes Redis redeliver early.
    assert app.conf.broker_transport_options["visibility_timeout"] >= app.conf.task_time_limit


def test_beat_uses_database_scheduler():
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert "django_celery_beat" in settings.INSTALLED_APPS


def test_ping_round_trips_in_process_without_broker():
    assert ping.delay("x").get(timeout=5) == "pong:x"


def test_eager_mode_is_logged(caplog):
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with caplog.at_level(logging.INFO, logger="zoomsync.celery"):
            log_mode()
    finally:
        app.conf.task_always_eager = previous
    assert "in-process" in caplog.text


def test_every_registered_task_has_consistent_time_limits():
    # A soft limit above the hard one makes Celery refuse to send the task at all.
    app.loader.import_default_modules()
    for name, task in app.tasks.items():
        if name.startswith("celery."):
            continue
        hard = task.time_limit or app.conf.task_time_limit
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        assert hard, name
        assert soft <= hard, f"{name}: soft_time_limit {soft} > time_limit {hard}"


def test_each_xdist_worker_has_its_own_broker_database(monkeypatch):
    """Two xdist workers' real Celery workers must not share a broker (they would take each
    other's tasks): gw1 moves two databases down, gw0 keeps the configured one."""
    from zoomsync.pytest_plugin import _broker_per_xdist_worker

    for worker, expected in (("gw0", "redis://h:6379/15"), ("gw1", "redis://h:6379/13"), ("", "redis://h:6379/15")):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        monkeypatch.setenv("CELERY_BROKER_URL", "redis://h:6379/15")
        monkeypatch.setenv("REDIS_URL", "redis://h:6379/15")
        monkeypatch.delenv("CELERY_RESULT_BACKEND", raising=False)
        _broker_per_xdist_worker()
        assert os.environ["CELERY_BROKER_URL"] == expected and os.environ["REDIS_URL"] == expected
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setenv("CELERY_BROKER_URL", "filesystem://")
    _broker_per_xdist_worker()
    assert os.environ["CELERY_BROKER_URL"] == "filesystem://"
