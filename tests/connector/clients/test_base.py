"""The shared plumbing: retries, Retry-After, 401 refresh, typed errors, logging, counting."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import responses

from connector.clients import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
    api_calls_counted,
)
from connector.clients.errors import parse_retry_after
from connector.clients.zoom import ZoomClient

from .conftest import ZOOM

USER_URL = f"{ZOOM}/users/zu_1"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_retries_server_errors_then_succeeds(zoom, mocked, sleeps, status):
    mocked.get(USER_URL, status=status, json={"code": 0, "message": "oops"})
    mocked.get(USER_URL, status=status, json={"code": 0, "message": "oops"})
    mocked.get(USER_URL, json={"id": "zu_1"})

    assert zoom.user_get("zu_1") == {"id": "zu_1"}
    assert len(mocked.calls) == 3
    assert len(sleeps.waits) == 2
    # Exponential: the second wait's ceiling is twice the first's.
    assert 0.005 <= sleeps.waits[0] <= 0.01
    assert 0.01 <= sleeps.waits[1] <= 0.02


def test_server_error_exhaustion_raises_typed_error(zoom, mocked, sleeps):
    mocked.get(USER_URL, status=503, json={"code": 0, "message": "unavailable"})

    with pytest.raises(ServerError) as info:
        zoom.user_get("zu_1")

    assert info.value.status == 503
    assert info.value.path == "/users/{userId}"  # the template, never the id
    assert len(mocked.calls) == 1 + zoom.max_retries
    assert len(sleeps.waits) == zoom.max_retries


def test_backoff_is_capped_at_max_backoff(sleeps):
    client = ZoomClient(
        base_url=ZOOM,
        token_provider=lambda: "t",
        sleep=sleeps,
        max_retries=8,
        max_backoff=0.05,
        backoff_base=0.01,
    )
    with responses.RequestsMock() as rsps:
        rsps.get(USER_URL, status=500)
        with pytest.raises(ServerError):
            client.user_get("zu_1")
    assert max(sleeps.waits) <= 0.05
    assert len(sleeps.waits) == 8


def test_429_retry_after_seconds_is_honoured(zoom, mocked, sleeps):
    mocked.get(
        USER_URL,
        status=429,
        headers={"Retry-After": "3"},
        json={"code": 429, "message": "slow down"},
    )
    mocked.get(USER_URL, json={"id": "zu_1"})

    assert zoom.user_get("zu_1")["id"] == "zu_1"
    assert sleeps.waits == [3.0]


def test_429_retry_after_http_date_is_honoured(zoom, mocked, sleeps):
    when = datetime.now(UTC) + timedelta(seconds=4)
    mocked.get(USER_URL, status=429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    mocked.get(USER_URL, json={"id": "zu_1"})

    zoom.user_get("zu_1")
    assert len(sleeps.waits) == 1
    assert 2.0 <= sleeps.waits[0] <= 4.0


def test_429_retry_after_longer_than_max_backoff_raises_rate_limited(zoom, mocked, sleeps):
    # Zoom's daily limit: an ISO date-time at the next UTC midnight.
    when = (datetime.now(UTC) + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    mocked.get(
        USER_URL,
        status=429,
        headers={"Retry-After": when, "X-RateLimit-Type": "Daily-limit"},
        json={"code": 429, "message": "You have exceeded the daily rate limit"},
    )

    with pytest.raises(RateLimited) as info:
        zoom.user_get("zu_1")

    assert len(mocked.calls) == 1
    assert sleeps.waits == []
    assert info.value.retry_after == pytest.approx(5 * 3600, abs=5)
    assert info.value.code == 429


def test_429_exhaustion_raises_rate_limited(zoom, mocked, sleeps):
    mocked.get(USER_URL, status=429, headers={"Retry-After": "1"})

    with pytest.raises(RateLimited) as info:
        zoom.user_get("zu_1")

    assert len(mocked.calls) == 1 + zoom.max_retries
    assert info.value.retry_after == 1.0


def test_429_daily_policy_without_retry_after_is_not_retried(hubspot, mocked, sleeps):
    mocked.get(
        "https://api.hubapi.com/crm/v3/objects/contacts/501",
        status=429,
        json={
            "status": "error",
            "message": "You have reached your daily limit.",
            "errorType": "RATE_LIMIT",
            "policyName": "DAILY",
        },
    )
    with pytest.raises(RateLimited) as info:
        hubspot.contact_get("501")
    assert len(mocked.calls) == 1
    assert info.value.code == "RATE_LIMIT"


def test_timeouts_and_connection_errors_are_retried_then_raise_transport_error(
    zoom, mocked, sleeps
):
    mocked.get(USER_URL, body=requests.ConnectTimeout("boom"))
    mocked.get(USER_URL, body=requests.ConnectionError("refused"))
    mocked.get(USER_URL, json={"id": "zu_1"})
    assert zoom.user_get("zu_1") == {"id": "zu_1"}
    assert len(sleeps.waits) == 2

    mocked.replace(responses.GET, USER_URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(TransportError) as info:
        zoom.user_get("zu_1")
    assert info.value.status == 0


def test_401_refreshes_token_once_then_retries(mocked, sleeps):
    tokens = iter(["fresh-token"])
    refreshes = []

    def refresher() -> str:
        refreshes.append(1)
        return next(tokens)

    client = ZoomClient(
        base_url=ZOOM, token_provider=lambda: "stale-token", token_refresher=refresher, sleep=sleeps
    )
    mocked.get(USER_URL, status=401, json={"code": 124, "message": "Invalid access token."})
    mocked.get(USER_URL, json={"id": "zu_1"})

    assert client.user_get("zu_1") == {"id": "zu_1"}
    assert refreshes == [1]
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer stale-token"
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer fresh-token"
    assert sleeps.waits == []


def test_401_twice_raises_unauthorized_after_one_refresh(mocked, sleeps):
    refreshes = []
    client = ZoomClient(
        base_url=ZOOM,
        token_provider=lambda: "stale",
        token_refresher=lambda: refreshes.append(1) or "still-bad",
        sleep=sleeps,
    )
    mocked.get(USER_URL, status=401, json={"code": 124, "message": "Invalid access token."})

    with pytest.raises(Unauthorized) as info:
        client.user_get("zu_1")
    assert refreshes == [1]
    assert len(mocked.calls) == 2
    assert info.value.code == 124


@pytest.mark.parametrize(
    ("status", "body", "error_class", "code"),
    [
        (400, {"code": 3027, "message": "Host cannot register."}, BadRequest, 3027),
        (404, {"code": 3001, "message": "Webinar does not exist: 1."}, NotFound, 3001),
        (403, {"code": 200, "message": "No permission."}, Forbidden, 200),
        (
            409,
            {
                "status": "error",
                "message": "Contact already exists. Existing ID: 7",
                "category": "CONFLICT",
            },
            Conflict,
            "CONFLICT",
        ),
        (418, {"message": "teapot"}, ApiError, None),
    ],
)
def test_errors_are_typed_and_carry_provider_code(zoom, mocked, status, body, error_class, code):
    mocked.get(USER_URL, status=status, json=body)

    with pytest.raises(error_class) as info:
        zoom.user_get("zu_1")

    assert type(info.value) is error_class
    assert info.value.status == status
    assert info.value.code == code
    assert info.value.body == body
    assert info.value.message == body["message"]


def test_logs_use_path_template_and_never_token(zoom, mocked, caplog):
    mocked.get(USER_URL, status=500, headers={"X-RateLimit-Remaining": "7"})
    mocked.get(USER_URL, json={"id": "zu_1", "email": "jane@example.com"})

    with caplog.at_level(logging.DEBUG, logger="zoomsync.clients"):
        zoom.user_get("zu_1")

    records = [r for r in caplog.records if r.name == "zoomsync.clients"]
    assert [r.status for r in records] == [500, 200]
    assert all(r.path_template == "/users/{userId}" for r in records)
    assert records[0].ratelimit_remaining == "7"
    assert all(r.http_method == "GET" and r.api_service == "zoom" for r in records)
    text = caplog.text + " ".join(str(vars(r)) for r in records)
    assert "zoom-token" not in text
    assert "zu_1" not in text
    assert "jane@example.com" not in text


def test_calls_are_counted_per_client_and_per_context(zoom, hubspot, mocked):
    mocked.get(USER_URL, status=502)
    mocked.get(USER_URL, json={"id": "zu_1"})
    mocked.get("https://api.hubapi.com/crm/v3/objects/contacts/501", json={"id": "501"})

    with api_calls_counted() as counts:
        zoom.user_get("zu_1")
        hubspot.contact_get("501")

    # A retried call is two API calls: both reached the server.
    assert counts == {"zoom": 2, "hubspot": 1}
    assert zoom.calls == {"zoom": 2}
    assert zoom.calls_by_endpoint == {"GET /users/{userId}": 2}
    assert hubspot.calls == {"hubspot": 1}


def test_limiter_acquired_before_every_attempt(mocked, sleeps):
    keys = []

    class Recorder:
        def acquire(self, key: str, cost: int = 1) -> None:
            keys.append(key)

    client = ZoomClient(
        base_url=ZOOM,
        token_provider=lambda: "t",
        limiter=Recorder(),
        limiter_key="zoom:acc",
        sleep=sleeps,
    )
    mocked.get(USER_URL, status=500)
    mocked.get(USER_URL, json={})
    client.user_get("zu_1")
    assert keys == ["zoom:acc:LIGHT", "zoom:acc:LIGHT"]


def test_parse_retry_after_forms():
    now = datetime(2026, 5, 31, 0, 0, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after("Sun, 31 May 2026 00:00:10 GMT", now=now) == 10.0
    assert parse_retry_after("2026-05-31T00:01:00Z", now=now) == 60.0
    assert parse_retry_after("2026-05-30T00:00:00Z", now=now) == 0.0  # in the past
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_token_provider_asked_on_every_call_so_early_refresh_is_picked_up(mocked, sleeps):
    # The token service refreshes ahead of expiry; the client must not cache a token.
    tokens = iter(["token-1", "token-2"])
    client = ZoomClient(base_url=ZOOM, token_provider=lambda: next(tokens), sleep=sleeps)
    mocked.get(USER_URL, json={"id": "zu_1"})

    client.user_get("zu_1")
    client.user_get("zu_1")

    assert [c.request.headers["Authorization"] for c in mocked.calls] == [
        "Bearer token-1",
        "Bearer token-2",
    ]
