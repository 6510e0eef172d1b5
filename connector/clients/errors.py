"""One family of typed errors for every external API (Sentry's shared_integrations style).

`ApiError.code` carries the provider's own error code so callers can branch on it
without parsing messages: Zoom's numeric `code` (3027 "Host cannot register", 3001
"Webinar does not exist", 3301 "no recording"), HubSpot's `category`
(`CONFLICT`, `VALIDATION_ERROR`, `OBJECT_NOT_FOUND`) or `errorType` (`RATE_LIMIT`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import requests


class ApiError(Exception):
    """An API call that did not succeed. Never carries tokens; `body` is the parsed reply."""

    status: int
    code: str | int | None
    message: str
    body: Any
    headers: Mapping[str, str]

    def __init__(
        self,
        message: str = "",
        *,
        status: int = 0,
        code: str | int | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        method: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.body = body
        self.headers = dict(headers or {})
        # The path *template*, so the error is safe to log (no ids, no emails).
        self.method = method
        self.path = path
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = f"{self.method} {self.path} " if self.method else ""
        code = f" code={self.code}" if self.code is not None else ""
        return f"{where}HTTP {self.status}{code}: {self.message}".strip()

    @classmethod
    def from_response(
        cls, response: requests.Response, *, method: str = "", path: str = ""
    ) -> ApiError:
        """Build the right subclass for an error response (status → class, body → code)."""
        body = parse_body(response)
        code, message = provider_code_and_message(body)
        if not message:
            message = response.reason or f"HTTP {response.status_code}"
        error_class = error_class_for_status(response.status_code)
        kwargs: dict[str, Any] = {
            "status": response.status_code,
            "code": code,
            "body": body,
            "headers": response.headers,
            "method": method,
            "path": path,
        }
        if error_class is RateLimited:
            return RateLimited(
                message,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                **kwargs,
            )
        return error_class(message, **kwargs)


class HubSpotErrorCode(StrEnum):
    """HubSpot's `category` of an error (the spec's `Error` / `StandardError`), as a type.

    Per-item errors of a batch answer carry one; the client parses it once
    (connector.clients.hubspot) so callers branch on the code, never on the message.
    """

    CONFLICT = "CONFLICT"  # 409: the record (contact email, event id) already exists
    OBJECT_ALREADY_EXISTS = "OBJECT_ALREADY_EXISTS"  # properties: the name is taken
    OBJECT_NOT_FOUND = "OBJECT_NOT_FOUND"  # 404: the record (or the contact it names) is gone
    VALIDATION_ERROR = "VALIDATION_ERROR"  # 400: this input is invalid
    INVALID_EMAIL = "INVALID_EMAIL"
    PROPERTY_DOESNT_EXIST = "PROPERTY_DOESNT_EXIST"
    RATE_LIMIT = "RATE_LIMIT"  # 429 (`errorType` on whole answers, `RATE_LIMITS` as a category)
    SERVER_ERROR = "SERVER_ERROR"  # a 5xx reported for one item
    NO_ANSWER = "NO_ANSWER"  # HubSpot named the item neither in `results` nor in `errors`
    OTHER = "OTHER"  # a category this client does not know (its words stay in the message)

    @classmethod
    def parse(cls, category: object) -> HubSpotErrorCode:
        text = str(category or "").strip().upper()
        if text == "RATE_LIMITS":
            return cls.RATE_LIMIT
        try:
            return cls(text)
        except ValueError:
            return cls.OTHER


class BadRequest(ApiError):
    """HTTP 400 (Zoom also uses 400 for business errors such as 3027 and 3000)."""


class Unauthorized(ApiError):
    """HTTP 401: the token is invalid or expired even after one refresh."""


class Forbidden(ApiError):
    """HTTP 403: missing scope or plan."""


class NotFound(ApiError):
    """HTTP 404 (Zoom 3001 webinar does not exist, 3301 no recording)."""


class Conflict(ApiError):
    """HTTP 409 (HubSpot `CONFLICT`: the contact already exists)."""


class RateLimited(ApiError):
    """HTTP 429 that could not be absorbed by waiting (Retry-After longer than allowed)."""

    retry_after: float | None

    def __init__(
        self, message: str = "", *, retry_after: float | None = None, **kwargs: Any
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(ApiError):
    """HTTP 5xx after all retries."""


class TransportError(ApiError):
    """Timeout or connection failure after all retries (status 0)."""


def error_class_for_status(status: int) -> type[ApiError]:
    if status == 400:
        return BadRequest
    if status == 401:
        return Unauthorized
    if status == 403:
        return Forbidden
    if status == 404:
        return NotFound
    if status == 409:
        return Conflict
    if status == 429:
        return RateLimited
    if status >= 500:
        return ServerError
    return ApiError


def parse_body(response: requests.Response) -> Any:
    """The reply parsed as JSON when it is JSON, else its text (truncated), else None."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text[:1000]


def provider_code_and_message(body: Any) -> tuple[str | int | None, str]:
    """Zoom: {"code": 3027, "message": ...}; HubSpot: {"category": "CONFLICT", "message": ...}
    or {"errorType": "RATE_LIMIT", ...}."""
    if not isinstance(body, Mapping):
        return None, body if isinstance(body, str) else ""
    message = str(body.get("message") or body.get("error_description") or body.get("error") or "")
    code: str | int | None = None
    for key in ("code", "category", "errorType", "error"):
        value = body.get(key)
        if value not in (None, ""):
            code = value if isinstance(value, int | str) else str(value)
            break
    return code, message


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After in seconds, from either form: delta-seconds ("7") or an HTTP/ISO date.

    Zoom sends an ISO date-time (`2020-05-31T00:00:00Z`) on daily limits; RFC 9110
    allows an IMF-fixdate (`Sun, 31 May 2020 00:00:00 GMT`). A date in the past is 0.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import time
    from datetime import datetime
    from email.utils import parsedate_to_datetime

    when: datetime | None = None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        when = None
    if when is None:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if when.tzinfo is None:
        from datetime import UTC

        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


# What kind of failure closed a sync run (SyncRun.error_code), by the exception's class: the
# UI explains each code in words. Services' own exceptions are named here, not imported,
# so the clients never depend on the services.
SYNC_ERROR_CODES: dict[str, str] = {
    "TransportError": "transport",
    "Unauthorized": "unauthorized",
    "Forbidden": "forbidden",
    "RateLimited": "rate_limited",
    "ServerError": "server_error",
    "NotFound": "not_found",
    "BadRequest": "bad_request",
    "TokenRefreshFailed": "token_broken",
    "TokenRefreshRetryable": "token_retry",
    "SyncLeaseLost": "lease_lost",
    "SyncAlreadyRunning": "already_running",
    "SoftTimeLimitExceeded": "time_limit",
    "TimeLimitExceeded": "time_limit",
    "ApiError": "api_error",
}


def sync_error_code(exc: BaseException) -> str:
    """The SyncRun.error_code of an exception: its nearest known class, else "internal"."""
    for cls in type(exc).__mro__:
        code = SYNC_ERROR_CODES.get(cls.__name__)
        if code:
            return code
    return "internal"
