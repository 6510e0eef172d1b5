"""Person-level rules of the push, over HTTP to the sandbox, asserting on its HubSpot state:
R7 (internal domains), R12 (account users), R13 (secondary emails), R14 (deleted contacts),
R16–R19 (the four properties)."""

from __future__ import annotations

import pytest
import requests

from connector.models import ContactLink, ContactState, SkipRecord
from connector.services.hubspot_schema import (
    PROP_ATTENDED,
    PROP_AVERAGE,
    PROP_LAST_REGISTERED,
    PROP_REGISTRATIONS,
)
from tests.connector.test_push_world import (
    contacts_by_email,
    push_run,
    sandbox_portal,
    webinar_make,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _events_for(state: dict, contact_id: str) -> list[dict]:
    return [e for e in state["hubspot"]["timeline_events"] if str(e["objectId"]) == str(contact_id)]


def test_r12_account_user_never_created_nor_updated(sandbox):
    portal = sandbox_portal(
        sandbox,
        hub={
            "users": [{"id": "9001", "email": "Marketer@Acme.com"}, {"id": "9002", "email": "sales@acme.com"}],
            "contacts": [{"id": "501", "email": "marketer@acme.com", "firstname": "Mary", "lastname": "Ket"}],
        },
    )
    w = webinar_make(portal)
    w.session()
    for email in ("marketer@acme.com", "sales@acme.com", "jane@example.com"):
        w.register(email)
        w.attend(email, 0, 30)

    report = push_run(portal)

    state = sandbox.state()
    contacts = contacts_by_email(state)
    # R12: the user who is not a contact was not created; the one who is was not touched.
    assert "sales@acme.com" not in contacts
    assert not any(k.startswith("zoomsync_") for k in contacts["marketer@acme.com"]["properties"])
    assert _events_for(state, "501") == []
    # The ordinary person was created, with properties and events.
    assert contacts["jane@example.com"]["properties"][PROP_REGISTRATIONS] == "1"
    assert len(_events_for(state, contacts["jane@example.com"]["id"])) == 2
    assert report.skip_count(kind="person", reason="account_user") == 2
    assert report.contacts_created == 1
    assert ContactLink.objects.get(email="sales@acme.com").state == ContactState.ACCOUNT_USER


def test_r13_secondary_email_registration_no_event_no_contact(sandbox):
    portal = sandbox_portal(
        sandbox,
        hub={
            "contacts": [
                {
                    "id": "501",
                    "email": "jane@example.com",
                    "firstname": "Jane",
                    "lastname": "Doe",
                    "additional_emails": ["jd@old.example.org"],
                }
            ]
        },
    )
    w = webinar_make(portal)
    w.session()
    w.register("JD@old.example.org")
    w.attend("jd@old.example.org", 0, 45)

    report = push_run(portal)

    state = sandbox.state()
    assert [c["id"] for c in state["hubspot"]["contacts"]] == ["501"]  # no new contact
    jane = contacts_by_email(state)["jane@example.com"]
    assert PROP_REGISTRATIONS not in jane["properties"]  # not updated through the secondary
    assert state["hubspot"]["timeline_events"] == []  # no event
    assert report.skip_count(kind="person", reason="secondary_email") == 1
    assert SkipRecord.objects.filter(reason="secondary_email", subject="jd@old.example.org").exists()


def test_r14_archived_contact_is_not_recreated(sandbox):
    portal = sandbox_portal(
        sandbox,
        hub={"contacts": [{"id": "777", "email": "gone@example.com", "firstname": "Gone", "archived": True}]},
    )
    w = webinar_make(portal)
    w.session()
    w.register("gone@example.com")
    w.attend("gone@example.com", 0, 60)
    w.register("new@example.com")

    report = push_run(portal)

    state = sandbox.state()
    assert "gone@example.com" not in contacts_by_email(state)
    assert "new@example.com" in contacts_by_email(state)
    assert report.skip_count(kind="person", reason="deleted_contact") == 1
    assert ContactLink.objects.get(email="gone@example.com").state == ContactState.DELETED
    gone_events = [e for e in state["hubspot"]["timeline_events"] if e["objectId"] == "777"]
    assert gone_events == []


def test_r14_contact_deleted_after_first_sync_is_not_recreated(sandbox):
    portal = sandbox_portal(sandbox)
    w = webinar_make(portal)
    w.session()
    w.register("ann@example.com")
    push_run(portal)
    ann = contacts_by_email(sandbox.state())["ann@example.com"]

    # Someone deletes the contact in HubSpot; Ann then attends.
    token = sandbox.token("hubspot")
    response = requests.delete(
        f"{sandbox.hubspot_api_base}/crm/v3/objects/contacts/{ann['id']}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 204
    w.attend("ann@example.com", 0, 30)

    report = push_run(portal)

    state = sandbox.state()
    assert "ann@example.com" not in contacts_by_email(state)
    assert report.skip_count(kind="person", reason="deleted_contact") == 1
    assert report.contacts_created == 0
    attendance = [e for e in state["hubspot"]["timeline_events"] if e["template_name"] == "Zoom: Webinar attendance"]
    assert attendance == []


def test_r7_internal_domain_not_created_but_existing_contact_updated(sandbox):
    portal = sandbox_portal(
        sandbox,
        hub={"contacts": [{"id": "601", "email": "alice@acme.com", "firstname": "Alice"}]},
        excluded_contact_domains=["acme.com"],
    )
    w = webinar_make(portal)
    w.session()
    for email in ("alice@acme.com", "bob@acme.com", "carol@example.com"):
        w.register(email)
    w.attend("alice@acme.com", 0, 60)

    report = push_run(portal)

    contacts = contacts_by_email(sandbox.state())
    assert "bob@acme.com" not in contacts  # R7: not created
    assert "carol@example.com" in contacts
    # R7 stops creation only: Alice's existing contact is updated.
    assert contacts["alice@acme.com"]["properties"][PROP_ATTENDED] == "1"
    assert contacts["alice@acme.com"]["properties"][PROP_AVERAGE] == "100.0"
    assert report.skip_count(kind="person", reason="internal_domain") == 1
    assert report.contacts_created == 1
    assert report.contacts_updated == 1


def test_r16_r19_properties_follow_the_arithmetic(sandbox):
    portal = sandbox_portal(sandbox)
    a = webinar_make(portal, webinar_id="81000000001", topic="A")
    b = webinar_make(portal, webinar_id="81000000002", topic="B")
    c = webinar_make(portal, webinar_id="81000000003", topic="C")
    a.session()
    b.session()
    a.register("kim@example.com", minutes=-3000)
    b.register("kim@example.com", minutes=-2000)
    last = c.register("kim@example.com", minutes=-1000, status="pending")
    c.register("kim@example.com", minutes=-500, status="cancelled")  # R18 counts approved/pending only
    # Session A: rejoin with overlap → union 0–45 = 75.0 %; session B: 0–15 of 60 = 25.0 %.
    a.attend("kim@example.com", 0, 30)
    a.attend("kim@example.com", 20, 45)
    b.attend("kim@example.com", -10, 15)  # joined before start: clipped

    push_run(portal)

    props = contacts_by_email(sandbox.state())["kim@example.com"]["properties"]
    assert props[PROP_REGISTRATIONS] == "3"  # R18
    assert props[PROP_ATTENDED] == "2"  # R19
    assert props[PROP_AVERAGE] == "50.0"  # R16: (75 + 25) / 2
    assert props[PROP_LAST_REGISTERED] == last.join_url  # R17: latest approved/pending


def test_r17_last_registered_webinar_falls_back_to_webinar_join_url(sandbox):
    portal = sandbox_portal(sandbox)
    w = webinar_make(portal, webinar_id="81000000004")
    reg = w.register("lou@example.com")
    reg.join_url = ""
    reg.save()

    push_run(portal)

    props = contacts_by_email(sandbox.state())["lou@example.com"]["properties"]
    assert props[PROP_LAST_REGISTERED] == "https://zoom.us/j/81000000004"


def test_r18_properties_updated_only_when_changed(sandbox):
    portal = sandbox_portal(sandbox, hub={"contacts": [{"id": "801", "email": "old@example.com"}]})
    w = webinar_make(portal)
    w.session()
    w.register("old@example.com")
    w.register("new@example.com")
    first = push_run(portal)
    assert (first.contacts_created, first.contacts_updated) == (1, 1)

    sandbox.calls_clear()
    second = push_run(portal)
    assert (second.contacts_created, second.contacts_updated) == (0, 0)
    assert "POST /crm/v3/objects/contacts/batch/update" not in {
        k for k, v in sandbox.calls()["hubspot"].items() if v
    }

    # A second registration changes R18 for one person: exactly that contact is updated.
    webinar_make(portal, webinar_id="81000000009").register("old@example.com")
    third = push_run(portal)
    assert (third.contacts_created, third.contacts_updated) == (0, 1)
    assert contacts_by_email(sandbox.state())["old@example.com"]["properties"][PROP_REGISTRATIONS] == "2"


def test_r14_contact_deleted_before_its_update_is_never_recreated(sandbox, monkeypatch):
    """The contact is found, then deleted in HubSpot before its property update is sent: the
    update answers GONE for it, so its link is marked deleted (R14), the update row is done
    (not retried, not failed) and no later sync creates the person again."""
    from typing import Any

    from connector.models import OutboxItem, OutboxKind, OutboxStatus
    from connector.services import push as push_module

    portal = sandbox_portal(sandbox, hub={"contacts": [{"id": "801", "email": "gone@example.com"}]})
    w = webinar_make(portal)
    w.session()
    w.register("gone@example.com")
    w.attend("gone@example.com", 0, 30)
    original = push_module.contacts_update_send

    def deleting(*, ctx: Any, items: list[Any]) -> None:
        sandbox.act("delete_contact", contact_id="801")
        original(ctx=ctx, items=items)

    monkeypatch.setattr(push_module, "contacts_update_send", deleting)
    report = push_run(portal)

    update = OutboxItem.objects.get(kind=OutboxKind.CONTACT_UPDATE)
    assert update.status == OutboxStatus.SENT and "R14" in update.last_error
    assert ContactLink.objects.get(email="gone@example.com").state == ContactState.DELETED
    assert report.skip_count(kind="person", reason="deleted_contact") == 1
    assert report.contacts_updated == 0

    monkeypatch.undo()
    again = push_run(portal)
    assert "gone@example.com" not in contacts_by_email(sandbox.state())  # R14: not recreated
    assert again.contacts_created == 0
