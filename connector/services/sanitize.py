"""Validation of what goes to HubSpot from Zoom (issue 12): URLs and email addresses.

Zoom data is not trusted: a `javascript:` or foreign URL in a join link or a recording
share link would reach contacts' properties, timeline events and marketing events, where
HubSpot users click them; an address like `bad<svg/onload=…>@example.com` is not an email
and must never become a contact.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# Zoom's own web hosts (commercial and government clouds) and their subdomains.
ZOOM_HOST_SUFFIXES = ("zoom.us", "zoom.com", "zoomgov.com")


def zoom_host_is(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == suffix or host.endswith("." + suffix) for suffix in ZOOM_HOST_SUFFIXES)


def zoom_url_clean(url: object) -> str:
    """`url` if it is an https URL on a Zoom host, else "" (never a javascript: link)."""
    if not isinstance(url, str):
        return ""
    candidate = url.strip()
    if not candidate or any(ch in candidate for ch in "\x00\r\n\t <>\"'`\\"):
        return ""
    try:
        parts = urlsplit(candidate)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        return ""
    if parts.scheme != "https" or parts.username or parts.password or not zoom_host_is(host):
        return ""
    return candidate


def email_is_valid(email: object) -> bool:
    """Django's email validator: what fails it is reported as a skip, never created."""
    if not isinstance(email, str) or not email:
        return False
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True
