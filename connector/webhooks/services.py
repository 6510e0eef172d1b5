"""Webhooks: store first, then process by id (INTERFACES.md §9, SPEC B1, B3, B4).

`webhook_zoom_store` / `webhook_hubspot_store` write signed events into the inbox (one row per
event and portal, a unique dedupe key per provider, so a delivery seen twice is stored once)
and queue `webhook_event_process_task` for each new row once the transaction commits.

`webhook_event_process` does an event's work, idempotently:
- Zoom registrations, status changes, `webinar.ended`, recordings, webinar created/updated/
  deleted: the people named are marked changed and a sync is requested through the one
  function `_portal_refresh` (`sync_request`, merged with any sync queued or running), so a
  burst of events costs a few runs, not one each (a worker first waits a few seconds for a
  batch's worth of them); a run that started after the event arrived already covers it. `webinar.ended` is done only once the session's participant report
  is complete (Zoom's report lags), else it is tried again later.
- HubSpot `contact.deletion`: the person's link is marked deleted, never recreated (R14);
  `contact.merge`: the link follows the surviving contact; `contact.privacyDeletion`: the
  person is erased; Zoom `app_deauthorized`: the account's tokens and Zoom data are erased and
  it shows as disconnected.
Events of one subject (a webinar, a contact) are processed in the order they occurred.
Failures are retried with backoff; after MAX_ATTEMPTS the event is dead and shown on the
dashboard until replayed (`webhook_events_replay`, the admin action, `manage.py webhooks replay`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from connector.models import (
    ConnectionStatus,
    ContactLink,
    ContactState,
    DirtyPerson,
    ParticipantRow,
    Portal,
    Registrant,
    Session,
    SyncRun,
    SyncRunStatus,
    WebhookEvent,
    WebhookProvider,
    WebhookStatus,
    Webinar,
    ZoomAccount,
)
from connector.services.erasure import person_erase, zoom_account_deauthorize
from connector.services.recordings import recording_transcript_announced
from connector.services.strict_json import StrictJSONError, loads_strict
from connector.services.sync_settings import email_normalize

logger = logging.getLogger("zoomsync.webhooks")

MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 5
BACKOFF_MAX_S = 15 * 60

# What each Zoom event needs (INTERFACES.md §9 table).
ZOOM_REFRESH_EVENTS = frozenset({
    "webinar.registration_created", "webinar.registration_approved", "webinar.registration_cancelled",
    "webinar.registration_denied", "webinar.ended", "recording.completed", "recording.transcript_completed",
    "webinar.created", "webinar.updated", "webinar.deleted",
})
# Carried by webinar.ended's participant report: nothing to do on their own, but counted to
# know when that report is complete.
ZOOM_SESSION_EVENTS = frozenset({"webinar.started", "webinar.participant_joined", "webinar.participant_left"})
# Refresh every webinar's verdict, not just one webinar's data.
WEBINAR_CHANGES = frozenset({"webinar.created", "webinar.updated", "webinar.deleted"})
# Refreshed together with the portal's other waiting events (webinar.ended waits for its report).
BATCHABLE = ZOOM_REFRESH_EVENTS - {"webinar.ended"}
BATCH_MAX = 5000
BATCH_FILL = 100  # a burst's refresh goes once this many people are in it (one HubSpot batch)
# The stream's pace is measured over this window (events of the portal received per second).
PACE_WINDOW_S = 3.0
# A registration's person is covered (pulled and pushed by a run) when its registrant row is in
# one of these states and the person is not marked changed.
REGISTERED = ("approved", "pending")
ZOOM_DEAUTHORIZED = "app_deauthorized"
HUBSPOT_DELETION = "contact.deletion"
HUBSPOT_PRIVACY_DELETION = "contact.privacyDeletion"
HUBSPOT_MERGE = "contact.merge"


class WebhookPayloadError(ValueError):
    """A signed body that is not the provider's event format."""


class EventRetry(Exception):
    """The event cannot be done yet (a refresh is running, a report is not ready): later."""

    def __init__(self, reason: str, *, countdown: float = BACKOFF_BASE_S) -> None:
        super().__init__(reason)
        self.countdown = countdown


# --- parsing ----------------------------------------------------------------------------------


def json_strict_loads(body: bytes) -> Any:
    """JSON as the providers send it: UTF-8, no NaN/Infinity, no lone surrogates (the one
    strict parser, shared with the workflow action)."""
    try:
        return loads_strict(body)
    except StrictJSONError as exc:
        raise WebhookPayloadError(f"not valid JSON ({exc.code}): {exc}") from exc


def _ms_to_dt(value: Any) -> dt.datetime | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**14:
        return None
    return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)


def _text(value: Any, limit: int = 100) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    return str(value)[:limit] if isinstance(value, str | int) else ""


# --- storing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    new: list[int]  # inbox ids queued for processing
    duplicates: int


def _debounce_s() -> float:
    return float(getattr(settings, "ZOOMSYNC_WEBHOOK_DEBOUNCE_S", 1.0))


def _gather_s() -> float:
    """The longest the oldest event of a burst waits for its batch to fill."""
    return float(getattr(settings, "ZOOMSYNC_WEBHOOK_GATHER_S", 8.0))


def _gather_quiet_s() -> float:
    """A stream quiet this long goes at once (nobody else is coming soon)."""
    return float(getattr(settings, "ZOOMSYNC_WEBHOOK_GATHER_QUIET_S", 1.0))


def _gather_lead_s() -> float:
    """The refresh reads Zoom this long after it is asked for: the people who register
    meanwhile are in its batch too (their webhooks come later and find them covered)."""
    return float(getattr(settings, "ZOOMSYNC_WEBHOOK_GATHER_LEAD_S", 1.5))


def _enqueue(event_id: int) -> None:
    from connector.webhooks.tasks import webhook_event_process_task

    if webhook_event_process_task.app.conf.task_always_eager:
        webhook_event_process_task.apply((event_id,))  # no broker: in-process, before the answer
    else:
        webhook_event_process_task.apply_async((event_id,), countdown=_debounce_s())


def _store(rows: list[WebhookEvent]) -> Stored:
    new: list[int] = []
    duplicates = 0
    with transaction.atomic():
        for row in rows:
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                duplicates += 1  # the same delivery seen again: stored once
                continue
            if row.status == WebhookStatus.PENDING:
                new.append(row.pk)
                # A short wait gathers a burst (1,000 registrations) into a few refreshes; eager
                # Celery (no broker) runs it at once, before the answer.
                transaction.on_commit(functools.partial(_enqueue, row.pk))
    return Stored(new=new, duplicates=duplicates)


def webhook_zoom_store(*, body: bytes, event: Any) -> Stored:
    """Store one signed Zoom event (one row per portal its account is connected to)."""
    if not isinstance(event, dict) or not isinstance(event.get("event"), str) or not isinstance(
        event.get("payload"), dict
    ):
        raise WebhookPayloadError("a Zoom event is an object with event and payload")
    name = event["event"][:100]
    payload = event["payload"]
    account_id = _text(payload.get("account_id"))
    obj = payload.get("object") if isinstance(payload.get("object"), dict) else {}
    subject = _text(obj.get("id")) or account_id
    digest = hashlib.sha256(body).hexdigest()
    raw = body.decode("utf-8")
    base = {"provider": WebhookProvider.ZOOM, "event_type": name, "subject": subject,
            "occurred_at": _ms_to_dt(event.get("event_ts")), "raw_body": raw}
    accounts = list(ZoomAccount.objects.filter(account_id=account_id).select_related("portal")) if account_id else []
    if not accounts:
        return _store([WebhookEvent(**base, dedupe_key=f"{digest}:-", status=WebhookStatus.IGNORED,
                                    last_error="no Zoom account of this id is connected")])
    rows = []
    for account in accounts:
        known = name in ZOOM_REFRESH_EVENTS or name in ZOOM_SESSION_EVENTS or name == ZOOM_DEAUTHORIZED
        rows.append(WebhookEvent(
            **base, portal=account.portal, zoom_account=account, dedupe_key=f"{digest}:{account.pk}",
            status=WebhookStatus.PENDING if known else WebhookStatus.IGNORED,
            last_error="" if known else "not an event zoomsync acts on",
        ))
    return _store(rows)


def _portal_id(event: dict[str, Any]) -> int | None:
    value = event.get("portalId")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        return None
    return value


def webhook_hubspot_store(*, events: Any) -> Stored:
    """Store a signed HubSpot delivery (a JSON array of events), one row per event."""
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise WebhookPayloadError("a HubSpot delivery is a JSON array of event objects")
    if len(events) > 1000:
        raise WebhookPayloadError("too many events in one delivery")
    portals = {p.hub_id: p for p in Portal.objects.filter(
        hub_id__in=[pid for pid in (_portal_id(e) for e in events) if pid is not None])}
    rows = []
    for event in events:
        # research/hubspot-api.md §9.2: the type is `subscriptionType` (or `eventType`).
        kind = _text(event.get("subscriptionType") or event.get("eventType"))
        object_id = _text(event.get("objectId"))
        key = ":".join(_text(event.get(k), 40) for k in ("eventId", "occurredAt", "portalId")) + f":{kind}:{object_id}"
        raw = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        pid = _portal_id(event)
        portal = portals.get(pid) if pid is not None else None
        known = kind in (HUBSPOT_DELETION, HUBSPOT_PRIVACY_DELETION, HUBSPOT_MERGE)
        ok = portal is not None and known and object_id.isdigit()
        rows.append(WebhookEvent(
            provider=WebhookProvider.HUBSPOT, portal=portal, event_type=kind or "(none)", subject=object_id,
            occurred_at=_ms_to_dt(event.get("occurredAt")), raw_body=raw, dedupe_key=key[:200],
            status=WebhookStatus.PENDING if ok else WebhookStatus.IGNORED,
            last_error="" if ok else ("no connected portal of this id" if portal is None
                                      else "not an event zoomsync acts on"),
        ))
    return _store(rows)


# --- processing -------------------------------------------------------------------------------


def _portal_refresh(
    *, portal: Portal, since: dt.datetime, webinar_ids: list[str] | None = None, emails: Iterable[str] = ()
) -> None:
    """Bring HubSpot up to date with what Zoom now holds (the one place the webhooks start sync
    work): the people named are marked changed and a sync of the portal is requested, merged
    with any sync already queued or running (the pipeline's request merging: a burst of events
    is a few runs, not one each). A run that started after `since` already covers the event.
    With no broker the run happens in-process before this returns."""
    from connector.services.sync_requests import people_mark_dirty, sync_request

    covered = SyncRun.objects.filter(
        portal=portal, status=SyncRunStatus.SUCCEEDED, started_at__gte=since
    ).exists()
    if covered:
        return
    with transaction.atomic():
        people_mark_dirty(portal=portal, emails=emails)
        sync_request(portal=portal, source="webhook", webinar_ids=webinar_ids)


def _session_complete(event: WebhookEvent) -> bool:
    """webinar.ended: the stored participant rows hold at least everyone who joined."""
    data = json.loads(event.raw_body)
    uuid = _text(data["payload"]["object"].get("uuid"), 200)
    session = Session.objects.filter(webinar__account=event.zoom_account, uuid=uuid).first()
    if session is None:
        # Not pulled yet: wait, unless its webinar is not one zoomsync syncs (a rule, or gone).
        return not Webinar.objects.filter(account=event.zoom_account, webinar_id=event.subject,
                                          skip_reason="").exists()
    joined = WebhookEvent.objects.filter(
        provider=WebhookProvider.ZOOM, zoom_account=event.zoom_account, event_type="webinar.participant_joined",
        raw_body__contains=uuid,
    ).count()
    rows = ParticipantRow.objects.filter(session=session).count()
    return rows >= joined


def _zoom_process(event: WebhookEvent) -> WebhookStatus:
    account = event.zoom_account
    if account is None or event.portal is None:
        return WebhookStatus.IGNORED
    if event.event_type == ZOOM_DEAUTHORIZED:
        # B4: the Zoom app was removed from this account: its tokens and Zoom data go.
        zoom_account_deauthorize(account=account)
        return WebhookStatus.PROCESSED
    if event.event_type in ZOOM_SESSION_EVENTS:
        return WebhookStatus.IGNORED  # done with the session's webinar.ended
    if account.status != ConnectionStatus.CONNECTED or not event.portal.is_active:
        return WebhookStatus.IGNORED
    # B1: registrations, attendance, recordings and webinar changes reach HubSpot now.
    # A retry (a report that was not complete) needs a refresh newer than the last attempt.
    since = event.received_at if event.attempts <= 1 else timezone.now()
    # The portal's other waiting events of the same kind ride on this one request: the run it
    # asks for starts after every one of them arrived (a queued run, or the one that follows a
    # running run), so one task empties a burst's backlog.
    batch = [event]
    if event.event_type in BATCHABLE:
        batch += list(
            WebhookEvent.objects.filter(
                portal=event.portal, provider=WebhookProvider.ZOOM, status=WebhookStatus.PENDING,
                event_type__in=BATCHABLE, received_at__lte=timezone.now(),
            ).exclude(pk=event.pk).order_by("occurred_at", "pk")[:BATCH_MAX]
        )
    for item in batch:
        _session_note(item)
    # B2: registrations whose person a run already pulled and pushed (it read Zoom after they
    # registered, before their webhook came) are done as they are: marking them changed again
    # would only put people who need nothing in the next run's batches.
    covered = registrations_covered(batch)
    todo = [e for e in batch if e.pk not in covered]
    if todo:
        one_webinar = all(e.event_type not in WEBINAR_CHANGES and e.subject.isdigit() for e in todo)
        webinar_ids = sorted({e.subject for e in todo}) if one_webinar else None
        emails = [email for e in todo for email in _emails_named(e)]
        # Covered only by a run that started after the newest of them arrived.
        since = max([*([since] if event.pk not in covered else []), *(e.received_at for e in todo if e.pk != event.pk)])
        _portal_refresh(portal=event.portal, since=since, webinar_ids=webinar_ids, emails=emails)
    riders = [e.pk for e in batch if e.pk != event.pk]
    if riders:
        WebhookEvent.objects.filter(pk__in=riders, status=WebhookStatus.PENDING).update(
            status=WebhookStatus.PROCESSED, processed_at=timezone.now(), attempts=1
        )
    if event.event_type == "webinar.ended" and not _session_complete(event):
        # The participant report lags behind the end of the session: try again, less often.
        raise EventRetry("the session's participant report is not complete yet",
                         countdown=min(10 * 2 ** max(event.attempts - 1, 0), 300))
    return WebhookStatus.PROCESSED


def _session_note(event: WebhookEvent) -> None:
    """What Zoom says of a session, where the next pull would not look by itself (B1):
    - `webinar.ended` of a single webinar (type 5): the session is recorded, its participants
      not yet pulled, so they are pulled even when the webinar was held before its scheduled
      start or is no longer listed (the pull looks only at sessions it knows are incomplete);
    - `recording.completed` / `recording.transcript_completed`: the session's recording is
      asked for again, however long after the session it comes, and a stored one without a
      transcript is read again on `recording.transcript_completed` (R20)."""
    if event.event_type not in ("webinar.ended", "recording.completed", "recording.transcript_completed"):
        return
    try:
        obj = json.loads(event.raw_body)["payload"]["object"]
    except (ValueError, KeyError, TypeError):
        return
    uuid = _text(obj.get("uuid"), 100) if isinstance(obj, dict) else ""
    if not uuid:
        return
    if event.event_type != "webinar.ended":
        sessions = Session.objects.filter(webinar__account=event.zoom_account, webinar__webinar_id=event.subject, uuid=uuid)
        sessions.update(recording_checked_at=None)
        if event.event_type == "recording.transcript_completed":
            recording_transcript_announced(sessions=sessions)  # R20: a stored recording's transcript
        return
    webinar = Webinar.objects.filter(
        account=event.zoom_account, webinar_id=event.subject, webinar_type=5, skip_reason=""
    ).first()
    if webinar is None:
        return  # not synced; or recurring, whose sessions the pull matches to occurrences
    Session.objects.get_or_create(webinar=webinar, uuid=uuid, defaults={
        "start_time": _iso_to_dt(obj.get("start_time")), "scheduled_duration_minutes": webinar.duration_minutes,
    })


def _iso_to_dt(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _registrant_of(event: WebhookEvent) -> dict[str, Any] | None:
    if not event.event_type.startswith("webinar.registration_"):
        return None
    try:
        registrant = json.loads(event.raw_body)["payload"]["object"]["registrant"]
    except (ValueError, KeyError, TypeError):
        return None
    return registrant if isinstance(registrant, dict) else None


def _emails_named(event: WebhookEvent) -> list[str]:
    """The registrant of a registration event (marked changed for the pipeline)."""
    registrant = _registrant_of(event)
    email = registrant.get("email") if registrant is not None else None
    return [email] if isinstance(email, str) and email else []


def registrations_covered(events: Iterable[WebhookEvent]) -> set[int]:
    """B2: the `webinar.registration_created` events among `events` whose person a run already
    covered: its registrant row is stored (a pull read it from Zoom, registered) and the
    person is not marked changed (the push that followed that pull wrote them; a pull marks
    whom it changes in the same transaction, and the mark goes only once they are pushed).
    Such an event needs no refresh and must not mark the person changed again."""
    wanted: dict[tuple[int, str], dict[int, str]] = {}  # (zoom account, webinar id): {event: email}
    portal_ids: set[int] = set()
    for event in events:
        if event.event_type != "webinar.registration_created" or event.zoom_account_id is None:
            continue
        emails = _emails_named(event)
        email = email_normalize(emails[0])[:254] if emails else ""
        if not email or event.portal_id is None:
            continue
        wanted.setdefault((event.zoom_account_id, event.subject), {})[event.pk] = email
        portal_ids.add(event.portal_id)
    if not wanted:
        return set()
    every = {email for named in wanted.values() for email in named.values()}
    dirty = set(DirtyPerson.objects.filter(portal_id__in=portal_ids, email__in=every).values_list("email", flat=True))
    covered: set[int] = set()
    for (account_id, webinar_id), named in wanted.items():
        stored = set(Registrant.objects.filter(
            webinar__account_id=account_id, webinar__webinar_id=webinar_id, email__in=set(named.values()),
            status__in=REGISTERED,
        ).values_list("email", flat=True))
        covered |= {pk for pk, email in named.items() if email in stored and email not in dirty}
    return covered


def _people_count(events: list[WebhookEvent]) -> int:
    """How many people a refresh of these events pushes: the distinct registrants named (an
    event naming nobody, e.g. a recording, counts as one)."""
    people: set[str] = set()
    nameless = 0
    for event in events:
        emails = _emails_named(event)
        if emails:
            people.add(email_normalize(emails[0]))
        else:
            nameless += 1
    return len(people) + nameless


def _hubspot_process(event: WebhookEvent) -> WebhookStatus:
    portal = event.portal
    if portal is None:
        return WebhookStatus.IGNORED
    data = json.loads(event.raw_body)
    contact_id = event.subject
    if event.event_type == HUBSPOT_DELETION:
        # R14: the contact was deleted in HubSpot: the person is never recreated.
        ContactLink.objects.filter(portal=portal, contact_id=contact_id).update(state=ContactState.DELETED)
        return WebhookStatus.PROCESSED
    if event.event_type == HUBSPOT_MERGE:
        # B3: the link follows the surviving contact (no second contact, no duplicate events).
        primary = _text(data.get("primaryObjectId")) or _text(data.get("newObjectId")) or contact_id
        merged = [_text(m) for m in data.get("mergedObjectIds") or [] if _text(m)]
        merged = [m for m in merged if m != primary]
        ContactLink.objects.filter(portal=portal, contact_id__in=merged).update(
            contact_id=primary, state=ContactState.LINKED
        )
        return WebhookStatus.PROCESSED
    if event.event_type == HUBSPOT_PRIVACY_DELETION:
        # B4: a GDPR deletion: every personal datum of the contact goes.
        person_erase(portal=portal, contact_id=contact_id)  # stored webhook bodies naming them too
        return WebhookStatus.PROCESSED
    return WebhookStatus.IGNORED


def _one(event: WebhookEvent) -> WebhookStatus:
    if event.provider == WebhookProvider.ZOOM:
        return _zoom_process(event)
    return _hubspot_process(event)


def _backoff(attempts: int) -> float:
    return float(min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S))


@dataclass(frozen=True)
class Processed:
    status: str
    retry_in: float | None = None
    # A burst's waiting is watched by the task of its oldest event: when that event is done on
    # its own (covered), the next oldest's task takes over now (the task layer queues it).
    then: int | None = None


OPEN = (WebhookStatus.PENDING, WebhookStatus.RETRYING)


def _gatherable(event: WebhookEvent) -> bool:
    return (event.provider == WebhookProvider.ZOOM and event.event_type in BATCHABLE and event.portal_id is not None
            and event.status == WebhookStatus.PENDING)  # a retry goes when due


def _waiting(portal_id: int) -> Any:
    return WebhookEvent.objects.filter(
        portal_id=portal_id, provider=WebhookProvider.ZOOM, status=WebhookStatus.PENDING, event_type__in=BATCHABLE,
    )


def _gather_wait(event: WebhookEvent) -> float | None:
    """B2: seconds a burst's refresh still waits for more events (None: go now), so that
    1,000 registrations are a few full HubSpot batches (100 people a call), not many small
    ones, while each reaches HubSpot within seconds (B1). It goes when
    - the people waiting (distinct, not already covered by a run) plus those expected to
      register while the refresh starts (the stream's pace x ZOOMSYNC_WEBHOOK_GATHER_LEAD_S:
      the refresh reads Zoom, so it takes them too) make a batch (BATCH_FILL);
    - or the stream has been quiet for ZOOMSYNC_WEBHOOK_GATHER_QUIET_S (nobody else is coming);
    - or the oldest has waited ZOOMSYNC_WEBHOOK_GATHER_S.
    Only the oldest event's task watches; the others wake when its wait is over (in case that
    task was lost) and are usually done with it by then."""
    if not _gatherable(event) or event.portal_id is None:
        return None
    now = timezone.now()
    oldest = _waiting(event.portal_id).order_by("received_at", "pk").values_list("pk", "received_at").first()
    if oldest is None:
        return None
    left = _gather_s() - (now - oldest[1]).total_seconds()
    if left <= 0:
        return None
    if oldest[0] != event.pk:
        return left + 1.0
    waiting = list(_waiting(event.portal_id).order_by("received_at", "pk")[:BATCH_MAX])
    if not waiting:
        return None
    arrivals = WebhookEvent.objects.filter(
        portal_id=event.portal_id, provider=WebhookProvider.ZOOM, event_type__in=BATCHABLE,
    )
    newest = arrivals.order_by("-received_at").values_list("received_at", flat=True).first() or waiting[-1].received_at
    quiet_left = _gather_quiet_s() - (now - newest).total_seconds()
    if quiet_left <= 0:
        return None
    covered = registrations_covered(waiting)
    people = _people_count([e for e in waiting if e.pk not in covered])
    pace = arrivals.filter(received_at__gte=now - dt.timedelta(seconds=PACE_WINDOW_S)).count() / PACE_WINDOW_S
    missing = BATCH_FILL - people - pace * _gather_lead_s()
    if missing <= 0:
        return None
    fill_in = missing / pace if pace > 0 else left
    return max(0.1, min(left, quiet_left, fill_in))


def _covered_alone(event: WebhookEvent) -> Processed | None:
    """B2: a registration whose person a run already covered is done at once, on its own (no
    refresh, the person not marked again); the burst's watch passes on when it was its oldest."""
    if event.status != WebhookStatus.PENDING or event.event_type != "webinar.registration_created":
        return None
    if event.provider != WebhookProvider.ZOOM or event.pk not in registrations_covered([event]):
        return None
    done = WebhookEvent.objects.filter(pk=event.pk, status=WebhookStatus.PENDING).update(
        status=WebhookStatus.PROCESSED, processed_at=timezone.now(), attempts=F("attempts") + 1, last_error="",
        next_attempt_at=None,
    )
    if not done:
        return Processed(status=WebhookEvent.objects.filter(pk=event.pk).values_list("status", flat=True).first()
                         or "missing")
    then = None
    if event.portal_id is not None and _gatherable(event):
        oldest = _waiting(event.portal_id).order_by("received_at", "pk").values_list("pk", "received_at").first()
        if oldest is not None and (oldest[1], oldest[0]) > (event.received_at, event.pk):
            then = oldest[0]  # this event was the burst's oldest: its watch passes on
    return Processed(status=WebhookStatus.PROCESSED, then=then)


def webhook_event_process(*, event_id: int, gather: bool = False) -> Processed:
    """Process one inbox event (and, first, the earlier open events of the same subject).
    With `gather` (a worker, not in-process), a burst's event first waits for its batch to
    fill (`_gather_wait`): the answer then says when to try again."""
    event = WebhookEvent.objects.filter(pk=event_id).select_related("portal", "zoom_account").first()
    if event is None or event.status not in OPEN:
        return Processed(status=event.status if event else "missing")
    alone = _covered_alone(event)
    if alone is not None:
        return alone
    wait = _gather_wait(event) if gather else None
    if wait is not None:
        return Processed(status=event.status, retry_in=wait)
    earlier = WebhookEvent.objects.filter(
        provider=event.provider, portal=event.portal, subject=event.subject, status__in=OPEN,
        occurred_at__lt=event.occurred_at,
    ).exclude(pk=event.pk).order_by("occurred_at", "pk") if event.occurred_at else WebhookEvent.objects.none()
    result = Processed(status=WebhookStatus.PROCESSED)
    for item in [*earlier.select_related("portal", "zoom_account"), event]:
        result = _attempt(item)
        if item.pk != event.pk and result.status == WebhookStatus.RETRYING:
            # An earlier event of this subject is not done: this one waits for it (order).
            _mark(event, WebhookStatus.RETRYING, error="waiting for an earlier event of the same subject",
                  retry_in=result.retry_in, count=False)
            return result
    return result


def _mark(event: WebhookEvent, status: str, *, error: str = "", retry_in: float | None = None,
          count: bool = True) -> None:
    now = timezone.now()
    event.status = status
    event.last_error = error[:5000]
    event.processed_at = now if status in (WebhookStatus.PROCESSED, WebhookStatus.IGNORED) else None
    event.next_attempt_at = now + dt.timedelta(seconds=retry_in) if retry_in is not None else None
    fields = ["status", "last_error", "processed_at", "next_attempt_at"]
    WebhookEvent.objects.filter(pk=event.pk).update(**{f: getattr(event, f) for f in fields})


def _attempt(event: WebhookEvent) -> Processed:
    # Still open? An earlier event may have been done meanwhile as part of another's batch.
    if not WebhookEvent.objects.filter(pk=event.pk, status__in=OPEN).update(attempts=F("attempts") + 1):
        return Processed(status=WebhookEvent.objects.filter(pk=event.pk).values_list("status", flat=True).first()
                         or "missing")
    event.attempts += 1
    try:
        status = _one(event)
    except EventRetry as exc:
        return _failed(event, str(exc), countdown=exc.countdown, transient=True)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the event and retried
        logger.exception("webhook event %s (%s) failed", event.pk, event.event_type)
        return _failed(event, f"{type(exc).__name__}: {exc}", countdown=_backoff(event.attempts), transient=False)
    _mark(event, status)
    return Processed(status=status)


def _failed(event: WebhookEvent, error: str, *, countdown: float, transient: bool) -> Processed:
    if event.attempts >= MAX_ATTEMPTS and not transient or event.attempts >= 3 * MAX_ATTEMPTS:
        _mark(event, WebhookStatus.DEAD, error=error)
        return Processed(status=WebhookStatus.DEAD)
    _mark(event, WebhookStatus.RETRYING, error=error, retry_in=countdown)
    return Processed(status=WebhookStatus.RETRYING, retry_in=countdown)


def webhook_events_due(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Open events whose retry time has come (or that were never picked up)."""
    now = now or timezone.now()
    stale = now - dt.timedelta(minutes=2)
    return list(
        WebhookEvent.objects.filter(
            Q(status=WebhookStatus.RETRYING, next_attempt_at__lte=now)
            | Q(status=WebhookStatus.PENDING, received_at__lte=stale)
        ).order_by("occurred_at", "pk").values_list("pk", flat=True)[:limit]
    )


def webhook_events_replay(*, ids: Iterable[int] | None = None, portal: Portal | None = None) -> int:
    """Dead (or given) events back to pending, processed again; how many."""
    query = WebhookEvent.objects.filter(status=WebhookStatus.DEAD) if ids is None else WebhookEvent.objects.filter(
        pk__in=list(ids)
    ).exclude(status__in=(WebhookStatus.PROCESSED, WebhookStatus.IGNORED))
    if portal is not None:
        query = query.filter(portal=portal)
    replayed = list(query.order_by("occurred_at", "pk").values_list("pk", flat=True))
    WebhookEvent.objects.filter(pk__in=replayed).update(status=WebhookStatus.PENDING, attempts=0, next_attempt_at=None)
    from connector.webhooks.tasks import webhook_event_process_task

    for pk in replayed:
        webhook_event_process_task.delay_on_commit(pk)
    return len(replayed)
