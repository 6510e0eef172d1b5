"""Liveness/readiness (the database and, when configured, the broker) and Prometheus metrics."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    ok = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - a health check reports, never raises
        checks["database"] = f"error: {exc.__class__.__name__}"
        ok = False
    if settings.CELERY_BROKER_URL:
        try:
            from zoomsync.celery import app

            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["broker"] = f"error: {exc.__class__.__name__}"
            ok = False
    else:
        checks["broker"] = "not configured (tasks run in-process)"
    return JsonResponse({"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition (zoomsync.metrics). With ZOOMSYNC_METRICS_TOKEN set, the scraper
    must send `Authorization: Bearer <token>`."""
    expected = settings.ZOOMSYNC_METRICS_TOKEN
    if expected:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), expected):
            return HttpResponse("metrics need the bearer token\n", status=401, content_type="text/plain")
    from zoomsync.metrics import metrics_render

    body, content_type = metrics_render()
    return HttpResponse(body, content_type=content_type)
