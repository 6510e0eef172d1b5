"""Token service: refresh ahead of expiry, under a lock, rotation saved, broken on rejection."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from django.db import connection
from django.utils import timezone

from connector import oauth_http
from connector.models import ConnectionStatus, Portal, ZoomAccount, ZoomAuthType
from connector.services import tokens

HS_TOKEN_URL = "https://api.hubapi.test/oauth/v1/token"
ZOOM_TOKEN_URL = "https://zoom.test/oauth/token"


@pytest.fixture(autouse=True)
def _oauth_settings(settings):
    settings.HUBSPOT_API_BASE = "https://api.hubapi.test"
    settings.HUBSPOT_CLIENT_ID = "hs-client"
    settings.HUBSPOT_CLIENT_SECRET = "hs-secret"
    settings.ZOOM_OAUTH_BASE = "https://zoom.test"
    settings.ZOOM_CLIENT_ID = "zoom-client"
    settings.ZOOM_CLIENT_SECRET = "zoom-secret"
    settings.TOKEN_REFRESH_MARGIN_SECONDS = 300
    settings.REDIS_URL = ""


def _portal(*, expires_in_s: int, hub_id: int = 62515) -> Portal:
    return Portal.objects.create(
        hub_id=hub_id,
        access_token="old-access",
        refresh_token="old-refresh",
        token_expires_at=timezone.now() + timedelta(seconds=expires_in_s),
    )


def _zoom(portal: Portal, *, expires_in_s: int, auth_type: str = ZoomAuthType.OAUTH, **kw) -> ZoomAccount:
    return ZoomAccount.objects.create(
        portal=portal,
        account_id="zacc_main",
        auth_type=auth_type,
        access_token="old-zoom-access",
        refresh_token="old-zoom-refresh" if auth_type == ZoomAuthType.OAUTH else "",
        token_expires_at=timezone.now() + timedelta(seconds=expires_in_s),
        **kw,
    )


def _form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


@responses.activate
@pytest.mark.django_db
def test_hubspot_token_not_refreshed_before_margin():
    portal = _portal(expires_in_s=1200)  # 20 min left, margin is 5 min
    assert tokens.hubspot_access_token_get(portal=portal) == "old-access"
    assert len(responses.calls) == 0


@responses.activate
@pytest.mark.django_db
def test_hubspot_token_refreshed_ahead_of_expiry_and_rotated_refresh_token_stored():
    portal = _portal(expires_in_s=120)  # inside the 5-minute margin: refresh now
    responses.post(
        HS_TOKEN_URL,
        json={"access_token": "new-access", "refresh_token": "new-refresh", "expires_in": 1800,
              "token_type": "bearer"},
    )
    before = timezone.now()
    assert tokens.hubspot_access_token_get(portal=portal) == "new-access"
    assert len(responses.calls) == 1
    form = _form(responses.calls[0])
    assert form == {"grant_type": "refresh_token", "refresh_token": "old-refresh",
                    "client_id": "hs-client", "client_secret": "hs-secret"}
    fresh = Portal.objects.get(pk=portal.pk)
    assert fresh.access_token == "new-access"
    assert fresh.refresh_token == "new-refresh"
    expected = before + timedelta(seconds=1800)
    assert abs((fresh.token_expires_at - expected).total_seconds()) < 5
    # The caller's instance sees the new token too.
    assert portal.access_token == "new-access"


@responses.activate
@pytest.mark.django_db
def test_hubspot_refresh_keeps_refresh_token_when_response_has_none():
    portal = _portal(expires_in_s=-10)
    responses.post(HS_TOKEN_URL, json={"access_token": "new-access", "expires_in": 1800})
    tokens.hubspot_access_token_get(portal=portal)
    assert Portal.objects.get(pk=portal.pk).refresh_token == "old-refresh"


@responses.activate
@pytest.mark.django_db
def test_hubspot_force_refresh_refreshes_a_valid_token():
    portal = _portal(expires_in_s=1200)
    responses.post(HS_TOKEN_URL, json={"access_token": "forced", "refresh_token": "r2", "expires_in": 1800})
    assert tokens.hubspot_access_token_get(portal=portal, force_refresh=True) == "forced"
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.django_db
def test_hubspot_bad_refresh_token_marks_portal_uninstalled_without_retry():
    portal = _portal(expires_in_s=-10)
    responses.post(
        HS_TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "status": "BAD_REFRESH_TOKEN",
              "message": "refresh token is invalid, expired or revoked"},
    )
    with pytest.raises(tokens.TokenRefreshFailed):
        tokens.hubspot_access_token_get(portal=portal)
    fresh = Portal.objects.get(pk=portal.pk)
    # HubSpot answers so for an uninstalled app: the install is over (tokens forgotten).
    assert fresh.status == ConnectionStatus.UNINSTALLED
    assert fresh.uninstalled_at is not None and fresh.refresh_token == ""
    assert "BAD_REFRESH_TOKEN" in fresh.status_detail
    assert "old-refresh" not in fresh.status_detail
    # A broken connection fails fast: no second HTTP refresh attempt.
    with pytest.raises(tokens.TokenRefreshFailed):
        tokens.hubspot_access_token_get(portal=fresh)
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.django_db
@pytest.mark.parametrize("status", [500, 503, 429])
def test_hubspot_transient_error_is_retryable_and_leaves_portal_connected(status):
    portal = _portal(expires_in_s=-10)
    responses.post(HS_TOKEN_URL, status=status, json={"status": "error", "message": "try later"})
    with pytest.raises(tokens.TokenRefreshRetryable):
        tokens.hubspot_access_token_get(portal=portal)
    fresh = Portal.objects.get(pk=portal.pk)
    assert fresh.status == ConnectionStatus.CONNECTED
    assert fresh.refresh_token == "old-refresh"


@responses.activate
@pytest.mark.django_db
def test_hubspot_timeout_is_retryable():
    import requests

    portal = _portal(expires_in_s=-10)
    responses.post(HS_TOKEN_URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(tokens.TokenRefreshRetryable):
        tokens.hubspot_access_token_get(portal=portal)
    assert Portal.objects.get(pk=portal.pk).status == ConnectionStatus.CONNECTED


@responses.activate
@pytest.mark.django_db
def test_portal_api_base_override_is_used_for_refresh():
    portal = _portal(expires_in_s=-10)
    portal.api_base = "http://127.0.0.1:8899/hubspot"
    portal.save()
    responses.post("http://127.0.0.1:8899/hubspot/oauth/v1/token",
                   json={"access_token": "sbx", "refresh_token": "r", "expires_in": 1800})
    assert tokens.hubspot_access_token_get(portal=portal) == "sbx"


def _local_redis_url() -> str:
    import redis

    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no local Redis on 127.0.0.1:6379")
    return url


@responses.activate
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lock_backend", ["process", "redis"])
def test_two_threads_refreshing_at_once_make_exactly_one_http_refresh(lock_backend, settings):
    if lock_backend == "redis":
        settings.REDIS_URL = _local_redis_url()
    portal = _portal(expires_in_s=-10)
    counter = {"n": 0}

    def slow_token(request):
        counter["n"] += 1
        time.sleep(0.3)  # the second thread arrives while the first is refreshing
        n = counter["n"]
        return 200, {}, json.dumps({"access_token": f"access-{n}", "refresh_token": f"refresh-{n}",
                                    "expires_in": 1800})

    responses.add_callback(responses.POST, HS_TOKEN_URL, callback=slow_token,
                           content_type="application/json")
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker():
        try:
            # Each thread holds its own stale copy, as two workers would.
            mine = Portal.objects.get(pk=portal.pk)
            barrier.wait()
            results.append(tokens.hubspot_access_token_get(portal=mine))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert len(responses.calls) == 1
    assert results == ["access-1", "access-1"]
    assert Portal.objects.get(pk=portal.pk).refresh_token == "refresh-1"


# --- Zoom ----------------------------------------------------------------------------


@responses.activate
@pytest.mark.django_db
def test_zoom_oauth_refresh_uses_basic_auth_and_stores_rotated_refresh_token(portal):
    account = _zoom(portal, expires_in_s=60)
    responses.post(ZOOM_TOKEN_URL, json={"access_token": "z-new", "refresh_token": "z-rot",
                                         "expires_in": 3599, "scope": "webinar:read user:read"})
    assert tokens.zoom_access_token_get(account=account) == "z-new"
    call = responses.calls[0]
    assert call.request.headers["Authorization"].startswith("Basic ")
    import base64

    assert base64.b64decode(call.request.headers["Authorization"][6:]).decode() == "zoom-client:zoom-secret"
    assert _form(call) == {"grant_type": "refresh_token", "refresh_token": "old-zoom-refresh"}
    fresh = ZoomAccount.objects.get(pk=account.pk)
    assert (fresh.access_token, fresh.refresh_token) == ("z-new", "z-rot")
    assert fresh.scopes == ["webinar:read", "user:read"]


@responses.activate
@pytest.mark.django_db
def test_zoom_not_refreshed_before_margin(portal):
    account = _zoom(portal, expires_in_s=3000)
    assert tokens.zoom_access_token_get(account=account) == "old-zoom-access"
    assert len(responses.calls) == 0


@responses.activate
@pytest.mark.django_db
def test_zoom_s2s_refresh_is_account_credentials_with_account_secret(portal):
    account = _zoom(portal, expires_in_s=-1, auth_type=ZoomAuthType.SERVER_TO_SERVER,
                    client_id="s2s-id", client_secret="s2s-secret")
    responses.post(ZOOM_TOKEN_URL, json={"access_token": "s2s-tok", "expires_in": 3600,
                                         "token_type": "bearer"})
    assert tokens.zoom_access_token_get(account=account) == "s2s-tok"
    import base64

    call = responses.calls[0]
    assert base64.b64decode(call.request.headers["Authorization"][6:]).decode() == "s2s-id:s2s-secret"
    assert _form(call) == {"grant_type": "account_credentials", "account_id": "zacc_main"}


@responses.activate
@pytest.mark.django_db
def test_zoom_s2s_falls_back_to_settings_credentials(portal):
    account = _zoom(portal, expires_in_s=-1, auth_type=ZoomAuthType.SERVER_TO_SERVER)
    responses.post(ZOOM_TOKEN_URL, json={"access_token": "s2s-tok", "expires_in": 3600})
    tokens.zoom_access_token_get(account=account)
    import base64

    auth = responses.calls[0].request.headers["Authorization"][6:]
    assert base64.b64decode(auth).decode() == "zoom-client:zoom-secret"


@responses.activate
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "body"),
    [(401, {"reason": "Invalid Token!", "error": "invalid_request"}),
     (400, {"reason": "Invalid Token!", "error": "invalid_grant"}),
     (401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"})],
)
def test_zoom_rejected_refresh_marks_account_broken(portal, status, body):
    account = _zoom(portal, expires_in_s=-1)
    responses.post(ZOOM_TOKEN_URL, status=status, json=body)
    with pytest.raises(tokens.TokenRefreshFailed):
        tokens.zoom_access_token_get(account=account)
    fresh = ZoomAccount.objects.get(pk=account.pk)
    assert fresh.status == ConnectionStatus.BROKEN
    assert body["reason"] in fresh.status_detail
    assert fresh.refresh_token == "old-zoom-refresh"


@responses.activate
@pytest.mark.django_db
def test_zoom_server_error_is_retryable(portal):
    account = _zoom(portal, expires_in_s=-1)
    responses.post(ZOOM_TOKEN_URL, status=502, body="bad gateway")
    with pytest.raises(tokens.TokenRefreshRetryable):
        tokens.zoom_access_token_get(account=account)
    assert ZoomAccount.objects.get(pk=account.pk).status == ConnectionStatus.CONNECTED


def test_oauth_http_classifies_errors():
    assert issubclass(oauth_http.OAuthGrantRejected, oauth_http.OAuthHttpError)
    assert issubclass(oauth_http.OAuthTransientError, oauth_http.OAuthHttpError)


@responses.activate
@pytest.mark.django_db
def test_tokens_never_logged(caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    portal = _portal(expires_in_s=-1)
    responses.post(HS_TOKEN_URL, json={"access_token": "secret-new-access",
                                       "refresh_token": "secret-new-refresh", "expires_in": 1800})
    tokens.hubspot_access_token_get(portal=portal)
    text = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in ("secret-new-access", "secret-new-refresh", "old-refresh", "hs-secret"):
        assert secret not in text


@pytest.mark.django_db
def test_redis_lock_held_elsewhere_gives_retryable_error_without_http(settings, monkeypatch):
    import redis

    settings.REDIS_URL = _local_redis_url()
    monkeypatch.setattr(tokens, "LOCK_WAIT_SECONDS", 0.2)
    portal = _portal(expires_in_s=-10)
    # Another process (worker) holds this portal's refresh lock.
    other = redis.Redis.from_url(settings.REDIS_URL).lock(
        f"zoomsync:token-refresh:hubspot:{portal.pk}", timeout=5)
    assert other.acquire(blocking=False)
    try:
        with responses.RequestsMock() as mock:  # any HTTP call would fail this test
            with pytest.raises(tokens.TokenRefreshRetryable, match="busy"):
                tokens.hubspot_access_token_get(portal=portal)
            assert len(mock.calls) == 0
    finally:
        other.release()
    assert Portal.objects.get(pk=portal.pk).status == ConnectionStatus.CONNECTED
