import logging

import pytest

from zoomsync.celery import app, log_mode


@pytest.mark.parametrize(("eager", "expected"), [(True, "run in-process"), (False, "go to workers")])
def test_start_log_says_where_tasks_run(caplog, eager, expected):
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    try:
        with caplog.at_level(logging.INFO, logger="zoomsync.celery"):
            log_mode()
    finally:
        app.conf.task_always_eager = previous
    assert expected in caplog.text
