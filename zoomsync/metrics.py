"""Prometheus metrics (prometheus-client), served at `/metrics`.

Counted where they happen, in whichever process that is:

- `zoomsync_api_calls_total{provider}`: every HTTP attempt of the Zoom and HubSpot clients
  (retries included); `zoomsync_api_rate_limited_total{provider}`: those answered 429.
- `zoomsync_sync_duration_seconds{status}`: a histogram of finished sync runs (succeeded or
  failed), observed when the run is closed.
- `zoomsync_webhook_lag_seconds{provider}`: seconds between a provider's event time and our
  receipt of its webhook; set with `webhook_lag_set(provider=..., seconds=...)` by the
  webhook receivers (the latest value; the largest across processes).

Read from the database at scrape time (right whatever process does the work):

- `zoomsync_outbox_backlog{status}`: outbox items waiting (pending) or failed for good.
- `zoomsync_sync_runs{status}`: sync runs by status (running, queued, ...).
- `zoomsync_webhook_backlog{provider}`: received webhook events not processed yet, and
  `zoomsync_webhook_oldest_waiting_seconds{provider}`: how long the oldest of them has waited.

Several processes on one host (gunicorn workers, Celery workers): set
PROMETHEUS_MULTIPROC_DIR to one empty folder for all of them (`make up` does) and /metrics
adds every process's counters up (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

API_CALLS = Counter("zoomsync_api_calls", "HTTP calls to a provider's API (retries included)", ["provider"])
API_RATE_LIMITED = Counter("zoomsync_api_rate_limited", "Provider API calls answered 429 (rate limited)",
                           ["provider"])
SYNC_DURATION = Histogram(
    "zoomsync_sync_duration_seconds", "Duration of finished sync runs", ["status"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, float("inf")),
)
WEBHOOK_LAG = Gauge("zoomsync_webhook_lag_seconds",
                    "Seconds between a provider's event and our receipt of its webhook (latest)",
                    ["provider"], multiprocess_mode="max")


def api_call_observe(*, provider: str, status: int) -> None:
    API_CALLS.labels(provider=provider).inc()
    if status == 429:
        API_RATE_LIMITED.labels(provider=provider).inc()


def sync_duration_observe(*, status: str, seconds: float) -> None:
    SYNC_DURATION.labels(status=status).observe(max(0.0, seconds))


def webhook_lag_set(*, provider: str, seconds: float) -> None:
    WEBHOOK_LAG.labels(provider=provider).set(max(0.0, seconds))


class DatabaseCollector(Collector):
    """Gauges read from the database when /metrics is scraped."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count

        from connector.models import OutboxItem, OutboxStatus, SyncRun

        backlog = GaugeMetricFamily("zoomsync_outbox_backlog",
                                    "Outbox items not sent: pending, or failed for good", labels=["status"])
        counts = dict(OutboxItem.objects.exclude(status=OutboxStatus.SENT)
                      .values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
        for outbox_status in (OutboxStatus.PENDING, OutboxStatus.FAILED):
            backlog.add_metric([str(outbox_status)], counts.get(outbox_status, 0))
        yield backlog
        runs = GaugeMetricFamily("zoomsync_sync_runs", "Sync runs by status", labels=["status"])
        for status, n in SyncRun.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"):
            runs.add_metric([str(status)], n)
        yield runs
        yield from self._webhooks()

    def _webhooks(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count, Min
        from django.utils import timezone

        from connector.models import WebhookEvent, WebhookProvider, WebhookStatus

        waiting = (WebhookStatus.PENDING, WebhookStatus.RETRYING)
        backlog = GaugeMetricFamily("zoomsync_webhook_backlog",
                                    "Received webhook events not processed yet (pending or retrying)",
                                    labels=["provider"])
        oldest = GaugeMetricFamily("zoomsync_webhook_oldest_waiting_seconds",
                                   "Age of the oldest webhook event not processed yet (0: none)",
                                   labels=["provider"])
        rows = {p: (n, first) for p, n, first in WebhookEvent.objects.filter(status__in=waiting)
                .values_list("provider").annotate(n=Count("pk"), first=Min("received_at"))
                .values_list("provider", "n", "first")}
        now = timezone.now()
        for provider in WebhookProvider.values:
            n, first = rows.get(provider, (0, None))
            backlog.add_metric([provider], n)
            oldest.add_metric([provider], (now - first).total_seconds() if first else 0.0)
        yield backlog
        yield oldest


def metrics_render() -> tuple[bytes, str]:
    """The exposition text of every metric (all processes' in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    combined = CollectorRegistry()
    combined.register(_Registry(registry))
    combined.register(DatabaseCollector())
    return generate_latest(combined), CONTENT_TYPE_LATEST


class _Registry(Collector):
    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Any]:
        yield from self.registry.collect()


# --- sync durations: observed when a run is saved as finished -----------------------------

def _sync_run_saved(sender: Any, instance: Any, update_fields: Any = None, **_: Any) -> None:
    if update_fields is None or "finished_at" not in update_fields:
        return
    if instance.status in ("succeeded", "failed") and instance.finished_at and instance.started_at:
        sync_duration_observe(status=instance.status,
                              seconds=(instance.finished_at - instance.started_at).total_seconds())


def signals_connect() -> None:
    from django.db.models.signals import post_save

    post_save.connect(_sync_run_saved, sender="connector.SyncRun", weak=False,
                      dispatch_uid="zoomsync-metrics-sync-run")
