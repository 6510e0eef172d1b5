"""What every fake API call goes through: counting, latency, faults, auth and rate limits.

A WSGI wrapper around Django's application (`SandboxMiddleware(app)`), applied to `/zoom/...` and
`/hubspot/...` only. It runs before Django so a throttled or failed call costs almost nothing,
and so a "dropped connection" fault can close the socket without any answer (the server in
`sandbox.server` provides `environ["sandbox.drop"]`). Order per call:

1. count the call under "METHOD /path/template" (the route without the /zoom or /hubspot prefix);
2. sleep `latency_ms`;
3. fault injection (one seeded draw): 500/502/503 with `fault_rate`, a slow answer
   (`timeout_delay_s`) with `timeout_rate`, a dropped connection with `drop_rate`;
4. authentication (Bearer token for the service; HubSpot developer endpoints may use `hapikey`);
5. rate limits: Zoom per account and label per second; HubSpot per portal, rolling window;
6. the view. HubSpot answers get the `X-HubSpot-RateLimit-*` headers.

OAuth token endpoints skip steps 3-5 (a connector must be able to get a token to be tested).

Several portals (a multi-portal scenario): a request under `/p/<portal_id>/` (any of `/zoom/`,
`/hubspot/`, `/_sandbox/`) is served by that portal's HubSpot and Zoom, the prefix removed; a
HubSpot request without the prefix goes to the portal that issued its bearer token, else to
the first portal. `connect_sandbox --url http://.../p/<portal_id>` connects one of them.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from email.utils import formatdate
from functools import lru_cache
from typing import Any

from django.urls import Resolver404, resolve

from sandbox.config import knobs, rng_choice, rng_random
from sandbox.state import portal_routed, sandbox_state

StartResponse = Callable[..., Any]

_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
_PORTAL_PREFIX = re.compile(r"^/p/(\d+)(/.*)$")
_OAUTH_PREFIXES = ("/zoom/oauth/", "/hubspot/oauth/")
_STATUS_TEXT = {200: "OK", 401: "Unauthorized", 429: "Too Many Requests",
                500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}

# Zoom's rate-limit label per operation (spec: each operation's "Rate Limit Label").
ZOOM_LABELS: dict[str, str] = {
    "GET /v2/users": "medium",
    "GET /v2/users/{userId}": "light",
    "GET /v2/users/{userId}/webinars": "medium",
    "GET /v2/webinars/{webinarId}": "light",
    "GET /v2/webinars/{webinarId}/registrants": "medium",
    "POST /v2/webinars/{webinarId}/registrants": "light",
    "GET /v2/webinars/{webinarId}/registrants/questions": "light",
    "GET /v2/past_webinars/{webinarId}/instances": "light",
    "GET /v2/past_webinars/{webinarId}/participants": "medium",
    "GET /v2/report/webinars/{webinarId}": "heavy",
    "GET /v2/report/webinars/{webinarId}/participants": "heavy",
    "GET /v2/meetings/{meetingId}/recordings": "light",
    "GET /v2/zoom_events/events": "light",
    "GET /v2/zoom_events/events/{eventId}/sessions": "light",
}


class DropConnection(Exception):  # noqa: N818 - it is a signal, not an error
    """Raised to make the server close the socket without answering."""


@lru_cache(maxsize=16384)
def call_key(method: str, path: str) -> str:
    """"GET /v2/users/{userId}" for GET /zoom/v2/users/abc (the route, prefix removed)."""
    service_prefix = "/zoom" if path.startswith("/zoom/") else "/hubspot"
    try:
        match = resolve(path)
        template = "/" + _CONVERTER.sub(r"{\1}", match.route or "")
    except Resolver404:
        template = path
    if template.startswith(service_prefix + "/"):
        template = template[len(service_prefix):]
    return f"{method} {template}"


def _json(start_response: StartResponse, status: int, body: Any,
          headers: Iterable[tuple[str, str]] = ()) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(
        f"{status} {_STATUS_TEXT.get(status, 'Error')}",
        [("Content-Type", "application/json;charset=utf-8"),
         ("Content-Length", str(len(payload))), *headers],
    )
    return [payload]


def _bearer(environ: dict[str, Any]) -> str:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return ""


def _query_param(environ: dict[str, Any], name: str) -> str:
    from urllib.parse import parse_qs

    values = parse_qs(environ.get("QUERY_STRING", "")).get(name)
    return values[0] if values else ""


class SandboxMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        portal_id: int | None = None
        prefixed = _PORTAL_PREFIX.match(path)
        if prefixed:
            portal_id = int(prefixed.group(1))
            if portal_id not in sandbox_state().portals:
                return _json(start_response, 404, {
                    "error": f"no portal {portal_id} in this sandbox",
                    "portals": sorted(sandbox_state().portals)})
            path = environ["PATH_INFO"] = prefixed.group(2)
            raw = environ.get("RAW_URI")
            if raw and raw.startswith(f"/p/{portal_id}/"):
                environ["RAW_URI"] = raw[len(f"/p/{portal_id}"):]
        elif path.startswith("/hubspot/") and len(sandbox_state().portals) > 1:
            token = _bearer(environ)
            portal_id = sandbox_state().portal_for_token(token) if token else None
        if portal_id is None:
            return self._serve(environ, start_response, path)
        with portal_routed(portal_id):
            return self._serve(environ, start_response, path)

    def _serve(self, environ: dict[str, Any], start_response: StartResponse,
               path: str) -> Iterable[bytes]:
        if path.startswith("/zoom/"):
            service = "zoom"
        elif path.startswith("/hubspot/"):
            service = "hubspot"
        else:
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        key = call_key(method, path)
        environ["sandbox.call_key"] = key
        state = sandbox_state()
        k = knobs()
        with state.lock:
            state.counters.calls[service][key] += 1
        if k.latency_ms:
            time.sleep(k.latency_ms / 1000.0)
        if path.startswith(_OAUTH_PREFIXES):
            return self.app(environ, start_response)

        fault = self._fault(environ, start_response, service, state, k)
        if fault is not None:
            return fault

        if service == "zoom":
            denied = self._zoom_auth(environ, start_response, state)
            if denied is not None:
                return denied
            if k.rate_limits:
                limited = self._zoom_limit(environ, start_response, state, k, key)
                if limited is not None:
                    return limited
            return self.app(environ, start_response)

        denied, portal_bucket = self._hubspot_auth(environ, start_response, state)
        if denied is not None:
            return denied
        headers: list[tuple[str, str]] = []
        if portal_bucket is not None and k.rate_limits:
            limited, headers = self._hubspot_limit(start_response, state, k, portal_bucket)
            if limited is not None:
                return limited
        if not headers:
            return self.app(environ, start_response)

        def start_with_headers(status: str, response_headers: list[tuple[str, str]],
                               exc_info: Any = None) -> Any:
            return start_response(status, [*response_headers, *headers], exc_info)

        return self.app(environ, start_with_headers)

    # --- faults -------------------------------------------------------------------------------

    def _fault(self, environ: dict[str, Any], start_response: StartResponse, service: str,
               state: Any, k: Any) -> list[bytes] | None:
        total = k.fault_rate + k.timeout_rate + k.drop_rate
        if total <= 0:
            return None
        draw = rng_random()
        if draw >= total:
            return None
        with state.lock:
            state.counters.faults[service] += 1
        if draw < k.fault_rate:
            status = rng_choice([500, 502, 503])
            if service == "zoom":
                body: Any = {"code": status, "message": "Internal Error. Please try again later."}
            else:
                body = {"status": "error", "message": "internal error",
                        "correlationId": str(uuid.uuid4()), "category": "INTERNAL_ERROR"}
            return _json(start_response, status, body)
        if draw < k.fault_rate + k.timeout_rate:
            # A read timeout for any client whose timeout is below timeout_delay_s; the call
            # then completes normally (the server did the work: retries must be idempotent).
            time.sleep(k.timeout_delay_s)
            return None
        drop = environ.get("sandbox.drop")
        if drop is not None:
            raise DropConnection()
        return _json(start_response, 502, {"code": 502, "message": "Bad Gateway"})

    # --- Zoom -----------------------------------------------------------------------------------

    def _zoom_auth(self, environ: dict[str, Any], start_response: StartResponse,
                   state: Any) -> list[bytes] | None:
        token = _bearer(environ)
        with state.lock:
            info = state.zoom.tokens.get(token) if token else None
            if info is not None and (info.kind != "access"
                                     or info.account_id not in state.zoom.accounts):
                info = None
        if info is None:
            return _json(start_response, 401, {"code": 124, "message": "Invalid access token."})
        if info.expires_at <= time.time():
            return _json(start_response, 401, {"code": 124, "message": "Access token is expired."})
        environ["sandbox.zoom_account_id"] = info.account_id
        return None

    def _zoom_limit(self, environ: dict[str, Any], start_response: StartResponse, state: Any,
                    k: Any, key: str) -> list[bytes] | None:
        label = ZOOM_LABELS.get(key, "medium")
        limit = int(k.zoom_rate_limits.get(label, 10))
        now = time.time()
        second = int(now)
        bucket = ("zoom", environ["sandbox.zoom_account_id"], label)
        with state.lock:
            window = state.rate_windows.get(bucket)
            if window is None or window[0] != second:
                window = [second, 0]
                state.rate_windows[bucket] = window
            if window[1] < limit:
                window[1] += 1
                return None
            state.counters.throttled["zoom"] += 1
        return _json(
            start_response, 429,
            {"code": 429,
             "message": "You have reached the maximum per-second rate limit for this API. "
                        "Try again later."},
            [("Retry-After", formatdate(second + 1, usegmt=True)),
             ("X-RateLimit-Category", label.capitalize()),
             ("X-RateLimit-Type", "QPS"),
             ("X-RateLimit-Limit", str(limit)),
             ("X-RateLimit-Remaining", "0")],
        )

    # --- HubSpot --------------------------------------------------------------------------------

    def _hubspot_auth(self, environ: dict[str, Any], start_response: StartResponse,
                      state: Any) -> tuple[list[bytes] | None, Any]:
        hubspot = state.hubspot
        token = _bearer(environ)
        if not token:
            hapikey = _query_param(environ, "hapikey")
            expected = getattr(hubspot, "developer_api_key", None)
            if hapikey and (not expected or hapikey == expected):
                # App-level developer call: no portal, so no portal rate limit.
                environ["sandbox.hubspot_auth"] = "hapikey"
                return None, None
            return _json(start_response, 401, {
                "status": "error",
                "message": "Authentication credentials not found. This API supports OAuth 2.0 "
                           "authentication and you can find more details at "
                           "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "correlationId": str(uuid.uuid4()),
                "category": "INVALID_AUTHENTICATION",
            }), None
        with state.lock:
            valid = hubspot.token_valid(token)
            expired_ago = None
            if not valid and hasattr(hubspot, "token_expired_seconds_ago"):
                expired_ago = hubspot.token_expired_seconds_ago(token)
        if not valid:
            if expired_ago is not None:
                return _json(start_response, 401, {
                    "status": "error",
                    "message": f"The OAuth token used to make this call expired "
                               f"{int(expired_ago)} second(s) ago.",
                    "correlationId": str(uuid.uuid4()),
                    "category": "EXPIRED_AUTHENTICATION",
                }), None
            return _json(start_response, 401, {
                "status": "error",
                "message": "Authentication credentials not found. This API supports OAuth 2.0 "
                           "authentication and you can find more details at "
                           "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "correlationId": str(uuid.uuid4()),
                "category": "INVALID_AUTHENTICATION",
            }), None
        environ["sandbox.hubspot_auth"] = "oauth"
        return None, ("hubspot", getattr(hubspot, "portal_id", 0))

    def _hubspot_limit(self, start_response: StartResponse, state: Any, k: Any,
                       bucket: Any) -> tuple[list[bytes] | None, list[tuple[str, str]]]:
        maximum, interval = k.hubspot_rate_limit
        now = time.monotonic()
        with state.lock:
            window = state.rate_windows.get(bucket)
            if window is None:
                window = deque()
                state.rate_windows[bucket] = window
            while window and window[0] <= now - interval:
                window.popleft()
            allowed = len(window) < maximum
            if allowed:
                window.append(now)
            else:
                state.counters.throttled["hubspot"] += 1
            remaining = max(0, maximum - len(window))
        headers = [("X-HubSpot-RateLimit-Max", str(maximum)),
                   ("X-HubSpot-RateLimit-Remaining", str(remaining)),
                   ("X-HubSpot-RateLimit-Interval-Milliseconds", str(interval * 1000))]
        if allowed:
            return None, headers
        portal = bucket[1]
        return _json(start_response, 429, {
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": "TEN_SECONDLY_ROLLING",
            "groupName": f"publicapi:oauth-api-calls-ten-secondly:{portal}",
        }, headers), headers
