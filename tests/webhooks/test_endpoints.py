"""The two webhook endpoints (INTERFACES.md §9): signatures checked on the raw body before
parsing, 401 and nothing stored when bad, url_validation, stored once, answered at once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from connector.models import WebhookEvent, ZoomAccount
from sandbox.webhooks import hubspot_headers, zoom_headers
from tests.webhooks.conftest import HUBSPOT_SECRET, ZOOM_SECRET

pytestmark = pytest.mark.django_db


def _zoom_event(account_id: str = "zacc_main", name: str = "webinar.registration_created") -> bytes:
    event = {"event": name, "event_ts": int(time.time() * 1000), "payload": {
        "account_id": account_id, "object": {"id": 81000000001, "uuid": "u", "host_id": "h", "topic": "t",
                                              "type": 5, "start_time": "2026-10-01T15:00:00Z", "duration": 60,
                                              "timezone": "UTC", "registrant": {"id": "r1", "email": "a@b.example"}}}}
    return json.dumps(event).encode()


@pytest.fixture
def zoom_account(portal):
    # A disconnected account: events are stored but no sync is attempted.
    return ZoomAccount.objects.create(portal=portal, account_id="zacc_main", status="broken")


def _post_zoom(client, body: bytes, headers: dict[str, str]):
    return client.post("/webhooks/zoom", data=body, content_type="application/json",
                       headers={k: v for k, v in headers.items() if k.lower() != "content-type"})


def _post_hubspot(client, body: bytes, headers: dict[str, str]):
    return client.post("/webhooks/hubspot", data=body, content_type="application/json",
                       headers={k: v for k, v in headers.items() if k.lower() != "content-type"})


def test_zoom_good_signature_is_stored_once_and_answered(client, webhook_settings, zoom_account):
    body = _zoom_event()
    headers = zoom_headers(ZOOM_SECRET, body)
    answer = _post_zoom(client, body, headers)
    assert answer.status_code == 200 and answer.json() == {"stored": 1, "duplicates": 0}
    row = WebhookEvent.objects.get()
    assert (row.provider, row.event_type, row.portal_id, row.subject) == ("zoom", "webinar.registration_created",
                                                                          zoom_account.portal_id, "81000000001")
    assert row.raw_body == body.decode()
    # The same delivery again (a provider retry, or a replay inside the window): stored once.
    again = _post_zoom(client, body, headers)
    assert again.status_code == 200 and again.json() == {"stored": 0, "duplicates": 1}
    assert WebhookEvent.objects.count() == 1


@pytest.mark.parametrize("case", ["bad", "stale", "future", "missing", "tampered", "no_secret"])
def test_zoom_bad_signature_401_and_nothing_stored(client, webhook_settings, zoom_account, case):
    body = _zoom_event()
    headers = zoom_headers(ZOOM_SECRET, body)
    if case == "bad":
        headers = zoom_headers("another-secret", body)
    elif case == "stale":
        headers = zoom_headers(ZOOM_SECRET, body, timestamp=str(int(time.time()) - 301))
    elif case == "future":
        headers = zoom_headers(ZOOM_SECRET, body, timestamp=str(int(time.time()) + 3600))
    elif case == "missing":
        headers = {}
    elif case == "tampered":
        body = body.replace(b"a@b.example", b"x@b.example")
    elif case == "no_secret":
        webhook_settings.ZOOM_WEBHOOK_SECRET_TOKEN = ""
    answer = _post_zoom(client, body, headers)
    assert answer.status_code == 401
    assert WebhookEvent.objects.count() == 0


def test_zoom_url_validation(client, webhook_settings):
    body = json.dumps({"payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}, "event_ts": 1654503849680,
                       "event": "endpoint.url_validation"}).encode()
    answer = _post_zoom(client, body, zoom_headers(ZOOM_SECRET, body))
    expected = hmac.new(ZOOM_SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert answer.status_code == 200
    assert answer.json() == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}
    # Unsigned, it is refused like any other event.
    assert _post_zoom(client, body, {}).status_code == 401
    assert WebhookEvent.objects.count() == 0


def test_zoom_unknown_account_is_logged_not_processed(client, webhook_settings, portal):
    body = _zoom_event(account_id="nobody")
    assert _post_zoom(client, body, zoom_headers(ZOOM_SECRET, body)).json() == {"stored": 0, "duplicates": 0}
    row = WebhookEvent.objects.get()
    assert row.status == "ignored" and row.portal is None


def _hub_events(portal_id: int = 62515, **extra) -> bytes:
    return json.dumps([{"objectId": 501, "changeSource": "CRM_UI", "eventId": 77, "subscriptionId": 801,
                        "portalId": portal_id, "appId": 1, "occurredAt": int(time.time() * 1000),
                        "subscriptionType": "contact.deletion", "attemptNumber": 0, **extra}]).encode()


def test_hubspot_good_signature_over_public_url_is_stored_once(client, webhook_settings, portal,
                                                               django_capture_on_commit_callbacks):
    body = _hub_events()
    url = f"{webhook_settings.ZOOMSYNC_PUBLIC_URL}/webhooks/hubspot"
    headers = hubspot_headers(HUBSPOT_SECRET, url, body)
    with django_capture_on_commit_callbacks(execute=True):
        answer = _post_hubspot(client, body, headers)
    assert answer.status_code == 200 and answer.json()["stored"] == 1
    row = WebhookEvent.objects.get()
    assert (row.provider, row.event_type, row.subject, row.portal_id) == ("hubspot", "contact.deletion", "501", portal.pk)
    assert row.status == "processed"
    assert _post_hubspot(client, body, headers).json() == {"stored": 0, "duplicates": 1}


@pytest.mark.parametrize("case", ["bad", "stale", "missing", "other_url", "v1_only", "tampered"])
def test_hubspot_bad_signature_401_and_nothing_stored(client, webhook_settings, portal, case):
    body = _hub_events()
    url = f"{webhook_settings.ZOOMSYNC_PUBLIC_URL}/webhooks/hubspot"
    headers = hubspot_headers(HUBSPOT_SECRET, url, body)
    if case == "bad":
        headers = hubspot_headers("nope", url, body)
    elif case == "stale":
        headers = hubspot_headers(HUBSPOT_SECRET, url, body, timestamp=str(int(time.time() * 1000) - 301_000))
    elif case == "missing":
        headers = {}
    elif case == "other_url":
        headers = hubspot_headers(HUBSPOT_SECRET, "https://evil.example/webhooks/hubspot", body)
    elif case == "v1_only":
        headers = {k: v for k, v in headers.items() if "v3" not in k}
    elif case == "tampered":
        body = body.replace(b"501", b"502")
    answer = _post_hubspot(client, body, headers)
    assert answer.status_code == 401
    assert WebhookEvent.objects.count() == 0


def test_signed_but_malformed_bodies_are_400_and_not_stored(client, webhook_settings, portal):
    url = f"{webhook_settings.ZOOMSYNC_PUBLIC_URL}/webhooks/hubspot"
    for body in (b"[{\"objectId\": NaN}]", b"{\"not\": \"an array\"}", b"\xff\xfe", b"[\"\\ud800\"]",
                 b"[{\"subscriptionType\": \"contact.deletion\", \"objectId\": \"\\udc00\"}]"):
        assert _post_hubspot(client, body, hubspot_headers(HUBSPOT_SECRET, url, body)).status_code == 400, body
        assert _post_zoom(client, body, zoom_headers(ZOOM_SECRET, body)).status_code == 400, body
    assert WebhookEvent.objects.count() == 0
    assert client.get("/webhooks/zoom").status_code == 405
