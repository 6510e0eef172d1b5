"""Structured JSON logs with portal, run, account and task ids (python-json-logger), and the
Prometheus /metrics endpoint (prometheus-client), issue 14 item 10."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction

from zoomsync.log import ContextFilter, json_formatter, log_context
from zoomsync.metrics import api_call_observe, webhook_lag_set

ROOT = Path(__file__).resolve().parents[2]


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus exposition text (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}(?:\{{{re.escape(want)}\}})? (\S+)$" if want else rf"^{re.escape(name)} (\S+)$"
    match = re.search(pattern, text, flags=re.M)
    return float(match.group(1)) if match else 0.0


def test_json_log_line_carries_the_context_ids():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(ContextFilter())
    log = logging.getLogger("zoomsync.test_json")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with log_context(portal_id=62515, run_id=7), log_context(account_id="zacc_main"):
            log.info("pulled %s webinars", 3, extra={"task_id": "t-1"})
        log.info("outside")
    finally:
        log.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "pulled 3 webinars" and first["level"] == "INFO"
    assert first["logger"] == "zoomsync.test_json" and first["time"]
    assert (first["portal_id"], first["run_id"], first["account_id"], first["task_id"]) == (62515, 7, "zacc_main", "t-1")
    assert "portal_id" not in second and "ctx" not in second


def test_production_logs_are_json_by_default(tmp_path):
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "x" * 50,
           "FIELD_ENCRYPTION_KEYS": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "ALLOWED_HOSTS": "zoomsync.example.com"}
    env.pop("LOG_FORMAT", None)
    env.pop("ZOOMSYNC_SANDBOX", None)  # production refuses the sandbox
    code = ("import django, logging; django.setup(); from zoomsync.log import log_context\n"
            "with log_context(portal_id=5): logging.getLogger('zoomsync.x').warning('hello')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert {"message": "hello", "portal_id": 5, "level": "WARNING"}.items() <= lines[-1].items()


@pytest.mark.django_db(transaction=True)
def test_a_sync_task_logs_portal_run_account_and_task_ids(sandbox, caplog):
    from connector.models import SyncRun, SyncRunStatus
    from connector.services.sandbox_connect import sandbox_connect
    from connector.services.sync import sync_run_start

    sandbox.load("demo")
    portal = sandbox_connect(url=sandbox.url)
    caplog.handler.addFilter(ContextFilter())
    with caplog.at_level(logging.DEBUG, logger="zoomsync"), transaction.atomic():
        run = sync_run_start(portal=portal, trigger="manual")  # the Celery task, eager here
    assert SyncRun.objects.get(pk=run.pk).status == SyncRunStatus.SUCCEEDED
    records = [r for r in caplog.records if r.name.startswith("zoomsync.clients") or r.name.startswith("zoomsync.")]
    zoom_calls = [r for r in records if getattr(r, "api_service", "") == "zoom" and getattr(r, "account_id", None)]
    assert zoom_calls, "no Zoom call logged with its account"
    for record in zoom_calls:
        assert record.portal_id == portal.hub_id and record.run_id == run.pk
        assert record.portal_pk == portal.pk and record.task_id
        assert record.account_id in {"zacc_main", "zacc_eu"}


@pytest.mark.django_db(transaction=True)
def test_metrics_count_api_calls_sync_durations_backlog_and_webhook_lag(sandbox, client):
    from connector.models import OutboxItem
    from connector.services.sandbox_connect import sandbox_connect
    from connector.services.sync import portal_sync

    before = client.get("/metrics").content.decode()
    sandbox.load("demo")
    portal = sandbox_connect(url=sandbox.url)
    portal_sync(portal=portal)
    api_call_observe(provider="hubspot", status=429)
    webhook_lag_set(provider="zoom", seconds=4.5)
    response = client.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    for provider in ("zoom", "hubspot"):
        grew = _sample(text, "zoomsync_api_calls_total", provider=provider) - _sample(
            before, "zoomsync_api_calls_total", provider=provider)
        assert grew >= 10, provider
    assert _sample(text, "zoomsync_api_rate_limited_total", provider="hubspot") >= 1 + _sample(
        before, "zoomsync_api_rate_limited_total", provider="hubspot")
    assert _sample(text, "zoomsync_sync_duration_seconds_count", status="succeeded") == 1 + _sample(
        before, "zoomsync_sync_duration_seconds_count", status="succeeded")
    assert _sample(text, "zoomsync_webhook_lag_seconds", provider="zoom") == 4.5
    pending = OutboxItem.objects.filter(status="pending").count()
    assert _sample(text, "zoomsync_outbox_backlog", status="pending") == pending
    assert 'zoomsync_sync_runs{status="succeeded"} 1.0' in text
    assert _sample(text, "zoomsync_webhook_backlog", provider="zoom") == 0


@pytest.mark.django_db
def test_metrics_webhook_backlog_and_oldest_waiting_event(client):
    import datetime as dt

    from django.utils import timezone

    from connector.models import WebhookEvent

    old = WebhookEvent.objects.create(provider="zoom", event_type="webinar.updated", dedupe_key="a", raw_body="{}")
    WebhookEvent.objects.filter(pk=old.pk).update(received_at=timezone.now() - dt.timedelta(seconds=120))
    WebhookEvent.objects.create(provider="zoom", event_type="webinar.updated", dedupe_key="b", raw_body="{}",
                                status="retrying")
    WebhookEvent.objects.create(provider="zoom", event_type="webinar.updated", dedupe_key="c", raw_body="{}",
                                status="processed")
    text = client.get("/metrics").content.decode()
    assert _sample(text, "zoomsync_webhook_backlog", provider="zoom") == 2
    assert _sample(text, "zoomsync_webhook_backlog", provider="hubspot") == 0
    assert 119 <= _sample(text, "zoomsync_webhook_oldest_waiting_seconds", provider="zoom") < 200


@pytest.mark.django_db
def test_metrics_token_is_required_when_set(client, settings):
    settings.ZOOMSYNC_METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
