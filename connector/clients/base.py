"""The shared plumbing of every API client (after Sentry's `shared_integrations.client`).

One reused `requests.Session`, a timeout on every call, the Authorization header added in
one hook, a client-side rate limiter acquired before every attempt, retries with
exponential backoff and jitter for 5xx / 429 / timeouts / connection errors (honouring
`Retry-After` in seconds or as a date), one token refresh on 401, and typed errors
(`errors.py`). Every call is logged with its method, path *template*, status, duration and
rate-limit headers as structured `extra` fields; tokens, query strings and bodies are never
logged (they hold personal data and, for HubSpot's developer key, a secret).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

import requests

from zoomsync.metrics import api_call_observe

from .errors import (
    ApiError,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
    parse_body,
    parse_retry_after,
)
from .ratelimit import RateLimiter

logger = logging.getLogger("zoomsync.clients")

RETRY_STATUSES = frozenset({423, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
# Rate-limit headers worth logging (both providers); values are counts, never secrets.
_RATE_HEADERS = {
    "X-HubSpot-RateLimit-Max": "ratelimit_max",
    "X-HubSpot-RateLimit-Remaining": "ratelimit_remaining",
    "X-HubSpot-RateLimit-Interval-Milliseconds": "ratelimit_interval_ms",
    "X-RateLimit-Category": "ratelimit_category",
    "X-RateLimit-Type": "ratelimit_type",
    "X-RateLimit-Limit": "ratelimit_limit",
    "X-RateLimit-Remaining": "ratelimit_remaining",
    "Retry-After": "retry_after",
    "x-zm-trackingid": "zoom_tracking_id",
}

# Counters for "api_calls" in the sync report: `with api_calls_counted() as calls:` collects
# every HTTP attempt made by any client in this context (thread / task), by service.
_call_counters: contextvars.ContextVar[tuple[dict[str, int], ...]] = contextvars.ContextVar(
    "zoomsync_api_call_counters", default=()
)


@contextlib.contextmanager
def api_calls_counted() -> Iterator[dict[str, int]]:
    """Count API calls (HTTP attempts, retries included) made inside the block, by service."""
    counts: dict[str, int] = {}
    token = _call_counters.set((*_call_counters.get(), counts))
    try:
        yield counts
    finally:
        _call_counters.reset(token)


class BaseClient:
    """Subclasses set `service` and add one short method per endpoint."""

    service = "api"
    # The hard cap for any paginated listing: a bad cursor cannot loop forever.
    max_pages = 10_000

    def __init__(
        self,
        *,
        base_url: str,
        token_provider: Callable[[], str] | None = None,
        token_refresher: Callable[[], str] | None = None,
        limiter: RateLimiter | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5, 30),
        max_retries: int = 5,
        max_backoff: float = 60,
        limiter_key: str = "",
        backoff_base: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        on_call: Callable[[str, str, str, int], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_provider = token_provider
        self.token_refresher = token_refresher
        self.limiter = limiter
        self.limiter_key = limiter_key or self.service
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_backoff = max_backoff
        self.backoff_base = backoff_base
        self.sleep = sleep
        self.on_call = on_call
        # API calls made by this client: {"zoom": 14}; and by endpoint {"GET /users": 2}.
        self.calls: dict[str, int] = {}
        self.calls_by_endpoint: dict[str, int] = {}
        # Set for the one retry after a 401 refresh; otherwise the provider is asked on
        # every attempt, so a token refreshed ahead of expiry is picked up at once.
        self._token_override: str | None = None

    # --- the one auth hook ------------------------------------------------------

    def auth_apply(self, auth: str | bool, headers: dict[str, str], params: dict[str, Any]) -> None:
        """Add credentials. `auth`: True/"bearer" (OAuth token), False/"none".
        Subclasses add other schemes (HubSpot's developer key)."""
        if auth in (True, "bearer"):
            token = self._token_override
            if token is None:
                if self.token_provider is None:
                    raise Unauthorized("no access token available", status=401)
                token = self.token_provider()
            headers["Authorization"] = f"Bearer {token}"

    def _token_refresh(self) -> bool:
        """After a 401: ask for a fresh token once. The refresher takes the lock and talks
        to the OAuth server (connector.services.tokens); a 401 is the fallback, not the plan."""
        if self.token_refresher is None:
            return False
        self._token_override = self.token_refresher()
        return True

    # --- the request ------------------------------------------------------------

    @staticmethod
    def path_format(path_template: str, path_params: Mapping[str, Any] | None) -> str:
        """Fill the template, percent-encoding each value (so "/" cannot change the path)."""
        if not path_params:
            return path_template
        return path_template.format(**{k: quote(str(v), safe="") for k, v in path_params.items()})

    def request(
        self,
        method: str,
        path_template: str,
        *,
        path_params: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        auth: str | bool = True,
        headers: Mapping[str, str] | None = None,
        limit_label: str | None = None,
    ) -> requests.Response:
        """Send one API call (with retries); return the 2xx response or raise an ApiError."""
        method = method.upper()
        path = self.path_format(path_template, path_params)
        url = self.base_url + path
        query = {k: v for k, v in (params or {}).items() if v is not None}
        limiter_key = f"{self.limiter_key}:{limit_label}" if limit_label else self.limiter_key
        try:
            return self._request_attempts(
                method, path_template, url, query, json, data, auth, headers, limiter_key
            )
        finally:
            self._token_override = None

    def _request_attempts(
        self,
        method: str,
        path_template: str,
        url: str,
        query: dict[str, Any],
        json: Any,
        data: Any,
        auth: str | bool,
        headers: Mapping[str, str] | None,
        limiter_key: str,
    ) -> requests.Response:
        refreshed = False
        attempt = 0
        while True:
            request_headers = {"Accept": "application/json", **(headers or {})}
            request_params = dict(query)
            self.auth_apply(auth, request_headers, request_params)
            if self.limiter is not None:
                self.limiter.acquire(limiter_key)
            started = time.monotonic()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=request_params or None,
                    json=json,
                    data=data,
                    headers=request_headers,
                    timeout=self.timeout,
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                duration = time.monotonic() - started
                self._count(method, path_template, 0)
                # The exception text can hold the URL (and a developer key): log the type only.
                self._log(
                    logging.WARNING,
                    method,
                    path_template,
                    0,
                    duration,
                    None,
                    attempt,
                    error=type(exc).__name__,
                )
                if attempt >= self.max_retries:
                    raise TransportError(
                        f"{type(exc).__name__} after {attempt + 1} attempts",
                        status=0,
                        method=method,
                        path=path_template,
                    ) from None
                self.sleep(self._backoff(attempt))
                attempt += 1
                continue

            duration = time.monotonic() - started
            status = response.status_code
            self._count(method, path_template, status)
            self.after_response(response, limiter_key)
            if status < 400:
                self._log(logging.DEBUG, method, path_template, status, duration, response, attempt)
                return response
            # 404/409 are often expected answers (no recording, contact exists): INFO.
            level = logging.INFO if status in (404, 409) else logging.WARNING
            self._log(level, method, path_template, status, duration, response, attempt)

            if status == 401 and auth in (True, "bearer") and not refreshed:
                refreshed = True
                if self._token_refresh():
                    continue
            if status in RETRY_STATUSES:
                wait = self._retry_wait(response, attempt)
                if status == 429 and (wait is None or wait > self.max_backoff):
                    # A daily limit, or a wait too long to sleep through: let the caller
                    # (or Celery) reschedule.
                    raise ApiError.from_response(response, method=method, path=path_template)
                if attempt < self.max_retries and wait is not None and wait <= self.max_backoff:
                    if (
                        status == 429
                        and self.limiter is not None
                        and hasattr(self.limiter, "slow_down")
                    ):
                        # Tell every worker sharing this key to hold back too.
                        # The next acquire() waits it out, so do not sleep twice.
                        self.limiter.slow_down(limiter_key, wait)
                    else:
                        self.sleep(wait)
                    attempt += 1
                    continue
            raise ApiError.from_response(response, method=method, path=path_template)

    def request_json(self, method: str, path_template: str, **kwargs: Any) -> Any:
        """`request`, then the parsed JSON body (None for an empty 204)."""
        response = self.request(method, path_template, **kwargs)
        return parse_body(response)

    # --- hooks and helpers ------------------------------------------------------

    def after_response(self, response: requests.Response, limiter_key: str) -> None:
        """Subclasses may read rate-limit headers here to slow down early."""

    def is_daily_limit(self, response: requests.Response) -> bool:
        """A 429 that no short wait will cure (a daily quota)."""
        body = parse_body(response)
        text = ""
        if isinstance(body, Mapping):
            text = f"{body.get('policyName', '')} {body.get('message', '')}".lower()
        kind = response.headers.get("X-RateLimit-Type", "").lower()
        return "daily" in text or "daily" in kind

    def _retry_wait(self, response: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when it must not be retried now."""
        if (
            response.status_code == 429
            and self.is_daily_limit(response)
            and "Retry-After" not in response.headers
        ):
            return None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is not None:
            return retry_after
        if response.status_code == 423:
            return max(2.0, self._backoff(attempt))  # HubSpot: locks last 2 s
        if response.status_code == 429:
            return self._backoff(attempt, base=max(1.0, self.backoff_base))
        return self._backoff(attempt)

    def _backoff(self, attempt: int, *, base: float | None = None) -> float:
        """Exponential backoff with equal jitter, capped at max_backoff."""
        ceiling = min(
            self.max_backoff, (base if base is not None else self.backoff_base) * (2**attempt)
        )
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto

    def _count(self, method: str, path_template: str, status: int) -> None:
        self.calls[self.service] = self.calls.get(self.service, 0) + 1
        endpoint = f"{method} {path_template}"
        self.calls_by_endpoint[endpoint] = self.calls_by_endpoint.get(endpoint, 0) + 1
        for counts in _call_counters.get():
            counts[self.service] = counts.get(self.service, 0) + 1
        api_call_observe(provider=self.service, status=status)  # Prometheus (zoomsync.metrics)
        if self.on_call is not None:
            self.on_call(self.service, method, path_template, status)

    def _log(
        self,
        level: int,
        method: str,
        path_template: str,
        status: int,
        duration: float,
        response: requests.Response | None,
        attempt: int,
        *,
        error: str = "",
    ) -> None:
        if not logger.isEnabledFor(level):
            return
        extra: dict[str, Any] = {
            "api_service": self.service,
            "http_method": method,
            "path_template": path_template,
            "status": status,
            "duration_ms": round(duration * 1000, 1),
            "attempt": attempt,
        }
        if error:
            extra["error"] = error
        if response is not None:
            for header, field in _RATE_HEADERS.items():
                value = response.headers.get(header)
                if value is not None:
                    extra[field] = value
        logger.log(
            level,
            "%s %s %s -> %s",
            self.service,
            method,
            path_template,
            status or error,
            extra=extra,
        )

    def paginate(
        self,
        path_template: str,
        *,
        items_key: str,
        next_params: Callable[[Any], dict[str, Any] | None],
        path_params: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        limit_label: str | None = None,
        method: str = "GET",
        json: Any = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield items page by page; `next_params(body)` gives the next page's parameters
        or None at the end. Raises ApiError after `max_pages` pages (a looping cursor)."""
        page_params = dict(params or {})
        for _page in range(self.max_pages):
            body = self.request_json(
                method,
                path_template,
                path_params=path_params,
                params=page_params,
                json=json,
                limit_label=limit_label,
            )
            body = body if isinstance(body, Mapping) else {}
            yield from body.get(items_key) or []
            following = next_params(body)
            if not following:
                return
            page_params = {**page_params, **following}
        raise ApiError(
            f"pagination exceeded {self.max_pages} pages; the cursor may be looping",
            method=method,
            path=path_template,
        )


__all__ = ["BaseClient", "api_calls_counted", "RETRY_STATUSES", "ServerError", "RateLimited"]
