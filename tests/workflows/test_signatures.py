"""HubSpot request signatures: the six official SDK vectors, the derived ones, the window."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from connector.webhooks.signatures import v3_uri_decode
from workflows.signatures import (
    MAX_AGE_MS,
    MAX_FUTURE_SKEW_MS,
    public_uri_for,
    request_signature_verify,
    signature_v1_compute,
    signature_v2_compute,
    signature_v3_compute,
)

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URI = "https://www.example.com/webhook_uri"
SINGLE_QUOTED = b"{'example_field':'example_value'}"
DOUBLE_QUOTED = b'{"example_field":"example_value"}'
TS = "1693657560000"


# --- the six official vectors (research/hubspot-api.md §7.1) -------------------------


def test_official_vector_v3_python_sdk():
    assert (
        signature_v3_compute(client_secret=SECRET, method="POST", uri=URI, body=SINGLE_QUOTED, timestamp=TS)
        == "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
    )


def test_official_vector_v2_post_single_quoted():
    assert (
        signature_v2_compute(client_secret=SECRET, method="POST", uri=URI, body=SINGLE_QUOTED)
        == "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
    )


def test_official_vector_v2_get_empty_body():
    assert (
        signature_v2_compute(client_secret=SECRET, method="GET", uri=URI, body=b"")
        == "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
    )


def test_official_vector_v2_post_double_quoted():
    assert (
        signature_v2_compute(client_secret=SECRET, method="POST", uri=URI, body=DOUBLE_QUOTED)
        == "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
    )


def test_official_vector_v1_single_quoted():
    assert (
        signature_v1_compute(client_secret=SECRET, body=SINGLE_QUOTED)
        == "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"
    )


def test_official_vector_v1_webhook_batch():
    body = (
        b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
        b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM",'
        b'"changeFlag":"NEW","appId":54321}]'
    )
    assert (
        signature_v1_compute(client_secret=SECRET, body=body)
        == "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
    )


# --- derived vectors ------------------------------------------------------------------


def test_derived_vector_v3_double_quoted_body():
    assert (
        signature_v3_compute(client_secret=SECRET, method="POST", uri=URI, body=DOUBLE_QUOTED, timestamp=TS)
        == "oaA3M5dEtt6kFsseJD/Hv/x+JNl1vsoxFj4oxmwP6Go="
    )


def test_derived_vector_v3_uri_is_decoded_per_table():
    raw_uri = "https://www.example.com/webhook_uri?email=jane%40example.com&note=a%20b"
    assert v3_uri_decode(raw_uri) == "https://www.example.com/webhook_uri?email=jane@example.com&note=a%20b"
    got = signature_v3_compute(
        client_secret=SECRET, method="POST", uri=raw_uri, body=b'{"callbackId":"ap-1-2-3-0"}', timestamp=TS
    )
    assert got == "6PT6WUsmlvVH/Hr2Zd3a+yqPjg9Rh9V4tz04TcxcJPU="
    assert got != "POkCIx5qASyH5i+vMmJdu2raGQNf+A93WcRUaZKDx3E="  # signed over the raw URI: wrong


def test_v3_uri_decode_table_only():
    encoded = "%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B"
    assert v3_uri_decode(encoded) == ":/?@!$'()*,;"
    assert v3_uri_decode(encoded.lower()) == ":/?@!$'()*,;"
    # Not in the table: stays encoded.
    assert v3_uri_decode("%20%26%3D%25") == "%20%26%3D%25"


# --- request verification ---------------------------------------------------------------

PATH = "/workflows/add-to-zoom-webinar"
PUBLIC = "https://zoomsync.example.com"
NOW = 1_700_000_000_000


def _signed_v3(rf, body: bytes, *, ts: int = NOW, path: str = PATH, secret: str = SECRET, public: str = PUBLIC):
    sig = signature_v3_compute(client_secret=secret, method="POST", uri=public + path, body=body, timestamp=str(ts))
    return rf.post(
        path,
        data=body,
        content_type="application/json",
        HTTP_X_HUBSPOT_SIGNATURE_V3=sig,
        HTTP_X_HUBSPOT_REQUEST_TIMESTAMP=str(ts),
    )


@pytest.fixture
def rf():
    return RequestFactory()


@override_settings(ZOOMSYNC_PUBLIC_URL=PUBLIC, HUBSPOT_CLIENT_SECRET=SECRET)
def test_v3_valid_request_accepted(rf):
    body = b'{"callbackId":"ap-1"}'
    check = request_signature_verify(request=_signed_v3(rf, body), body=body, now_ms=NOW + 1000)
    assert check.valid and check.version == "v3"


@override_settings(ZOOMSYNC_PUBLIC_URL=PUBLIC, HUBSPOT_CLIENT_SECRET=SECRET)
def test_v3_tampered_body_rejected(rf):
    body = b'{"callbackId":"ap-1"}'
    request = _signed_v3(rf, body)
    check = request_signature_verify(request=request, body=b'{"callbackId":"ap-2"}', now_ms=NOW)
    assert not check.valid and check.reason == "signature mismatch"


@override_settings(ZOOMSYNC_PUBLIC_URL=PUBLIC, HUBSPOT_CLIENT_SECRET=SECRET)
def test_v3_replay_older_than_five_minutes_rejected(rf):
    body = b"{}"
    request = _signed_v3(rf, body)
    assert request_signature_verify(request=request, body=body, now_ms=NOW + MAX_AGE_MS).valid
    check = request_signature_verify(request=request, body=body, now_ms=NOW + MAX_AGE_MS + 1)
    assert not check.valid and "older" in check.reason


@override_settings(ZOOMSYNC_PUBLIC_URL=PUBLIC, HUBSPOT_CLIENT_SECRET=SECRET)
def test_v3_clock_skew_small_future_accepted_far_future_rejected(rf):
    body = b"{}"
    request = _signed_v3(rf, body)
    assert request_signature_verify(request=request, body=body, now_ms=NOW - MAX_FUTURE_SKEW_MS).valid
    check = request_signature_verify(request=request, body=body, now_ms=NOW - MAX_FUTURE_SKEW_MS - 1)
    assert not check.valid and "future" in check.reason


@override_settings(ZOOMSYNC_PUBLIC_URL=PUBLIC, HUBSPOT_CLIENT_SECRET=SECRET)
def test_v3_timestamp_is_signed_as_sent(rf):
    """A float-looking or altered timestamp cannot reuse a signature (PY #263)."""
    body = b"{}"
    sig = signature_v3_compute(client_secret=SECRET, method="POST", uri=PUBLIC + PATH, body=body, timestamp=str(NOW))

    def sent_with(timestamp: str):
        return rf.post(
            PATH, data=body, content_type="application/json",
            HTTP_X_HUBSPOT_SIGNATURE_V3=sig, HTTP_X_HUBSPOT_REQUEST_TIMESTAMP=timestamp,
        )

    assert request_signature_verify(request=sent_with(str(NOW)), body=body, now_ms=NOW).valid
    assert not request_signature_verify(request=sent_with(str(NOW + 1)), body=body, now_ms=NOW).valid
    check = request_signature_verify(request=sent_with(f"{NOW}.0"), body=body, now_ms=NOW)
    assert not check.valid and "malformed" in check.reason
    check = request_signature_verify(request=sent_with(""), body=body, now_ms=NOW)
    assert not check.valid and "malformed" in check.reason


@override_settings(ZOOMSYNC_PUBLIC_URL=PUBLIC, HUBSPOT_CLIENT_SECRET=SECRET)
def test_v3_signed_for_another_host_rejected(rf):
    body = b"{}"
    request = _signed_v3(rf, body, public="https://attacker.example")
    assert not request_signature_verify(request=request, body=body, now_ms=NOW).valid


@override_settings(ZOOMSYNC_PUBLIC_URL=PUBLIC, HUBSPOT_CLIENT_SECRET=SECRET)
def test_v3_wrong_secret_rejected(rf):
    body = b"{}"
    request = _signed_v3(rf, body, secret="another-secret")
    assert not request_signature_verify(request=request, body=body, now_ms=NOW).valid


@override_settings(ZOOMSYNC_PUBLIC_URL=PUBLIC, HUBSPOT_CLIENT_SECRET=SECRET)
def test_v3_query_string_decoded_as_hubspot_does(rf):
    """HubSpot signs the URI after decoding %40 etc.; Django keeps the raw query string."""
    body = b'{"callbackId":"ap-1-2-3-0"}'
    path = PATH + "?email=jane%40example.com&note=a%20b"
    request = _signed_v3(rf, body, path=path)
    assert public_uri_for(request) == PUBLIC + path
    assert request_signature_verify(request=request, body=body, now_ms=NOW).valid


@override_settings(ZOOMSYNC_PUBLIC_URL=PUBLIC + "/zoomsync", HUBSPOT_CLIENT_SECRET=SECRET)
def test_public_url_with_path_prefix_not_doubled(rf):
    request = rf.post("/zoomsync" + PATH)
    assert public_uri_for(request) == PUBLIC + "/zoomsync" + PATH
    assert public_uri_for(rf.post(PATH)) == PUBLIC + "/zoomsync" + PATH


@override_settings(ZOOMSYNC_PUBLIC_URL=PUBLIC, HUBSPOT_CLIENT_SECRET=SECRET)
def test_v2_accepted_without_v3_header(rf):
    body = b'{"callbackId":"ap-1"}'
    sig = signature_v2_compute(client_secret=SECRET, method="POST", uri=PUBLIC + PATH, body=body)
    request = rf.post(
        PATH, data=body, content_type="application/json",
        HTTP_X_HUBSPOT_SIGNATURE=sig, HTTP_X_HUBSPOT_SIGNATURE_VERSION="v2",
    )
    check = request_signature_verify(request=request, body=body)
    assert check.valid and check.version == "v2"
    # Upper-case hex is the same signature.
    request.META["HTTP_X_HUBSPOT_SIGNATURE"] = sig.upper()
    assert request_signature_verify(request=request, body=body).valid


@override_settings(ZOOMSYNC_PUBLIC_URL=PUBLIC, HUBSPOT_CLIENT_SECRET=SECRET)
def test_v2_not_used_when_v3_header_present(rf):
    """A valid v2 next to a stale/bad v3 does not pass: v3, when sent, decides."""
    body = b"{}"
    v2 = signature_v2_compute(client_secret=SECRET, method="POST", uri=PUBLIC + PATH, body=body)
    request = rf.post(
        PATH, data=body, content_type="application/json",
        HTTP_X_HUBSPOT_SIGNATURE=v2, HTTP_X_HUBSPOT_SIGNATURE_V3="A" * 43 + "=",
        HTTP_X_HUBSPOT_REQUEST_TIMESTAMP=str(NOW),
    )
    assert not request_signature_verify(request=request, body=body, now_ms=NOW).valid


@override_settings(ZOOMSYNC_PUBLIC_URL=PUBLIC, HUBSPOT_CLIENT_SECRET=SECRET)
def test_v1_never_accepted(rf):
    body = b"{}"
    v1 = signature_v1_compute(client_secret=SECRET, body=body)
    request = rf.post(
        PATH, data=body, content_type="application/json",
        HTTP_X_HUBSPOT_SIGNATURE=v1, HTTP_X_HUBSPOT_SIGNATURE_VERSION="v1",
    )
    assert not request_signature_verify(request=request, body=body).valid


@override_settings(ZOOMSYNC_PUBLIC_URL=PUBLIC, HUBSPOT_CLIENT_SECRET=SECRET)
def test_unsigned_rejected(rf):
    check = request_signature_verify(request=rf.post(PATH, data=b"{}", content_type="application/json"), body=b"{}")
    assert not check.valid and check.reason == "no signature header"


@override_settings(ZOOMSYNC_PUBLIC_URL=PUBLIC, HUBSPOT_CLIENT_SECRET="")
def test_without_client_secret_everything_rejected(rf):
    body = b"{}"
    request = _signed_v3(rf, body, secret="")
    check = request_signature_verify(request=request, body=body, now_ms=NOW)
    assert not check.valid and "not configured" in check.reason
