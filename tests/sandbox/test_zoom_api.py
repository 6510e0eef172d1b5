"""The fake Zoom's faithful behaviours (issue 3, item 4), over real HTTP."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
import requests

LAUNCH = 81000000001  # demo: type 5, 12 registrants, instance UUID begins with "/"
OFFICE_HOURS = 81000000002  # demo: type 9, instances; one UUID contains "//"
SLASH_UUID = "/Lp3Ni9nSROuHAlD7gMyxQ=="
DOUBLE_SLASH_UUID = "k9Jd//pQSwe3Ltz0fHn2Bg=="


def enc2(value: str) -> str:
    return quote(quote(value, safe=""), safe="")


def many_registrants(n: int, **webinar) -> dict:
    return {"zoom": {"accounts": [{
        "account_id": "zacc_big", "users": [{"id": "zu_1", "email": "host@acme.com"}],
        "webinars": [{"id": 81000000100, "host_id": "zu_1", "start_time": "2030-01-01T10:00:00Z",
                      "registrants": [{"email": f"p{i}@example.com"} for i in range(n)],
                      **webinar}]}]}}


# --- OAuth ----------------------------------------------------------------------------------

def test_oauth_account_credentials_by_query_and_by_form(sandbox_demo):
    url = f"{sandbox_demo.url}/zoom/oauth/token"
    by_query = requests.post(url, params={"grant_type": "account_credentials",
                                          "account_id": "zacc_main"}, timeout=10)
    by_form = requests.post(url, data={"grant_type": "account_credentials",
                                       "account_id": "zacc_eu"}, timeout=10)
    for answer in (by_query, by_form):
        assert answer.status_code == 200
        body = answer.json()
        assert body["token_type"] == "bearer" and body["expires_in"] == 3600
        assert "refresh_token" not in body  # S2S: "There is no refresh token."
    unknown = requests.post(url, params={"grant_type": "account_credentials",
                                         "account_id": "nope"}, timeout=10)
    assert unknown.status_code == 400


def test_oauth_client_credentials_checked_only_when_scenario_sets_them(sandbox):
    sandbox.load({"zoom": {"accounts": [{"account_id": "zs", "client_id": "cid",
                                         "client_secret": "csecret"}]}})
    url = f"{sandbox.url}/zoom/oauth/token"
    params = {"grant_type": "account_credentials", "account_id": "zs"}
    assert requests.post(url, params=params, auth=("cid", "wrong"), timeout=10).status_code == 401
    assert requests.post(url, params=params, timeout=10).status_code == 401
    assert requests.post(url, params=params, auth=("cid", "csecret"), timeout=10).status_code == 200


def test_oauth_authorization_code_then_refresh_rotation(sandbox_demo):
    base = f"{sandbox_demo.url}/zoom/oauth"
    consent = requests.get(f"{base}/authorize", allow_redirects=False, timeout=10, params={
        "response_type": "code", "client_id": "x", "redirect_uri": "http://127.0.0.1:8000/cb",
        "state": "s1", "account_id": "zacc_eu"})
    assert consent.status_code == 302
    location = consent.headers["Location"]
    assert location.startswith("http://127.0.0.1:8000/cb?") and "state=s1" in location
    code = location.split("code=")[1].split("&")[0]
    auth = ("client", "secret")
    wrong_uri = requests.post(f"{base}/token", auth=auth, timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": "http://evil/cb"})
    assert wrong_uri.status_code == 400
    tokens = requests.post(f"{base}/token", auth=auth, timeout=10, data={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": "http://127.0.0.1:8000/cb"}).json()
    assert tokens["access_token"] and tokens["refresh_token"] and tokens["expires_in"] == 3600
    reused = requests.post(f"{base}/token", auth=auth, timeout=10, data={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": "http://127.0.0.1:8000/cb"})
    assert reused.status_code == 400  # codes are single-use

    first = requests.post(f"{base}/token", auth=auth, timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert first.status_code == 200
    assert first.json()["refresh_token"] != tokens["refresh_token"]
    again = requests.post(f"{base}/token", auth=auth, timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert again.status_code == 400
    assert again.json() == {"reason": "Invalid Token!", "error": "invalid_grant"}
    users = requests.get(f"{sandbox_demo.url}/zoom/v2/users", timeout=10,
                         headers={"Authorization": f"Bearer {first.json()['access_token']}"})
    assert [u["id"] for u in users.json()["users"]] == ["zu_eva"]


def test_invalid_and_expired_tokens_answer_401_code_124(sandbox_demo):
    url = f"{sandbox_demo.url}/zoom/v2/users"
    missing = requests.get(url, timeout=10)
    bogus = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=10)
    for answer in (missing, bogus):
        assert answer.status_code == 401
        assert answer.json() == {"code": 124, "message": "Invalid access token."}
    sandbox_demo.configure(zoom_token_lifetime_s=0)
    expired = sandbox_demo.token("zoom", "zacc_main")
    answer = requests.get(url, headers={"Authorization": f"Bearer {expired}"}, timeout=10)
    assert answer.status_code == 401 and answer.json()["code"] == 124
    assert "expired" in answer.json()["message"]


def test_token_sees_only_its_own_account(zoom_factory, sandbox_demo):
    eu = zoom_factory("zacc_eu")
    answer = eu.get(f"/webinars/{LAUNCH}")
    assert answer.status_code == 404
    assert answer.json() == {"code": 3001, "message": f"Webinar does not exist: {LAUNCH}."}
    assert eu.get("/webinars/82000000001").status_code == 200


# --- users and webinars -----------------------------------------------------------------------

def test_users_list_status_filter_and_me(zoom, sandbox):
    users = zoom.get("/users").json()
    assert users["total_records"] == 4 and users["next_page_token"] == ""
    assert {"id", "email", "type", "status"} <= set(users["users"][0])
    assert zoom.get("/users", params={"status": "inactive"}).json()["users"] == []
    me = zoom.get("/users/me").json()
    assert me["id"] == "zu_hal" and me["account_id"] == "zacc_main"
    by_email = zoom.get("/users/ada.alt@acme.com").json()
    assert by_email["id"] == "zu_ada"
    missing = zoom.get("/users/nobody")
    assert missing.status_code == 404 and missing.json()["code"] == 1001


def test_users_page_size_cap_is_2000(sandbox):
    sandbox.load({"zoom": {"accounts": [{"account_id": "a", "users": [
        {"id": f"u{i}", "email": f"u{i}@acme.com"} for i in range(2100)]}]}})
    sandbox.configure(rate_limits=False)
    token = sandbox.token("zoom", "a")
    page = requests.get(f"{sandbox.url}/zoom/v2/users", params={"page_size": 5000}, timeout=30,
                        headers={"Authorization": f"Bearer {token}"}).json()
    assert page["page_size"] == 2000 and len(page["users"]) == 2000 and page["next_page_token"]


def test_user_webinars_lists_hosted_webinars(zoom):
    hal = zoom.get("/users/zu_hal/webinars").json()
    ids = [w["id"] for w in hal["webinars"]]
    assert ids == [LAUNCH, 81000000009, 81000000005, 81000000006, 81000000007]
    upcoming = zoom.get("/users/zu_hal/webinars", params={"type": "upcoming"}).json()
    assert [w["id"] for w in upcoming["webinars"]] == [81000000005, 81000000006, 81000000007]
    assert set(hal["webinars"][0]) >= {"uuid", "id", "host_id", "topic", "type", "start_time",
                                       "duration", "timezone", "created_at", "join_url"}


def test_webinar_get_settings_and_registration_url(zoom):
    launch = zoom.get(f"/webinars/{LAUNCH}").json()
    assert launch["settings"]["approval_type"] == 0
    assert launch["host_email"] == "hal.host@acme.com"
    assert launch["registration_url"].startswith("https://zoom.us/webinar/register/")
    roadmap = zoom.get("/webinars/81000000005").json()
    assert roadmap["settings"]["alternative_hosts"] == "ada.alt@acme.com"
    open_qa = zoom.get("/webinars/81000000007").json()
    assert open_qa["settings"]["approval_type"] == 2 and "registration_url" not in open_qa
    invalid = zoom.get("/webinars/not-a-number")
    assert invalid.status_code == 400 and invalid.json()["code"] == 300
    missing = zoom.get("/webinars/89999999999")
    assert missing.status_code == 404
    assert missing.json() == {"code": 3001, "message": "Webinar does not exist: 89999999999."}


def test_recurring_webinar_occurrences(zoom):
    upcoming = zoom.get(f"/webinars/{OFFICE_HOURS}").json()
    assert upcoming["type"] == 9 and upcoming["settings"]["registration_type"] == 1
    assert [o["occurrence_id"] for o in upcoming["occurrences"]] == ["1900000000000"]
    everything = zoom.get(f"/webinars/{OFFICE_HOURS}",
                          params={"show_previous_occurrences": "true"}).json()
    assert len(everything["occurrences"]) == 3
    one = zoom.get(f"/webinars/{OFFICE_HOURS}", params={"occurrence_id": "1790604800000"}).json()
    assert one["start_time"] == "2026-10-13T16:00:00Z"


# --- registrants ------------------------------------------------------------------------------

def test_registrants_status_filter_default_approved_and_cancelled_hidden(zoom):
    approved = zoom.get(f"/webinars/{LAUNCH}/registrants").json()
    assert approved["total_records"] == 9
    assert {r["status"] for r in approved["registrants"]} == {"approved"}
    pending = zoom.get(f"/webinars/{LAUNCH}/registrants", params={"status": "pending"}).json()
    denied = zoom.get(f"/webinars/{LAUNCH}/registrants", params={"status": "denied"}).json()
    assert [r["email"] for r in pending["registrants"]] == ["pete.pending@wayne.example"]
    assert [r["email"] for r in denied["registrants"]] == ["denise.denied@spam.example"]
    listed = {r["email"] for page in (approved, pending, denied) for r in page["registrants"]}
    assert "carl.cancel@cyberdyne.example" not in listed
    assert zoom.get(f"/webinars/{LAUNCH}/registrants",
                    params={"status": "cancelled"}).status_code == 400
    first = approved["registrants"][0]
    assert first["email"] == "Jane.Doe@Example.com"  # as registered; the connector normalises
    assert {"id", "first_name", "last_name", "create_time", "join_url"} <= set(first)


def test_registrants_pagination_caps_and_empty_token_on_last_page(sandbox):
    sandbox.load(many_registrants(650))
    sandbox.configure(rate_limits=False)
    token = sandbox.token("zoom", "zacc_big")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    url = f"{sandbox.url}/zoom/v2/webinars/81000000100/registrants"

    default = session.get(url, timeout=10).json()
    assert default["page_size"] == 30 and len(default["registrants"]) == 30

    seen, sizes, next_token = [], [], None
    while next_token != "":
        params = {"page_size": 1000}
        if next_token:
            params["next_page_token"] = next_token
        page = session.get(url, params=params, timeout=10).json()
        assert page["page_size"] == 300 and page["total_records"] == 650
        sizes.append(len(page["registrants"]))
        seen += [r["email"] for r in page["registrants"]]
        next_token = page["next_page_token"]
    assert sizes == [300, 300, 50]
    assert seen == [f"p{i}@example.com" for i in range(650)]

    bad = session.get(url, params={"next_page_token": "garbage"}, timeout=10)
    assert bad.status_code == 400
    assert bad.json() == {"code": 300, "message": "The next page token is invalid or expired."}


def test_registration_questions(zoom):
    launch = zoom.get(f"/webinars/{LAUNCH}/registrants/questions").json()
    assert {"field_name": "last_name", "required": True} in launch["questions"]
    assert launch["custom_questions"][0]["title"] == "How did you hear about us?"
    closed = zoom.get("/webinars/81000000007/registrants/questions")
    assert closed.status_code == 400 and closed.json()["code"] == 3000


def test_add_registrant_sends_three_fields_and_answers_201(zoom, sandbox_demo):
    answer = zoom.post("/webinars/81000000005/registrants",
                       json={"first_name": "Wendy", "last_name": "Workflow",
                             "email": "workflow.wendy@example.net"})
    assert answer.status_code == 201
    body = answer.json()
    assert body["id"] == 81000000005 and body["topic"] == "Future Roadmap 2030"
    assert body["registrant_id"] and body["join_url"].startswith("https://zoom.us/w/81000000005")
    assert body["start_time"] == "2030-03-15T15:00:00Z"
    again = zoom.post("/webinars/81000000005/registrants",
                      json={"first_name": "Wendy", "email": "WORKFLOW.wendy@example.net"})
    assert again.status_code == 201 and again.json()["registrant_id"] == body["registrant_id"]
    listed = zoom.get("/webinars/81000000005/registrants").json()["registrants"]
    assert [r["email"] for r in listed].count("workflow.wendy@example.net") == 1
    state = sandbox_demo.state()["zoom"]["accounts"][0]["webinars"]
    roadmap = next(w for w in state if w["id"] == 81000000005)
    assert any(r["email"] == "workflow.wendy@example.net" for r in roadmap["registrants"])


@pytest.mark.parametrize("email", ["hal.host@acme.com", "ADA.alt@acme.com"])
def test_r26_host_alternative_host_and_connected_user_cannot_register(zoom, email):
    answer = zoom.post("/webinars/81000000005/registrants",
                       json={"first_name": "H", "last_name": "H", "email": email})
    assert answer.status_code == 400
    assert answer.json() == {"code": 3027, "message": "Host can not register"}


def test_r11_required_questions_beyond_three_fields_fail_with_code_300(zoom):
    answer = zoom.post("/webinars/81000000006/registrants",
                       json={"first_name": "A", "last_name": "B", "email": "a.b@example.com"})
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == 300 and body["message"] == "Validation Failed."
    assert {e["field"] for e in body["errors"]} == {"org", "Team size"}
    ok = zoom.post("/webinars/81000000006/registrants", json={
        "first_name": "A", "last_name": "B", "email": "a.b@example.com", "org": "Acme",
        "custom_questions": [{"title": "Team size", "value": "1-10"}]})
    assert ok.status_code == 201


def test_registration_disabled_3000_and_over_3038(zoom):
    closed = zoom.post("/webinars/81000000007/registrants",
                       json={"first_name": "A", "email": "a@example.com"})
    assert closed.status_code == 400 and closed.json()["code"] == 3000
    assert "Registration has not been enabled for this webinar" in closed.json()["message"]
    over = zoom.post(f"/webinars/{LAUNCH}/registrants",
                     json={"first_name": "A", "last_name": "B", "email": "a@example.com"})
    assert over.status_code == 400 and over.json()["code"] == 3038


def test_registration_validation_errors(zoom):
    answer = zoom.post("/webinars/81000000005/registrants", json={"email": "not-an-email"})
    assert answer.status_code == 400
    assert answer.json()["code"] == 300
    assert {e["field"] for e in answer.json()["errors"]} == {"email", "first_name"}
    not_json = zoom.post("/webinars/81000000005/registrants", data="{",
                         headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["code"] == 300


def test_add_registrant_daily_limit_is_three_per_registrant(zoom):
    body = {"first_name": "Rita", "last_name": "Retry", "email": "rita.retry@example.com"}
    for _ in range(3):
        assert zoom.post("/webinars/81000000005/registrants", json=body).status_code == 201
    fourth = zoom.post("/webinars/81000000005/registrants", json=body)
    assert fourth.status_code == 429
    assert fourth.json()["message"] == (
        "You have exceeded the daily rate limit (3) of Webinar Batch Registration API requests "
        "permitted for (rita.retry@example.com) this particular registrant. You may resume "
        "these requests at GMT 00:00:00.")
    assert fourth.headers["Retry-After"].endswith("00:00:00 GMT")
    # Another registrant, or the same one on another webinar, is not affected.
    other = dict(body, email="someone.else@example.com")
    assert zoom.post("/webinars/81000000005/registrants", json=other).status_code == 201


# --- past webinars, participants, reports, recordings -----------------------------------------

def test_past_instances_of_recurring_webinar(zoom):
    answer = zoom.get(f"/past_webinars/{OFFICE_HOURS}/instances").json()
    assert answer["webinars"] == [
        {"uuid": DOUBLE_SLASH_UUID, "start_time": "2026-10-06T16:00:00Z"},
        {"uuid": "Qm5hT3x1Rk2yWc8vZb4LnA==", "start_time": "2026-10-13T16:00:00Z"}]


def test_r3_guest_rows_have_empty_email_and_rejoins_are_extra_rows(zoom):
    rows = zoom.get(f"/past_webinars/{enc2(SLASH_UUID)}/participants",
                    params={"page_size": 300}).json()["participants"]
    guests = [r for r in rows if r["user_email"] == ""]
    # The phone dial-in is nobody's registrant; Maria joined as a guest through her own
    # registration, which the report form names by registrant_id (B5).
    assert sorted(r["name"] for r in guests) == ["+1 555 0100", "Maria G."]
    report = zoom.get(f"/report/webinars/{enc2(SLASH_UUID)}/participants",
                      params={"page_size": 300, "include_fields": "registrant_id"}).json()["participants"]
    assert {r["name"]: r["registrant_id"] for r in report if r["user_email"] == ""} == {
        "+1 555 0100": "", "Maria G.": "r_maria_1"}
    jane = [r for r in rows if r["user_email"] == "jane.doe@example.com"]
    assert len(jane) == 3 and len({r["id"] for r in jane}) == 3
    assert {r["registrant_id"] for r in jane} == {"r_jane_1"}
    assert jane[0]["duration"] == 18 * 60
    assert {"id", "name", "user_id", "user_email", "join_time", "leave_time", "duration",
            "status"} <= set(rows[0])


def test_numeric_id_means_latest_instance(zoom):
    latest = zoom.get(f"/past_webinars/{OFFICE_HOURS}/participants").json()
    emails = [r["user_email"] for r in latest["participants"]]
    assert emails.count("ken.adams@hooli.example") == 2  # second instance: Ken rejoined


@pytest.mark.parametrize("uuid", [SLASH_UUID, DOUBLE_SLASH_UUID])
@pytest.mark.parametrize("path", ["/past_webinars/{}/participants",
                                  "/report/webinars/{}/participants", "/report/webinars/{}"])
def test_uuid_with_slashes_must_be_double_encoded(zoom, uuid, path):
    good = zoom.get(path.format(enc2(uuid)))
    assert good.status_code == 200, good.text
    single = zoom.get(path.format(quote(uuid, safe="")))
    assert single.status_code == 404
    assert single.json()["code"] == 3001
    assert single.json()["message"].startswith("Webinar does not exist: ")


def test_plain_uuid_works_single_or_double_encoded(zoom):
    uuid = "Qm5hT3x1Rk2yWc8vZb4LnA=="
    once = zoom.get(f"/past_webinars/{quote(uuid, safe='')}/participants").json()
    twice = zoom.get(f"/past_webinars/{enc2(uuid)}/participants").json()
    assert once == twice and once["total_records"] == 4


def test_report_participants_registrant_id_only_when_asked(zoom):
    plain = zoom.get(f"/report/webinars/{enc2(SLASH_UUID)}/participants").json()
    assert "registrant_id" not in plain["participants"][0]
    assert "participant_user_id" in plain["participants"][0]
    asked = zoom.get(f"/report/webinars/{enc2(SLASH_UUID)}/participants",
                     params={"include_fields": "registrant_id", "page_size": 300}).json()
    sam = next(r for r in asked["participants"] if r["user_email"] == "sam@oldmail.example")
    assert sam["registrant_id"] == "r_sam_1"


def test_report_webinar_details(zoom):
    report = zoom.get(f"/report/webinars/{enc2(SLASH_UUID)}").json()
    assert report["uuid"] == SLASH_UUID and report["id"] == LAUNCH
    assert report["participants_count"] == 13
    assert report["start_time"] == "2026-10-01T15:00:00Z"
    assert report["end_time"] == "2026-10-01T16:00:00Z"
    assert report["user_email"] == "hal.host@acme.com"


def test_recordings_with_and_without_transcript(zoom):
    launch = zoom.get(f"/meetings/{LAUNCH}/recordings").json()
    assert {f["file_type"] for f in launch["recording_files"]} == {"MP4", "TRANSCRIPT"}
    assert launch["share_url"] == "https://zoom.us/rec/share/launch-product-tour"
    assert launch["type"] == "5" and launch["uuid"] == SLASH_UUID
    assert all(f["download_url"] and f["meeting_id"] == SLASH_UUID
               for f in launch["recording_files"])
    first = zoom.get(f"/meetings/{enc2(DOUBLE_SLASH_UUID)}/recordings").json()
    assert [f["file_type"] for f in first["recording_files"]] == ["MP4"]
    # The latest office-hours instance has no recording.
    none = zoom.get(f"/meetings/{OFFICE_HOURS}/recordings")
    assert none.status_code == 404
    assert none.json() == {"code": 3301, "message": "There is no recording for this meeting."}
    single = zoom.get(f"/meetings/{quote(SLASH_UUID, safe='')}/recordings")
    assert single.status_code == 404 and single.json()["code"] == 3001


def test_r2_zoom_events_reveal_event_webinars(zoom):
    assert zoom.get("/zoom_events/events").json()["events"] == []  # default: upcoming
    past = zoom.get("/zoom_events/events", params={"event_status_type": "past"}).json()
    assert [e["event_id"] for e in past["events"]] == ["ze_keynote"]
    sessions = zoom.get("/zoom_events/events/ze_keynote/sessions").json()
    assert [(s["type"], s["webinar_id"]) for s in sessions["sessions"]] == [(2, 81000000009)]
    missing = zoom.get("/zoom_events/events/nope/sessions")
    assert missing.status_code == 404 and missing.json()["code"] == 2002


def test_unauthenticated_base64_basic_is_not_a_bearer(sandbox_demo):
    basic = base64.b64encode(b"a:b").decode()
    answer = requests.get(f"{sandbox_demo.url}/zoom/v2/users", timeout=10,
                          headers={"Authorization": f"Basic {basic}"})
    assert answer.status_code == 401
