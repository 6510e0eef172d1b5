"""What a webhook's refresh costs in HubSpot calls, counted by the sandbox (`/_sandbox/calls`):
people already linked to a contact are not read again by a targeted refresh (HubSpot tells of
deletions and merges by webhook), while the full reconciliation still reads everyone (SPEC B2,
B3, R14)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from connector.models import ContactLink, ContactState, SyncRun, WebhookEvent, ZoomAccount
from connector.services.hubspot_schema import PROP_REGISTRATIONS
from connector.services.sync import portal_sync
from connector.webhooks.services import webhook_event_process
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


def _registrations(account: Any, n: int, key: str) -> list[WebhookEvent]:
    return [WebhookEvent.objects.create(
        provider="zoom", portal=account.portal, zoom_account=account, event_type="webinar.registration_created",
        dedupe_key=f"{key}-{i}", subject=str(FUTURE), raw_body="{}", occurred_at=timezone.now(),
    ) for i in range(n)]


def test_b2_a_worker_gathers_a_burst_until_a_batch_waits_or_the_oldest_waited(portal, settings):
    settings.ZOOMSYNC_WEBHOOK_GATHER_S = 5.0
    # A disconnected account: once the wait is over the event is done without a sync.
    account = ZoomAccount.objects.create(portal=portal, account_id="zacc_gather", status="broken")
    [first] = _registrations(account, 1, "first")
    waiting = webhook_event_process(event_id=first.pk, gather=True)
    assert waiting.retry_in is not None and 0 < waiting.retry_in <= 5.0
    first.refresh_from_db()
    assert first.status == "pending" and first.attempts == 0  # waiting is not an attempt
    assert webhook_event_process(event_id=first.pk).status == "ignored"  # in-process: at once

    # A batch's worth waiting goes at once (its oldest event's task watches it; events naming
    # no registrant count one each); so does a burst whose oldest waited long enough.
    burst = _registrations(account, 100, "burst")
    assert webhook_event_process(event_id=burst[0].pk, gather=True).retry_in is None
    WebhookEvent.objects.all().delete()
    [old] = _registrations(account, 1, "old")
    WebhookEvent.objects.filter(pk=old.pk).update(received_at=timezone.now() - dt.timedelta(seconds=6))
    assert webhook_event_process(event_id=old.pk, gather=True).retry_in is None
