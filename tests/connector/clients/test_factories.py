"""Factories: base URL from the account (sandbox stand-in), tokens from the token service,
401 → force_refresh, the shared limiter keyed per portal / per Zoom account."""

from __future__ import annotations

import pytest

from connector.clients.factories import hubspot_client_for, zoom_client_for
from connector.clients.ratelimit import limiter_for


@pytest.fixture
def token_calls(monkeypatch):
    calls: list[tuple[str, bool]] = []

    def hubspot_token(*, portal, force_refresh=False):
        calls.append(("hubspot", force_refresh))
        return "hs-fresh" if force_refresh else "hs-token"

    def zoom_token(*, account, force_refresh=False):
        calls.append(("zoom", force_refresh))
        return "zoom-fresh" if force_refresh else "zoom-token"

    monkeypatch.setattr("connector.services.tokens.hubspot_access_token_get", hubspot_token)
    monkeypatch.setattr("connector.services.tokens.zoom_access_token_get", zoom_token)
    return calls


def test_hubspot_client_for_portal(portal, settings, token_calls, mocked):
    settings.HUBSPOT_DEVELOPER_API_KEY = "dev-key"
    settings.HUBSPOT_APP_ID = "4242"
    portal.api_base = "http://127.0.0.1:8899/hubspot"
    portal.save()

    client = hubspot_client_for(portal)

    assert client.base_url == "http://127.0.0.1:8899/hubspot"
    assert client.limiter_key == "hubspot:62515"
    assert client.limiter is limiter_for("hubspot")
    assert (client.developer_api_key, client.app_id) == ("dev-key", "4242")
    mocked.get("http://127.0.0.1:8899/hubspot/crm/v3/objects/contacts/1", status=401, json={})
    mocked.get("http://127.0.0.1:8899/hubspot/crm/v3/objects/contacts/1", json={"id": "1"})
    assert client.contact_get("1") == {"id": "1"}
    assert token_calls == [("hubspot", False), ("hubspot", True)]
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer hs-fresh"


def test_zoom_client_for_account(portal, token_calls, mocked):
    from connector.models import ZoomAccount

    account = ZoomAccount.objects.create(
        portal=portal, account_id="zacc_main", api_base="http://127.0.0.1:8899/zoom/v2"
    )

    client = zoom_client_for(account)

    assert client.base_url == "http://127.0.0.1:8899/zoom/v2"
    assert client.limiter_key == "zoom:zacc_main"
    assert client.limiter is limiter_for("zoom")
    mocked.get("http://127.0.0.1:8899/zoom/v2/users/me", json={"id": "me"})
    assert client.user_get("me") == {"id": "me"}
    assert token_calls == [("zoom", False)]
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer zoom-token"
