"""B6 inbound, end to end over HTTP to the sandbox: with `registration_answers_to_contacts`
on, the sync writes registrants' answers to the mapped contact properties, only where the
contact's value is empty, in the same batched writes as the four properties, and never for
HubSpot users (R12), secondary emails (R13) or deleted contacts (R14)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.connector.issue5_scenarios import (
    NOW,
    base_scenario,
    connect,
    contact_props,
    iso,
    registrant,
    sync,
)

pytestmark = pytest.mark.django_db(transaction=False)

W = 81000000601
HELD = NOW - dt.timedelta(days=1)
MAPPING = {"job_title": "jobtitle", "org": "company", "custom:team size": "team_size"}


def answered(rid: str, email: str, **answers: Any) -> dict[str, Any]:
    row = registrant(rid, email, created=HELD - dt.timedelta(days=2), webinar_id=W)
    team = answers.pop("team", None)
    row.update(answers)
    if team is not None:
        row["custom_questions"] = [{"title": "Team size", "value": team}]
    return row


def scenario() -> dict[str, Any]:
    data = base_scenario(webinars=[{
        "id": W, "host_id": "zu_1", "topic": "Answers webinar", "type": 5, "start_time": iso(HELD), "duration": 60,
        "questions": [{"field_name": "job_title", "required": False}, {"field_name": "org", "required": False}],
        "custom_questions": [{"title": "Team size", "type": "single_dropdown", "required": False,
                              "answers": ["1-10", "11-50", "50+"]}],
        "registrants": [
            answered("r_jane", "jane@example.com", job_title="CTO", org="Acme", team="11-50"),
            answered("r_new", "newbie@example.org", org="NewCo", team="1-10"),
            answered("r_user", "marketer@acme.com", org="Acme Marketing"),  # a HubSpot user (R12)
            answered("r_sec", "sam.old@example.net", org="Old Co"),  # Sam's secondary email (R13)
            answered("r_dan", "dan@example.com", org="Gone Inc"),  # deleted in HubSpot (R14)
        ],
    }])
    data["hubspot"]["properties"] = [{"name": "team_size", "label": "Team size", "type": "string",
                                      "groupName": "contactinformation"}]
    data["hubspot"]["contacts"] = [
        {"id": "601", "email": "jane@example.com", "firstname": "Jane", "lastname": "Tester",
         "properties": {"jobtitle": "CEO"}},  # her own job title stays
        {"id": "602", "email": "marketer@acme.com", "firstname": "Mia", "lastname": "Marketer"},
        {"id": "603", "email": "sam@example.net", "firstname": "Sam", "lastname": "Lee",
         "additional_emails": ["sam.old@example.net"]},
        {"id": "604", "email": "dan@example.com", "firstname": "Dan", "lastname": "Gone", "archived": True},
    ]
    return data


def contact_writes(sandbox) -> dict[str, int]:
    return {k: n for k, n in sandbox.calls()["hubspot"].items()
            if k.startswith(("POST /crm/v3/objects/contacts", "PATCH /crm/v3/objects/contacts",
                             "GET /crm/v3/objects/contacts"))}


def test_b6_answers_written_only_where_empty(sandbox):
    portal = connect(sandbox, scenario(), settings={
        "registration_fields": MAPPING, "registration_answers_to_contacts": True})
    sandbox.calls_clear()
    report = sync(portal)
    assert report["errors"] == []
    state = sandbox.state()

    jane = contact_props(state, "jane@example.com")
    assert jane["jobtitle"] == "CEO"  # not empty: never overwritten
    assert jane["company"] == "Acme" and jane["team_size"] == "11-50"
    assert jane["zoomsync_registration_count"] == "1"  # in the same update as the four properties
    newbie = contact_props(state, "newbie@example.org")
    assert newbie["company"] == "NewCo" and newbie["team_size"] == "1-10"  # created with them

    assert not contact_props(state, "marketer@acme.com").get("company")  # R12
    assert not contact_props(state, "sam@example.net").get("company")  # R13
    dan = next(c for c in state["hubspot"]["contacts"] if c["properties"].get("email") == "dan@example.com")
    assert dan["archived"] and not dan["properties"].get("company")  # R14: not recreated, not written

    # No extra call per person: one batch read, one batch create, one batch update.
    calls = contact_writes(sandbox)
    assert calls.get("POST /crm/v3/objects/contacts/batch/update") == 1
    assert calls.get("POST /crm/v3/objects/contacts/batch/create") == 1
    assert not any(k.startswith("GET /crm/v3/objects/contacts/") for k in calls)

    # A second sync over the same data writes nothing.
    sandbox.calls_clear()
    again = sync(portal)
    assert again["people"]["contacts_updated"] == 0 and again["people"]["contacts_created"] == 0
    assert "POST /crm/v3/objects/contacts/batch/update" not in contact_writes(sandbox)


def test_b6_answers_not_written_when_the_setting_is_off(sandbox):
    portal = connect(sandbox, scenario(), settings={"registration_fields": MAPPING})
    report = sync(portal)
    assert report["errors"] == []
    state = sandbox.state()
    assert not contact_props(state, "jane@example.com").get("company")
    assert not contact_props(state, "newbie@example.org").get("company")
