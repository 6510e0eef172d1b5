"""Raw HTTP calls to the two OAuth token endpoints (HubSpot, Zoom).

No business rules here: each function sends one request and classifies the failure so
the token service can decide. Permanent rejections (a bad refresh token, bad client
credentials) raise OAuthGrantRejected; anything worth retrying later (5xx, 429,
timeouts, connection errors) raises OAuthTransientError. Tokens are never logged.
"""

from __future__ import annotations

import logging
from typing import Any

import requests

logger = logging.getLogger("zoomsync.oauth_http")

# (connect, read) seconds: a token endpoint that hangs must not pin a worker.
TIMEOUT = (5, 20)

_session = requests.Session()


class OAuthHttpError(Exception):
    """A token-endpoint call failed. `code` is the provider's error code when known."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class OAuthGrantRejected(OAuthHttpError):
    """The provider refused the grant for good (invalid/revoked refresh token, bad client)."""


class OAuthTransientError(OAuthHttpError):
    """Worth retrying later: server error, rate limit, timeout, network failure."""


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _send(method: str, url: str, *, provider: str, path: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = _session.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.Timeout as exc:
        raise OAuthTransientError(f"{provider} {path}: timed out") from exc
    except requests.RequestException as exc:
        raise OAuthTransientError(f"{provider} {path}: {exc.__class__.__name__}") from exc
    logger.info(
        "oauth call",
        extra={"provider": provider, "method": method, "path": path, "status": response.status_code},
    )
    body = _json(response)
    if response.status_code < 400:
        if not body:
            raise OAuthTransientError(
                f"{provider} {path}: unreadable response body", status=response.status_code
            )
        return body
    # Error bodies carry codes and messages, never tokens, so they are safe to quote.
    code = str(body.get("status") or body.get("error") or body.get("code") or "")
    reason = str(
        body.get("message") or body.get("error_description") or body.get("reason") or ""
    )[:300]
    message = f"{provider} {path}: HTTP {response.status_code} {code} {reason}".strip()
    if response.status_code == 429 or response.status_code >= 500:
        raise OAuthTransientError(message, status=response.status_code, code=code)
    # 400/401/403 from a token endpoint: retrying the same grant cannot succeed.
    raise OAuthGrantRejected(message, status=response.status_code, code=code)


# --- HubSpot -------------------------------------------------------------------------


def hubspot_token_post(*, api_base: str, data: dict[str, str]) -> dict[str, Any]:
    """POST {api_base}/oauth/v1/token (form-encoded; client id/secret in `data`)."""
    return _send(
        "POST",
        f"{api_base.rstrip('/')}/oauth/v1/token",
        provider="hubspot",
        path="/oauth/v1/token",
        data=data,
        headers={"Accept": "application/json"},
    )


def hubspot_access_token_info_get(*, api_base: str, access_token: str) -> dict[str, Any]:
    """GET {api_base}/oauth/v1/access-tokens/{token}: hub_id, hub_domain, scopes, user."""
    return _send(
        "GET",
        f"{api_base.rstrip('/')}/oauth/v1/access-tokens/{access_token}",
        provider="hubspot",
        path="/oauth/v1/access-tokens/{token}",
        headers={"Accept": "application/json"},
    )


# --- Zoom ----------------------------------------------------------------------------


def zoom_token_post(
    *, oauth_base: str, data: dict[str, str], client_id: str, client_secret: str
) -> dict[str, Any]:
    """POST {oauth_base}/oauth/token with HTTP Basic client authentication."""
    return _send(
        "POST",
        f"{oauth_base.rstrip('/')}/oauth/token",
        provider="zoom",
        path="/oauth/token",
        data=data,
        auth=(client_id, client_secret),
        headers={"Accept": "application/json"},
    )


def zoom_user_me_get(*, api_base: str, access_token: str) -> dict[str, Any]:
    """GET {api_base}/users/me: the connecting user (id, email) and its account_id."""
    return _send(
        "GET",
        f"{api_base.rstrip('/')}/users/me",
        provider="zoom",
        path="/users/me",
        headers={"Accept": "application/json", "Authorization": f"Bearer {access_token}"},
    )
