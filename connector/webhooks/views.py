"""`/webhooks/zoom` and `/webhooks/hubspot` (INTERFACES.md §9): thin views.

The signature is checked on the raw body before any parsing: a bad or missing one is 401 and
nothing is stored. A good one is parsed strictly, stored, and answered 200 at once (the work is
done by tasks; with no broker it runs in-process before the answer).
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connector.request_body import request_body_read
from connector.webhooks.services import (
    WebhookPayloadError,
    json_strict_loads,
    webhook_hubspot_store,
    webhook_zoom_store,
)
from connector.webhooks.signatures import (
    hubspot_signature_verify,
    zoom_signature_verify,
    zoom_url_validation_answer,
)

logger = logging.getLogger("zoomsync.webhooks")


def _refused(reason: str) -> JsonResponse:
    logger.warning("webhook refused: %s", reason)
    return JsonResponse({"error": "invalid signature"}, status=401)


def _bad(exc: Exception) -> JsonResponse:
    return JsonResponse({"error": f"not a valid event: {exc}"}, status=400)


@csrf_exempt
@require_POST
def zoom_webhook(request: HttpRequest) -> JsonResponse:
    try:
        body = request_body_read(request)
    except RequestDataTooBig:
        return JsonResponse({"error": "request body too large"}, status=413)
    check = zoom_signature_verify(
        signature=request.headers.get("x-zm-signature"), timestamp=request.headers.get("x-zm-request-timestamp"),
        body=body,
    )
    if not check.valid:
        return _refused(f"zoom: {check.reason}")
    try:
        event = json_strict_loads(body)
        if isinstance(event, dict) and event.get("event") == "endpoint.url_validation":
            payload = event.get("payload")
            plain = payload.get("plainToken") if isinstance(payload, dict) else None
            if not isinstance(plain, str) or not 0 < len(plain) <= 1000:
                raise WebhookPayloadError("endpoint.url_validation without a plainToken")
            return JsonResponse(zoom_url_validation_answer(plain_token=plain))
        stored = webhook_zoom_store(body=body, event=event)
    except WebhookPayloadError as exc:
        return _bad(exc)
    return JsonResponse({"stored": len(stored.new), "duplicates": stored.duplicates})


@csrf_exempt
@require_POST
def hubspot_webhook(request: HttpRequest) -> JsonResponse:
    try:
        body = request_body_read(request)
    except RequestDataTooBig:
        return JsonResponse({"error": "request body too large"}, status=413)
    check = hubspot_signature_verify(
        signature=request.headers.get("X-HubSpot-Signature-v3"),
        timestamp=request.headers.get("X-HubSpot-Request-Timestamp"),
        method=request.method or "POST", full_path=request.get_full_path(), body=body,
    )
    if not check.valid:
        return _refused(f"hubspot: {check.reason}")
    try:
        stored = webhook_hubspot_store(events=json_strict_loads(body))
    except WebhookPayloadError as exc:
        return _bad(exc)
    return JsonResponse({"stored": len(stored.new), "duplicates": stored.duplicates})
