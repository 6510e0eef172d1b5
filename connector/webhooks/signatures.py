"""Signatures of incoming webhooks, checked on the raw body before any parsing (INTERFACES.md §9).

Zoom (research/zoom-api.md §8.4): `x-zm-signature` = `v0=` + hex HMAC-SHA256(secret token,
`v0:{x-zm-request-timestamp}:{raw body}`); the timestamp (epoch seconds) must be within
5 minutes of now. `endpoint.url_validation` is answered with the HMAC of the plain token.

HubSpot (research/hubspot-api.md §7, §9): `X-HubSpot-Signature-v3` = base64 HMAC-SHA256(client
secret, method + URL + raw body + timestamp), the URL being ZOOMSYNC_PUBLIC_URL + the request
path (never the Host header), `X-HubSpot-Request-Timestamp` in epoch ms within 5 minutes.
Webhook deliveries also carry v1, which signs the body only: it is never accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

MAX_AGE_S = 5 * 60
MAX_FUTURE_S = 30  # a clock slightly ahead is the provider's; far ahead is forged
TIMESTAMP_RE = re.compile(r"[0-9]{1,16}")
_ZOOM_SIG = re.compile(r"v0=[0-9a-f]{64}")
HUBSPOT_V3_SIGNATURE_RE = re.compile(r"[A-Za-z0-9+/]{43}=")
# HubSpot's documented v3 decoding table (and nothing else: %20, %26, %3D stay encoded).
_V3_DECODE = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'",
              "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}
_V3_DECODE_RE = re.compile("|".join(_V3_DECODE), re.IGNORECASE)


@dataclass(frozen=True)
class SignatureCheck:
    valid: bool
    reason: str = ""


def _fresh(seconds: float, now: float) -> SignatureCheck | None:
    if now - seconds > MAX_AGE_S:
        return SignatureCheck(False, "timestamp older than 5 minutes")
    if seconds - now > MAX_FUTURE_S:
        return SignatureCheck(False, "timestamp in the future")
    return None


def zoom_signature_compute(*, secret: str, timestamp: str, body: bytes) -> str:
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def zoom_signature_verify(
    *, signature: str | None, timestamp: str | None, body: bytes, secret: str | None = None,
    now: float | None = None,
) -> SignatureCheck:
    """Check Zoom's v0 signature. Never raises on bad input."""
    secret = settings.ZOOM_WEBHOOK_SECRET_TOKEN if secret is None else secret
    if not secret:
        return SignatureCheck(False, "ZOOM_WEBHOOK_SECRET_TOKEN is not configured")
    if not signature or not timestamp:
        return SignatureCheck(False, "missing x-zm-signature or x-zm-request-timestamp")
    if not TIMESTAMP_RE.fullmatch(timestamp):
        return SignatureCheck(False, "malformed x-zm-request-timestamp")
    seconds = int(timestamp)
    if seconds > 10**11:  # sent in milliseconds
        seconds //= 1000
    stale = _fresh(seconds, time.time() if now is None else now)
    if stale is not None:
        return stale
    if not _ZOOM_SIG.fullmatch(signature):
        return SignatureCheck(False, "malformed x-zm-signature")
    expected = zoom_signature_compute(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return SignatureCheck(False, "signature mismatch")
    return SignatureCheck(True)


def zoom_url_validation_answer(*, plain_token: str, secret: str | None = None) -> dict[str, str]:
    secret = settings.ZOOM_WEBHOOK_SECRET_TOKEN if secret is None else secret
    encrypted = hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": encrypted}


def hubspot_public_uri(full_path: str) -> str:
    """The URL HubSpot called: ZOOMSYNC_PUBLIC_URL + the request's path and query. When the
    public URL carries a path prefix (https://host/zoomsync) that the proxy passes through as
    SCRIPT_NAME, the path already starts with it; it is not doubled. Used by the webhooks and
    the workflow action alike."""
    base = settings.ZOOMSYNC_PUBLIC_URL.rstrip("/")
    prefix = urlsplit(base).path.rstrip("/")
    if prefix and (full_path == prefix or full_path.startswith(prefix + "/")):
        full_path = full_path[len(prefix):]
    return base + full_path


def v3_uri_decode(uri: str) -> str:
    """Decode exactly the escapes HubSpot's v3 procedure lists (case-insensitive hex)."""
    return _V3_DECODE_RE.sub(lambda m: _V3_DECODE[m.group(0).upper()], uri)


def hubspot_signature_v3_compute(*, secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    message = method.encode() + v3_uri_decode(uri).encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def hubspot_signature_verify(
    *, signature: str | None, timestamp: str | None, method: str, full_path: str, body: bytes,
    secret: str | None = None, now: float | None = None,
) -> SignatureCheck:
    """Check HubSpot's v3 signature. Never raises on bad input."""
    secret = settings.HUBSPOT_CLIENT_SECRET if secret is None else secret
    if not secret:
        return SignatureCheck(False, "HUBSPOT_CLIENT_SECRET is not configured")
    if not signature or not timestamp:
        return SignatureCheck(False, "missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp")
    if not TIMESTAMP_RE.fullmatch(timestamp):
        return SignatureCheck(False, "malformed X-HubSpot-Request-Timestamp")
    stale = _fresh(int(timestamp) / 1000, time.time() if now is None else now)
    if stale is not None:
        return stale
    if not HUBSPOT_V3_SIGNATURE_RE.fullmatch(signature):
        return SignatureCheck(False, "malformed X-HubSpot-Signature-v3")
    expected = hubspot_signature_v3_compute(
        secret=secret, method=method.upper(), uri=hubspot_public_uri(full_path), body=body, timestamp=timestamp
    )
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return SignatureCheck(False, "signature mismatch")
    return SignatureCheck(True)
