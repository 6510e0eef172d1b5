"""Install and connect flows: HubSpot app install, Zoom OAuth connect, Zoom Server-to-Server.

Views parse and redirect; everything that writes lives here. A `state` is created for
every authorization we start and consumed (one use, 10 minutes) on the callback, so a
forged or replayed callback creates nothing.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connector import oauth_http
from connector.models import (
    ConnectionStatus,
    OAuthState,
    Portal,
    PortalMembership,
    ZoomAccount,
    ZoomAuthType,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

logger = logging.getLogger("zoomsync.oauth")

STATE_TTL = timedelta(minutes=10)


class OAuthStateInvalid(Exception):
    """The callback's state is unknown, expired, already used or for another provider."""


class OAuthFlowError(Exception):
    """The provider refused or failed the exchange; the message is safe to show."""


def hubspot_redirect_uri() -> str:
    return f"{settings.ZOOMSYNC_PUBLIC_URL}/hubspot/oauth/callback"


def zoom_redirect_uri() -> str:
    return f"{settings.ZOOMSYNC_PUBLIC_URL}/zoom/oauth/callback"


def _real_user(user: AbstractBaseUser | AnonymousUser | None) -> User | None:
    if user is None or not user.is_authenticated:
        return None
    return cast("User", user)


# --- state ---------------------------------------------------------------------------


def oauth_state_create(
    *,
    provider: str,
    user: AbstractBaseUser | AnonymousUser | None = None,
    portal: Portal | None = None,
    business_unit_id: str = "",
) -> OAuthState:
    # Old, never-completed states are pruned on the way; they can never be consumed.
    OAuthState.objects.filter(created_at__lt=timezone.now() - STATE_TTL).delete()
    return OAuthState.objects.create(
        state=secrets.token_urlsafe(32),
        provider=provider,
        user=_real_user(user),
        portal=portal,
        business_unit_id=business_unit_id,
    )


def oauth_state_consume(*, state: str, provider: str) -> OAuthState:
    """Return and delete the matching unexpired state, or raise OAuthStateInvalid."""
    if not state:
        raise OAuthStateInvalid("missing state")
    with transaction.atomic():
        row = (
            OAuthState.objects.select_for_update()
            .filter(state=state, provider=provider, created_at__gte=timezone.now() - STATE_TTL)
            .first()
        )
        if row is None:
            raise OAuthStateInvalid("unknown or expired state")
        # Delete so a replayed callback fails; keep the loaded object for the caller.
        OAuthState.objects.filter(pk=row.pk).delete()
    return row


# --- HubSpot -------------------------------------------------------------------------


def hubspot_authorize_url_build(*, state: str) -> str:
    params = {
        "client_id": settings.HUBSPOT_CLIENT_ID,
        "redirect_uri": hubspot_redirect_uri(),
        "scope": " ".join(settings.HUBSPOT_SCOPES),
        "optional_scope": " ".join(settings.HUBSPOT_OPTIONAL_SCOPES),
        "state": state,
    }
    # HubSpot wants spaces as %20, not "+" (research/hubspot-api.md §1.1).
    return f"{settings.HUBSPOT_AUTHORIZE_URL}?{urlencode(params, safe='', quote_via=quote)}"


def _expiry(body: dict[str, Any], default: int) -> Any:
    return timezone.now() + timedelta(seconds=int(body.get("expires_in") or default))


def hubspot_install_complete(
    *, code: str, user: AbstractBaseUser | AnonymousUser | None = None, api_base: str = ""
) -> Portal:
    """Exchange the install code, read the token's hub, create or re-activate the Portal."""
    base = (api_base or settings.HUBSPOT_API_BASE).rstrip("/")
    try:
        body = oauth_http.hubspot_token_post(
            api_base=base,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": hubspot_redirect_uri(),
                "client_id": settings.HUBSPOT_CLIENT_ID,
                "client_secret": settings.HUBSPOT_CLIENT_SECRET,
            },
        )
        access_token = str(body["access_token"])
        info = oauth_http.hubspot_access_token_info_get(api_base=base, access_token=access_token)
    except oauth_http.OAuthHttpError as exc:
        raise OAuthFlowError(f"HubSpot refused the install: {exc}") from exc
    except KeyError as exc:
        raise OAuthFlowError("HubSpot's token response had no access_token") from exc
    hub_id = info.get("hub_id") or body.get("hub_id")
    if not hub_id:
        raise OAuthFlowError("HubSpot's token info did not name the account (hub_id)")
    scopes = info.get("scopes") or body.get("scopes") or []
    with transaction.atomic():
        portal, created = Portal.objects.select_for_update().get_or_create(hub_id=int(hub_id))
        portal.hub_domain = str(info.get("hub_domain") or portal.hub_domain)
        portal.name = portal.name or portal.hub_domain
        portal.access_token = access_token
        portal.refresh_token = str(body.get("refresh_token") or "")
        portal.token_expires_at = _expiry(body, 1800)
        portal.scopes = list(scopes)
        # Re-install re-activates an uninstalled or broken portal.
        portal.status = ConnectionStatus.CONNECTED
        portal.status_detail = ""
        portal.uninstalled_at = None
        if api_base:
            portal.api_base = api_base
        portal.save()
        member = _real_user(user)
        if member is not None:
            PortalMembership.objects.get_or_create(user=member, portal=portal)
    logger.info("hubspot portal installed", extra={"hub_id": portal.hub_id, "new_portal": created})
    return portal


def portal_uninstall(*, portal: Portal) -> Portal:
    """Mark the portal uninstalled and forget its tokens (HubSpot revoked them)."""
    portal.status = ConnectionStatus.UNINSTALLED
    portal.status_detail = "The app was uninstalled from HubSpot."
    portal.uninstalled_at = timezone.now()
    portal.access_token = ""
    portal.refresh_token = ""
    portal.token_expires_at = None
    portal.save(
        update_fields=[
            "status", "status_detail", "uninstalled_at", "access_token", "refresh_token",
            "token_expires_at",
        ]
    )
    return portal


# --- Zoom ----------------------------------------------------------------------------


def zoom_authorize_url_build(*, state: str) -> str:
    params = {
        "response_type": "code",
        "client_id": settings.ZOOM_CLIENT_ID,
        "redirect_uri": zoom_redirect_uri(),
        "state": state,
    }
    return f"{settings.ZOOM_OAUTH_BASE}/oauth/authorize?{urlencode(params)}"


def _zoom_account_save(
    *,
    portal: Portal,
    account_id: str,
    auth_type: str,
    fields: dict[str, Any],
    business_unit_id: str,
    is_primary: bool,
) -> ZoomAccount:
    with transaction.atomic():
        if is_primary:
            # R25: one primary business unit per portal; connecting a new primary
            # account demotes whatever was primary before.
            ZoomAccount.objects.filter(portal=portal, is_primary_business_unit=True).exclude(
                account_id=account_id
            ).update(is_primary_business_unit=False)
        account, _ = ZoomAccount.objects.select_for_update().get_or_create(
            portal=portal, account_id=account_id
        )
        account.auth_type = auth_type
        account.business_unit_id = business_unit_id
        account.is_primary_business_unit = is_primary
        account.status = ConnectionStatus.CONNECTED
        account.status_detail = ""
        for name, value in fields.items():
            setattr(account, name, value)
        account.save()
    return account


def zoom_account_connect_oauth(
    *,
    portal: Portal,
    code: str,
    business_unit_id: str = "0",
    api_base: str = "",
    oauth_base: str = "",
) -> ZoomAccount:
    """Exchange a Zoom authorization code; learn the account and connecting user (R26)."""
    oauth = (oauth_base or settings.ZOOM_OAUTH_BASE).rstrip("/")
    api = (api_base or settings.ZOOM_API_BASE).rstrip("/")
    try:
        body = oauth_http.zoom_token_post(
            oauth_base=oauth,
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": zoom_redirect_uri()},
            client_id=settings.ZOOM_CLIENT_ID,
            client_secret=settings.ZOOM_CLIENT_SECRET,
        )
        access_token = str(body["access_token"])
        me = oauth_http.zoom_user_me_get(api_base=api, access_token=access_token)
    except oauth_http.OAuthHttpError as exc:
        raise OAuthFlowError(f"Zoom refused the connection: {exc}") from exc
    except KeyError as exc:
        raise OAuthFlowError("Zoom's token response had no access_token") from exc
    account_id = str(me.get("account_id") or "")
    if not account_id:
        raise OAuthFlowError("Zoom did not say which account the user belongs to")
    scope = body.get("scope") or ""
    business_unit_id = business_unit_id or "0"
    account = _zoom_account_save(
        portal=portal,
        account_id=account_id,
        auth_type=ZoomAuthType.OAUTH,
        business_unit_id=business_unit_id,
        # Keep it simple: business unit "0" is HubSpot's default, i.e. the primary one.
        is_primary=business_unit_id == "0",
        fields={
            "access_token": access_token,
            "refresh_token": str(body.get("refresh_token") or ""),
            "token_expires_at": _expiry(body, 3600),
            "scopes": scope.split() if isinstance(scope, str) else list(scope),
            "connected_user_id": str(me.get("id") or ""),
            "connected_user_email": str(me.get("email") or "").strip().lower(),
            "api_base": api_base,
            "oauth_base": oauth_base,
        },
    )
    logger.info("zoom account connected", extra={"hub_id": portal.hub_id, "account_id": account_id})
    return account


def zoom_account_connect_s2s(
    *,
    portal: Portal,
    account_id: str,
    client_id: str,
    client_secret: str,
    business_unit_id: str = "0",
    is_primary: bool = True,
    api_base: str = "",
    oauth_base: str = "",
) -> ZoomAccount:
    """Connect a Server-to-Server app: fetch a token first, to prove the credentials work."""
    oauth = (oauth_base or settings.ZOOM_OAUTH_BASE).rstrip("/")
    cid = client_id or settings.ZOOM_CLIENT_ID
    secret = client_secret or settings.ZOOM_CLIENT_SECRET
    try:
        body = oauth_http.zoom_token_post(
            oauth_base=oauth,
            data={"grant_type": "account_credentials", "account_id": account_id},
            client_id=cid,
            client_secret=secret,
        )
        access_token = str(body["access_token"])
    except oauth_http.OAuthHttpError as exc:
        raise OAuthFlowError(f"Zoom refused the Server-to-Server credentials: {exc}") from exc
    except KeyError as exc:
        raise OAuthFlowError("Zoom's token response had no access_token") from exc
    scope = body.get("scope") or ""
    # users/me is not available to S2S tokens: the connected user stays empty.
    return _zoom_account_save(
        portal=portal,
        account_id=account_id,
        auth_type=ZoomAuthType.SERVER_TO_SERVER,
        business_unit_id=business_unit_id,
        is_primary=is_primary,
        fields={
            "client_id": client_id,
            "client_secret": client_secret,
            "access_token": access_token,
            "refresh_token": "",
            "token_expires_at": _expiry(body, 3600),
            "scopes": scope.split() if isinstance(scope, str) else list(scope),
            "api_base": api_base,
            "oauth_base": oauth_base,
        },
    )
