"""Fake HubSpot webhooks v3 management API (specs/hubspot/webhooks-v3.json), developer key.

`/webhooks/v3/{appId}/settings` (GET, PUT, DELETE) and `/webhooks/v3/{appId}/subscriptions`
(GET, POST; GET/PATCH/DELETE by id). Subscriptions are created paused unless `active` is true
(research/hubspot-api.md §9.1). The sandbox delivers HubSpot events to the settings' target URL,
signed with the app's client secret, for the active subscriptions' event types, whenever
`POST /_sandbox/webhooks` did not name a HubSpot URL (sandbox/webhooks.py).
"""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest

from sandbox.hubspot.errors import HubSpotError
from sandbox.hubspot.state import HubSpotState, iso
from sandbox.hubspot.views import json_body

EVENT_TYPES = frozenset({
    "contact.associationChange", "contact.creation", "contact.deletion", "contact.merge", "contact.privacyDeletion",
    "contact.propertyChange", "contact.restore", "company.creation", "company.deletion", "deal.creation",
    "deal.deletion", "object.creation", "object.deletion", "object.merge", "object.propertyChange",
})
MAX_SUBSCRIPTIONS = 1000


def _app(state: HubSpotState, app_id: str) -> None:
    if str(state.app_id) != app_id:
        raise HubSpotError(404, f"App {app_id} not found", category="OBJECT_NOT_FOUND")


def _settings_out(state: HubSpotState) -> dict[str, Any]:
    settings = state.webhook_settings
    if settings is None:
        raise HubSpotError(404, "No webhook settings for this app", category="OBJECT_NOT_FOUND")
    return dict(settings)


def settings_get(request: HttpRequest, state: HubSpotState, appId: str) -> tuple[int, Any]:  # noqa: N803
    _app(state, appId)
    return 200, _settings_out(state)


def settings_put(request: HttpRequest, state: HubSpotState, appId: str) -> tuple[int, Any]:  # noqa: N803
    _app(state, appId)
    body = json_body(request)
    if not isinstance(body, dict):
        raise HubSpotError(400, "Invalid input JSON: an object")
    url = body.get("targetUrl")
    throttling = body.get("throttling")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise HubSpotError(400, "targetUrl: a publicly available URL is required")
    if not isinstance(throttling, dict) or not isinstance(throttling.get("maxConcurrentRequests"), int) or isinstance(
        throttling.get("maxConcurrentRequests"), bool
    ):
        raise HubSpotError(400, "throttling.maxConcurrentRequests: an integer is required")
    now = iso(time.time())
    with state.lock:
        created = state.webhook_settings["createdAt"] if state.webhook_settings else now
        state.webhook_settings = {"createdAt": created, "updatedAt": now, "targetUrl": url,
                                  "throttling": {"maxConcurrentRequests": throttling["maxConcurrentRequests"]}}
    return 200, _settings_out(state)


def settings_delete(request: HttpRequest, state: HubSpotState, appId: str) -> tuple[int, Any]:  # noqa: N803
    _app(state, appId)
    state.webhook_settings = None
    return 204, None


def subscriptions_get(request: HttpRequest, state: HubSpotState, appId: str) -> tuple[int, Any]:  # noqa: N803
    _app(state, appId)
    return 200, {"results": [dict(s) for s in state.webhook_subscriptions.values()]}


def subscriptions_post(request: HttpRequest, state: HubSpotState, appId: str) -> tuple[int, Any]:  # noqa: N803
    _app(state, appId)
    body = json_body(request)
    if not isinstance(body, dict) or body.get("eventType") not in EVENT_TYPES:
        raise HubSpotError(400, f"eventType: one of {', '.join(sorted(EVENT_TYPES))}")
    active = body.get("active", False)
    if not isinstance(active, bool):
        raise HubSpotError(400, "active: a boolean")
    with state.lock:
        if len(state.webhook_subscriptions) >= MAX_SUBSCRIPTIONS:
            raise HubSpotError(400, "Couldn't create another subscription. You've reached the maximum number "
                                    "allowed per application (1000).")
        sub_id = str(len(state.webhook_subscriptions) + 801)
        now = iso(time.time())
        item: dict[str, Any] = {"id": sub_id, "eventType": body["eventType"], "active": active,
                                "createdAt": now, "updatedAt": now}
        if "propertyName" in body:
            item["propertyName"] = str(body["propertyName"])
        state.webhook_subscriptions[sub_id] = item
    return 201, dict(item)


def _subscription(state: HubSpotState, sub_id: str) -> dict[str, Any]:
    item = state.webhook_subscriptions.get(sub_id)
    if item is None:
        raise HubSpotError(404, f"Subscription {sub_id} not found", category="OBJECT_NOT_FOUND")
    return item


def subscription_get(request: HttpRequest, state: HubSpotState, appId: str,  # noqa: N803
                     subscriptionId: str) -> tuple[int, Any]:  # noqa: N803
    _app(state, appId)
    return 200, dict(_subscription(state, subscriptionId))


def subscription_patch(request: HttpRequest, state: HubSpotState, appId: str,  # noqa: N803
                       subscriptionId: str) -> tuple[int, Any]:  # noqa: N803
    _app(state, appId)
    body = json_body(request)
    item = _subscription(state, subscriptionId)
    if not isinstance(body, dict) or not isinstance(body.get("active"), bool):
        raise HubSpotError(400, "active: a boolean")
    item["active"] = body["active"]
    item["updatedAt"] = iso(time.time())
    return 200, dict(item)


def subscription_delete(request: HttpRequest, state: HubSpotState, appId: str,  # noqa: N803
                        subscriptionId: str) -> tuple[int, Any]:  # noqa: N803
    _app(state, appId)
    _subscription(state, subscriptionId)
    state.webhook_subscriptions.pop(subscriptionId, None)
    return 204, None


def delivery_target(state: HubSpotState) -> tuple[str, str, set[str]] | None:
    """(target URL, client secret, active event types) when the app's webhooks are configured."""
    settings = state.webhook_settings
    if settings is None or not state.client_secret:
        return None
    active = {s["eventType"] for s in state.webhook_subscriptions.values() if s["active"]}
    return settings["targetUrl"], state.client_secret, active
