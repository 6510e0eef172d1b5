"""Build a client for a connected account: base URL from the account (so the sandbox can
stand in), tokens from connector.services.tokens (refreshed ahead of expiry under a lock;
`force_refresh=True` is the 401 fallback), and the process-wide shared rate limiter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings

from .hubspot import HubSpotClient
from .ratelimit import limiter_for
from .zoom import ZoomClient

if TYPE_CHECKING:
    from connector.models import Portal, ZoomAccount


def zoom_client_for(account: ZoomAccount, **kwargs: Any) -> ZoomClient:
    from connector.services.tokens import zoom_access_token_get

    options: dict[str, Any] = {
        "base_url": account.zoom_api_base,
        "token_provider": lambda: zoom_access_token_get(account=account),
        "token_refresher": lambda: zoom_access_token_get(account=account, force_refresh=True),
        "limiter": limiter_for("zoom"),
        # Zoom's limits are per account and per label: the client appends the label.
        "limiter_key": f"zoom:{account.account_id}",
    }
    options.update(kwargs)
    return ZoomClient(**options)


def hubspot_client_for(portal: Portal, **kwargs: Any) -> HubSpotClient:
    from connector.services.tokens import hubspot_access_token_get

    options: dict[str, Any] = {
        "base_url": portal.hubspot_api_base,
        "token_provider": lambda: hubspot_access_token_get(portal=portal),
        "token_refresher": lambda: hubspot_access_token_get(portal=portal, force_refresh=True),
        "limiter": limiter_for("hubspot"),
        "limiter_key": f"hubspot:{portal.hub_id}",
        "developer_api_key": settings.HUBSPOT_DEVELOPER_API_KEY,
        "app_id": settings.HUBSPOT_APP_ID,
    }
    options.update(kwargs)
    return HubSpotClient(**options)
