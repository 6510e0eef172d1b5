"""Request bodies read with a limit of the endpoint's own.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE is one limit for the whole site, sized for the settings
import page's large pastes. The machine-to-machine endpoints (the workflow action, the
webhooks) take small JSON documents and refuse anything bigger before reading it, so a large
body costs neither memory nor a database row.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

# HubSpot's action requests and webhook batches (≤ 100 events) and Zoom's events are a few kB.
API_BODY_LIMIT = 1024 * 1024


def request_body_read(request: HttpRequest, *, limit: int = API_BODY_LIMIT) -> bytes:
    """The raw body, or RequestDataTooBig when it is (or says it is) over `limit` bytes."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise RequestDataTooBig(f"Request body over {limit} bytes")
    body = request.body
    if len(body) > limit:
        raise RequestDataTooBig(f"Request body over {limit} bytes")
    return body
