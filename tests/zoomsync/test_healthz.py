"""/healthz reports the database and, when configured, the broker."""

from __future__ import annotations

import pytest

from zoomsync.celery import app


@pytest.mark.django_db
def test_healthz_ok_without_broker(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("not configured")


@pytest.mark.django_db
def test_healthz_503_when_database_fails(client, monkeypatch):
    from django.db import connection

    def broken_cursor(*args, **kwargs):
        raise RuntimeError("db down")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error: RuntimeError"


@pytest.mark.django_db
def test_healthz_503_when_configured_broker_unreachable(client, settings, monkeypatch):
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    original = app.connection_for_write
    monkeypatch.setattr(app, "connection_for_write", lambda: original("redis://127.0.0.1:1/0"))
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error")


def test_healthz_needs_no_login(client, db):
    assert client.get("/healthz").status_code in (200, 503)


@pytest.mark.django_db
def test_healthz_checks_a_reachable_broker(client, settings, monkeypatch):
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no local Redis")
    settings.CELERY_BROKER_URL = url
    original = app.connection_for_write
    monkeypatch.setattr(app, "connection_for_write", lambda: original(url))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "ok"
