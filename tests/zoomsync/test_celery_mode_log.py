import logging

from zoomsync.celery import app, log_mode


def test_start_log_says_tasks_run_in_process_without_broker(caplog, monkeypatch):
    monkeypatch.setattr(app.conf, "task_always_eager", True)
    with caplog.at_level(logging.INFO, logger="zoomsync.celery"):
        log_mode()
    assert "run in-process" in caplog.text


def test_start_log_says_workers_with_broker(caplog, monkeypatch):
    monkeypatch.setattr(app.conf, "task_always_eager", False)
    with caplog.at_level(logging.INFO, logger="zoomsync.celery"):
        log_mode()
    assert "go to workers" in caplog.text
