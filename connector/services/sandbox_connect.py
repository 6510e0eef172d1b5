"""Connect a portal and every Zoom account of a running sandbox (`connect_sandbox --url`).

Reads the loaded scenario from `GET {url}/_sandbox/state`, then goes through the sandbox's
OAuth endpoints as a real install would: HubSpot's authorization-code grant (so the portal
holds a refresh token the token service can use), and Zoom's Server-to-Server
account_credentials grant for each account (through the token service). The portal and its
accounts point at the sandbox (`api_base`, `oauth_base`), whatever the settings say.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connector import oauth_http
from connector.models import ConnectionStatus, Portal, ZoomAccount, ZoomAuthType

TIMEOUT = (5, 30)


class SandboxConnectError(Exception):
    pass


def _get(url: str, **params: str) -> dict[str, Any]:
    try:
        response = requests.get(url, params=params or None, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise SandboxConnectError(f"cannot reach the sandbox at {url}: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise SandboxConnectError(f"GET {url}: HTTP {response.status_code} {response.text[:300]}")
    return response.json()


def _hubspot_tokens(base: str) -> dict[str, Any]:
    """An install through the sandbox's OAuth endpoint (a fresh authorization code), falling
    back to the control API's token when the scenario pins client credentials we lack."""
    try:
        return oauth_http.hubspot_token_post(
            api_base=f"{base}/hubspot",
            data={
                "grant_type": "authorization_code",
                "code": f"connect-sandbox-{secrets.token_hex(8)}",
                "redirect_uri": f"{settings.ZOOMSYNC_PUBLIC_URL}/oauth/hubspot/callback",
                "client_id": settings.HUBSPOT_CLIENT_ID or "zoomsync-sandbox",
                "client_secret": settings.HUBSPOT_CLIENT_SECRET or "zoomsync-sandbox",
            },
        )
    except oauth_http.OAuthHttpError:
        return _get(f"{base}/_sandbox/token", service="hubspot")


def sandbox_connect(*, url: str) -> Portal:
    """Create or update the portal and Zoom accounts of the sandbox's loaded scenario."""
    base = url.rstrip("/")
    state = _get(f"{base}/_sandbox/state", view="accounts")
    hub = state.get("hubspot") or {}
    portal_id = hub.get("portal_id")
    if not portal_id:
        raise SandboxConnectError("the sandbox state has no hubspot.portal_id (is a scenario loaded?)")
    tokens = _hubspot_tokens(base)
    units = hub.get("business_units") or []
    primary_unit = next((str(u["id"]) for u in units if u.get("primary")), "0")
    accounts = (state.get("zoom") or {}).get("accounts") or []

    with transaction.atomic():
        portal, _ = Portal.objects.update_or_create(
            hub_id=int(portal_id),
            defaults={
                "name": next((u.get("name", "") for u in units if u.get("primary")), "") or f"Sandbox {portal_id}",
                "hub_domain": hub.get("hub_domain", ""),
                "api_base": f"{base}/hubspot",
                "access_token": tokens["access_token"],
                "refresh_token": tokens.get("refresh_token", ""),
                "token_expires_at": timezone.now() + timedelta(seconds=int(tokens.get("expires_in") or 1800)),
                "status": ConnectionStatus.CONNECTED,
                "status_detail": "",
                "uninstalled_at": None,
            },
        )
        seen = []
        for acc in accounts:
            account_id = str(acc["account_id"])
            unit = str(acc.get("business_unit_id") or "0")
            ZoomAccount.objects.update_or_create(
                portal=portal,
                account_id=account_id,
                defaults={
                    "auth_type": ZoomAuthType.SERVER_TO_SERVER,
                    "client_id": settings.ZOOM_CLIENT_ID or "zoomsync-sandbox",
                    "client_secret": settings.ZOOM_CLIENT_SECRET or "zoomsync-sandbox",
                    "api_base": f"{base}/zoom/v2",
                    "oauth_base": f"{base}/zoom",
                    "business_unit_id": unit,
                    "is_primary_business_unit": unit == primary_unit,
                    "access_token": "",
                    "refresh_token": "",
                    "token_expires_at": None,
                    "status": ConnectionStatus.CONNECTED,
                    "status_detail": "",
                },
            )
            seen.append(account_id)
        # Accounts of an earlier scenario are no longer in the sandbox.
        portal.zoom_accounts.exclude(account_id__in=seen).update(
            status=ConnectionStatus.UNINSTALLED, status_detail="not in the sandbox scenario"
        )

    # A first token per account through the token service proves the connection now.
    from connector.services.tokens import (
        TokenRefreshFailed,
        TokenRefreshRetryable,
        zoom_access_token_get,
    )

    for account in portal.zoom_accounts.filter(status=ConnectionStatus.CONNECTED):
        try:
            zoom_access_token_get(account=account)
        except (TokenRefreshFailed, TokenRefreshRetryable) as exc:
            raise SandboxConnectError(
                f"Zoom account {account.account_id}: no token ({exc}). If the scenario sets the"
                " account's client_id/client_secret, set ZOOM_CLIENT_ID/ZOOM_CLIENT_SECRET to them."
            ) from exc
    return portal
