"""The endpoint HubSpot calls for the workflow action (INTERFACES.md §7).

Authenticated by HubSpot's request signature only (no session, no CSRF): the raw body is
checked before anything is parsed, and an unsigned or badly signed request gets 401 and
changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from connector.models import Portal
from connector.request_body import request_body_read
from connector.services.strict_json import StrictJSONError, loads_strict
from workflows.serializers import (
    ActionRequestInputSerializer,
    ActionResponseOutputSerializer,
    ErrorOutputSerializer,
)
from workflows.services.registration import webinar_registration_add
from workflows.signatures import request_signature_verify

logger = logging.getLogger("zoomsync.workflows")


class JSONOnlyNegotiation(BaseContentNegotiation):
    """HubSpot reads JSON whatever its Accept header says: never answer 406."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return (renderers[0], renderers[0].media_type)


class AddToZoomWebinarApi(APIView):
    authentication_classes: list = []  # the signature is the authentication
    permission_classes = [AllowAny]
    throttle_classes: list = []
    # Declared for the OpenAPI schema only: request.data is never touched, the raw body is
    # read (those are the signed bytes) and parsed here.
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONOnlyNegotiation

    @extend_schema(
        operation_id="workflow_add_to_zoom_webinar",
        summary="Workflow action: add the enrolled contact to a Zoom webinar",
        description=(
            "Called by HubSpot for the custom workflow action. Signed with X-HubSpot-Signature-v3 "
            "(+ X-HubSpot-Request-Timestamp, 5-minute window) or, without it, v2. Answers 200 with "
            "outputFields (hs_execution_state SUCCESS or FAIL_CONTINUE + errorCode), or 429/503 with "
            "Retry-After when Zoom is busy so that HubSpot retries."
        ),
        request=ActionRequestInputSerializer,
        responses={
            200: ActionResponseOutputSerializer,
            400: ErrorOutputSerializer,
            401: OpenApiResponse(ErrorOutputSerializer, description="Missing or invalid HubSpot signature"),
            429: OpenApiResponse(ErrorOutputSerializer, description="Zoom rate limit: retry after Retry-After seconds"),
            503: OpenApiResponse(ErrorOutputSerializer, description="Zoom unavailable: retry later"),
        },
        auth=[],
        tags=["workflows"],
    )
    def post(self, request: Request) -> Response:
        http_request = request._request
        try:
            raw = request_body_read(http_request)
        except RequestDataTooBig:
            return Response({"detail": "Request body too large"}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)

        check = request_signature_verify(request=http_request, body=raw)
        if not check.valid:
            logger.warning(
                "workflow action: rejected request (%s)",
                check.reason,
                extra={"signature_version": check.version, "reason": check.reason},
            )
            return Response({"detail": "Invalid or missing HubSpot signature"}, status=status.HTTP_401_UNAUTHORIZED)

        try:
            # Strict: NaN/Infinity and lone surrogates would fail the insert (a 5xx HubSpot
            # retries for 3 days); NUL is removed.
            body = loads_strict(raw)
        except StrictJSONError as exc:
            return Response(
                {"detail": f"Body is not valid JSON: {exc}", "code": exc.code},
                status=status.HTTP_400_BAD_REQUEST,
            )
        serializer = ActionRequestInputSerializer(data=body)
        if not serializer.is_valid():
            return Response({"detail": "Invalid action request", "errors": serializer.errors}, status=400)
        data = serializer.validated_data

        hub_id = data["origin"]["portalId"]
        contact = data.get("object") or {}
        properties = contact.get("properties") or {}
        webinar_id_raw = (data.get("inputFields") or {}).get("webinarId")
        if isinstance(webinar_id_raw, int) and not isinstance(webinar_id_raw, bool):
            webinar_id_raw = str(webinar_id_raw)  # a number property token may arrive unquoted

        outcome = webinar_registration_add(
            portal=Portal.objects.filter(hub_id=hub_id).first(),
            hub_id=hub_id,
            callback_id=data["callbackId"],
            email=properties.get("email"),
            first_name=properties.get("firstname"),
            last_name=properties.get("lastname"),
            webinar_id_raw=webinar_id_raw,
            contact_object_id=str(contact.get("objectId") or ""),
            request_body=body,
            signature_version=check.version,
        )
        if outcome.is_final:
            return Response({"outputFields": outcome.output_fields()}, status=status.HTTP_200_OK)
        headers = {"Retry-After": str(outcome.retry_after_seconds)} if outcome.retry_after_seconds else None
        return Response({"detail": outcome.error_message}, status=outcome.http_status, headers=headers)
