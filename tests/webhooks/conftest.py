"""Fixtures for the webhook tests: the connector's secrets, its public URL pointing at the
sandbox server (which also serves /webhooks/...), a connected demo portal after a first sync,
and the sandbox subscribed to the connector's endpoints."""

from __future__ import annotations

from typing import Any

import pytest

ZOOM_SECRET = "zoom-webhook-secret-token"
HUBSPOT_SECRET = "hubspot-client-secret"


@pytest.fixture
def webhook_settings(settings: Any, sandbox: Any) -> Any:
    settings.ZOOM_WEBHOOK_SECRET_TOKEN = ZOOM_SECRET
    settings.HUBSPOT_CLIENT_SECRET = HUBSPOT_SECRET
    settings.ZOOMSYNC_PUBLIC_URL = sandbox.url
    return settings


def subscribe(sandbox: Any) -> None:
    sandbox.webhooks_subscribe(
        zoom={"url": f"{sandbox.url}/webhooks/zoom", "secret_token": ZOOM_SECRET},
        hubspot={"url": f"{sandbox.url}/webhooks/hubspot", "client_secret": HUBSPOT_SECRET},
    )


@pytest.fixture
def live(webhook_settings: Any, sandbox: Any, transactional_db: Any) -> Any:
    """The demo world connected and synced once, then the sandbox subscribed to the webhooks."""
    from connector.models import SyncRun
    from connector.services.sandbox_connect import sandbox_connect
    from connector.services.sync import portal_sync

    sandbox.load("demo")
    sandbox.configure(rate_limits=False)
    portal = sandbox_connect(url=sandbox.url)
    portal_sync(portal=portal, run=SyncRun.objects.create(portal=portal, trigger="cli"))
    subscribe(sandbox)
    sandbox.portal = portal
    return sandbox
