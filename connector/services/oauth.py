"""Install and connect flows: HubSpot app install, Zoom OAuth connect, Zoom Server-to-Server.

Views parse and redirect; everything that writes lives here. A `state` is created for
every authorization we start and consumed (one use, 10 minutes) on the callback, so a
forged or replayed callback creates nothing.
"""

from __future__ import annotations

import hashlib
import hmac
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


def session_hash_of(session_key: str | None) -> str:
    """What a state stores of the browser session that started the flow (never the key)."""
    return hashlib.sha256(session_key.encode()).hexdigest() if session_key else ""


def oauth_state_create(
    *,
    provider: str,
    user: AbstractBaseUser | AnonymousUser | None = None,
    session_key: str | None = None,
    portal: Portal | None = None,
    business_unit_id: str = "",
) -> OAuthState:
    # Old, never-completed states are pruned on the way; they can never be consumed.
    OAuthState.objects.filter(created_at__lt=timezone.now() - STATE_TTL).delete()
    return OAuthState.objects.create(
        state=secrets.token_urlsafe(32),
        provider=provider,
        user=_real_user(user),
        session_hash=session_hash_of(session_key),
        portal=portal,
        business_unit_id=business_unit_id,
    )


def _state_is_bound_to(
    row: OAuthState, *, user: AbstractBaseUser | AnonymousUser | None, session_key: str | None
) -> bool:
    """The state was issued to this very user, in this very browser session."""
    member = _real_user(user)
    if member is None or row.user_id is None or row.user_id != member.pk:
        return False
    expected = session_hash_of(session_key)
    return bool(expected) and hmac.compare_digest(row.session_hash, expected)


def oauth_state_consume(
    *,
    state: str,
    provider: str,
    user: AbstractBaseUser | AnonymousUser | None,
    session_key: str | None,
) -> OAuthState:
    """Check the callback's state and spend it, or raise OAuthStateInvalid.

    The state must be unexpired, for this provider, issued to this user in this session,
    and not used before. Everything is checked before the state is spent: a callback
    opened by someone else (a forged link) leaves the owner's state usable. A Zoom state is
    deleted; a HubSpot state is marked exchanged and waits for the install confirmation.
    """
    if not state:
        raise OAuthStateInvalid("missing state")
    with transaction.atomic():
        row = (
            OAuthState.objects.select_for_update()
            .filter(
                state=state,
                provider=provider,
                created_at__gte=timezone.now() - STATE_TTL,
                exchanged_at__isnull=True,
            )
            .first()
        )
        if row is None:
            raise OAuthStateInvalid("unknown, expired or used state")
        if not _state_is_bound_to(row, user=user, session_key=session_key):
            raise OAuthStateInvalid("state issued to another user or session")
        if provider == OAuthState.Provider.HUBSPOT:
            row.exchanged_at = timezone.now()
            row.save(update_fields=["exchanged_at"])
        else:
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


def hubspot_install_complete(*, code: str, api_base: str = "") -> Portal:
    """Exchange the install code, read the token's hub, create or re-activate the Portal.

    Nobody becomes a member here: membership is granted by hubspot_install_confirm, after
    the user who started the install confirms it."""
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
        # The HubSpot user who installed (token info `user_id`, `user`), for the record.
        portal.installed_by_hubspot_user_id = str(info.get("user_id") or "")[:50]
        portal.installed_by_hubspot_email = str(info.get("user") or "")[:254]
        if api_base:
            portal.api_base = api_base
        portal.save()
    logger.info("hubspot portal installed", extra={"hub_id": portal.hub_id, "new_portal": created})
    return portal


def oauth_state_exchanged_attach(*, state: OAuthState, portal: Portal) -> None:
    """After a successful code exchange: the state now names the portal to confirm."""
    OAuthState.objects.filter(pk=state.pk).update(portal=portal)


def hubspot_install_confirm(
    *, state: str, user: AbstractBaseUser | AnonymousUser | None, session_key: str | None
) -> Portal:
    """Grant membership of the installed portal to the user who started the install and
    now confirms it (a POST from the confirmation page), then spend the state."""
    if not state:
        raise OAuthStateInvalid("missing state")
    with transaction.atomic():
        row = (
            OAuthState.objects.select_for_update()
            .select_related("portal")
            .filter(
                state=state,
                provider=OAuthState.Provider.HUBSPOT,
                created_at__gte=timezone.now() - STATE_TTL,
                exchanged_at__isnull=False,
                portal__isnull=False,
            )
            .first()
        )
        if row is None or row.portal is None:
            raise OAuthStateInvalid("unknown, expired or unconfirmed install")
        if not _state_is_bound_to(row, user=user, session_key=session_key):
            raise OAuthStateInvalid("install started by another user or session")
        member = cast("User", user)
        PortalMembership.objects.get_or_create(user=member, portal=row.portal)
        OAuthState.objects.filter(pk=row.pk).delete()
    logger.info("hubspot install confirmed", extra={"hub_id": row.portal.hub_id})
    return row.portal


def portal_uninstall(
    *, portal: Portal, detail: str = "The app was uninstalled from HubSpot."
) -> Portal:
    """The app is uninstalled: forget the portal's tokens, end every membership and every
    Zoom connection of the portal (their tokens too). Its data is erased after the grace
    period (connector.services.erasure.portals_erase_due)."""
    with transaction.atomic():
        PortalMembership.objects.filter(portal=portal).delete()
        OAuthState.objects.filter(portal=portal).delete()
        ZoomAccount.objects.filter(portal=portal).update(
            status=ConnectionStatus.UNINSTALLED,
            status_detail="The HubSpot app was uninstalled.",
            access_token="",
            refresh_token="",
            client_secret="",
            token_expires_at=None,
        )
        _portal_mark_uninstalled(portal=portal, detail=detail)
    logger.info("hubspot portal uninstalled", extra={"hub_id": portal.hub_id})
    return portal


def _portal_mark_uninstalled(*, portal: Portal, detail: str) -> None:
    portal.status = ConnectionStatus.UNINSTALLED
    portal.status_detail = detail
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
