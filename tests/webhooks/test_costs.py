"""What a webhook's refresh costs in HubSpot calls, counted by the sandbox (`/_sandbox/calls`):
people already linked to a contact are not read again by a targeted refresh (HubSpot tells of
deletions and merges by webhook), while the full reconciliation still reads everyone (SPEC B2,
B3, R14)."""

from __future__ import annotations

from typing import Any

import pytest

from connector.models import ContactLink, ContactState, SyncRun
from connector.services.hubspot_schema import PROP_REGISTRATIONS
from connector.services.sync import portal_sync
from tests.webhooks.test_rows import FUTURE, LAUNCH, all_processed, contact, registrant_id

pytestmark = pytest.mark.django_db(transaction=True)

BATCH_READ = "POST /crm/v3/objects/contacts/batch/read"


def reads(live: Any) -> int:
    return int(live.calls()["hubspot"].get(BATCH_READ, 0))


def test_b2_second_targeted_refresh_of_linked_people_makes_no_batch_read(live):
    people = ["linked.lou@example.com", "linked.liv@example.com"]
    for email in people:
        live.act("register", account_id="zacc_main", webinar_id=FUTURE, registrant={"email": email})
    assert all(ContactLink.objects.get(email=e).state == ContactState.LINKED for e in people)

    # The same people again: one registers for another webinar, the other cancels.
    live.calls_clear()
    live.act("register", account_id="zacc_main", webinar_id=LAUNCH, registrant={"email": people[0]})
    live.act("registration_status", account_id="zacc_main", webinar_id=FUTURE,
             registrant_id=registrant_id(live, FUTURE, people[1]), status="cancelled")
    assert reads(live) == 0
    state = live.state()
    lou, liv = contact(state, people[0]), contact(state, people[1])
    assert lou is not None and lou["properties"][PROP_REGISTRATIONS] == "2"  # R18, written without a read
    assert liv is not None and liv["properties"][PROP_REGISTRATIONS] == "0"
    all_processed()


def test_r14_full_reconciliation_still_reads_linked_people(live):
    live.act("register", account_id="zacc_main", webinar_id=FUTURE, registrant={"email": "full.fay@example.com"})
    live.calls_clear()
    portal_sync(portal=live.portal, run=SyncRun.objects.create(portal=live.portal, trigger="beat", full=True))
    assert reads(live) >= 1
