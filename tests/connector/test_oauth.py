"""OAuth install/connect flows against `responses`: state checks, code exchange,
re-install, Zoom OAuth and Server-to-Server connect."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.contrib.auth import get_user_model
from django.utils import timezone

from connector.models import (
    ConnectionStatus,
    OAuthState,
    Portal,
    PortalMembership,
    ZoomAccount,
    ZoomAuthType,
)
from connector.services import oauth

HS = "https://api.hubapi.test"
ZOOM_OAUTH = "https://zoom.test"
ZOOM_API = "https://api.zoom.test/v2"
PUBLIC = "https://zoomsync.example.com"


@pytest.fixture(autouse=True)
def _oauth_settings(settings):
    settings.HUBSPOT_API_BASE = HS
    settings.HUBSPOT_AUTHORIZE_URL = "https://app.hubspot.test/oauth/authorize"
    settings.HUBSPOT_CLIENT_ID = "hs-client"
    settings.HUBSPOT_CLIENT_SECRET = "hs-secret"
    settings.ZOOM_OAUTH_BASE = ZOOM_OAUTH
    settings.ZOOM_API_BASE = ZOOM_API
    settings.ZOOM_CLIENT_ID = "zoom-client"
    settings.ZOOM_CLIENT_SECRET = "zoom-secret"
    settings.ZOOMSYNC_PUBLIC_URL = PUBLIC
    settings.ALLOWED_HOSTS = ["testserver"]


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def _hubspot_mocks(*, hub_id: int = 62515, access: str = "hs-access", refresh: str = "hs-refresh"):
    responses.post(f"{HS}/oauth/v1/token", json={
        "access_token": access, "refresh_token": refresh, "expires_in": 1800, "token_type": "bearer"})
    responses.get(f"{HS}/oauth/v1/access-tokens/{access}", json={
        "token": access, "user": "admin@acme.com", "hub_domain": "acme.com", "hub_id": hub_id,
        "app_id": 111, "expires_in": 1790, "user_id": 9001, "token_type": "access",
        "scopes": ["oauth", "crm.objects.contacts.read", "timeline"]})


# --- HubSpot install -----------------------------------------------------------------


@pytest.fixture
def signed_in(db, client):
    """The install starts only for a signed-in user."""
    user = get_user_model().objects.create_user("installer", password="pw")
    client.force_login(user)
    return user


def _confirm(client, state: str):
    return client.post("/hubspot/install/confirm", {"state": state})


@pytest.mark.django_db
def test_hubspot_install_redirects_to_authorize_url_with_scopes_and_stored_state(client, settings, signed_in):
    response = client.get("/hubspot/install")
    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith("https://app.hubspot.test/oauth/authorize?")
    q = _query(url)
    assert q["client_id"] == "hs-client"
    assert q["redirect_uri"] == f"{PUBLIC}/hubspot/oauth/callback"
    assert q["scope"].split(" ") == settings.HUBSPOT_SCOPES
    assert q["optional_scope"].split(" ") == settings.HUBSPOT_OPTIONAL_SCOPES
    assert "+" not in url  # spaces encoded as %20 for HubSpot
    assert OAuthState.objects.filter(state=q["state"], provider="hubspot").exists()


@responses.activate
@pytest.mark.django_db
def test_hubspot_callback_exchanges_code_and_creates_portal(client):
    user = get_user_model().objects.create_user("marketer", password="pw")
    client.force_login(user)
    state = _query(client.get("/hubspot/install")["Location"])["state"]
    _hubspot_mocks()
    response = client.get("/hubspot/oauth/callback", {"code": "the-code", "state": state})
    # A confirmation page first: nobody is a member before the user confirms.
    assert response.status_code == 200
    assert b"acme.com" in response.content and b"admin@acme.com" in response.content
    assert not PortalMembership.objects.filter(user=user).exists()
    confirmed = _confirm(client, state)
    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/"
    exchange = _form(responses.calls[0])
    assert exchange == {"grant_type": "authorization_code", "code": "the-code",
                        "redirect_uri": f"{PUBLIC}/hubspot/oauth/callback",
                        "client_id": "hs-client", "client_secret": "hs-secret"}
    portal = Portal.objects.get(hub_id=62515)
    assert portal.status == ConnectionStatus.CONNECTED
    assert portal.hub_domain == "acme.com"
    assert portal.access_token == "hs-access"
    assert portal.refresh_token == "hs-refresh"
    assert portal.scopes == ["oauth", "crm.objects.contacts.read", "timeline"]
    assert portal.token_expires_at > timezone.now() + timedelta(minutes=29)
    assert PortalMembership.objects.filter(user=user, portal=portal).exists()
    # The installing HubSpot user is recorded.
    assert (portal.installed_by_hubspot_user_id, portal.installed_by_hubspot_email) == (
        "9001", "admin@acme.com")
    # State is one-use: a replay of the same callback (or of the confirmation) is rejected.
    replay = client.get("/hubspot/oauth/callback", {"code": "the-code", "state": state})
    assert replay.status_code == 400
    assert _confirm(client, state).status_code == 400


@responses.activate
@pytest.mark.django_db
@pytest.mark.parametrize("state", ["", "forged-state"])
def test_hubspot_callback_state_mismatch_rejected_and_nothing_created(client, state, signed_in):
    client.get("/hubspot/install")  # a real state exists, but the callback does not carry it
    _hubspot_mocks()
    response = client.get("/hubspot/oauth/callback", {"code": "c", "state": state})
    assert response.status_code == 400
    assert len(responses.calls) == 0
    assert Portal.objects.count() == 0


@responses.activate
@pytest.mark.django_db
def test_hubspot_callback_expired_state_rejected(client, signed_in):
    state = _query(client.get("/hubspot/install")["Location"])["state"]
    OAuthState.objects.filter(state=state).update(created_at=timezone.now() - timedelta(minutes=11))
    _hubspot_mocks()
    assert client.get("/hubspot/oauth/callback", {"code": "c", "state": state}).status_code == 400
    assert Portal.objects.count() == 0


@pytest.mark.django_db
def test_hubspot_callback_state_of_other_provider_rejected(client, signed_in):
    zoom_state = oauth.oauth_state_create(provider=OAuthState.Provider.ZOOM, user=signed_in,
                                          session_key=client.session.session_key)
    response = client.get("/hubspot/oauth/callback", {"code": "c", "state": zoom_state.state})
    assert response.status_code == 400


@pytest.mark.django_db
def test_hubspot_callback_error_param_shows_clear_page(client, signed_in):
    response = client.get("/hubspot/oauth/callback",
                          {"error": "access_denied", "error_description": "User cancelled"})
    assert response.status_code == 400
    assert b"access_denied" in response.content
    assert b"User cancelled" in response.content
    assert Portal.objects.count() == 0


@responses.activate
@pytest.mark.django_db
def test_hubspot_code_exchange_failure_shows_error_and_creates_nothing(client, signed_in):
    state = _query(client.get("/hubspot/install")["Location"])["state"]
    responses.post(f"{HS}/oauth/v1/token", status=400,
                   json={"status": "BAD_AUTH_CODE", "message": "missing or unknown auth code"})
    response = client.get("/hubspot/oauth/callback", {"code": "bad", "state": state})
    assert response.status_code == 502
    assert b"BAD_AUTH_CODE" in response.content
    assert Portal.objects.count() == 0


@responses.activate
@pytest.mark.django_db
def test_hubspot_reinstall_reactivates_uninstalled_portal(client, signed_in):
    portal = Portal.objects.create(hub_id=62515, access_token="x", refresh_token="y")
    oauth.portal_uninstall(portal=portal)
    assert Portal.objects.get(pk=portal.pk).status == ConnectionStatus.UNINSTALLED
    assert Portal.objects.get(pk=portal.pk).refresh_token == ""
    state = _query(client.get("/hubspot/install")["Location"])["state"]
    _hubspot_mocks(access="again", refresh="again-r")
    assert client.get("/hubspot/oauth/callback", {"code": "c2", "state": state}).status_code == 200
    assert _confirm(client, state).status_code == 302
    fresh = Portal.objects.get(pk=portal.pk)
    assert Portal.objects.count() == 1
    assert fresh.status == ConnectionStatus.CONNECTED
    assert fresh.uninstalled_at is None
    assert (fresh.access_token, fresh.refresh_token) == ("again", "again-r")


# --- Zoom OAuth connect --------------------------------------------------------------


@pytest.fixture
def member(db, portal):
    user = get_user_model().objects.create_user("admin", password="pw")
    PortalMembership.objects.create(user=user, portal=portal)
    return user


def _zoom_mocks(*, account_id: str = "zacc_main"):
    responses.post(f"{ZOOM_OAUTH}/oauth/token", json={
        "access_token": "z-access", "refresh_token": "z-refresh", "expires_in": 3599,
        "token_type": "bearer", "scope": "webinar:read:admin user:read:admin"})
    responses.get(f"{ZOOM_API}/users/me", json={
        "id": "zu_1", "email": "Host@Acme.com", "account_id": account_id, "type": 2})


@pytest.mark.django_db
def test_zoom_connect_requires_login(client, portal):
    response = client.post("/zoom/connect", {"portal": portal.hub_id})
    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.django_db
def test_zoom_connect_requires_membership(client, portal):
    outsider = get_user_model().objects.create_user("outsider", password="pw")
    client.force_login(outsider)
    assert client.post("/zoom/connect", {"portal": portal.hub_id}).status_code == 404
    assert OAuthState.objects.count() == 0


@responses.activate
@pytest.mark.django_db
def test_zoom_oauth_flow_connects_primary_account_with_connected_user(client, portal, member):
    client.force_login(member)
    response = client.post("/zoom/connect", {"portal": portal.hub_id, "business_unit": "0"})
    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith(f"{ZOOM_OAUTH}/oauth/authorize?")
    q = _query(url)
    assert q["response_type"] == "code"
    assert q["client_id"] == "zoom-client"
    assert q["redirect_uri"] == f"{PUBLIC}/zoom/oauth/callback"
    _zoom_mocks()
    callback = client.get("/zoom/oauth/callback", {"code": "zc", "state": q["state"]})
    assert callback.status_code == 302
    exchange = responses.calls[0]
    assert base64.b64decode(exchange.request.headers["Authorization"][6:]).decode() == "zoom-client:zoom-secret"
    assert _form(exchange) == {"grant_type": "authorization_code", "code": "zc",
                               "redirect_uri": f"{PUBLIC}/zoom/oauth/callback"}
    assert responses.calls[1].request.headers["Authorization"] == "Bearer z-access"
    account = ZoomAccount.objects.get(portal=portal)
    assert account.account_id == "zacc_main"
    assert account.auth_type == ZoomAuthType.OAUTH
    assert account.is_primary_business_unit is True
    assert account.business_unit_id == "0"
    assert (account.access_token, account.refresh_token) == ("z-access", "z-refresh")
    # R26 needs the connecting user.
    assert (account.connected_user_id, account.connected_user_email) == ("zu_1", "host@acme.com")
    assert account.scopes == ["webinar:read:admin", "user:read:admin"]


@responses.activate
@pytest.mark.django_db
def test_zoom_oauth_other_business_unit_is_not_primary(client, portal, member):
    client.force_login(member)
    state = _query(client.post("/zoom/connect", {"portal": portal.hub_id, "business_unit": "101"})["Location"])["state"]
    _zoom_mocks(account_id="zacc_eu")
    client.get("/zoom/oauth/callback", {"code": "zc", "state": state})
    account = ZoomAccount.objects.get(portal=portal, account_id="zacc_eu")
    assert account.business_unit_id == "101"
    assert account.is_primary_business_unit is False


@responses.activate
@pytest.mark.django_db
def test_zoom_callback_state_mismatch_rejected(client, portal, member):
    client.force_login(member)
    client.post("/zoom/connect", {"portal": portal.hub_id})
    _zoom_mocks()
    response = client.get("/zoom/oauth/callback", {"code": "zc", "state": "forged"})
    assert response.status_code == 400
    assert len(responses.calls) == 0
    assert ZoomAccount.objects.count() == 0


@responses.activate
@pytest.mark.django_db
def test_zoom_callback_state_of_another_user_rejected(client, portal, member):
    client.force_login(member)
    state = _query(client.post("/zoom/connect", {"portal": portal.hub_id})["Location"])["state"]
    other = get_user_model().objects.create_user("other", password="pw")
    client.force_login(other)
    _zoom_mocks()
    assert client.get("/zoom/oauth/callback", {"code": "zc", "state": state}).status_code == 400
    assert ZoomAccount.objects.count() == 0


@responses.activate
@pytest.mark.django_db
def test_zoom_reconnect_repairs_broken_account(client, portal, member):
    ZoomAccount.objects.create(portal=portal, account_id="zacc_main", status=ConnectionStatus.BROKEN,
                               status_detail="Token refresh rejected")
    client.force_login(member)
    state = _query(client.post("/zoom/connect", {"portal": portal.hub_id})["Location"])["state"]
    _zoom_mocks()
    client.get("/zoom/oauth/callback", {"code": "zc", "state": state})
    account = ZoomAccount.objects.get(portal=portal)
    assert account.status == ConnectionStatus.CONNECTED
    assert account.status_detail == ""


# --- Zoom Server-to-Server -----------------------------------------------------------


@responses.activate
@pytest.mark.django_db
def test_zoom_s2s_connect_proves_credentials_and_stores_them_encrypted(portal):
    responses.post(f"{ZOOM_OAUTH}/oauth/token", json={"access_token": "s2s", "expires_in": 3600,
                                                     "scope": "webinar:read:admin"})
    account = oauth.zoom_account_connect_s2s(portal=portal, account_id="zacc_s2s",
                                             client_id="cid", client_secret="csecret")
    call = responses.calls[0]
    assert base64.b64decode(call.request.headers["Authorization"][6:]).decode() == "cid:csecret"
    assert _form(call) == {"grant_type": "account_credentials", "account_id": "zacc_s2s"}
    fresh = ZoomAccount.objects.get(pk=account.pk)
    assert fresh.auth_type == ZoomAuthType.SERVER_TO_SERVER
    assert fresh.client_secret == "csecret"
    assert fresh.access_token == "s2s"
    assert fresh.connected_user_id == ""
    assert fresh.is_primary_business_unit is True


@responses.activate
@pytest.mark.django_db
def test_zoom_s2s_bad_credentials_raise_and_create_nothing(portal):
    responses.post(f"{ZOOM_OAUTH}/oauth/token", status=400,
                   json={"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
    with pytest.raises(oauth.OAuthFlowError, match="invalid_client"):
        oauth.zoom_account_connect_s2s(portal=portal, account_id="zacc_s2s", client_id="c",
                                       client_secret="wrong")
    assert ZoomAccount.objects.count() == 0


@responses.activate
@pytest.mark.django_db
def test_r25_connecting_a_new_primary_account_demotes_the_old_one(portal):
    responses.post(f"{ZOOM_OAUTH}/oauth/token", json={"access_token": "s2s", "expires_in": 3600})
    first = oauth.zoom_account_connect_s2s(portal=portal, account_id="a1", client_id="c", client_secret="s")
    eu = oauth.zoom_account_connect_s2s(portal=portal, account_id="eu", client_id="c", client_secret="s",
                                        business_unit_id="101", is_primary=False)
    second = oauth.zoom_account_connect_s2s(portal=portal, account_id="a2", client_id="c", client_secret="s")
    primaries = list(ZoomAccount.objects.filter(portal=portal, is_primary_business_unit=True)
                     .values_list("account_id", flat=True))
    assert primaries == ["a2"]
    assert {first.pk, eu.pk, second.pk} == set(ZoomAccount.objects.values_list("pk", flat=True))
