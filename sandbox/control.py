"""The sandbox's control API (INTERFACES.md §3): scenario, reset, token, calls, state, config.

Thin views: parse, call `sandbox.state` / `sandbox.config`, answer JSON. No database.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox import state as sandbox_state_module
from sandbox.config import KnobError, knobs, knobs_update
from sandbox.live import ActError
from sandbox.live import act as live_act
from sandbox.scenario import ScenarioError, scenario_read
from sandbox.state import CallCounters, sandbox_state
from sandbox.webhooks import SubscribeError, webhook_hub


def _error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _body(request: HttpRequest) -> Any:
    # Read as a stream: Django's in-memory body limit (2.5 MB) does not apply, so a large
    # generated scenario loads through the control API.
    raw = request.read()
    if not raw:
        return {}
    return json.loads(raw)


def _object_body(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    """The body as a JSON object, or the 400 answer saying why it is not one."""
    try:
        body = _body(request)
    except json.JSONDecodeError as exc:
        return _error(400, f"body is not valid JSON: {exc}")
    if not isinstance(body, dict):
        return _error(400, "a scenario is a JSON object")
    return body


def _summary(world: Any) -> dict[str, Any]:
    zoom = world.zoom
    return {
        "zoom": {
            "accounts": [a.account_id for a in zoom.accounts.values()],
            "webinars": len(zoom.webinars),
            "registrants": sum(len(w.registrants) for w in zoom.webinars.values()),
        },
        "hubspot": {"portal_id": getattr(world.hubspot, "portal_id", None)},
        "portals": sorted(world.portals),
        "world_id": world.world_id,
    }


@csrf_exempt
@require_http_methods(["POST"])
def scenario(request: HttpRequest) -> JsonResponse:
    body = _object_body(request)
    if isinstance(body, JsonResponse):
        return body
    try:
        # Extension: {"name": "demo"} loads a built-in scenario.
        if set(body) == {"name"} and isinstance(body["name"], str):
            data = scenario_read(body["name"])
        else:
            data = body
        world = sandbox_state_module.load(data)
    except ScenarioError as exc:
        return _error(400, str(exc), path=exc.path)
    return JsonResponse({"loaded": True, **_summary(world)})


@csrf_exempt
@require_http_methods(["POST"])
def zoom(request: HttpRequest) -> JsonResponse:
    """Extension: replace only Zoom's state with the body's `zoom` part; HubSpot's stays."""
    body = _object_body(request)
    if isinstance(body, JsonResponse):
        return body
    try:
        world = sandbox_state_module.zoom_replace(body)
    except ScenarioError as exc:
        return _error(400, str(exc), path=exc.path)
    return JsonResponse({"loaded": True, **_summary(world)})


@csrf_exempt
@require_http_methods(["POST"])
def reset(request: HttpRequest) -> JsonResponse:
    sandbox_state_module.reset()
    webhook_hub().reset()
    return JsonResponse({"reset": True})


@require_http_methods(["GET"])
def token(request: HttpRequest) -> JsonResponse:
    service = request.GET.get("service", "")
    world = sandbox_state()
    if service == "hubspot":
        with world.lock:
            return JsonResponse({"access_token": str(world.hubspot.issue_token())})
    if service != "zoom":
        return _error(400, "service must be 'zoom' or 'hubspot'")
    account_id = request.GET.get("account_id")
    with world.lock:
        accounts = world.zoom.accounts
        if account_id is None:
            if len(accounts) != 1:
                return _error(
                    400,
                    f"account_id is required when the scenario has {len(accounts)} Zoom accounts",
                    accounts=list(accounts),
                )
            account_id = next(iter(accounts))
        if account_id not in accounts:
            return _error(
                404, f"no Zoom account {account_id!r} in the scenario", accounts=list(accounts)
            )
        lifetime = knobs().zoom_token_lifetime_s
        access = world.zoom.token_issue(account_id, kind="access", lifetime_s=lifetime)
        refresh = world.zoom.token_issue(account_id, kind="refresh", lifetime_s=15 * 365 * 86400)
    return JsonResponse(
        {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": lifetime,
            "account_id": account_id,
        }
    )


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
def calls(request: HttpRequest) -> JsonResponse:
    world = sandbox_state()
    with world.lock:
        if request.method == "DELETE":
            # Extension: zero the counters, keep the world.
            world.counters = CallCounters()
        return JsonResponse(world.counters.snapshot())


@require_http_methods(["GET"])
def state(request: HttpRequest) -> JsonResponse:
    world = sandbox_state()
    if request.GET.get("view") == "accounts":
        # Extension: who is connected, without every contact and registrant (large scenarios).
        with world.lock:
            hub = world.hubspot
            return JsonResponse(
                {
                    "world_id": world.world_id,
                    "portals": sorted(world.portals),
                    "hubspot": {
                        "portal_id": hub.portal_id,
                        "hub_domain": hub.hub_domain,
                        "business_units": list(hub.business_units),
                    },
                    "zoom": {
                        "accounts": [
                            {"account_id": a.account_id, "business_unit_id": a.business_unit_id}
                            for a in world.zoom.accounts.values()
                        ]
                    },
                }
            )
    return JsonResponse(world.snapshot())


@csrf_exempt
@require_http_methods(["GET", "POST"])
def config(request: HttpRequest) -> JsonResponse:
    if request.method == "POST":
        try:
            body = _body(request)
            if not isinstance(body, dict):
                return _error(400, "config is a JSON object of knobs")
            knobs_update(body)
        except json.JSONDecodeError as exc:
            return _error(400, f"body is not valid JSON: {exc}")
        except KnobError as exc:
            return _error(400, str(exc))
    return JsonResponse(knobs().to_dict())


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest) -> JsonResponse:
    """POST: subscribe (Zoom is validated first); GET: every delivery so far."""
    if request.method == "GET":
        return JsonResponse(webhook_hub().log())
    body = _object_body(request)
    if isinstance(body, JsonResponse):
        return body
    try:
        return JsonResponse({"subscriptions": webhook_hub().subscribe(body)})
    except SubscribeError as exc:
        return _error(400, str(exc))


@csrf_exempt
@require_http_methods(["POST"])
def act(request: HttpRequest) -> JsonResponse:
    """One live change of the world, then its signed webhooks (sandbox/live.py)."""
    body = _object_body(request)
    if isinstance(body, JsonResponse):
        return body
    try:
        return JsonResponse(live_act(body))
    except ActError as exc:
        return _error(exc.status, str(exc))
