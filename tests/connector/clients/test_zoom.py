"""Zoom client: pagination, UUID encoding, one method per endpoint, R11 registrant body."""

from __future__ import annotations

import json

import pytest
from responses import matchers

from connector.clients import ApiError, BadRequest, NotFound
from connector.clients.zoom import ZoomClient, zoom_id_path_value

from .conftest import ZOOM


def test_pagination_follows_next_page_token_across_pages(zoom, mocked):
    mocked.get(
        f"{ZOOM}/webinars/81000000001/registrants",
        match=[matchers.query_param_matcher({"status": "pending", "page_size": "300"})],
        json={"registrants": [{"id": "r_1"}, {"id": "r_2"}], "next_page_token": "p2"},
    )
    mocked.get(
        f"{ZOOM}/webinars/81000000001/registrants",
        match=[
            matchers.query_param_matcher(
                {"status": "pending", "page_size": "300", "next_page_token": "p2"}
            )
        ],
        json={"registrants": [{"id": "r_3"}], "next_page_token": "p3"},
    )
    mocked.get(
        f"{ZOOM}/webinars/81000000001/registrants",
        match=[
            matchers.query_param_matcher(
                {"status": "pending", "page_size": "300", "next_page_token": "p3"}
            )
        ],
        json={"registrants": [{"id": "r_4"}], "next_page_token": ""},
    )

    ids = [r["id"] for r in zoom.registrants_iter(81000000001, status="pending")]

    assert ids == ["r_1", "r_2", "r_3", "r_4"]
    assert len(mocked.calls) == 3


def test_pagination_ends_when_token_missing(zoom, mocked):
    mocked.get(f"{ZOOM}/users", json={"users": [{"id": "zu_1"}], "page_size": 300})
    assert [u["id"] for u in zoom.users_iter()] == ["zu_1"]
    assert len(mocked.calls) == 1


def test_pagination_is_lazy(zoom, mocked):
    mocked.get(f"{ZOOM}/users", json={"users": [{"id": "zu_1"}], "next_page_token": "x"})
    iterator = zoom.users_iter()
    assert len(mocked.calls) == 0
    next(iterator)
    assert len(mocked.calls) == 1


def test_pagination_page_cap_stops_a_runaway_cursor(zoom, mocked):
    zoom.max_pages = 5
    counter = iter(range(100))

    def callback(request):
        return 200, {}, json.dumps({"users": [{"id": "u"}], "next_page_token": f"t{next(counter)}"})

    mocked.add_callback("GET", f"{ZOOM}/users", callback=callback)

    with pytest.raises(ApiError, match="exceeded 5 pages"):
        list(zoom.users_iter())
    assert len(mocked.calls) == 5


def test_pagination_repeated_token_raises_at_once(zoom, mocked):
    mocked.get(f"{ZOOM}/users", json={"users": [{"id": "u"}], "next_page_token": "same"})
    with pytest.raises(ApiError, match="same next_page_token"):
        list(zoom.users_iter())
    assert len(mocked.calls) == 2


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("/abc==", "%252Fabc%253D%253D"),  # begins with "/": double-encoded
        ("a//b", "a%252F%252Fb"),  # contains "//": double-encoded
        ("4444AAAiAAAAAiAiAiiAii==", "4444AAAiAAAAAiAiAiiAii%3D%3D"),  # normal UUID: once
        ("ab/c+d==", "ab%2Fc%2Bd%3D%3D"),  # a single "/" inside: once
        (81000000001, "81000000001"),  # numeric id: as is
    ],
)
def test_uuid_double_encoding_rule(zoom, mocked, value, encoded):
    url = f"{ZOOM}/past_webinars/{encoded}/participants"
    mocked.get(url, json={"participants": [{"id": "p_1"}], "next_page_token": ""})

    rows = list(zoom.past_webinar_participants_iter(value))

    assert rows == [{"id": "p_1"}]
    assert mocked.calls[0].request.url.split("?")[0] == url


def test_zoom_id_path_value_only_pre_encodes_risky_uuids():
    assert zoom_id_path_value("/x") == "%2Fx"
    assert zoom_id_path_value("x//y") == "x%2F%2Fy"
    assert zoom_id_path_value("plain==") == "plain=="
    assert zoom_id_path_value(123) == "123"


def test_r11_registrant_add_sends_exactly_three_fields(zoom, mocked):
    mocked.post(
        f"{ZOOM}/webinars/81000000001/registrants",
        status=201,
        json={"id": 81000000001, "registrant_id": "r_9", "join_url": "https://zoom.us/w/1?tk=r_9"},
    )

    result = zoom.registrant_add(
        81000000001,
        email="jane@example.com",
        first_name="Jane",
        last_name="Doe",
        occurrence_ids=["1", "2"],
    )

    assert result["registrant_id"] == "r_9"
    request = mocked.calls[0].request
    assert json.loads(request.body) == {
        "email": "jane@example.com",
        "first_name": "Jane",
        "last_name": "Doe",
    }
    assert "occurrence_ids=1%2C2" in request.url
    assert request.headers["Authorization"] == "Bearer zoom-token"


def test_r26_host_cannot_register_is_bad_request_with_code_3027(zoom, mocked):
    mocked.post(
        f"{ZOOM}/webinars/81000000001/registrants",
        status=400,
        json={"code": 3027, "message": "Host cannot register."},
    )
    with pytest.raises(BadRequest) as info:
        zoom.registrant_add(81000000001, email="host@acme.com", first_name="H", last_name="H")
    assert info.value.code == 3027


def test_webinar_get_not_found_has_code_3001(zoom, mocked):
    mocked.get(
        f"{ZOOM}/webinars/1",
        status=404,
        json={"code": 3001, "message": "Webinar does not exist: 1."},
    )
    with pytest.raises(NotFound) as info:
        zoom.webinar_get(1)
    assert info.value.code == 3001


def test_webinar_get_passes_occurrence_params(zoom, mocked):
    mocked.get(
        f"{ZOOM}/webinars/81000000001",
        match=[
            matchers.query_param_matcher(
                {"occurrence_id": "17", "show_previous_occurrences": "true"}
            )
        ],
        json={"id": 81000000001, "settings": {"approval_type": 0}},
    )
    assert (
        zoom.webinar_get(81000000001, occurrence_id="17", show_previous_occurrences=True)["id"]
        == 81000000001
    )


@pytest.mark.parametrize("code", [3301, 3001])
def test_recordings_get_returns_none_when_no_recording(zoom, mocked, code):
    mocked.get(
        f"{ZOOM}/meetings/abc%3D%3D/recordings", status=404, json={"code": code, "message": "none"}
    )
    assert zoom.recordings_get("abc==") is None


def test_recordings_get_returns_body(zoom, mocked):
    mocked.get(
        f"{ZOOM}/meetings/%252Fabc%253D%253D/recordings",
        json={"share_url": "https://zoom.us/rec/share/x"},
    )
    assert zoom.recordings_get("/abc==")["share_url"] == "https://zoom.us/rec/share/x"


def test_endpoints_map_to_spec_paths_and_items(zoom, mocked):
    mocked.get(f"{ZOOM}/users/zu_1/webinars", json={"webinars": [{"id": 1}], "next_page_token": ""})
    mocked.get(f"{ZOOM}/past_webinars/1/instances", json={"webinars": [{"uuid": "u1=="}]})
    mocked.get(
        f"{ZOOM}/webinars/1/registrants/questions", json={"questions": [], "custom_questions": []}
    )
    mocked.get(f"{ZOOM}/report/webinars/u1%3D%3D", json={"participants_count": 3})
    mocked.get(
        f"{ZOOM}/report/webinars/u1%3D%3D/participants",
        match=[
            matchers.query_param_matcher({"page_size": "300", "include_fields": "registrant_id"})
        ],
        json={"participants": [{"registrant_id": "r_1"}]},
    )
    mocked.get(
        f"{ZOOM}/zoom_events/events", json={"events": [{"event_id": "ze_1"}], "next_page_token": ""}
    )
    mocked.get(f"{ZOOM}/zoom_events/events/ze_1/sessions", json={"sessions": [{"webinar_id": 9}]})

    assert list(zoom.webinars_iter("zu_1")) == [{"id": 1}]
    assert zoom.past_webinar_instances(1) == [{"uuid": "u1=="}]
    assert zoom.registration_questions_get(1) == {"questions": [], "custom_questions": []}
    assert zoom.report_webinar_get("u1==") == {"participants_count": 3}
    assert list(zoom.report_webinar_participants_iter("u1==")) == [{"registrant_id": "r_1"}]
    assert list(zoom.zoom_events_iter()) == [{"event_id": "ze_1"}]
    assert zoom.zoom_event_sessions("ze_1") == [{"webinar_id": 9}]


def test_each_method_uses_its_spec_rate_limit_label(mocked):
    keys: list[str] = []

    class Recorder:
        def acquire(self, key: str, cost: int = 1) -> None:
            keys.append(key)

    client = ZoomClient(
        base_url=ZOOM, token_provider=lambda: "t", limiter=Recorder(), limiter_key="zoom:acc"
    )
    mocked.get(f"{ZOOM}/users", json={"users": []})
    mocked.get(f"{ZOOM}/webinars/1", json={})
    mocked.get(f"{ZOOM}/report/webinars/u/participants", json={"participants": []})

    list(client.users_iter())
    client.webinar_get(1)
    list(client.report_webinar_participants_iter("u"))

    assert keys == ["zoom:acc:MEDIUM", "zoom:acc:LIGHT", "zoom:acc:HEAVY"]
