"""Connect a portal and every Zoom account of a running sandbox (`connect_sandbox --url`).

Reads the loaded scenario from `GET {url}/_sandbox/state`, then goes through the sandbox's
OAuth endpoints as a real install would: HubSpot's authorization-code grant (so the portal
holds a refresh token the token service can use), and Zoom's Server-to-Server
account_credentials grant for each account (through the token service). The portal and its
accounts point at the sandbox (`api_base`, `oauth_base`), whatever the settings say.

The sandbox names its world (`world_id`; a new one on every scenario load, reset or restart
without a state file). The portal remembers the world it was connected to. Connecting it to a
different world starts its sync state afresh (contact links, outbox, person counts, pulled
Zoom data and tokens; settings, memberships, runs and the audit log stay): the old world's
contact ids mean nothing in the new one, and keeping the links would make every linked
contact look deleted in HubSpot (R14) for good. With `on_new_world="refuse"` it refuses
instead. A portal connected to the real HubSpot is never pointed at a sandbox.

`SandboxConnectionHooks` is the sandbox's part of the clients and the push, wired once by
connector.apps while the sandbox is mounted (none in production): a sandbox portal's HubSpot
client gets a developer key and the app id, and a push first checks the sandbox's world.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connector import oauth_http
from connector.models import (
    ConnectionStatus,
    ContactLink,
    DirtyPerson,
    OutboxItem,
    PersonStats,
    Portal,
    PortalSyncState,
    SyncLease,
    Webinar,
    ZoomAccount,
    ZoomAuthType,
    ZoomUser,
)
from connector.models.tenancy import connection_base_honoured

if TYPE_CHECKING:
    from connector.clients.hubspot import HubSpotClient

logger = logging.getLogger("zoomsync.sandbox_connect")

TIMEOUT = (5, 30)


class SandboxConnectError(Exception):
    pass


class SandboxWorldChanged(SandboxConnectError):
    """The sandbox serves another world than the portal knew, and the caller asked to refuse."""


@dataclass(frozen=True)
class SyncStateReset:
    """What a fresh start removed from one portal (counts of rows)."""

    contact_links: int = 0
    outbox_items: int = 0
    person_stats: int = 0
    webinars: int = 0
    zoom_users: int = 0

    def describe(self) -> str:
        return (f"{self.contact_links} contact links, {self.outbox_items} outbox items, "
                f"{self.person_stats} person counts, {self.webinars} webinars, "
                f"{self.zoom_users} Zoom users")


@dataclass(frozen=True)
class SandboxConnection:
    portal: Portal
    world_id: str
    # Set when the portal knew another world and its sync state started afresh.
    reset: SyncStateReset | None = None
    previous_world_id: str = ""
    accounts: list[str] = field(default_factory=list)


def portal_sync_state_reset(*, portal: Portal) -> SyncStateReset:
    """Forget what the portal's sync learnt from a world that is gone (links, outbox, person
    counts, pulled Zoom data, sync lease). Settings, memberships, runs and audit stay."""
    with transaction.atomic():
        links = ContactLink.objects.filter(portal=portal).delete()[1].get("connector.ContactLink", 0)
        outbox = OutboxItem.objects.filter(portal=portal).delete()[1].get("connector.OutboxItem", 0)
        stats = PersonStats.objects.filter(portal=portal).delete()[1].get("connector.PersonStats", 0)
        webinars = Webinar.objects.filter(account__portal=portal).delete()[1].get("connector.Webinar", 0)
        users = ZoomUser.objects.filter(account__portal=portal).delete()[1].get("connector.ZoomUser", 0)
        SyncLease.objects.filter(portal=portal).delete()
        # B2: what the pipeline remembers (HubSpot definitions, settings used, who changed).
        PortalSyncState.objects.filter(portal=portal).delete()
        DirtyPerson.objects.filter(portal=portal).delete()
    return SyncStateReset(contact_links=links, outbox_items=outbox, person_stats=stats,
                          webinars=webinars, zoom_users=users)


def _has_sync_state(portal: Portal) -> bool:
    return (ContactLink.objects.filter(portal=portal).exists()
            or OutboxItem.objects.filter(portal=portal).exists()
            or PersonStats.objects.filter(portal=portal).exists()
            or Webinar.objects.filter(account__portal=portal).exists())


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
    """Create or update the portal and Zoom accounts of the sandbox's loaded scenario (a
    portal that knew another world starts its sync state afresh)."""
    return sandbox_connection_make(url=url).portal


def sandbox_connection_make(
    *, url: str, on_new_world: Literal["reset", "refuse"] = "reset"
) -> SandboxConnection:
    """Connect the sandbox's portal (at `url`, which may be a `/p/<portal_id>` prefix) and its
    Zoom accounts; see the module docstring for a world the portal did not know."""
    base = url.rstrip("/")
    state = _get(f"{base}/_sandbox/state", view="accounts")
    hub = state.get("hubspot") or {}
    portal_id = hub.get("portal_id")
    if not portal_id:
        raise SandboxConnectError("the sandbox state has no hubspot.portal_id (is a scenario loaded?)")
    world_id = str(state.get("world_id") or "")
    existing = Portal.objects.filter(hub_id=int(portal_id)).first()
    reset: SyncStateReset | None = None
    previous = existing.sandbox_world_id if existing else ""
    if existing is not None:
        if not existing.api_base:
            raise SandboxConnectError(
                f"portal {portal_id} is connected to the real HubSpot in this database; "
                "not pointing it at a sandbox (use another database, e.g. `make dev`)")
        if previous != world_id and _has_sync_state(existing):
            if on_new_world == "refuse":
                raise SandboxWorldChanged(
                    f"the sandbox at {base} serves another world than portal {portal_id} was"
                    " synced with (it restarted without its state file, or loaded another"
                    " scenario). Its contact links would all look deleted in HubSpot. Run"
                    " connect_sandbox without --refuse-new-world to start the portal's sync"
                    " state afresh (settings, memberships and run history stay).")
            reset = portal_sync_state_reset(portal=existing)
            logger.warning("portal %s: sandbox world changed (%s -> %s); sync state started afresh: %s",
                           portal_id, previous or "unknown", world_id, reset.describe())
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
                "sandbox_world_id": world_id,
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
    return SandboxConnection(portal=portal, world_id=world_id, reset=reset,
                             previous_world_id=previous, accounts=seen)


WORLD_CHANGED_DETAIL = (
    "The sandbox was restarted or loaded another scenario, so what this portal knew of it is"
    " gone. Run `python manage.py connect_sandbox` (or restart `make dev`) to connect it again;"
    " its sync state then starts afresh."
)


def sandbox_world_verify(*, portal: Portal) -> None:
    """Before a push to a sandbox portal: the sandbox must still serve the world the portal
    was connected to. Otherwise the portal is marked broken (Connections says so) and
    SandboxWorldChanged is raised, so no link of the old world is read as a contact deleted
    in HubSpot (R14). An unreachable sandbox is left to the push's own transport errors."""
    if not portal.sandbox_world_id or not connection_base_honoured(portal.api_base):
        return
    base = portal.api_base.rstrip("/").removesuffix("/hubspot")
    try:
        response = requests.get(f"{base}/_sandbox/state", params={"view": "accounts"}, timeout=(3, 10))
        world_id = str(response.json().get("world_id") or "") if response.status_code == 200 else ""
    except (requests.RequestException, ValueError):
        return
    if not world_id or world_id == portal.sandbox_world_id:
        return
    Portal.objects.filter(pk=portal.pk).update(status=ConnectionStatus.BROKEN, status_detail=WORLD_CHANGED_DETAIL)
    raise SandboxWorldChanged(WORLD_CHANGED_DETAIL)


# The sandbox accepts any developer key unless its scenario pins one.
SANDBOX_DEVELOPER_API_KEY = "zoomsync-sandbox-developer-key"


class SandboxConnectionHooks:
    """The connection hooks of connector.clients.factories for a portal connected to the
    sandbox (its own `api_base` honoured: the sandbox mounted, the base on loopback). Every
    other portal is left alone."""

    def hubspot_client_ready(self, *, portal: Portal, client: HubSpotClient) -> None:
        """With no developer key or app id configured, use a placeholder key and learn the
        app id from the access token's info, as a real app could."""
        if not connection_base_honoured(portal.api_base):
            return
        if not client.developer_api_key:
            client.developer_api_key = SANDBOX_DEVELOPER_API_KEY
        if not client.app_id and client.token_provider is not None:
            info = client.access_token_info(client.token_provider())
            client.app_id = str((info or {}).get("app_id") or "")

    def before_push(self, *, portal: Portal) -> None:
        """A reset sandbox: the push is refused, never links read as deletions (R14)."""
        sandbox_world_verify(portal=portal)
