"""Property-based fuzzing of the workflow action endpoint (2,000 generated requests).

Properties, whatever the body and headers:
  * never a 5xx;
  * without a valid HubSpot signature: 401, no ActionExecution written, no Zoom call;
  * with a valid signature (v3 or v2, as HubSpot builds it): never a 401.
Zoom is mocked with `responses` (a webinar that accepts registrations), so a validly signed,
well-formed request really registers: the invariants are checked against that.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.workflows.conftest import ACTION_PATH, HUB_ID, PUBLIC_URL, SECRET, ZOOM_BASE
from workflows.models import ActionExecution
from workflows.signatures import signature_v1_compute, signature_v2_compute, signature_v3_compute

JSON_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
WEBINAR_IDS = st.one_of(
    st.sampled_from(["81000000001", "810 0000 0001", "810-0000-0001", " 81000000001 ", "8100000000１", "0" * 11]),
    st.text(alphabet="0123456789 -\u2013\u00a0x.", max_size=22),
    st.text(max_size=25),
    st.integers(),
    JSON_VALUE,
)
EMAILS = st.one_of(
    st.sampled_from(["jane@example.com", "HOST@acme.com", "alt1@acme.com", "admin@acme.com", "", " "]),
    st.emails(),
    st.text(max_size=40),
    JSON_VALUE,
)
NAMES = st.one_of(st.sampled_from(["Jane", "Doe", "", "  "]), st.text(max_size=80), JSON_VALUE)
PLAUSIBLE = st.fixed_dictionaries(
    {
        "callbackId": st.one_of(
            st.text(min_size=1, max_size=60), st.text(min_size=1, max_size=60), st.integers(), JSON_VALUE
        ),
        "origin": st.one_of(
            st.just({"portalId": HUB_ID}),
            st.just({"portalId": HUB_ID}),
            st.fixed_dictionaries(
                {"portalId": st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.text(max_size=12))}
            ),
            JSON_VALUE,
        ),
        "object": st.one_of(
            st.fixed_dictionaries(
                {"objectId": JSON_LEAF, "properties": st.fixed_dictionaries({"email": EMAILS, "firstname": NAMES, "lastname": NAMES})}
            ),
            JSON_VALUE,
        ),
        "inputFields": st.one_of(st.fixed_dictionaries({"webinarId": WEBINAR_IDS}), JSON_VALUE),
    },
    optional={"context": JSON_VALUE},
)
BODIES = st.one_of(
    PLAUSIBLE.map(lambda d: json.dumps(d).encode()),
    PLAUSIBLE.map(lambda d: json.dumps(d).encode()),  # weighted: most bodies look like HubSpot's
    JSON_VALUE.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
)
# Signature situations: only "v3" and "v2" are valid.
MODES = st.sampled_from(
    [
        "none", "v3", "v2", "v3", "v2",
        "v3_garbage", "v2_garbage", "v3_tampered", "v2_tampered", "v3_stale", "v3_future",
        "v3_bad_timestamp", "v3_wrong_secret", "v2_wrong_secret", "v1", "v2_next_to_bad_v3",
        "v3_other_path", "v2_wrong_version",
    ]
)
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=80)
QUERY = st.one_of(
    st.just(""),
    st.text(alphabet="abcxyz=&-_.~0123456789", max_size=20),
    st.sampled_from(["a=%40b", "x=%3A%2F%3F", "n=a%20b&m=%26"]),
)


def build_headers(mode: str, raw: bytes, uri: str, data) -> dict[str, str]:
    now = int(time.time() * 1000)
    ts = str(now)

    def v3(body=raw, *, at=ts, secret=SECRET, signed_uri=uri):
        return {
            "HTTP_X_HUBSPOT_SIGNATURE_V3": signature_v3_compute(
                client_secret=secret, method="POST", uri=signed_uri, body=body, timestamp=at
            ),
            "HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": at,
        }

    def v2(body=raw, *, secret=SECRET, version="v2"):
        return {
            "HTTP_X_HUBSPOT_SIGNATURE": signature_v2_compute(client_secret=secret, method="POST", uri=uri, body=body),
            "HTTP_X_HUBSPOT_SIGNATURE_VERSION": version,
        }

    if mode == "none":
        return {}
    if mode == "v3":
        return v3()
    if mode == "v2":
        return v2()
    if mode == "v3_garbage":
        return {"HTTP_X_HUBSPOT_SIGNATURE_V3": data.draw(HEADER_TEXT), "HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": data.draw(st.one_of(st.just(ts), HEADER_TEXT))}
    if mode == "v2_garbage":
        return {"HTTP_X_HUBSPOT_SIGNATURE": data.draw(HEADER_TEXT)}
    if mode == "v3_tampered":
        return v3(raw + b" ")
    if mode == "v2_tampered":
        return v2(b"x" + raw)
    if mode == "v3_stale":
        return v3(at=str(now - 5 * 60 * 1000 - data.draw(st.integers(min_value=1000, max_value=10**9))))
    if mode == "v3_future":
        return v3(at=str(now + 60 * 1000 + data.draw(st.integers(min_value=0, max_value=10**9))))
    if mode == "v3_bad_timestamp":
        headers = v3()
        headers["HTTP_X_HUBSPOT_REQUEST_TIMESTAMP"] = data.draw(st.sampled_from([f"{ts}.0", f" {ts}", "", "abc", "-1", ts + "0"]))
        return headers
    if mode == "v3_wrong_secret":
        return v3(secret=data.draw(st.text(min_size=0, max_size=20).filter(lambda s: s != SECRET)))
    if mode == "v2_wrong_secret":
        return v2(secret="not-" + SECRET)
    if mode == "v1":
        return {
            "HTTP_X_HUBSPOT_SIGNATURE": signature_v1_compute(client_secret=SECRET, body=raw),
            "HTTP_X_HUBSPOT_SIGNATURE_VERSION": "v1",
        }
    if mode == "v2_next_to_bad_v3":
        return {**v2(), "HTTP_X_HUBSPOT_SIGNATURE_V3": "A" * 43 + "=", "HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": ts}
    if mode == "v3_other_path":
        return v3(signed_uri=PUBLIC_URL + "/workflows/other")
    if mode == "v2_wrong_version":
        return v2(version=data.draw(st.sampled_from(["v1", "v3", "V2x", ""])))
    raise AssertionError(mode)


@pytest.fixture
def zoom_mock(zoom_account, monkeypatch):
    """A Zoom that accepts every registration; no client-side rate limiting in the fuzz."""
    from connector.clients import factories

    original = factories.zoom_client_for
    monkeypatch.setattr(
        "workflows.services.registration.zoom_client_for",
        lambda account, **kw: original(account, **{**kw, "limiter": None}),
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(
            re.compile(re.escape(ZOOM_BASE) + r"/webinars/\d+$"),
            json={"id": 81000000001, "host_email": "host@acme.com", "join_url": "https://zoom.us/j/1",
                  "settings": {"approval_type": 0, "alternative_hosts": "alt1@acme.com"}},
        )
        rsps.get(re.compile(re.escape(ZOOM_BASE) + r"/webinars/\d+/registrants/questions$"), json={"questions": []})
        rsps.post(
            re.compile(re.escape(ZOOM_BASE) + r"/webinars/\d+/registrants$"),
            status=201,
            json={"registrant_id": "r_fuzz", "join_url": "https://zoom.us/w/1?tk=r"},
        )
        yield rsps


def test_fuzz_never_5xx_and_never_registers_without_valid_signature(client, zoom_mock):
    seen: Counter[str] = Counter()

    @settings(
        max_examples=2000,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(raw=BODIES, mode=MODES, query=QUERY,
           content_type=st.sampled_from(["application/json", "text/plain", ""]), data=st.data())
    def one_request(raw, mode, query, content_type, data):
        path = ACTION_PATH + (f"?{query}" if query else "")
        headers = build_headers(mode, raw, PUBLIC_URL + path, data)
        executions_before = ActionExecution.objects.count()
        zoom_posts_before = sum(1 for c in zoom_mock.calls if c.request.method == "POST")

        response = client.generic("POST", path, data=raw, content_type=content_type, **headers)

        assert response.status_code < 500, (mode, raw[:200], response.content[:300])
        zoom_posts_after = sum(1 for c in zoom_mock.calls if c.request.method == "POST")
        if mode in ("v3", "v2"):
            assert response.status_code != 401, (mode, path, response.content[:300])
            assert response.status_code in (200, 400, 429, 503)
            if response.status_code == 200:
                seen[response.json()["outputFields"].get("errorCode") or "SUCCESS"] += 1
            else:
                seen[f"http_{response.status_code}"] += 1
        else:
            assert response.status_code == 401, (mode, response.status_code, response.content[:300])
            assert ActionExecution.objects.count() == executions_before
            assert zoom_posts_after == zoom_posts_before
            seen["rejected"] += 1

    one_request()
    assert sum(seen.values()) >= 2000
    # The generator reaches the interesting paths, not only 400s and 401s.
    assert seen["rejected"] > 500 and seen["http_400"] > 50
    assert seen["SUCCESS"] > 0 and seen["INVALID_WEBINAR_ID"] > 0 and seen["MISSING_CONTACT_EMAIL"] > 0


def test_nul_characters_in_the_body_are_stored_without_them():
    """Found by the fuzz run on PostgreSQL: text and JSON columns there refuse NUL."""
    from connector.services.strict_json import loads_strict
    from workflows.services.registration import name_clean

    body = json.dumps({"a\x00": ["x\x00y", {"k": "\x00"}], "n": 1}).encode()
    assert loads_strict(body) == {"a": ["xy", {"k": ""}], "n": 1}
    assert name_clean("Jo\x00hn\x19 ") == "John"
