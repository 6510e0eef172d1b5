"""Secrets kept in (issue 12): a connection's api_base/oauth_base (where the token refresh
posts the refresh token and the app's client secret) is honoured only with the sandbox
mounted and on loopback, is read-only in the admin; the sandbox refuses production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import responses
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.utils import timezone

from connector.models import Portal, ZoomAccount
from connector.services import tokens

ROOT = Path(__file__).resolve().parents[2]
EVIL = "https://collector.evil.example"


@responses.activate
@pytest.mark.django_db
def test_refresh_never_posts_the_secret_to_a_foreign_api_base(settings):
    settings.HUBSPOT_API_BASE = "https://api.hubapi.test"
    settings.HUBSPOT_CLIENT_SECRET = "the-app-secret"
    portal = Portal.objects.create(hub_id=1, api_base=EVIL, refresh_token="r", access_token="a",
                                   token_expires_at=timezone.now())
    responses.post("https://api.hubapi.test/oauth/v1/token", json={"access_token": "n", "expires_in": 1800})
    responses.post(f"{EVIL}/oauth/v1/token", json={"access_token": "stolen", "expires_in": 1800})
    assert tokens.hubspot_access_token_get(portal=portal) == "n"
    assert [c.request.url for c in responses.calls] == ["https://api.hubapi.test/oauth/v1/token"]


@pytest.mark.django_db
def test_connection_bases_only_on_loopback_and_only_with_the_sandbox(settings, portal):
    settings.ZOOM_API_BASE = "https://api.zoom.us/v2"
    settings.ZOOM_OAUTH_BASE = "https://zoom.us"
    account = ZoomAccount(portal=portal, account_id="z", api_base=f"{EVIL}/v2", oauth_base=EVIL)
    assert (account.zoom_api_base, account.zoom_oauth_base) == ("https://api.zoom.us/v2", "https://zoom.us")
    account.api_base, account.oauth_base = "http://127.0.0.1:8899/zoom/v2", "http://127.0.0.1:8899/zoom"
    assert account.zoom_api_base == "http://127.0.0.1:8899/zoom/v2"
    assert account.zoom_oauth_base == "http://127.0.0.1:8899/zoom"
    # A look-alike host is not loopback.
    account.api_base = "http://127.0.0.1.evil.example/v2"
    assert account.zoom_api_base == "https://api.zoom.us/v2"
    settings.ZOOMSYNC_SANDBOX = False
    account.api_base = "http://127.0.0.1:8899/zoom/v2"
    assert account.zoom_api_base == "https://api.zoom.us/v2"
    portal.api_base = "http://127.0.0.1:8899/hubspot"
    assert portal.hubspot_api_base == settings.HUBSPOT_API_BASE


@pytest.mark.django_db
def test_admin_cannot_edit_where_secrets_are_sent(client, portal):
    admin = get_user_model().objects.create_superuser("ops", password="pw")
    client.force_login(admin)
    account = ZoomAccount.objects.create(portal=portal, account_id="z", api_base="http://127.0.0.1:1/v2")
    page = client.get(f"/admin/connector/zoomaccount/{account.pk}/change/").content.decode()
    assert 'name="api_base"' not in page and 'name="oauth_base"' not in page
    assert "http://127.0.0.1:1/v2" in page  # still shown, read-only
    portal_page = client.get(f"/admin/connector/portal/{portal.pk}/change/").content.decode()
    assert 'name="api_base"' not in portal_page
    # A forged POST cannot set it either.
    client.post(f"/admin/connector/zoomaccount/{account.pk}/change/", {
        "portal": portal.pk, "account_id": "z", "auth_type": "oauth", "business_unit_id": "0",
        "status": "connected", "api_base": EVIL, "oauth_base": EVIL, "client_id": ""})
    account.refresh_from_db()
    assert account.api_base == "http://127.0.0.1:1/v2" and account.oauth_base == ""


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "ZOOMSYNC_SANDBOX")}
    clean.update({"SECRET_KEY": "x" * 50, "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                  "ALLOWED_HOSTS": "zoomsync.example.com", "DJANGO_SETTINGS_MODULE": "zoomsync.settings",
                  **env})
    return subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=60)


def test_sandbox_refuses_to_start_with_debug_off():
    refused = _start({"DEBUG": "0", "ZOOMSYNC_SANDBOX": "1"})
    assert refused.returncode != 0
    assert "ZOOMSYNC_SANDBOX=1 is for development only" in refused.stderr
    assert _start({"DEBUG": "0", "ZOOMSYNC_SANDBOX": "0"}).returncode == 0, "production without sandbox starts"


@pytest.mark.django_db
def test_sandbox_zoom_authorize_redirects_only_to_our_callback(client, settings, sandbox_demo):
    settings.ZOOMSYNC_PUBLIC_URL = "https://zoomsync.example.com"
    import requests

    authorize = f"{sandbox_demo.zoom_oauth_base}/oauth/authorize"
    evil = requests.get(authorize, params={"response_type": "code", "redirect_uri": f"{EVIL}/grab"},
                        allow_redirects=False, timeout=10)
    assert evil.status_code == 400
    ok = requests.get(authorize, params={"response_type": "code", "state": "s",
                                         "redirect_uri": "https://zoomsync.example.com/zoom/oauth/callback"},
                      allow_redirects=False, timeout=10)
    assert ok.status_code == 302
    assert ok.headers["Location"].startswith("https://zoomsync.example.com/zoom/oauth/callback?")
