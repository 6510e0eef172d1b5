"""B6 settings keys (INTERFACES.md §4 "Registration questions"): `registration_fields` and
`registration_answers_to_contacts` validated, stored, exported and imported; a bad document
names the entry at fault and changes nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from connector.models import RegistrationFieldMapping
from connector.services.registration_questions import (
    Question,
    contact_answer_properties,
    registrant_answers_from_zoom,
    registration_answers_build,
)
from connector.services.sync_settings import sync_settings_export, sync_settings_import

DOC = {
    "sync_mode": "all",
    "registration_fields": {"job_title": "jobtitle", "org": "company", "custom:  Company   size ": "numemployees"},
    "registration_answers_to_contacts": True,
}


def test_registration_fields_round_trip(portal):
    exported = sync_settings_import(portal=portal, document=DOC)
    assert exported["registration_fields"] == {
        "custom:Company size": "numemployees", "job_title": "jobtitle", "org": "company",
    }
    assert exported["registration_answers_to_contacts"] is True
    assert RegistrationFieldMapping.objects.filter(portal=portal).count() == 3
    # Imported again, the export is unchanged (stable for diffs).
    assert sync_settings_import(portal=portal, document=exported) == exported
    # Removing the keys goes back to the defaults (and the keys leave the export).
    cleared = sync_settings_import(portal=portal, document={"sync_mode": "all"})
    assert "registration_fields" not in cleared and "registration_answers_to_contacts" not in cleared
    assert not RegistrationFieldMapping.objects.filter(portal=portal).exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([], "expected an object"),
        ({"favourite_colour": "x"}, "'favourite_colour' is not a Zoom registration question"),
        ({"first_name": "firstname"}, "always sent"),
        ({"custom:": "x"}, "names no custom question"),
        ({"job_title": "Job Title!"}, "not a HubSpot property name"),
        ({"job_title": "zoomsync_attended_count"}, "cannot hold registration answers"),
        ({"custom:Team size": "a", "custom:team SIZE": "b"}, "are the same question"),
    ],
)
def test_bad_registration_fields_change_nothing(portal, fields, message):
    sync_settings_import(portal=portal, document=DOC)
    before = sync_settings_export(portal=portal)
    with pytest.raises(ValidationError, match=message):
        sync_settings_import(portal=portal, document={"registration_fields": fields})
    assert sync_settings_export(portal=portal) == before


def test_answers_to_contacts_must_be_a_boolean(portal):
    with pytest.raises(ValidationError, match="registration_answers_to_contacts"):
        sync_settings_import(portal=portal, document={"registration_answers_to_contacts": "yes"})


def test_answers_built_from_the_contact():
    questions = [
        Question(key="org", label="Organization", required=True),
        Question(key="custom:Team size", label="Team size", required=True, options=("1-10", "11-50", "50+")),
        Question(key="custom:Topics", label="Topics", required=False, options=("API", "UI"), multiple=True),
        Question(key="city", label="City", required=False),
    ]
    mapping = {"org": "company", "custom:team size": "team", "custom:Topics": "topics"}
    built = registration_answers_build(
        questions=questions, mapping=mapping, contact={"company": " Acme ", "team": "11-50 ", "topics": "api;UI"}
    )
    assert built.complete
    assert built.fields == {"org": "Acme"}
    assert built.custom_questions == [{"title": "Team size", "value": "11-50"}, {"title": "Topics", "value": "API,UI"}]


def test_inbound_answers_fill_only_empty_properties():
    answers = registrant_answers_from_zoom(
        {"job_title": "CTO", "org": "", "custom_questions": [{"title": "Team size ", "value": "50+"}]}
    )
    assert answers == {"job_title": "CTO", "custom:Team size": "50+"}
    mapping = {"job_title": "jobtitle", "custom:team size": "team", "org": "company"}
    assert contact_answer_properties(answers=answers, mapping=mapping, current={"jobtitle": "Boss", "team": ""}) == {
        "team": "50+"
    }


def test_required_standard_choice_outside_zoom_enum_is_refused_by_name():
    questions = [Question(key="no_of_employees", label="Number of employees", required=True,
                          options=("1-20", "21-50", "51-100"))]
    built = registration_answers_build(questions=questions, mapping={"no_of_employees": "numemployees"},
                                       contact={"numemployees": "25-50"})
    assert not built.complete
    assert built.refused == ["Number of employees ('25-50' is not one of its options: 1-20, 21-50, 51-100)"]
    ok = registration_answers_build(questions=questions, mapping={"no_of_employees": "numemployees"},
                                    contact={"numemployees": " 21-50"})
    assert ok.complete and ok.fields == {"no_of_employees": "21-50"}
