"""The push end to end: the demo scenario through E1's portal_sync over HTTP (every
person-level rule visible in the sandbox's state), and the push's HubSpot traffic validated
against the official specs."""

from __future__ import annotations

import pytest

from connector.clients.factories import hubspot_client_for
from connector.models import ContactLink, ContactState
from connector.services.push import portal_push
from connector.services.sandbox_connect import sandbox_connect
from connector.services.sync import portal_sync
from connector.services.sync_settings import sync_settings_export, sync_settings_import
from tests.connector.test_push_world import (
    contacts_by_email,
    hubspot_writes,
    push_run,
    sandbox_portal,
    webinar_make,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_sync_applies_every_person_rule_and_second_sync_writes_nothing(sandbox):
    sandbox.load("demo")
    portal = sandbox_connect(url=sandbox.url)
    doc = sync_settings_export(portal=portal)
    doc["excluded_contact_domains"] = ["acme.com"]
    sync_settings_import(portal=portal, document=doc)

    report = portal_sync(portal=portal)

    state = sandbox.state()
    contacts = contacts_by_email(state)
    archived = contacts_by_email(state, archived=True)
    skipped = report["people"]["skipped"]
    # R12: the account user's contact is untouched and has no event.
    assert not any(k.startswith("zoomsync_") for k in contacts["marketer@acme.com"]["properties"])
    assert skipped["account_user"] >= 1
    # R13: the secondary-email registrant created nothing and Sam's contact is untouched.
    assert "sam@oldmail.example" not in contacts
    assert not any(k.startswith("zoomsync_") for k in contacts["sam.lee@globex.example"]["properties"])
    assert skipped["secondary_email"] == 1
    # R14: the deleted contact is not recreated.
    assert "dan.deleted@initech.example" in archived and "dan.deleted@initech.example" not in contacts
    assert skipped["deleted_contact"] == 1
    # R7: an existing acme.com contact is updated, a new acme.com person is not created.
    assert contacts["olivia.staff@acme.com"]["properties"]["zoomsync_registration_count"] == "1"
    internal = ContactLink.objects.filter(portal=portal, state=ContactState.NOT_CREATED)
    assert internal.count() == skipped["internal_domain"] >= 1
    assert all(link.email.endswith("@acme.com") and link.email not in contacts for link in internal)
    # Events only on linked contacts, never on skipped people's contacts.
    linked_ids = set(ContactLink.objects.filter(portal=portal, state=ContactState.LINKED).values_list("contact_id", flat=True))
    event_objects = {e["objectId"] for e in state["hubspot"]["timeline_events"]}
    assert event_objects and event_objects <= linked_ids
    assert {"501", "502", "503", "504"}.isdisjoint(event_objects - {"501"})
    assert report["errors"] == []
    assert report["people"]["contacts_created"] > 0 and report["events"]["attendance"] > 0

    sandbox.calls_clear()
    again = portal_sync(portal=portal)
    assert hubspot_writes(sandbox.calls()) == {}
    assert again["people"]["contacts_created"] == again["people"]["contacts_updated"] == 0
    assert again["events"] == {"registration": 0, "attendance": 0, "recording": 0}
    assert again["people"]["skipped"] == skipped


@pytest.mark.contract
def test_push_traffic_follows_the_hubspot_specs(sandbox):
    from sandbox.contract import ContractRecorder, specs_require

    specs_require()
    portal = sandbox_portal(
        sandbox,
        hub={"contacts": [{"id": "501", "email": "old@example.com", "additional_emails": ["alt@example.com"]}]},
        event_sinks=["timeline", "app_events", "marketing_events"],
    )
    w = webinar_make(portal)
    w.session()
    for email in ("old@example.com", "alt@example.com", "new@example.com", "gone@example.com"):
        w.register(email)
        w.attend(email, 0, 30)
    w.register("bye@example.com", status="cancelled")
    w.register("bye@example.com")

    client = hubspot_client_for(portal)
    recorder = ContractRecorder.attach(client.session)
    push_run(portal, client=client)

    recorder.assert_clean()
    assert recorder.exchanges > 8
    operations = " ".join(sorted(recorder.operations))
    for path in ("batch/read", "batch/create", "batch/update", "timeline", "2026-03", "marketing-events"):
        assert path in operations, f"{path} not exercised: {operations}"


def test_portal_push_progress_reports_people(sandbox):
    portal = sandbox_portal(sandbox)
    w = webinar_make(portal)
    for n in range(150):
        w.register(f"p{n}@example.com")
    seen: list[tuple[str, int, int]] = []
    push_run(portal, progress=lambda phase, done, total: seen.append((phase, done, total)))
    assert seen[0] == ("push", 0, 150) and seen[-1] == ("push", 150, 150)
    assert portal_push  # the entry point E1's portal_sync calls
