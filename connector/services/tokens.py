"""The one place access tokens are refreshed (HubSpot portals and Zoom accounts).

A stored token is used while it expires later than now + TOKEN_REFRESH_MARGIN_SECONDS;
refresh happens ahead of expiry, never as a reaction to a 401 (HubSpot's docs: a 401 is
not a reliable signal). Refreshing is serialised per connection by two locks:

* a cross-process lock (Redis, when REDIS_URL is set) or a process-local threading lock,
  so two workers never spend the same (rotating) refresh token;
* a database row lock (select_for_update; real on PostgreSQL, a no-op on SQLite).

After acquiring them the row is read again: the second of two concurrent callers finds
the first one's fresh token and returns it without an HTTP call. A rotated refresh token
is saved in the same UPDATE as the access token. A rejected grant marks the connection
broken (status_detail says why) and raises TokenRefreshFailed; callers must not retry it.
Transient failures raise TokenRefreshRetryable and leave the connection as it was.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from connector import oauth_http
from connector.models import ConnectionStatus, Portal, ZoomAccount, ZoomAuthType
from connector.services import oauth

logger = logging.getLogger("zoomsync.tokens")

HUBSPOT_DEFAULT_EXPIRES_IN = 1800  # HubSpot access tokens live 30 minutes
ZOOM_DEFAULT_EXPIRES_IN = 3600  # Zoom access tokens live 1 hour
LOCK_TIMEOUT_SECONDS = 60  # a crashed holder's Redis lock expires after this
LOCK_WAIT_SECONDS = 45  # longer than one token call with its timeouts
# HubSpot answers a refresh of an uninstalled app (or a revoked refresh token, which only
# the app can do) with this code: the install is over.
HUBSPOT_UNINSTALLED_CODES = frozenset({"BAD_REFRESH_TOKEN"})


class TokenRefreshFailed(Exception):
    """The connection is broken (status=broken; status_detail says why). Do not retry:
    an admin must reconnect."""


class TokenRefreshRetryable(Exception):
    """The refresh failed for a passing reason (5xx, 429, timeout, lock busy); the
    connection is untouched. Retry later with backoff."""


# --- locks ---------------------------------------------------------------------------

_local_locks: dict[str, threading.Lock] = {}
_local_locks_guard = threading.Lock()
_redis_clients: dict[str, Any] = {}


def _redis() -> Any:
    url = settings.REDIS_URL
    if url not in _redis_clients:
        import redis

        _redis_clients[url] = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10)
    return _redis_clients[url]


@contextlib.contextmanager
def connection_lock(key: str) -> Iterator[None]:
    """Hold the per-connection refresh lock (Redis when configured, else in-process)."""
    name = f"zoomsync:token-refresh:{key}"
    if settings.REDIS_URL:
        lock = _redis().lock(name, timeout=LOCK_TIMEOUT_SECONDS, blocking_timeout=LOCK_WAIT_SECONDS)
        if not lock.acquire():
            raise TokenRefreshRetryable(f"refresh lock {key} is busy")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # expired meanwhile: nothing to release
                lock.release()
        return
    with _local_locks_guard:
        lock_local = _local_locks.setdefault(name, threading.Lock())
    if not lock_local.acquire(timeout=LOCK_WAIT_SECONDS):
        raise TokenRefreshRetryable(f"refresh lock {key} is busy")
    try:
        yield
    finally:
        lock_local.release()


# --- shared refresh skeleton -----------------------------------------------------------

Conn = TypeVar("Conn", Portal, ZoomAccount)


def _is_fresh(conn: Portal | ZoomAccount, now: datetime) -> bool:
    margin = timedelta(seconds=settings.TOKEN_REFRESH_MARGIN_SECONDS)
    return bool(conn.access_token) and conn.token_expires_at is not None and (
        conn.token_expires_at > now + margin
    )


def _copy_tokens(source: models.Model, target: models.Model) -> None:
    for name in ("access_token", "refresh_token", "token_expires_at", "scopes", "status", "status_detail"):
        setattr(target, name, getattr(source, name))


def _ensure_usable(conn: Portal | ZoomAccount) -> None:
    if conn.status != ConnectionStatus.CONNECTED:
        raise TokenRefreshFailed(
            f"{conn} is {conn.status}: {conn.status_detail or 'reconnect it to continue'}"
        )


def _access_token_get(
    conn: Conn,
    *,
    force_refresh: bool,
    lock_key: str,
    refresh: Callable[[Conn], dict[str, Any]],
    default_expires_in: int,
) -> str:
    _ensure_usable(conn)
    if not force_refresh and _is_fresh(conn, timezone.now()):
        return conn.access_token
    model = type(conn)
    stale_token = conn.access_token
    failure: str | None = None
    uninstalled = False
    with connection_lock(lock_key), transaction.atomic():
        current = model.objects.select_for_update().get(pk=conn.pk)
        _ensure_usable(current)
        # Someone refreshed while we waited for the lock: use theirs. With force_refresh
        # (a 401 on this very token) only a token different from the caller's counts.
        if _is_fresh(current, timezone.now()) and (
            not force_refresh or current.access_token != stale_token
        ):
            _copy_tokens(current, conn)
            return current.access_token
        try:
            body = refresh(current)
        except oauth_http.OAuthGrantRejected as exc:
            failure = f"Token refresh rejected ({exc}). Reconnect to continue."
            if isinstance(current, Portal) and exc.code in HUBSPOT_UNINSTALLED_CODES:
                uninstalled = True
                failure = f"The app is no longer installed in HubSpot ({exc}). Install it again."
                oauth.portal_uninstall(portal=current, detail=failure)
            else:
                current.status = ConnectionStatus.BROKEN
                current.status_detail = failure
                current.save(update_fields=["status", "status_detail"])
        except oauth_http.OAuthTransientError as exc:
            raise TokenRefreshRetryable(str(exc)) from exc
        else:
            access_token = body.get("access_token")
            if not access_token:
                raise TokenRefreshRetryable(f"{current}: token response without access_token")
            current.access_token = str(access_token)
            # Rotated refresh tokens (Zoom always, HubSpot maybe) are saved in the same
            # UPDATE as the access token, or the next refresh would use a dead one.
            if body.get("refresh_token"):
                current.refresh_token = str(body["refresh_token"])
            expires_in = int(body.get("expires_in") or default_expires_in)
            current.token_expires_at = timezone.now() + timedelta(seconds=expires_in)
            fields = ["access_token", "refresh_token", "token_expires_at"]
            scopes = body.get("scopes") or body.get("scope")
            if isinstance(scopes, str):
                scopes = scopes.split()
            if scopes:
                current.scopes = list(scopes)
                fields.append("scopes")
            current.save(update_fields=fields)
            logger.info("token refreshed", extra={"connection": lock_key, "expires_in": expires_in})
        _copy_tokens(current, conn)
    if failure is not None:
        logger.warning(
            "token refresh rejected; connection marked %s",
            "uninstalled" if uninstalled else "broken",
            extra={"connection": lock_key},
        )
        raise TokenRefreshFailed(f"{conn}: {failure}")
    return conn.access_token


# --- HubSpot -------------------------------------------------------------------------


def _hubspot_refresh(portal: Portal) -> dict[str, Any]:
    if not portal.refresh_token:
        raise oauth_http.OAuthGrantRejected("no refresh token stored")
    return oauth_http.hubspot_token_post(
        api_base=portal.hubspot_api_base,
        data={
            "grant_type": "refresh_token",
            "refresh_token": portal.refresh_token,
            "client_id": settings.HUBSPOT_CLIENT_ID,
            "client_secret": settings.HUBSPOT_CLIENT_SECRET,
        },
    )


def hubspot_access_token_get(*, portal: Portal, force_refresh: bool = False) -> str:
    """A valid HubSpot access token for `portal`, refreshed ahead of expiry if needed."""
    return _access_token_get(
        portal,
        force_refresh=force_refresh,
        lock_key=f"hubspot:{portal.pk}",
        refresh=_hubspot_refresh,
        default_expires_in=HUBSPOT_DEFAULT_EXPIRES_IN,
    )


# --- Zoom ----------------------------------------------------------------------------


def zoom_s2s_credentials(account: ZoomAccount) -> tuple[str, str]:
    """A Server-to-Server app's credentials: the account's own, else the settings'."""
    if account.client_id:
        return account.client_id, account.client_secret
    return settings.ZOOM_CLIENT_ID, settings.ZOOM_CLIENT_SECRET


def _zoom_refresh(account: ZoomAccount) -> dict[str, Any]:
    if account.auth_type == ZoomAuthType.SERVER_TO_SERVER:
        # S2S has no refresh token: a new account_credentials grant is the refresh.
        client_id, client_secret = zoom_s2s_credentials(account)
        return oauth_http.zoom_token_post(
            oauth_base=account.zoom_oauth_base,
            data={"grant_type": "account_credentials", "account_id": account.account_id},
            client_id=client_id,
            client_secret=client_secret,
        )
    if not account.refresh_token:
        raise oauth_http.OAuthGrantRejected("no refresh token stored")
    return oauth_http.zoom_token_post(
        oauth_base=account.zoom_oauth_base,
        data={"grant_type": "refresh_token", "refresh_token": account.refresh_token},
        client_id=settings.ZOOM_CLIENT_ID,
        client_secret=settings.ZOOM_CLIENT_SECRET,
    )


def zoom_access_token_get(*, account: ZoomAccount, force_refresh: bool = False) -> str:
    """A valid Zoom access token for `account`, refreshed ahead of expiry if needed."""
    return _access_token_get(
        account,
        force_refresh=force_refresh,
        lock_key=f"zoom:{account.pk}",
        refresh=_zoom_refresh,
        default_expires_in=ZOOM_DEFAULT_EXPIRES_IN,
    )
