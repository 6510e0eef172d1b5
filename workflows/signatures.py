"""HubSpot request signatures for the workflow action endpoint (INTERFACES.md §7).

v3 (`X-HubSpot-Signature-v3` + `X-HubSpot-Request-Timestamp`):
    base64(HMAC-SHA256(client_secret, method + uri + body + timestamp)), where `uri` is the
    full URL with a fixed set of percent-escapes decoded, `body` the raw bytes and
    `timestamp` the header string exactly as sent (epoch milliseconds). Requests older than
    5 minutes, or dated more than a small skew in the future, are refused (replay).
v2 (`X-HubSpot-Signature`, `X-HubSpot-Signature-Version: v2` or absent):
    hex(SHA256(client_secret + method + uri + body)). v2 has no timestamp, so a captured
    request can be replayed forever, and a man in the middle who strips the v3 headers
    would fall back to it. It is refused while settings.HUBSPOT_REQUIRE_SIGNATURE_V3 is on
    (the default: HubSpot sends v3 for the app). With the setting off, v2 is accepted only
    when no v3 header is present (a stale or bad v3 never falls back to v2).
v1 signs the body only (no method, no URL) and is never accepted here.

The URI is rebuilt from settings.ZOOMSYNC_PUBLIC_URL, not from the Host header, so the
check works behind a proxy and a forged Host cannot change what is verified.
Source: research/hubspot-api.md §7.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from connector.webhooks.signatures import (
    HUBSPOT_V3_SIGNATURE_RE,
    TIMESTAMP_RE,
    hubspot_public_uri,
    hubspot_signature_v3_compute,
)

MAX_AGE_MS = 5 * 60 * 1000  # HubSpot: "Reject the request if the timestamp is older than 5 minutes."
# Clocks drift; a timestamp slightly ahead of ours is HubSpot's clock, far ahead is forged.
MAX_FUTURE_SKEW_MS = 30 * 1000

HEADER_V3 = "X-HubSpot-Signature-v3"
HEADER_TIMESTAMP = "X-HubSpot-Request-Timestamp"
HEADER_V2 = "X-HubSpot-Signature"
HEADER_VERSION = "X-HubSpot-Signature-Version"

_HEX_SIG_RE = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class SignatureCheck:
    valid: bool
    version: str  # "v3", "v2" or "" when no signature header was found
    reason: str  # why it failed; empty when valid


def signature_v3_compute(*, client_secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    return hubspot_signature_v3_compute(secret=client_secret, method=method, uri=uri, body=body, timestamp=timestamp)


def signature_v2_compute(*, client_secret: str, method: str, uri: str, body: bytes) -> str:
    return hashlib.sha256(client_secret.encode() + method.encode() + uri.encode() + body).hexdigest()


def signature_v1_compute(*, client_secret: str, body: bytes) -> str:
    """Only for completeness of the official vectors; v1 is never accepted."""
    return hashlib.sha256(client_secret.encode() + body).hexdigest()


def public_uri_for(request: HttpRequest) -> str:
    """The URL HubSpot called: ZOOMSYNC_PUBLIC_URL + the request's path and query."""
    return hubspot_public_uri(request.get_full_path())


def _now_ms() -> int:
    return int(time.time() * 1000)


def request_signature_verify(
    *, request: HttpRequest, body: bytes, client_secret: str | None = None, now_ms: int | None = None
) -> SignatureCheck:
    """Check a request's HubSpot signature. Never raises on bad input."""
    secret = settings.HUBSPOT_CLIENT_SECRET if client_secret is None else client_secret
    if not secret:
        # Fail closed: without the app secret nothing can be verified.
        return SignatureCheck(False, "", "HUBSPOT_CLIENT_SECRET is not configured")
    method = (request.method or "").upper()
    uri = public_uri_for(request)
    headers = request.headers

    v3 = headers.get(HEADER_V3)
    if v3 is not None:
        timestamp = headers.get(HEADER_TIMESTAMP, "")
        if not TIMESTAMP_RE.fullmatch(timestamp):
            return SignatureCheck(False, "v3", "missing or malformed X-HubSpot-Request-Timestamp")
        now = _now_ms() if now_ms is None else now_ms
        age = now - int(timestamp)
        if age > MAX_AGE_MS:
            return SignatureCheck(False, "v3", "timestamp older than 5 minutes")
        if -age > MAX_FUTURE_SKEW_MS:
            return SignatureCheck(False, "v3", "timestamp in the future")
        if not HUBSPOT_V3_SIGNATURE_RE.fullmatch(v3):
            return SignatureCheck(False, "v3", "malformed signature")
        expected = signature_v3_compute(
            client_secret=secret, method=method, uri=uri, body=body, timestamp=timestamp
        )
        if not hmac.compare_digest(expected.encode(), v3.encode()):
            return SignatureCheck(False, "v3", "signature mismatch")
        return SignatureCheck(True, "v3", "")

    v2 = headers.get(HEADER_V2)
    if settings.HUBSPOT_REQUIRE_SIGNATURE_V3:
        # A stripped v3 header must not fall back to the replayable v2.
        return SignatureCheck(False, "v2" if v2 is not None else "", "v3 signature required")
    if v2 is not None:
        version = headers.get(HEADER_VERSION, "v2").strip().lower()
        if version != "v2":
            return SignatureCheck(False, version, f"signature version {version!r} not accepted")
        if not _HEX_SIG_RE.fullmatch(v2):
            return SignatureCheck(False, "v2", "malformed signature")
        expected = signature_v2_compute(client_secret=secret, method=method, uri=uri, body=body)
        if not hmac.compare_digest(expected.encode(), v2.lower().encode()):
            return SignatureCheck(False, "v2", "signature mismatch")
        return SignatureCheck(True, "v2", "")

    return SignatureCheck(False, "", "no signature header")
