"""Fixtures for the workflow action: signed requests, a portal, Zoom accounts."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from workflows.signatures import signature_v2_compute, signature_v3_compute

SECRET = "test-client-secret-0000"
PUBLIC_URL = "https://zoomsync.test"
ACTION_PATH = "/workflows/add-to-zoom-webinar"
ZOOM_BASE = "https://zoom.test/v2"
HUB_ID = 62515


@pytest.fixture(autouse=True)
def _action_settings(settings):
    settings.HUBSPOT_CLIENT_SECRET = SECRET
    settings.ZOOMSYNC_PUBLIC_URL = PUBLIC_URL
    # The follow-up sync is exercised on its own (test_tasks); here it must not run a sync.
    settings.WORKFLOWS_SYNC_AFTER_REGISTRATION = False
    # Both signature versions are exercised here; the default (v3 required, v2 refused) is
    # proven in test_security_signatures.
    settings.HUBSPOT_REQUIRE_SIGNATURE_V3 = False
    # The fake Zoom hosts these tests mock with `responses` (production honours none).
    settings.ZOOMSYNC_SANDBOX_HOSTS = [*settings.ZOOMSYNC_SANDBOX_HOSTS, "zoom.test", "zoom-eu.test", "hubspot.test"]


def action_body(
    *,
    callback_id: str = "ap-62515-1-1-0",
    portal_id: int = HUB_ID,
    email: Any = "jane@example.com",
    firstname: Any = "Jane",
    lastname: Any = "Doe",
    webinar_id: Any = "81000000001",
) -> dict[str, Any]:
    """The body HubSpot sends (research/hubspot-api.md §6.2)."""
    return {
        "callbackId": callback_id,
        "origin": {"portalId": portal_id, "actionDefinitionId": 10646377, "actionDefinitionVersion": 1},
        "context": {"source": "WORKFLOWS", "workflowId": 192814114},
        "object": {
            "objectId": 904,
            "objectType": "CONTACT",
            "properties": {"email": email, "firstname": firstname, "lastname": lastname},
        },
        "inputFields": {"webinarId": webinar_id},
    }


def signed_headers(raw: bytes, *, version: str = "v3", ts_ms: int | None = None, secret: str = SECRET,
                   uri: str = PUBLIC_URL + ACTION_PATH) -> dict[str, str]:
    if version == "v3":
        ts = str(ts_ms if ts_ms is not None else int(time.time() * 1000))
        sig = signature_v3_compute(client_secret=secret, method="POST", uri=uri, body=raw, timestamp=ts)
        return {"HTTP_X_HUBSPOT_SIGNATURE_V3": sig, "HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": ts}
    if version == "v2":
        sig = signature_v2_compute(client_secret=secret, method="POST", uri=uri, body=raw)
        return {"HTTP_X_HUBSPOT_SIGNATURE": sig, "HTTP_X_HUBSPOT_SIGNATURE_VERSION": "v2"}
    return {}


@pytest.fixture
def post_action(client):
    """POST a body to the action endpoint the way HubSpot does (signed v3 by default)."""

    def post(body: dict[str, Any] | bytes, *, version: str = "v3", **kwargs: Any):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = signed_headers(raw, version=version, **kwargs)
        return client.generic("POST", ACTION_PATH, data=raw, content_type="application/json", **headers)

    return post


@pytest.fixture
def hub_portal(db):
    from connector.models import Portal

    return Portal.objects.create(
        hub_id=HUB_ID,
        name="Acme",
        access_token="hubspot-token",
        refresh_token="hubspot-refresh",
        token_expires_at=timezone.now() + timedelta(days=1),
    )


def zoom_account_create(portal, *, account_id: str = "zacc_main", business_unit_id: str = "0",
                        primary: bool = True, connected_user_email: str = "", api_base: str = ZOOM_BASE,
                        oauth_base: str = "https://zoom.test", access_token: str = "zoom-token"):
    from connector.models import ZoomAccount

    return ZoomAccount.objects.create(
        portal=portal,
        account_id=account_id,
        api_base=api_base,
        oauth_base=oauth_base,
        access_token=access_token,
        refresh_token="zoom-refresh",
        token_expires_at=timezone.now() + timedelta(days=1),
        business_unit_id=business_unit_id,
        is_primary_business_unit=primary,
        connected_user_email=connected_user_email,
    )


@pytest.fixture
def zoom_account(hub_portal):
    return zoom_account_create(hub_portal, connected_user_email="admin@acme.com")
