"""How a worker gathers a burst of registrations into full HubSpot batches (SPEC B1, B2):
it counts the distinct people waiting (not events, not people a run already covered), adds
those expected while the refresh starts (the stream's pace), goes at once on a quiet stream,
and never lets the oldest wait longer than ZOOMSYNC_WEBHOOK_GATHER_S. A registration whose
person a run already pulled and pushed is done without marking them changed again."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from connector.models import DirtyPerson, Registrant, SyncRun, WebhookEvent, Webinar, ZoomAccount
from connector.webhooks.services import registrations_covered, webhook_event_process
from tests.webhooks.test_rows import FUTURE, all_processed

pytestmark = pytest.mark.django_db(transaction=True)


def _body(email: str, status: str = "approved") -> str:
    return json.dumps({"event": "webinar.registration_created", "payload": {
        "account_id": "zacc_gather", "object": {"id": FUTURE, "registrant": {"email": email, "status": status}}}})


def _registrations(account: Any, emails: list[str], key: str, *, ago_s: float = 0.0) -> list[WebhookEvent]:
    made = [WebhookEvent.objects.create(
        provider="zoom", portal=account.portal, zoom_account=account, event_type="webinar.registration_created",
        dedupe_key=f"{key}-{i}", subject=str(FUTURE), raw_body=_body(email), occurred_at=timezone.now(),
    ) for i, email in enumerate(emails)]
    if ago_s:
        WebhookEvent.objects.filter(pk__in=[e.pk for e in made]).update(
            received_at=timezone.now() - dt.timedelta(seconds=ago_s))
    return made


def _people(n: int, prefix: str = "p") -> list[str]:
    return [f"{prefix}{i}@example.com" for i in range(n)]


@pytest.fixture
def account(portal: Any, settings: Any) -> ZoomAccount:
    settings.ZOOMSYNC_WEBHOOK_GATHER_S = 8.0
    settings.ZOOMSYNC_WEBHOOK_GATHER_QUIET_S = 1.0
    settings.ZOOMSYNC_WEBHOOK_GATHER_LEAD_S = 0.0
    # A disconnected account: once the wait is over the event is done without a sync.
    return ZoomAccount.objects.create(portal=portal, account_id="zacc_gather", status="broken")


def _wait(event: WebhookEvent) -> float | None:
    return webhook_event_process(event_id=event.pk, gather=True).retry_in


def test_b1_a_burst_waits_until_its_distinct_people_make_a_batch(account):
    # 100 events naming 50 people (each registered twice): not a batch yet.
    events = _registrations(account, _people(50) * 2, "twice")
    wait = _wait(events[0])
    assert wait is not None and 0 < wait <= 1.0  # watched again before the stream could go quiet
    assert WebhookEvent.objects.get(pk=events[0].pk).status == "pending"
    # 99 people: still waiting; the 100th makes the batch and the oldest goes.
    _registrations(account, _people(49, "q"), "more")
    assert _wait(events[0]) is not None
    _registrations(account, ["last@example.com"], "last")
    assert _wait(events[0]) is None


def test_b1_people_expected_while_the_refresh_starts_count_towards_the_batch(account, settings):
    # 70 people in the last second: a pace of ~23 a second over the 3-second window.
    events = _registrations(account, _people(70), "pace")
    assert _wait(events[0]) is not None  # no lead: 70 of 100
    settings.ZOOMSYNC_WEBHOOK_GATHER_LEAD_S = 1.5  # ~35 more will have registered when it reads Zoom
    assert _wait(events[0]) is None


def test_b1_only_the_oldest_event_watches_the_burst(account):
    events = _registrations(account, _people(10), "watch")
    WebhookEvent.objects.filter(pk=events[0].pk).update(received_at=timezone.now() - dt.timedelta(seconds=0.5))
    newest = _wait(events[-1])
    # The others wake after the oldest's longest wait (a lost task is covered), not sooner.
    assert newest is not None and 8.0 - 0.5 < newest <= 8.0 - 0.5 + 1.0 + 0.1
    oldest = _wait(events[0])
    assert oldest is not None and oldest <= 1.0


def test_b1_a_quiet_stream_goes_at_once(account):
    [event] = _registrations(account, ["alone@example.com"], "quiet", ago_s=1.2)
    assert _wait(event) is None
    event.refresh_from_db()
    assert event.status == "ignored"  # processed (a broken account: nothing to sync)


def test_b1_the_oldest_never_waits_longer_than_the_gather_time(account, settings):
    settings.ZOOMSYNC_WEBHOOK_GATHER_QUIET_S = 60.0  # never quiet here
    events = _registrations(account, _people(5), "old", ago_s=3.0)
    wait = _wait(events[0])
    assert wait is not None and wait <= 5.0 + 0.1
    WebhookEvent.objects.filter(pk=events[0].pk).update(received_at=timezone.now() - dt.timedelta(seconds=8.5))
    assert _wait(events[0]) is None
    assert WebhookEvent.objects.get(pk=events[0].pk).status == "ignored"  # done (nothing to sync)


# --- registrations a run already covered --------------------------------------------------------


def test_b2_a_registration_already_covered_is_done_without_marking_its_person_again(live):
    """A run read Zoom after the person registered, before their webhook came, and pushed
    them: their webhook is then done at once, with no refresh and no new mark (which used to
    split the next batch's new people over two push chunks)."""
    email = "ahead.ada@example.com"
    live.act("register", account_id="zacc_main", webinar_id=FUTURE, registrant={"email": email})
    assert Registrant.objects.filter(email=email, status="approved").exists()
    assert not DirtyPerson.objects.filter(email=email).exists()
    stored = WebhookEvent.objects.get(event_type="webinar.registration_created")
    runs = SyncRun.objects.count()

    def again(key: str) -> WebhookEvent:
        return WebhookEvent.objects.create(
            provider="zoom", portal=stored.portal, zoom_account=stored.zoom_account, event_type=stored.event_type,
            subject=stored.subject, raw_body=stored.raw_body, occurred_at=stored.occurred_at, dedupe_key=key)

    live.calls_clear()
    late = again("late")
    result = webhook_event_process(event_id=late.pk, gather=True)
    assert result.status == "processed" and result.retry_in is None
    assert not DirtyPerson.objects.filter(email=email).exists()
    assert SyncRun.objects.count() == runs  # no refresh asked for
    assert sum(live.calls()["hubspot"].values()) == 0

    # Not covered while the person is still marked changed (pulled, not pushed yet): the
    # event asks for the refresh that pushes them.
    DirtyPerson.objects.create(portal=stored.portal, email=email, marked_at=timezone.now())
    pending = again("pending-push")
    assert registrations_covered([pending]) == set()
    assert webhook_event_process(event_id=pending.pk).status == "processed"
    assert SyncRun.objects.count() == runs + 1
    assert not DirtyPerson.objects.filter(email=email).exists()  # that run pushed them
    all_processed()


def test_b2_a_cancelled_registrant_row_does_not_cover_a_new_registration(live):
    email = "back.bea@example.com"
    live.act("register", account_id="zacc_main", webinar_id=FUTURE, registrant={"email": email})
    stored = WebhookEvent.objects.get(event_type="webinar.registration_created")
    assert registrations_covered([stored]) == {stored.pk}
    Registrant.objects.filter(email=email).update(status="cancelled")  # registered again since
    assert registrations_covered([stored]) == set()
    # Another webinar's row does not cover it either.
    Registrant.objects.filter(email=email).update(status="approved",
                                                  webinar=Webinar.objects.exclude(webinar_id=str(FUTURE)).first())
    assert registrations_covered([stored]) == set()


def test_b2_covered_people_do_not_count_towards_a_batch(account):
    webinar = Webinar.objects.create(account=account, webinar_id=str(FUTURE), topic="Future", webinar_type=5)
    covered = _people(60, "c")
    Registrant.objects.bulk_create([Registrant(webinar=webinar, registrant_id=f"r{i}", email=e, status="approved")
                                    for i, e in enumerate(covered)])
    events = _registrations(account, _people(50) + covered, "mixed")
    assert len(registrations_covered(events)) == 60
    # The oldest (not covered) watches: 50 new people are not a batch, however many events.
    assert _wait(events[0]) is not None
    # A covered event is done on its own at its first try; as the burst's oldest it passes
    # the watch to the next oldest.
    WebhookEvent.objects.filter(pk=events[50].pk).update(received_at=timezone.now() - dt.timedelta(seconds=2))
    result = webhook_event_process(event_id=events[50].pk, gather=True)
    assert result.status == "processed" and result.then == events[0].pk
    assert webhook_event_process(event_id=events[51].pk, gather=True).then is None  # not the oldest
    assert not DirtyPerson.objects.exists()
