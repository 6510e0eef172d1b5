"""The fake Zoom's registration questions end to end (B6): the questions endpoint answers per
the spec, POST registrants refuses a required question left unanswered or a choice that is
not an option (Zoom's 300 "Validation Failed" naming the field), and a registrant keeps the
standard answers and custom_questions it was registered with. Every exchange is validated
against Zoom's OpenAPI documents."""

from __future__ import annotations

import pytest
import requests

from sandbox.contract import ContractRecorder

pytestmark = pytest.mark.contract

WORKSHOP = 81000000006  # demo: last name, organization and "Team size" (1-10, 11-50, 50+) required


@pytest.fixture
def recorded(sandbox_demo, contract_recorder):
    sandbox_demo.configure(rate_limits=False)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sandbox_demo.token('zoom', 'zacc_main')}"
    recorder: ContractRecorder = contract_recorder(session)
    return session, f"{sandbox_demo.url}/zoom/v2", recorder


def register(session, base, **body):
    person = {"first_name": "Quinn", "last_name": "Questions", "email": "quinn@example.com"}
    return session.post(f"{base}/webinars/{WORKSHOP}/registrants", json={**person, **body}, timeout=30)


def test_questions_endpoint_lists_standard_and_custom_questions(recorded):
    session, base, recorder = recorded
    answer = session.get(f"{base}/webinars/{WORKSHOP}/registrants/questions", timeout=30)
    assert answer.status_code == 200
    body = answer.json()
    assert {"field_name": "org", "required": True} in body["questions"]
    assert body["custom_questions"] == [
        {"title": "Team size", "type": "single_dropdown", "required": True, "answers": ["1-10", "11-50", "50+"]}
    ]
    closed = session.get(f"{base}/webinars/81000000007/registrants/questions", timeout=30)
    assert closed.status_code == 400 and closed.json()["code"] == 3000  # registration off
    recorder.assert_clean()


def test_missing_required_questions_are_refused_naming_them(recorded):
    session, base, recorder = recorded
    answer = register(session, base)
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == 300 and body["message"] == "Validation Failed."
    assert {e["field"] for e in body["errors"]} == {"org", "Team size"}
    blank = register(session, base, org="  ", custom_questions=[{"title": "Team size", "value": ""}])
    assert {e["field"] for e in blank.json()["errors"]} == {"org", "Team size"}
    recorder.assert_clean()


def test_a_choice_that_is_not_an_option_is_refused(recorded):
    session, base, recorder = recorded
    answer = register(session, base, org="Acme", custom_questions=[{"title": "Team size", "value": "12"}])
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == ["Team size"]
    recorder.assert_clean()


def test_a_registration_with_every_answer_keeps_them(recorded, sandbox_demo):
    session, base, recorder = recorded
    answer = register(session, base, org="Acme Corp", job_title="Engineer",
                      custom_questions=[{"title": "Team size", "value": "11-50"}])
    assert answer.status_code == 201, answer.text
    listed = session.get(f"{base}/webinars/{WORKSHOP}/registrants", timeout=30).json()["registrants"]
    quinn = next(r for r in listed if r["email"] == "quinn@example.com")
    assert quinn["org"] == "Acme Corp" and quinn["job_title"] == "Engineer"
    assert quinn["custom_questions"] == [{"title": "Team size", "value": "11-50"}]
    webinars = sandbox_demo.state()["zoom"]["accounts"][0]["webinars"]
    stored = next(r for w in webinars if w["id"] == WORKSHOP for r in w["registrants"])
    assert stored["answers"]["org"] == "Acme Corp"
    assert stored["custom_questions"] == [{"title": "Team size", "value": "11-50"}]
    recorder.assert_clean()


def test_a_standard_choice_outside_the_spec_enum_is_refused(recorded):
    session, base, _ = recorded
    # Not recorded: the request itself breaks the spec's enum, which is the point.
    plain = requests.post(f"{base}/webinars/{WORKSHOP}/registrants", timeout=30,
                          headers={"Authorization": session.headers["Authorization"]},
                          json={"first_name": "Q", "last_name": "Q", "email": "q2@example.com", "org": "Acme",
                                "no_of_employees": "lots",
                                "custom_questions": [{"title": "Team size", "value": "50+"}]})
    assert plain.status_code == 400
    assert [e["field"] for e in plain.json()["errors"]] == ["no_of_employees"]


def test_scenario_registrant_answers_are_checked(sandbox):
    bad = {"hubspot": {"portal_id": 1}, "zoom": {"accounts": [{"account_id": "a", "users": [{"id": "u", "email": "h@x.com"}],
           "webinars": [{"id": 81000000001, "host_id": "u",
                         "registrants": [{"email": "p@x.com", "custom_questions": [{"title": "T"}]}]}]}]}}
    response = requests.post(f"{sandbox.url}/_sandbox/scenario", json=bad, timeout=30)
    assert response.status_code == 400
    assert "custom_questions[0]" in response.text
