"""Property-based fuzzing of both webhook endpoints (INTERFACES.md §9).

Whatever the body (random bytes, JSON of any shape, NaN, lone surrogates, huge), the content
type and the headers (signed, signed with another secret, stale, missing, garbage):
  * never a 5xx;
  * not validly signed: 401 and nothing stored;
  * validly signed: never a 401 (stored, or a clear 400).
Stored events are processed too (on commit), which must not fail either.
"""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.models import WebhookEvent, ZoomAccount
from connector.request_body import API_BODY_LIMIT
from sandbox.webhooks import hubspot_headers, zoom_headers
from tests.webhooks.conftest import HUBSPOT_SECRET, ZOOM_SECRET

pytestmark = pytest.mark.django_db

PUBLIC = "http://zoomsync.test"
LEAF = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
        | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
JSON_VALUE = st.recursive(LEAF, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=4),
                          max_leaves=12)
ZOOM_EVENTS = st.fixed_dictionaries({
    "event": st.sampled_from(["webinar.registration_created", "webinar.ended", "app_deauthorized",
                              "endpoint.url_validation", "recording.completed", "x"]) | st.text(max_size=10),
    "event_ts": st.integers() | JSON_VALUE,
    "payload": st.fixed_dictionaries({"account_id": st.sampled_from(["zacc_fuzz", ""]) | JSON_VALUE,
                                      "object": JSON_VALUE, "plainToken": st.text(max_size=30) | JSON_VALUE}) | JSON_VALUE,
})
HUB_EVENT = st.fixed_dictionaries({
    "objectId": st.integers(min_value=-5, max_value=2**70) | JSON_VALUE,
    "portalId": st.sampled_from([62515, 1]) | st.integers() | JSON_VALUE,
    "eventId": st.integers() | JSON_VALUE,
    "occurredAt": st.integers() | JSON_VALUE,
    "subscriptionType": st.sampled_from(["contact.deletion", "contact.merge", "contact.privacyDeletion"]) | JSON_VALUE,
    "mergedObjectIds": st.lists(st.integers() | JSON_VALUE, max_size=3) | JSON_VALUE,
    "primaryObjectId": st.integers() | JSON_VALUE,
})
RAW_TRICKS = st.sampled_from([
    b"", b"null", b"[]", b"{}", b"[NaN]", b"{\"event\": Infinity}", b"[\"\\ud800\"]", b"{\"\\udfff\": 1}",
    b"\xff\xfe\x00", b"[" * 5000 + b"]" * 5000, b"{\"event\":\"endpoint.url_validation\",\"payload\":{}}",
    b"[{\"subscriptionType\":\"contact.deletion\",\"objectId\":\"\\ud83d\",\"portalId\":62515}]",
    b"x" * (3 * 1024 * 1024),
])
BODIES = st.one_of(
    RAW_TRICKS,
    st.binary(max_size=300),
    JSON_VALUE.map(lambda v: json.dumps(v).encode()),
    ZOOM_EVENTS.map(lambda v: json.dumps(v).encode()),
    st.lists(HUB_EVENT, max_size=5).map(lambda v: json.dumps(v).encode()),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
SIGNING = st.sampled_from(["good", "good", "good", "other_secret", "stale", "none", "garbage"])
CONTENT_TYPES = st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                 "multipart/form-data; boundary=x", "", "application/octet-stream"])


def _headers(provider: str, signing: str, body: bytes, garbage: str) -> dict[str, str]:
    url = f"{PUBLIC}/webhooks/hubspot"
    if signing == "none":
        return {}
    if signing == "garbage":
        return {"x-zm-signature": garbage, "x-zm-request-timestamp": garbage,
                "X-HubSpot-Signature-v3": garbage, "X-HubSpot-Request-Timestamp": garbage}
    secret = {"zoom": ZOOM_SECRET, "hubspot": HUBSPOT_SECRET}[provider] if signing != "other_secret" else "nope"
    if provider == "zoom":
        ts = str(int(time.time()) - (400 if signing == "stale" else 0))
        return zoom_headers(secret, body, timestamp=ts)
    ts = str(int(time.time() * 1000) - (400_000 if signing == "stale" else 0))
    return hubspot_headers(secret, url, body, timestamp=ts)


@pytest.fixture
def fuzz_world(portal, settings):
    # Set once per test (not per example: each assignment stacks an override).
    settings.ZOOM_WEBHOOK_SECRET_TOKEN = ZOOM_SECRET
    settings.HUBSPOT_CLIENT_SECRET = HUBSPOT_SECRET
    settings.ZOOMSYNC_PUBLIC_URL = PUBLIC
    ZoomAccount.objects.create(portal=portal, account_id="zacc_fuzz", status="broken")
    return portal


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(provider=st.sampled_from(["zoom", "hubspot"]), body=BODIES, signing=SIGNING, content_type=CONTENT_TYPES,
       garbage=st.text(max_size=80))
def test_fuzz_never_5xx_never_an_unsigned_event_stored(client, fuzz_world, django_capture_on_commit_callbacks,
                                                       provider, body, signing, content_type, garbage):
    headers = {k: v for k, v in _headers(provider, signing, body, garbage).items() if k.lower() != "content-type"}
    headers = {k: v.encode("utf-8", "replace").decode("latin-1") for k, v in headers.items()}
    before = WebhookEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/webhooks/{provider}", data=body, content_type=content_type, headers=headers)
    assert answer.status_code < 500
    signed = signing == "good"
    if len(body) > API_BODY_LIMIT:
        # Refused before the body is read (signed or not): a clear 413, nothing stored.
        assert answer.status_code == 413
        assert WebhookEvent.objects.count() == before
    elif not signed:
        assert answer.status_code == 401
        assert WebhookEvent.objects.count() == before
    else:
        assert answer.status_code != 401
        if answer.status_code != 200:
            assert WebhookEvent.objects.count() == before
    assert not WebhookEvent.objects.filter(status="dead").exists()
