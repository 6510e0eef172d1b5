"""Scenario validation (INTERFACES.md §3): unknown keys name their path; defaults are realistic."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from sandbox.generate import scenario_generate
from sandbox.scenario import ScenarioError, scenario_load, scenario_read


def account(**extra):
    base = {"account_id": "a1", "users": [{"id": "u1", "email": "host@acme.com"}]}
    base.update(extra)
    return {"zoom": {"accounts": [base]}}


@pytest.mark.parametrize(("scenario", "path"), [
    ({"zom": {}}, "zom"),
    ({"zoom": {"acounts": []}}, "zoom.acounts"),
    (account(bu="0"), "zoom.accounts[0].bu"),
    (account(users=[{"id": "u1", "email": "h@acme.com", "mail": "x"}]), "zoom.accounts[0].users[0].mail"),
    (account(webinars=[{"id": 1}, {"id": 2, "registrnts": []}]), "zoom.accounts[0].webinars[1].registrnts"),
    (account(webinars=[{"id": 1, "registrants": [{"email": "a@x.example", "stat": "approved"}]}]),
     "zoom.accounts[0].webinars[0].registrants[0].stat"),
    (account(webinars=[{"id": 1, "instances": [{"participants": [{"user_mail": ""}]}]}]),
     "zoom.accounts[0].webinars[0].instances[0].participants[0].user_mail"),
    (account(webinars=[{"id": 1, "instances": [{}], "recordings": [{"files": [{"type": "MP4"}]}]}]),
     "zoom.accounts[0].webinars[0].recordings[0].files[0].type"),
    (account(zoom_events=[{"event_id": "e", "webinars": [1]}]), "zoom.accounts[0].zoom_events[0].webinars"),
    (account(webinars=[{"id": 1, "questions": [{"field_name": "org", "requird": True}]}]),
     "zoom.accounts[0].webinars[0].questions[0].requird"),
])
def test_unknown_keys_are_errors_naming_the_key(scenario, path):
    with pytest.raises(ScenarioError) as caught:
        scenario_load(scenario)
    assert caught.value.path == path
    assert repr(path) in str(caught.value)


@pytest.mark.parametrize(("scenario", "fragment"), [
    (account(webinars=[{"id": 1, "host_id": "ghost"}]), "host_id"),
    (account(webinars=[{"id": 1}, {"id": 1}]), "duplicate"),
    (account(webinars=[{"id": 1, "type": 7}]), "type"),
    (account(webinars=[{"id": 1, "start_time": "yesterday"}]), "ISO-8601"),
    (account(webinars=[{"id": 1, "registrants": [{"email": "a@x.example", "status": "maybe"}]}]), "status"),
    (account(webinars=[{"id": 1, "recordings": [{"instance_uuid": "nope"}]}]), "instance_uuid"),
    (account(users="nobody"), "expected a list"),
])
def test_invalid_values_are_errors(scenario, fragment):
    with pytest.raises(ScenarioError, match=fragment):
        scenario_load(scenario)


def test_defaults_are_filled_in_deterministically():
    data = account(webinars=[{"id": 81000000001, "registrants": [{"email": "Jo@Example.com"}],
                              "instances": [{"participants": [{"user_email": "jo@example.com"},
                                                              {"user_email": ""}]}]}])
    first, second = scenario_load(data), scenario_load(json.loads(json.dumps(data)))
    webinar = first.zoom.webinars[81000000001]
    registrant = webinar.registrants[0]
    assert registrant.status == "approved" and registrant.first_name == "Jo"
    assert registrant.id == second.zoom.webinars[81000000001].registrants[0].id
    assert registrant.join_url.startswith("https://zoom.us/w/81000000001?tk=")
    instance = webinar.instances[0]
    assert instance.uuid == second.zoom.webinars[81000000001].instances[0].uuid
    jo, guest = instance.participants
    assert jo["registrant_id"] == registrant.id  # matched case-insensitively
    assert jo["duration"] == 3600 and guest["user_email"] == "" and guest["registrant_id"] == ""
    assert webinar.join_url == "https://zoom.us/j/81000000001" and webinar.approval_type == 0


def test_demo_scenario_loads_and_exercises_every_listed_element():
    world = scenario_load(scenario_read("demo"))
    main, eu = world.zoom.accounts["zacc_main"], world.zoom.accounts["zacc_eu"]
    assert eu.business_unit_id == "101" and main.business_unit_id == "0"
    assert {e.event_id for e in main.events} == {"ze_keynote"}  # R2
    launch = main.webinars[81000000001]
    rows = launch.instances[0].participants
    assert any(r["user_email"] == "" for r in rows)  # R3
    assert sum(r["user_email"] == "jane.doe@example.com" for r in rows) == 3  # rejoin
    assert {r.status for r in launch.registrants} == {"approved", "pending", "denied", "cancelled"}
    assert launch.instances[0].uuid.startswith("/")
    assert "//" in main.webinars[81000000002].instances[0].uuid
    assert main.webinars[81000000002].type == 9 and len(main.webinars[81000000002].instances) == 2
    files = {tuple(f["file_type"] for f in r.files) for w in main.webinars.values()
             for r in w.recordings.values()}
    assert ("MP4", "TRANSCRIPT") in files and ("MP4",) in files
    hosts = {u.email for u in main.users}
    assert "pat@partner.example" in hosts and "lena.legal@acme-legal.com" in hosts
    contacts = world.hubspot.snapshot()["contacts"]
    assert any(c["archived"] for c in contacts)  # R14
    assert any(c["additional_emails"] for c in contacts)  # R13


def test_generate_is_deterministic_and_shaped():
    data = scenario_generate(webinars=3, registrants=100, rejoin_rate=0.5, guest_rate=0.2, seed=3)
    assert data == scenario_generate(webinars=3, registrants=100, rejoin_rate=0.5, guest_rate=0.2,
                                     seed=3)
    world = scenario_load(data)
    assert sum(len(w.registrants) for w in world.zoom.webinars.values()) == 100
    rows = [p for w in world.zoom.webinars.values() for p in w.instances[0].participants]
    assert any(p["user_email"] == "" for p in rows)
    emails = [p["user_email"] for p in rows if p["user_email"]]
    assert len(emails) > len(set(emails))  # some rejoins


@pytest.mark.slow
def test_generate_100k_registrants_quickly():
    started = time.monotonic()
    data = scenario_generate(webinars=10, registrants=100_000)
    world = scenario_load(data)
    assert sum(len(w.registrants) for w in world.zoom.webinars.values()) == 100_000
    assert time.monotonic() - started < 60


def test_generate_command_prints_json():
    out = subprocess.run(
        [sys.executable, "-m", "sandbox", "generate", "--webinars", "2", "--registrants", "10",
         "--seed", "5"], capture_output=True, text=True, timeout=120, check=True)
    data = json.loads(out.stdout)
    assert len(data["zoom"]["accounts"][0]["webinars"]) == 2
    scenario_load(data)
