"""Build a client for a connected account: base URL from the account (so the sandbox can
stand in), access tokens from the token provider, and the process-wide shared rate limiter.

The client layer never imports the services: the token provider (connector.services.tokens,
refreshed ahead of expiry under a lock; `force_refresh=True` is the 401 fallback) is wired in
one place, `connector.apps`, through `token_provider_set`. So are the connection hooks
(`connection_hooks_set`): what a development stand-in for HubSpot adds to a client and checks
before a push. Production wires none, so its clients and pushes are exactly the settings'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings

from .hubspot import HubSpotClient
from .ratelimit import limiter_for
from .zoom import ZoomClient

if TYPE_CHECKING:
    from connector.models import Portal, ZoomAccount


class TokenProvider(Protocol):
    """Where the clients get a connection's access token (a fresh one with force_refresh)."""

    def zoom_access_token_get(self, *, account: ZoomAccount, force_refresh: bool = False) -> str: ...

    def hubspot_access_token_get(self, *, portal: Portal, force_refresh: bool = False) -> str: ...


class ConnectionHooks(Protocol):
    """What a development stand-in (the sandbox, wired by connector.apps only while it is
    mounted) adds to the production path. Each hook decides itself whether a connection is
    one of its own (`connection_base_honoured`) and leaves every other one alone."""

    def hubspot_client_ready(self, *, portal: Portal, client: HubSpotClient) -> None: ...

    def before_push(self, *, portal: Portal) -> None: ...


_tokens: TokenProvider | None = None
_hooks: ConnectionHooks | None = None


def token_provider_set(provider: TokenProvider) -> None:
    """Wire where the clients get their tokens (connector.apps does: the token service)."""
    global _tokens
    _tokens = provider


def connection_hooks_set(hooks: ConnectionHooks | None) -> None:
    """Wire the connection hooks (connector.apps does: the sandbox's while it is mounted,
    none otherwise)."""
    global _hooks
    _hooks = hooks


def connection_hooks() -> ConnectionHooks | None:
    """The wired connection hooks (None in production)."""
    return _hooks


def before_push(*, portal: Portal) -> None:
    """Run before a push reads or writes the portal's HubSpot: the wired hook may refuse it
    by raising. A no-op in production (nothing wired)."""
    if _hooks is not None:
        _hooks.before_push(portal=portal)


def _token_provider() -> TokenProvider:
    if _tokens is None:  # pragma: no cover - wired by connector.apps at start
        raise RuntimeError("no token provider wired (connector.apps sets it)")
    return _tokens


def zoom_client_for(account: ZoomAccount, **kwargs: Any) -> ZoomClient:
    tokens = _token_provider()
    options: dict[str, Any] = {
        "base_url": account.zoom_api_base,
        "token_provider": lambda: tokens.zoom_access_token_get(account=account),
        "token_refresher": lambda: tokens.zoom_access_token_get(account=account, force_refresh=True),
        "limiter": limiter_for("zoom"),
        # Zoom's limits are per account and per label: the client appends the label.
        "limiter_key": f"zoom:{account.account_id}",
    }
    options.update(kwargs)
    return ZoomClient(**options)


def hubspot_client_for(portal: Portal, **kwargs: Any) -> HubSpotClient:
    tokens = _token_provider()
    options: dict[str, Any] = {
        "base_url": portal.hubspot_api_base,
        "token_provider": lambda: tokens.hubspot_access_token_get(portal=portal),
        "token_refresher": lambda: tokens.hubspot_access_token_get(portal=portal, force_refresh=True),
        "limiter": limiter_for("hubspot"),
        "limiter_key": f"hubspot:{portal.hub_id}",
        "developer_api_key": settings.HUBSPOT_DEVELOPER_API_KEY,
        "app_id": settings.HUBSPOT_APP_ID,
    }
    options.update(kwargs)
    client = HubSpotClient(**options)
    if _hooks is not None:
        _hooks.hubspot_client_ready(portal=portal, client=client)
    return client
