"""OAuth flows and the token service end to end, over HTTP, against the sandbox's fake
HubSpot and Zoom token endpoints (single-use codes, rotating Zoom refresh tokens)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.utils import timezone

from connector import oauth_http
from connector.models import ConnectionStatus, Portal, PortalMembership, ZoomAccount, ZoomAuthType
from connector.services import oauth, tokens

PUBLIC = "http://zoomsync.test"


@pytest.fixture
def sandboxed(settings, sandbox_demo):
    settings.HUBSPOT_API_BASE = sandbox_demo.hubspot_api_base
    settings.ZOOM_API_BASE = sandbox_demo.zoom_api_base
    settings.ZOOM_OAUTH_BASE = sandbox_demo.zoom_oauth_base
    settings.ZOOMSYNC_PUBLIC_URL = PUBLIC
    settings.REDIS_URL = ""
    return sandbox_demo


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.mark.django_db
def test_hubspot_install_and_refresh_against_sandbox(client, sandboxed):
    user = get_user_model().objects.create_user("marketer", password="pw")
    client.force_login(user)
    state = _query(client.get("/hubspot/install")["Location"])["state"]
    # HubSpot's consent page is not part of the sandbox: it would redirect with a code.
    response = client.get("/hubspot/oauth/callback", {"code": "sandbox-code-1", "state": state})
    assert response.status_code == 200, response.content
    response = client.post("/hubspot/install/confirm", {"state": state})
    assert response.status_code == 302, response.content
    hub_id = sandboxed.state()["hubspot"]["portal_id"]
    portal = Portal.objects.get(hub_id=hub_id)
    assert portal.status == ConnectionStatus.CONNECTED
    assert "oauth" in portal.scopes
    assert PortalMembership.objects.filter(user=user, portal=portal).exists()

    first = portal.access_token
    refreshed = tokens.hubspot_access_token_get(portal=portal, force_refresh=True)
    assert refreshed != first
    info = oauth_http.hubspot_access_token_info_get(api_base=sandboxed.hubspot_api_base,
                                                    access_token=refreshed)
    assert info["hub_id"] == hub_id


@pytest.mark.django_db
def test_hubspot_code_is_single_use_against_sandbox(client, sandboxed):
    client.force_login(get_user_model().objects.create_user("marketer", password="pw"))
    for attempt in range(2):
        state = _query(client.get("/hubspot/install")["Location"])["state"]
        response = client.get("/hubspot/oauth/callback", {"code": "same-code", "state": state})
        assert response.status_code == (200 if attempt == 0 else 502)
    assert b"BAD_AUTH_CODE" in response.content


@pytest.mark.django_db
def test_zoom_oauth_connect_and_rotating_refresh_against_sandbox(client, sandboxed, portal):
    user = get_user_model().objects.create_user("admin", password="pw")
    PortalMembership.objects.create(user=user, portal=portal)
    client.force_login(user)
    authorize = client.post("/zoom/connect", {"portal": portal.hub_id})["Location"]
    assert authorize.startswith(f"{sandboxed.zoom_oauth_base}/oauth/authorize?")
    # The browser visits Zoom's consent page, which redirects back to our callback.
    consent = requests.get(authorize, allow_redirects=False, timeout=10)
    assert consent.status_code == 302
    back = consent.headers["Location"]
    assert back.startswith(f"{PUBLIC}/zoom/oauth/callback?")
    response = client.get("/zoom/oauth/callback", _query(back))
    assert response.status_code == 302, response.content

    account = ZoomAccount.objects.get(portal=portal)
    assert account.auth_type == ZoomAuthType.OAUTH
    assert account.account_id == "zacc_main"
    assert account.connected_user_id and "@" in account.connected_user_email

    # Zoom rotates refresh tokens: two refreshes in a row only work if each rotated token
    # was stored (the sandbox rejects a used one with "Invalid Token!").
    for _ in range(2):
        ZoomAccount.objects.filter(pk=account.pk).update(token_expires_at=timezone.now())
        account.refresh_from_db()
        old_refresh = account.refresh_token
        tokens.zoom_access_token_get(account=account)
        account.refresh_from_db()
        assert account.refresh_token != old_refresh
        assert account.status == ConnectionStatus.CONNECTED

    # Replaying a spent refresh token is rejected: the account is marked broken.
    ZoomAccount.objects.filter(pk=account.pk).update(token_expires_at=timezone.now())
    account.refresh_from_db()
    account.refresh_token = old_refresh
    account.save()
    with pytest.raises(tokens.TokenRefreshFailed):
        tokens.zoom_access_token_get(account=account)
    assert ZoomAccount.objects.get(pk=account.pk).status == ConnectionStatus.BROKEN


@pytest.mark.django_db
def test_zoom_s2s_connect_against_sandbox(sandboxed, portal):
    account = oauth.zoom_account_connect_s2s(
        portal=portal, account_id="zacc_eu", client_id="cid", client_secret="csecret",
        business_unit_id="101", is_primary=False,
        api_base=sandboxed.zoom_api_base, oauth_base=sandboxed.zoom_oauth_base,
    )
    assert account.token_expires_at > timezone.now() + timedelta(minutes=5)
    assert account.is_primary_business_unit is False
    with pytest.raises(oauth.OAuthFlowError, match="Invalid account_id"):
        oauth.zoom_account_connect_s2s(
            portal=portal, account_id="no_such_account", client_id="c", client_secret="s",
            api_base=sandboxed.zoom_api_base, oauth_base=sandboxed.zoom_oauth_base,
        )
