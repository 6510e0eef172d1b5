"""A stream of webhooks, duplicated and out of order, ends where one ordered delivery ends; and
the scheduled sync after it finds nothing left to write (INTERFACES.md §9, SPEC B1)."""

from __future__ import annotations

from typing import Any

import pytest

from connector.models import SyncRun, WebhookEvent
from connector.services.hubspot_schema import (
    PROP_ATTENDED,
    PROP_REGISTRATIONS,
    TEMPLATE_ATTENDANCE,
    TEMPLATE_REGISTRATION,
)
from connector.services.sync import portal_sync
from tests.webhooks.test_rows import FUTURE, LAUNCH, contact, events, registrant_id

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = ["s1.stream@example.com", "s2.stream@example.com", "s3.stream@example.com"]
READS = ("batch/read", "/search", "GET ")


def hubspot_writes(calls: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in calls.items() if not any(r in k for r in READS) and "oauth" not in k}


def _stream(live: Any) -> None:
    for email in PEOPLE:
        live.act("register", account_id="zacc_main", webinar_id=FUTURE, registrant={"email": email})
    live.act("registration_status", account_id="zacc_main", webinar_id=FUTURE,
             registrant_id=registrant_id(live, FUTURE, PEOPLE[2]), status="cancelled")
    for email in PEOPLE[:2]:
        live.act("register", account_id="zacc_main", webinar_id=LAUNCH, registrant={"email": email})
    live.act("hold_session", account_id="zacc_main", webinar_id=LAUNCH, instance={
        "uuid": "StreamSession000000001==", "participants": [{"user_email": e} for e in PEOPLE[:2]]})
    live.act("delete_contact", contact_id="501")


def _outcome(state: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for email in PEOPLE:
        c = contact(state, email)
        assert c is not None
        out[email] = (c["properties"].get(PROP_REGISTRATIONS), c["properties"].get(PROP_ATTENDED),
                      len(events(state, TEMPLATE_REGISTRATION, c["id"])), len(events(state, TEMPLATE_ATTENDANCE, c["id"])))
    out["jane archived"] = contact(state, "jane.doe@example.com") is None
    return out


EXPECTED = {
    PEOPLE[0]: ("2", "1", 2, 1),
    PEOPLE[1]: ("2", "1", 2, 1),
    PEOPLE[2]: ("0", "0", 1, 0),  # registered then cancelled: the registration event stays
    "jane archived": True,
}


@pytest.mark.parametrize("knobs", [{}, {"webhook_duplicate_rate": 1.0, "webhook_shuffle": True, "seed": 7}],
                         ids=["ordered", "duplicated_and_shuffled"])
def test_b1_duplicates_and_shuffle_end_in_the_same_state_and_the_next_sync_writes_nothing(live, knobs):
    live.configure(**knobs)
    _stream(live)
    assert _outcome(live.state()) == EXPECTED
    log = live.webhooks()["deliveries"]
    if knobs:
        assert sum(d["duplicate"] for d in log) == len(log) // 2  # every delivery was sent twice ...
    unique = {(d["service"], str(d["payload"])) for d in log if d["event"] != "endpoint.url_validation"}
    zoom_stored = WebhookEvent.objects.filter(provider="zoom").count()
    hub_stored = WebhookEvent.objects.filter(provider="hubspot").count()
    assert zoom_stored + hub_stored == len(unique)  # ... and stored once
    assert not WebhookEvent.objects.exclude(status__in=("processed", "ignored")).exists()

    # The scheduled sync after the stream (the safety net) finds nothing to write.
    live.calls_clear()
    portal_sync(portal=live.portal, run=SyncRun.objects.create(portal=live.portal, trigger="beat"))
    assert hubspot_writes(live.calls()["hubspot"]) == {}
    assert _outcome(live.state()) == EXPECTED
