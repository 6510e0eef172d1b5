"""Signed webhook deliveries of the sandbox, as Zoom and HubSpot send them (INTERFACES.md §3).

- Subscriptions (`POST /_sandbox/webhooks`): a Zoom URL + secret token, a HubSpot URL + client
  secret. Subscribing to Zoom first sends `endpoint.url_validation` (research/zoom-api.md §8.5)
  and refuses the subscription when the answer is wrong.
- Zoom: one event per request, `x-zm-request-timestamp` (epoch seconds) and `x-zm-signature`
  = `v0=` + hex HMAC-SHA256(secret token, `v0:{timestamp}:{body}`).
- HubSpot: a JSON array of events per request, `X-HubSpot-Signature-v3` = base64
  HMAC-SHA256(client secret, method + URL + body + timestamp) with `X-HubSpot-Request-Timestamp`
  (epoch ms), plus the v1 `X-HubSpot-Signature` (hex SHA-256 of secret + body).
- Knobs: `webhook_duplicate_rate` (a delivery sent twice), `webhook_shuffle` (a batch's
  events out of order), `webhook_delay_ms` (before each delivery), `webhook_retry_delays_s`
  (a failed delivery, any non-2xx or no answer, is tried again after each of these delays,
  in a background thread, as the providers retry).
- `GET /_sandbox/webhooks`: every delivery so far, with its attempts and statuses.

The first attempt of each delivery happens in the caller's thread (the act's answer lists its
status and time); retries never block the act.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from sandbox.config import knobs, rng_random, rng_shuffle

ZOOM = "zoom"
HUBSPOT = "hubspot"
DELIVERY_TIMEOUT_S = 15.0


class SubscribeError(ValueError):
    pass


@dataclass
class Delivery:
    id: int
    service: str
    events: list[str]
    payload: Any
    body: bytes
    url: str
    duplicate: bool = False
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "service": self.service,
            "event": self.events[0] if len(self.events) == 1 else ",".join(self.events),
            "events": list(self.events),
            "payload": self.payload,
            "url": self.url,
            "duplicate": self.duplicate,
            "attempts": len(self.attempts),
            "statuses": [a["status"] for a in self.attempts],
            "ms": [a["ms"] for a in self.attempts],
        }


@dataclass
class _Subscriptions:
    zoom_url: str = ""
    zoom_secret: str = ""
    hubspot_url: str = ""
    hubspot_secret: str = ""


class WebhookHub:
    """Subscriptions and the delivery log of this sandbox process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.subs = _Subscriptions()
        self.deliveries: list[Delivery] = []
        self.ids = itertools.count(1)
        self.generation = 0  # a reset stops pending retries of the previous world
        self.http = requests.Session()

    # --- subscriptions ------------------------------------------------------------------------

    def subscribe(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body:
            with self.lock:
                self.subs = _Subscriptions()
            return self.subscriptions()
        unknown = set(body) - {ZOOM, HUBSPOT}
        if unknown:
            raise SubscribeError(f"unknown service {sorted(unknown)[0]!r}: zoom or hubspot")
        zoom = body.get(ZOOM)
        hubspot = body.get(HUBSPOT)
        if zoom is not None:
            url, secret = _sub_fields(zoom, ZOOM, "secret_token")
            self._zoom_validate(url, secret)
            with self.lock:
                self.subs.zoom_url, self.subs.zoom_secret = url, secret
        if hubspot is not None:
            url, secret = _sub_fields(hubspot, HUBSPOT, "client_secret")
            with self.lock:
                self.subs.hubspot_url, self.subs.hubspot_secret = url, secret
        return self.subscriptions()

    def subscriptions(self) -> dict[str, Any]:
        subs = self.subs
        return {
            "zoom": {"url": subs.zoom_url} if subs.zoom_url else None,
            "hubspot": {"url": subs.hubspot_url} if subs.hubspot_url else None,
        }

    def _zoom_validate(self, url: str, secret: str) -> None:
        """Zoom's endpoint.url_validation: the answer must carry the HMAC of the plain token."""
        plain = base64.urlsafe_b64encode(hashlib.sha256(str(time.time()).encode()).digest())[:22]
        event = {"payload": {"plainToken": plain.decode()}, "event_ts": int(time.time() * 1000),
                 "event": "endpoint.url_validation"}
        body = json.dumps(event, separators=(",", ":")).encode()
        try:
            response = self.http.post(url, data=body, headers=zoom_headers(secret, body), timeout=10)
        except requests.RequestException as exc:
            raise SubscribeError(f"Zoom URL validation: no answer from {url}: {exc}") from exc
        expected = hmac.new(secret.encode(), plain, hashlib.sha256).hexdigest()
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if (
            response.status_code != 200
            or not isinstance(answer, dict)
            or answer.get("plainToken") != plain.decode()
            or answer.get("encryptedToken") != expected
        ):
            raise SubscribeError(
                f"Zoom URL validation failed: {url} answered {response.status_code} "
                f"{response.text[:200]!r}, not the plain token and its HMAC"
            )

    # --- deliveries ---------------------------------------------------------------------------

    def send_zoom(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One request per event, in order (or shuffled); nothing when Zoom is not subscribed."""
        subs = self.subs
        if not subs.zoom_url:
            return []
        events = list(events)
        if knobs().webhook_shuffle:
            rng_shuffle(events)
        results = []
        for event in events:
            body = json.dumps(event, separators=(",", ":")).encode()
            results += self._send(ZOOM, [event["event"]], event, body, subs.zoom_url, subs.zoom_secret)
        return results

    def send_hubspot(self, events: list[dict[str, Any]], *, app_target: tuple[str, str, set[str]] | None = None
                     ) -> list[dict[str, Any]]:
        """One request with the events as a JSON array (HubSpot batches up to 100). Without a
        control-API subscription, the app's webhooks v3 settings (target URL, active
        subscriptions) decide, as in HubSpot."""
        subs = self.subs
        url, secret = subs.hubspot_url, subs.hubspot_secret
        if not url and app_target is not None:
            url, secret = app_target[0], app_target[1]
            events = [e for e in events if e["subscriptionType"] in app_target[2]]
        if not url or not events:
            return []
        events = list(events)
        if knobs().webhook_shuffle:
            rng_shuffle(events)
        body = json.dumps(events, separators=(",", ":")).encode()
        names = [e["subscriptionType"] for e in events]
        return self._send(HUBSPOT, names, events, body, url, secret)

    def _send(self, service: str, names: list[str], payload: Any, body: bytes, url: str,
              secret: str) -> list[dict[str, Any]]:
        copies = 2 if knobs().webhook_duplicate_rate and rng_random() < knobs().webhook_duplicate_rate else 1
        results = []
        for copy in range(copies):
            with self.lock:
                delivery = Delivery(id=next(self.ids), service=service, events=names, payload=payload,
                                    body=body, url=url, duplicate=copy > 0)
                self.deliveries.append(delivery)
                generation = self.generation
            delay_ms = knobs().webhook_delay_ms
            if delay_ms:
                time.sleep(delay_ms / 1000)
            ok = self._attempt(delivery, secret)
            if not ok:
                self._retry_later(delivery, secret, generation, list(knobs().webhook_retry_delays_s))
            last = delivery.attempts[-1]
            results += [{"service": service, "event": e, "status": last["status"], "ms": last["ms"]}
                        for e in names]
        return results

    def _attempt(self, delivery: Delivery, secret: str) -> bool:
        if delivery.service == ZOOM:
            headers = zoom_headers(secret, delivery.body)
        else:
            headers = hubspot_headers(secret, delivery.url, delivery.body)
        started = time.monotonic()
        try:
            response = self.http.post(delivery.url, data=delivery.body, headers=headers,
                                      timeout=DELIVERY_TIMEOUT_S)
            status: int | None = response.status_code
        except requests.RequestException:
            status = None  # no answer: the provider retries as for an error
        ms = int((time.monotonic() - started) * 1000)
        with self.lock:
            delivery.attempts.append({"status": status, "ms": ms, "at": time.time()})
        return status is not None and 200 <= status < 300

    def _retry_later(self, delivery: Delivery, secret: str, generation: int, delays: list[float]) -> None:
        if not delays:
            return

        def retry() -> None:
            if self.generation != generation:
                return
            if not self._attempt(delivery, secret):
                self._retry_later(delivery, secret, generation, delays[1:])

        timer = threading.Timer(delays[0], retry)
        timer.daemon = True
        timer.start()

    # --- log ----------------------------------------------------------------------------------

    def log(self) -> dict[str, Any]:
        with self.lock:
            return {"subscriptions": self.subscriptions(),
                    "deliveries": [d.as_dict() for d in self.deliveries]}

    def reset(self) -> None:
        with self.lock:
            self.subs = _Subscriptions()
            self.deliveries = []
            self.generation += 1


def _sub_fields(value: Any, service: str, secret_key: str) -> tuple[str, str]:
    if not isinstance(value, dict):
        raise SubscribeError(f"{service}: an object with url and {secret_key}")
    url, secret = value.get("url"), value.get(secret_key)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise SubscribeError(f"{service}.url: an http(s) URL")
    if not isinstance(secret, str) or not secret:
        raise SubscribeError(f"{service}.{secret_key}: a non-empty string")
    return url, secret


def zoom_signature(secret: str, timestamp: str, body: bytes) -> str:
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def zoom_headers(secret: str, body: bytes, *, timestamp: str | None = None) -> dict[str, str]:
    ts = timestamp if timestamp is not None else str(int(time.time()))
    return {"Content-Type": "application/json; charset=utf-8", "x-zm-request-timestamp": ts,
            "x-zm-signature": zoom_signature(secret, ts, body), "User-Agent": "Zoom Marketplace/1.0a"}


def hubspot_signature_v3(secret: str, url: str, body: bytes, timestamp: str, method: str = "POST") -> str:
    message = method.encode() + url.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def hubspot_headers(secret: str, url: str, body: bytes, *, timestamp: str | None = None) -> dict[str, str]:
    ts = timestamp if timestamp is not None else str(int(time.time() * 1000))
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Request-Timestamp": ts,
        "X-HubSpot-Signature-v3": hubspot_signature_v3(secret, url, body, ts),
        "X-HubSpot-Signature": hashlib.sha256(secret.encode() + body).hexdigest(),
        "X-HubSpot-Signature-Version": "v1",
        "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/)",
    }


_hub = WebhookHub()


def webhook_hub() -> WebhookHub:
    return _hub
