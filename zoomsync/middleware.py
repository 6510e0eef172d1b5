"""Content-Security-Policy for every response (issue 12).

No inline script runs (`script-src 'self'`): our pages load their JavaScript from static
files, and the API docs use drf-spectacular's split Swagger view (its start-up script is a
separate URL). Inline styles stay allowed (a few error pages carry a <style> block), which
cannot run code. Forms may post to us and be redirected to the two providers' consent
pages (HubSpot install, Zoom connect). A response that already has a policy keeps it.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy() -> str:
    form_targets = " ".join(
        o for o in (_origin(settings.HUBSPOT_AUTHORIZE_URL), _origin(settings.ZOOM_OAUTH_BASE)) if o
    )
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
            f"form-action 'self' {form_targets}".strip(),
        ]
    )


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy()
        return response
