"""Contract tests: every request these tests send to the fake Zoom, and every answer, is
validated against Zoom's official OpenAPI documents (issue 3, item 8)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests

from sandbox.contract import ContractRecorder, validate_exchange

pytestmark = pytest.mark.contract

SLASH_UUID = "/Lp3Ni9nSROuHAlD7gMyxQ=="
DOUBLE_SLASH_UUID = "k9Jd//pQSwe3Ltz0fHn2Bg=="


def enc2(value: str) -> str:
    return quote(quote(value, safe=""), safe="")


@pytest.fixture
def recorded(sandbox_demo, contract_recorder):
    sandbox_demo.configure(rate_limits=False)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sandbox_demo.token('zoom', 'zacc_main')}"
    recorder: ContractRecorder = contract_recorder(session)
    return session, f"{sandbox_demo.url}/zoom/v2", recorder


READS = [
    ("/users", {}),
    ("/users", {"status": "active", "page_size": 2}),
    ("/users/zu_hal", {}),
    ("/users/me", {}),
    ("/users/zu_hal/webinars", {"page_size": 300}),
    ("/users/zu_ada/webinars", {"type": "upcoming"}),
    ("/webinars/81000000001", {}),
    ("/webinars/81000000002", {"show_previous_occurrences": "true"}),
    ("/webinars/81000000002", {"occurrence_id": "1790604800000"}),
    ("/webinars/81000000007", {}),
    ("/webinars/81000000001/registrants", {"page_size": 300}),
    ("/webinars/81000000001/registrants", {"status": "pending"}),
    ("/webinars/81000000001/registrants", {"status": "denied", "page_size": 1}),
    ("/webinars/81000000002/registrants", {"occurrence_id": "1790000000000"}),
    ("/webinars/81000000001/registrants/questions", {}),
    ("/webinars/81000000006/registrants/questions", {}),
    ("/past_webinars/81000000002/instances", {}),
    ("/past_webinars/81000000002/participants", {}),
    (f"/past_webinars/{enc2(SLASH_UUID)}/participants", {"page_size": 300}),
    (f"/past_webinars/{enc2(DOUBLE_SLASH_UUID)}/participants", {"page_size": 2}),
    (f"/report/webinars/{enc2(SLASH_UUID)}/participants", {"include_fields": "registrant_id"}),
    ("/report/webinars/81000000008/participants", {"page_size": 300}),
    (f"/report/webinars/{enc2(SLASH_UUID)}", {}),
    ("/report/webinars/81000000002", {}),
    ("/meetings/81000000001/recordings", {}),
    (f"/meetings/{enc2(DOUBLE_SLASH_UUID)}/recordings", {"include_fields": "download_access_token"}),
    ("/meetings/81000000008/recordings", {}),
    ("/zoom_events/events", {}),
    ("/zoom_events/events", {"event_status_type": "past", "page_size": 300}),
    ("/zoom_events/events/ze_keynote/sessions", {}),
]


def test_zoom_reads_follow_the_spec(recorded):
    session, base, recorder = recorded
    for path, params in READS:
        answer = session.get(base + path, params=params, timeout=30)
        assert answer.status_code == 200, (path, answer.text)
    assert recorder.exchanges == len(READS)
    recorder.assert_clean()


def test_zoom_pagination_follows_the_spec(recorded):
    session, base, recorder = recorded
    token, pages = None, 0
    while token != "":
        params = {"page_size": 4, **({"next_page_token": token} if token else {})}
        page = session.get(f"{base}/past_webinars/{enc2(SLASH_UUID)}/participants",
                           params=params, timeout=30).json()
        token, pages = page["next_page_token"], pages + 1
    assert pages == 4  # 13 rows (the demo's launch session), 4 a page
    recorder.assert_clean()


def test_zoom_registration_requests_and_answers_follow_the_spec(recorded):
    session, base, recorder = recorded
    created = session.post(f"{base}/webinars/81000000005/registrants", timeout=30,
                           json={"first_name": "Wendy", "last_name": "Workflow",
                                 "email": "workflow.wendy@example.net"})
    assert created.status_code == 201
    occurrence = session.post(f"{base}/webinars/81000000002/registrants", timeout=30,
                              params={"occurrence_ids": "1900000000000"},
                              json={"first_name": "Ola", "last_name": "Occ",
                                    "email": "ola@example.com"})
    assert occurrence.status_code == 201 and occurrence.json()["occurrences"]
    # Documented error answers are validated too (their bodies where the spec has a schema).
    for webinar, email in ((81000000005, "hal.host@acme.com"), (81000000006, "x@example.com"),
                           (81000000007, "y@example.com"), (89999999999, "z@example.com")):
        answer = session.post(f"{base}/webinars/{webinar}/registrants", timeout=30,
                              json={"first_name": "A", "last_name": "B", "email": email})
        assert answer.status_code in (400, 404)
    assert recorder.exchanges == 6
    recorder.assert_clean()


def test_zoom_error_answers_follow_the_spec(recorded):
    session, base, recorder = recorded
    for path in ("/webinars/89999999999", "/users/nobody", "/meetings/81000000002/recordings",
                 f"/past_webinars/{quote(SLASH_UUID, safe='')}/participants",
                 "/zoom_events/events/nope/sessions"):
        assert session.get(base + path, timeout=30).status_code == 404
    recorder.assert_clean()


def test_the_validator_is_not_vacuous(sandbox_demo, contract_recorder):
    url = f"{sandbox_demo.url}/zoom/v2/webinars/81000000001/registrants"
    bad_answer = validate_exchange(
        "zoom", "GET", url, None, 200, {"Content-Type": "application/json"},
        {"registrants": [{"email": "a@example.com", "first_name": "A", "status": "cancelled",
                          "create_time": "yesterday"}], "total_records": "12"})
    text = "\n".join(p.message for p in bad_answer)
    assert "cancelled" in text and "total_records" in text and "create_time" in text
    bad_request = validate_exchange(
        "zoom", "POST", url, {"email": "a@example.com", "last_name": "B"}, 201,
        {"Content-Type": "application/json"}, {"id": 81000000001, "registrant_id": "r"})
    assert any(p.kind == "request" and "first_name" in p.message for p in bad_request)
    unknown = validate_exchange("zoom", "GET", f"{sandbox_demo.url}/zoom/v2/nothing/here",
                                None, 200, {}, {})
    assert unknown and unknown[0].kind == "unknown-operation"


def test_hubspot_settings_users_path_quirk_maps_to_the_spec(contract_recorder):
    problems = validate_exchange("hubspot", "GET", "http://127.0.0.1:1/hubspot/settings/v3/users/",
                                 None, 200, {"Content-Type": "application/json"},
                                 {"results": []})
    assert not [p for p in problems if p.kind == "unknown-operation"], problems
