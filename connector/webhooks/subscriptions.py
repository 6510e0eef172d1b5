"""The HubSpot app's webhook target and subscriptions, set through the webhooks v3 API with the
developer key (research/hubspot-api.md §9.1). Zoom's side is set in the Zoom Marketplace
(docs/webhooks.md).

`hubspot_webhooks_subscribe` is idempotent: the target URL is PUT, each wanted event type is
created when missing and activated when paused (HubSpot creates subscriptions paused).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings

HUBSPOT_EVENT_TYPES = ("contact.deletion", "contact.merge", "contact.privacyDeletion")
TIMEOUT_S = 30


class SubscribeError(Exception):
    """HubSpot refused, or the app is not configured."""


@dataclass
class SubscribeResult:
    target_url: str
    created: list[str] = field(default_factory=list)
    activated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _call(session: requests.Session, method: str, url: str, key: str, body: Any = None) -> Any:
    try:
        response = session.request(method, url, params={"hapikey": key}, json=body, timeout=TIMEOUT_S)
    except requests.RequestException as exc:
        raise SubscribeError(f"HubSpot did not answer {method} {url.split('?')[0]}: {exc}") from exc
    if response.status_code >= 400:
        raise SubscribeError(f"HubSpot answered {response.status_code} to {method} {url}: {response.text[:300]}")
    return response.json() if response.content else None


def hubspot_webhooks_subscribe(
    *,
    target_url: str | None = None,
    api_base: str | None = None,
    app_id: str | None = None,
    developer_key: str | None = None,
    event_types: tuple[str, ...] = HUBSPOT_EVENT_TYPES,
) -> SubscribeResult:
    base = (api_base or settings.HUBSPOT_API_BASE).rstrip("/")
    app = app_id or settings.HUBSPOT_APP_ID
    key = developer_key or settings.HUBSPOT_DEVELOPER_API_KEY
    target = target_url or f"{settings.ZOOMSYNC_PUBLIC_URL.rstrip('/')}/webhooks/hubspot"
    if not app or not key:
        raise SubscribeError("HUBSPOT_APP_ID and HUBSPOT_DEVELOPER_API_KEY must be set")
    root = f"{base}/webhooks/v3/{app}"
    result = SubscribeResult(target_url=target)
    with requests.Session() as session:
        _call(session, "PUT", f"{root}/settings", key, {"targetUrl": target, "throttling": {"maxConcurrentRequests": 10}})
        existing = {s["eventType"]: s for s in (_call(session, "GET", f"{root}/subscriptions", key) or {}).get("results", [])}
        for event_type in event_types:
            found = existing.get(event_type)
            if found is None:
                _call(session, "POST", f"{root}/subscriptions", key, {"eventType": event_type, "active": True})
                result.created.append(event_type)
            elif not found.get("active"):
                _call(session, "PATCH", f"{root}/subscriptions/{found['id']}", key, {"active": True})
                result.activated.append(event_type)
            else:
                result.unchanged.append(event_type)
    return result
