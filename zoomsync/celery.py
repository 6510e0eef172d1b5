"""The Celery app. Tasks run eagerly, in-process, when CELERY_BROKER_URL is unset."""

from __future__ import annotations

import logging
import os

from celery import Celery
from kombu import Queue

from zoomsync import log as _log
from zoomsync import metrics as _metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zoomsync.settings")

app = Celery("zoomsync")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("sync", "realtime", "default")]
app.autodiscover_tasks()

logger = logging.getLogger("zoomsync.celery")

# Log records name their task, portal and run; finished runs feed the sync-duration metric.
_log.celery_signals_connect()
_metrics.signals_connect()


def log_mode() -> None:
    if app.conf.task_always_eager:
        logger.info("CELERY_BROKER_URL is unset: Celery tasks run in-process (eager)")
    else:
        logger.info("Celery broker configured; tasks go to workers")


@app.task(name="zoomsync.ping", queue="default", time_limit=30, soft_time_limit=25, acks_late=True)
def ping(value: str) -> str:
    """Round-trip task for health checks and the services test."""
    return f"pong:{value}"


@app.task(name="zoomsync.db_roundtrip", queue="default", time_limit=30, soft_time_limit=25, acks_late=True)
def db_roundtrip(hub_id: int) -> str:
    """Reads a portal through the worker's own database connection (services test)."""
    from connector.models import Portal

    return Portal.objects.get(hub_id=hub_id).name
