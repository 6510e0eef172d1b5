"""The settings document (INTERFACES.md §4) and the rule checks built on it (R4–R10)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from connector.selectors import sync_rules_get
from connector.services.sync_settings import (
    domain_normalize,
    email_domain,
    sync_settings_export,
    sync_settings_import,
)

DOC = {
    "sync_mode": "selected",
    "selected_users": ["Host@Acme.com"],
    "excluded_host_domains": ["partner.example"],
    "excluded_recording_domains": ["acme-legal.com"],
    "excluded_contact_domains": ["acme.com"],
    "users": {"host@acme.com": {"sync_new_webinars_by_default": False, "sync_recordings": True}},
    "webinars": {"81000000001": {"sync": True}},
    "event_sinks": ["timeline", "marketing_events"],
}


def test_defaults_when_nothing_configured(portal):
    assert sync_settings_export(portal=portal) == {
        "sync_mode": "all",
        "selected_users": [],
        "excluded_host_domains": [],
        "excluded_recording_domains": [],
        "excluded_contact_domains": [],
        "users": {},
        "webinars": {},
        "event_sinks": ["timeline"],
    }


def test_import_then_export_round_trips(portal):
    exported = sync_settings_import(portal=portal, document=DOC)
    assert exported == {**DOC, "selected_users": ["host@acme.com"]}
    assert sync_settings_export(portal=portal) == exported


def test_import_replaces_user_and_webinar_rows(portal):
    sync_settings_import(portal=portal, document=DOC)
    sync_settings_import(portal=portal, document={"webinars": {"82": {"sync": False}}})
    doc = sync_settings_export(portal=portal)
    assert doc["users"] == {}
    assert doc["webinars"] == {"82": {"sync": False}}
    assert doc["sync_mode"] == "all"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"sync_mode": "some"}, "sync_mode"),
        ({"synk_mode": "all"}, "'synk_mode'"),
        ({"excluded_host_domains": ["not a domain"]}, "not a domain"),
        ({"excluded_host_domains": ["acme.com", "ACME.com."]}, "listed twice"),
        ({"users": {"a@b.com": {"sync_recording": True}}}, "'sync_recording'"),
        ({"webinars": {"abc": {"sync": True}}}, "webinar id"),
        ({"event_sinks": ["email"]}, "event_sinks"),
        ({"selected_users": ["nobody"]}, "not an email"),
    ],
)
def test_bad_document_is_refused_and_changes_nothing(portal, document, message):
    sync_settings_import(portal=portal, document=DOC)
    before = sync_settings_export(portal=portal)
    with pytest.raises(ValidationError, match=message):
        sync_settings_import(portal=portal, document=document)
    assert sync_settings_export(portal=portal) == before


def test_domains_are_normalised_idn_allowed():
    assert domain_normalize(" @Acme.COM. ") == "acme.com"
    assert domain_normalize("bücher.example") == "xn--bcher-kva.example"
    assert email_domain("Jane@Bücher.Example") == "xn--bcher-kva.example"
    with pytest.raises(ValidationError):
        domain_normalize("10.0.0.1")
    with pytest.raises(ValidationError):
        domain_normalize("-bad-.com")


def test_r4_sync_mode_none_all_selected(portal):
    sync_settings_import(portal=portal, document={"sync_mode": "none"})
    assert not sync_rules_get(portal=portal).host_selected("host@acme.com")
    sync_settings_import(portal=portal, document={"sync_mode": "all"})
    assert sync_rules_get(portal=portal).host_selected("anyone@acme.com")
    sync_settings_import(portal=portal, document={"sync_mode": "selected", "selected_users": ["host@acme.com"]})
    rules = sync_rules_get(portal=portal)
    assert rules.host_selected(" HOST@acme.com ")
    assert not rules.host_selected("other@acme.com")


def test_r5_r6_r7_domain_exclusions(portal):
    sync_settings_import(portal=portal, document=DOC)
    rules = sync_rules_get(portal=portal)
    assert rules.host_domain_excluded("x@Partner.Example")
    assert not rules.host_domain_excluded("x@acme.com")
    assert rules.recording_domain_excluded("lawyer@acme-legal.com")
    assert rules.contact_domain_excluded("emp@ACME.com")
    assert not rules.contact_domain_excluded("jane@example.com")


def test_r8_r10_webinar_switch_explicit_beats_host_default(portal):
    sync_settings_import(portal=portal, document=DOC)
    rules = sync_rules_get(portal=portal)
    assert rules.webinar_switch("81000000001", "host@acme.com") is True  # R10 ticked on
    assert rules.webinar_switch("81000000002", "host@acme.com") is False  # R8 default off
    assert rules.webinar_switch("81000000002", "other@acme.com") is True  # R8 default on


def test_r9_recordings_off_by_default(portal):
    sync_settings_import(portal=portal, document=DOC)
    rules = sync_rules_get(portal=portal)
    assert rules.recordings_enabled("host@acme.com")
    assert not rules.recordings_enabled("other@acme.com")
