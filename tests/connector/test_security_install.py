"""Security review findings on the install and connect flows (issue 12): each test is an
attack that worked before the fix."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.contrib.auth import get_user_model
from django.test import Client

from connector.models import (
    ConnectionStatus,
    OAuthState,
    Portal,
    PortalMembership,
    ZoomAccount,
)
from connector.services import oauth

# The same OAuth app settings as the install tests of test_oauth (an autouse fixture).
from tests.connector.test_oauth import HS, ZOOM_API, ZOOM_OAUTH, _oauth_settings  # noqa: E402, F401


def _state_of(response) -> str:
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def _signed_in(name: str) -> tuple[Client, object]:
    user = get_user_model().objects.create_user(name, password="pw")
    browser = Client()
    browser.force_login(user)
    return browser, user


def _hubspot_mocks(hub_id: int = 666):
    responses.post(f"{HS}/oauth/v1/token", json={"access_token": "a", "refresh_token": "r", "expires_in": 1800})
    responses.get(f"{HS}/oauth/v1/access-tokens/a", json={
        "hub_id": hub_id, "hub_domain": "attacker.example", "user": "mallory@attacker.example",
        "user_id": 13, "scopes": ["oauth"]})


@pytest.mark.django_db
def test_install_needs_a_signed_in_user(client):
    response = client.get("/hubspot/install")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert OAuthState.objects.count() == 0
    assert client.get("/hubspot/oauth/callback", {"code": "c", "state": "s"}).status_code == 302


@responses.activate
@pytest.mark.django_db
def test_forged_install_callback_grants_the_victim_nothing():
    """The attacker starts an install on their own portal and sends the victim the callback
    link: before the fix the victim became an administrator of the attacker's portal."""
    attacker, _ = _signed_in("mallory")
    state = _state_of(attacker.get("/hubspot/install"))
    victim, victim_user = _signed_in("victim")
    _hubspot_mocks()
    forged = victim.get("/hubspot/oauth/callback", {"code": "attackers-code", "state": state})
    assert forged.status_code == 400
    assert len(responses.calls) == 0  # the code was never exchanged
    assert Portal.objects.count() == 0
    assert not PortalMembership.objects.filter(user=victim_user).exists()
    # Checked before it is spent: the forged use did not burn the attacker's state either.
    assert OAuthState.objects.filter(state=state, exchanged_at__isnull=True).exists()


@responses.activate
@pytest.mark.django_db
def test_install_state_is_bound_to_the_browser_session():
    first, user = _signed_in("alice")
    state = _state_of(first.get("/hubspot/install"))
    other_session = Client()
    other_session.force_login(user)  # same user, another browser session
    _hubspot_mocks()
    assert other_session.get("/hubspot/oauth/callback", {"code": "c", "state": state}).status_code == 400
    assert Portal.objects.count() == 0


@responses.activate
@pytest.mark.django_db
def test_install_membership_only_after_a_csrf_checked_confirmation():
    browser, user = _signed_in("alice")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    state = _state_of(browser.get("/hubspot/install"))
    _hubspot_mocks(hub_id=62515)
    page = browser.get("/hubspot/oauth/callback", {"code": "c", "state": state})
    assert page.status_code == 200
    assert b"mallory@attacker.example" in page.content  # who installed, shown before confirming
    assert not PortalMembership.objects.exists()
    # A cross-site POST (no CSRF token) cannot confirm for the user.
    assert browser.post("/hubspot/install/confirm", {"state": state}).status_code == 403
    # Another signed-in user cannot confirm it either.
    intruder, intruder_user = _signed_in("intruder")
    assert intruder.post("/hubspot/install/confirm", {"state": state}).status_code == 400
    token = page.context["csrf_token"]
    done = browser.post("/hubspot/install/confirm", {"state": state, "csrfmiddlewaretoken": str(token)})
    assert done.status_code == 302
    portal = Portal.objects.get(hub_id=62515)
    assert list(PortalMembership.objects.values_list("user", "portal")) == [(user.pk, portal.pk)]
    assert portal.installed_by_hubspot_email == "mallory@attacker.example"
    assert portal.installed_by_hubspot_user_id == "13"


@pytest.mark.django_db
def test_uninstall_ends_every_membership_and_connection(portal):
    user = get_user_model().objects.create_user("admin", password="pw")
    PortalMembership.objects.create(user=user, portal=portal)
    ZoomAccount.objects.create(portal=portal, account_id="z1", access_token="za", refresh_token="zr")
    oauth.portal_uninstall(portal=portal)
    assert not PortalMembership.objects.filter(portal=portal).exists()
    account = ZoomAccount.objects.get(portal=portal)
    assert account.status == ConnectionStatus.UNINSTALLED
    assert (account.access_token, account.refresh_token) == ("", "")
    fresh = Portal.objects.get(pk=portal.pk)
    assert fresh.status == ConnectionStatus.UNINSTALLED and fresh.refresh_token == ""


@responses.activate
@pytest.mark.django_db
def test_refresh_answered_as_uninstalled_ends_memberships(portal):
    from connector.services import tokens

    user = get_user_model().objects.create_user("admin", password="pw")
    PortalMembership.objects.create(user=user, portal=portal)
    responses.post(f"{HS}/oauth/v1/token", status=400, json={
        "status": "BAD_REFRESH_TOKEN", "message": "refresh token is invalid, expired or revoked"})
    with pytest.raises(tokens.TokenRefreshFailed):
        tokens.hubspot_access_token_get(portal=portal, force_refresh=True)
    assert Portal.objects.get(pk=portal.pk).status == ConnectionStatus.UNINSTALLED
    assert not PortalMembership.objects.exists()


@pytest.fixture
def admin_browser(portal):
    browser, user = _signed_in("admin")
    PortalMembership.objects.create(user=user, portal=portal)
    return browser


@pytest.mark.django_db
def test_zoom_connect_is_a_post_with_a_checked_business_unit(portal, admin_browser):
    # A cross-site GET can no longer start (and re-map) a connection.
    assert admin_browser.get("/zoom/connect", {"portal": portal.hub_id, "business_unit": "0"}).status_code == 405
    bad = admin_browser.post("/zoom/connect", {"portal": portal.hub_id, "business_unit": "abc"})
    assert bad.status_code == 400
    assert OAuthState.objects.count() == 0
    ok = admin_browser.post("/zoom/connect", {"portal": portal.hub_id, "business_unit": "101"})
    assert ok.status_code == 302
    assert OAuthState.objects.get().business_unit_id == "101"


@pytest.mark.django_db
def test_zoom_connect_without_csrf_token_refused(portal):
    user = get_user_model().objects.create_user("admin", password="pw")
    PortalMembership.objects.create(user=user, portal=portal)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.post("/zoom/connect", {"portal": portal.hub_id}).status_code == 403


@responses.activate
@pytest.mark.django_db
def test_zoom_callback_checks_the_user_before_spending_the_state(portal, admin_browser):
    state = _state_of(admin_browser.post("/zoom/connect", {"portal": portal.hub_id}))
    other, _ = _signed_in("other")
    assert other.get("/zoom/oauth/callback", {"code": "zc", "state": state}).status_code == 400
    assert OAuthState.objects.filter(state=state).exists()  # the owner can still finish
