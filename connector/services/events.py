"""Registration and attendance events (R21–R23), built for a group of linked people, and the
outbox rows that carry them to each of the portal's event sinks (INTERFACES.md §4).

An event's id is deterministic: the same person, the same webinar (registration) or session
(attendance) and the same kind always give the same id, so no re-run, retry or crash can
create a second event. Only people linked to a contact get events (R12, R13, R14, R7 are
decided before this module is reached).

Sinks:
- `timeline`: v3 timeline events (template ids from hubspot_schema), by contact id;
- `app_events`: the 2026-03 app events API (event type names from hubspot_schema);
- `marketing_events`: one HubSpot marketing event per session (externalEventId
  deterministic) with register / attend / cancel participations by contact id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from connector.clients.hubspot import BatchResult, Outcome
from connector.models import (
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    ParticipantRow,
    Portal,
    Registrant,
    Session,
    SyncRun,
    Webinar,
)
from connector.services.compute import COUNTED_REGISTRATION_STATUSES, Attendance, session_attendance
from connector.services.contacts import PushContext
from connector.services.guests import participant_rows_of_people
from connector.services.hubspot_schema import (
    APP_EVENT_TYPES,
    TEMPLATE_ATTENDANCE,
    TEMPLATE_REGISTRATION,
)
from connector.services.outbox import Delivery, OutboxSender, outbox_mark_failed, outbox_send
from connector.services.report import SyncReport
from connector.services.sanitize import zoom_url_clean

# uuid5 namespace of zoomsync event ids (fixed forever: changing it would duplicate events).
EVENT_NAMESPACE = uuid.UUID("6f1c1d2e-5a57-4b8e-9a43-0c7f6d1e2b90")

KIND_REGISTRATION = "registration"
KIND_ATTENDANCE = "attendance"
MARKETING_EXTERNAL_ACCOUNT = "zoomsync"

SINK_KINDS = {
    "timeline": OutboxKind.TIMELINE_EVENT,
    "app_events": OutboxKind.APP_EVENT,
    "marketing_events": OutboxKind.MARKETING_PARTICIPATION,
}


def event_id_for(*, portal: Portal, kind: str, webinar_id: str, session_uuid: str, email: str) -> str:
    """Same person, same webinar session, same kind → same id (INTERFACES.md §1)."""
    name = f"{portal.hub_id}|{kind}|{webinar_id}|{session_uuid}|{email.strip().lower()}"
    return f"zoomsync-{kind[:3]}-{uuid.uuid5(EVENT_NAMESPACE, name)}"


def marketing_event_external_id(*, session: Session, webinar: Webinar) -> str:
    """One HubSpot marketing event per held session; deterministic from the session's UUID."""
    digest = hashlib.sha256(f"{webinar.webinar_id}|{session.uuid}".encode()).hexdigest()[:16]
    return f"zoom-{webinar.webinar_id}-{digest}"


def _ms(value: dt.datetime | None) -> str:
    """Timeline date tokens are epoch milliseconds, as strings."""
    return str(int(value.timestamp() * 1000)) if value is not None else ""


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _percent(value: Decimal) -> str:
    return f"{value:.1f}"


@dataclass(frozen=True)
class PersonEvent:
    """One registration (per person and webinar) or attendance (per person and session)."""

    kind: str  # registration | attendance
    event_id: str
    email: str
    contact_id: str
    template: str  # the timeline template / app event type it belongs to
    timestamp: dt.datetime
    tokens: dict[str, str]
    webinar_pk: int
    session_pk: int | None = None
    attendance: Attendance | None = None


@dataclass
class EventFacts:
    """The events of a group of people, plus the sessions they touch (for marketing events)."""

    events: list[PersonEvent] = field(default_factory=list)
    sessions: dict[int, Session] = field(default_factory=dict)
    # (email, contact_id, webinar_pk) of cancelled registrations, for marketing `cancel`.
    cancelled: list[tuple[str, str, int, dt.datetime | None]] = field(default_factory=list)


def person_events_build(
    *, portal: Portal, webinars: QuerySet[Webinar], contacts: dict[str, str], with_cancelled: bool = False
) -> EventFacts:
    """Events for `contacts` ({email: contact_id}, ≤ a few hundred): one query for their
    registrations and one for their participant rows, so memory is bounded by the group."""
    facts = EventFacts()
    if not contacts:
        return facts
    emails = list(contacts)
    statuses = list(COUNTED_REGISTRATION_STATUSES) + (["cancelled", "denied"] if with_cancelled else [])
    regs = (
        Registrant.objects.filter(webinar__in=webinars, email__in=emails, status__in=statuses)
        .select_related("webinar")
        .order_by("email", "webinar_id", "create_time", "pk")
    )
    seen: set[tuple[str, int]] = set()
    denied: dict[tuple[str, int], str] = {}
    for reg in regs:
        key = (reg.email, reg.webinar_id)
        if reg.status in ("cancelled", "denied"):
            if reg.status == "denied":
                denied[key] = reg.webinar.webinar_id
            facts.cancelled.append((reg.email, contacts[reg.email], reg.webinar_id, reg.create_time))
            continue
        if key in seen:
            continue  # one registration event per person and webinar (R22)
        seen.add(key)
        webinar = reg.webinar
        registered_at = reg.create_time or webinar.start_time or webinar.first_seen_at
        facts.events.append(
            PersonEvent(
                kind=KIND_REGISTRATION,
                event_id=event_id_for(
                    portal=portal, kind=KIND_REGISTRATION, webinar_id=webinar.webinar_id, session_uuid="", email=reg.email
                ),
                email=reg.email,
                contact_id=contacts[reg.email],
                template=TEMPLATE_REGISTRATION,
                timestamp=registered_at,
                tokens={
                    "webinar_id": webinar.webinar_id,
                    "webinar_name": webinar.topic,
                    "registered_at": _ms(registered_at),
                },
                webinar_pk=webinar.pk,
            )
        )
    # A cancelled registration with a live one for the same webinar is not a cancellation.
    facts.cancelled = [c for c in facts.cancelled if (c[0], c[2]) not in seen]
    if denied:
        # Issue 5: a denial ends a participation we registered (pending → denied), like a
        # cancellation; someone denied from the start was never a participant.
        registered = set(
            OutboxItem.objects.filter(
                portal=portal,
                kind=OutboxKind.MARKETING_PARTICIPATION,
                payload__state="register",
                payload__email__in=sorted({email for email, _ in denied}),
            ).values_list("payload__email", "payload__externalEventId")
        )
        facts.cancelled = [
            c
            for c in facts.cancelled
            if (c[0], c[2]) not in denied
            or any(e == c[0] and x.startswith(f"zoom-{denied[(c[0], c[2])]}-") for e, x in registered)
        ]

    rows = (
        participant_rows_of_people(  # B5: guests found by registrant id count as the registrant
            rows=ParticipantRow.objects.filter(session__webinar__in=webinars), emails=list(emails)
        )
        .order_by("session_id", "person_email", "join_time")
        .values_list("session_id", "person_email", "join_time", "leave_time")
    )
    grouped: dict[tuple[int, str], list[tuple[dt.datetime | None, dt.datetime | None]]] = defaultdict(list)
    for session_id, email, join, leave in rows:
        grouped[(session_id, email)].append((join, leave))
    session_ids = {sid for sid, _ in grouped}
    if with_cancelled:
        # Marketing events need the sessions of registered webinars too.
        webinar_pks = {e.webinar_pk for e in facts.events} | {c[2] for c in facts.cancelled}
        session_ids |= set(Session.objects.filter(webinar_id__in=webinar_pks).values_list("pk", flat=True))
    facts.sessions = {s.pk: s for s in Session.objects.filter(pk__in=session_ids).select_related("webinar")}
    for (session_id, email), intervals in sorted(grouped.items()):
        session = facts.sessions[session_id]
        webinar = session.webinar
        att = session_attendance(
            session_start=session.start_time,
            session_end=session.end_time,
            scheduled_minutes=session.scheduled_duration_minutes or webinar.duration_minutes,
            rows=intervals,
        )
        if att is None:
            continue  # zero seconds: not attended (§5)
        facts.events.append(
            PersonEvent(
                kind=KIND_ATTENDANCE,
                event_id=event_id_for(
                    portal=portal, kind=KIND_ATTENDANCE, webinar_id=webinar.webinar_id, session_uuid=session.uuid, email=email
                ),
                email=email,
                contact_id=contacts[email],
                template=TEMPLATE_ATTENDANCE,
                timestamp=att.first_join,
                tokens={
                    "webinar_id": webinar.webinar_id,
                    "webinar_name": webinar.topic,
                    "webinar_date": _ms(session.start_time or webinar.start_time),
                    "joined_at": _ms(att.first_join),
                    "left_at": _ms(att.last_leave),
                    "attendance_seconds": str(att.seconds),
                    "attendance_percent": _percent(att.percent),
                },
                webinar_pk=webinar.pk,
                session_pk=session.pk,
                attendance=att,
            )
        )
    return facts


# --- outbox rows per sink --------------------------------------------------------------


def _timeline_item(portal: Portal, run: SyncRun | None, event: PersonEvent, counted: bool) -> OutboxItem:
    return OutboxItem(
        portal=portal,
        kind=OutboxKind.TIMELINE_EVENT,
        dedupe_key=event.event_id,
        sync_run=run,
        payload={
            "template": event.template,  # resolved to eventTemplateId when sent
            "id": event.event_id,
            "objectId": event.contact_id,
            "timestamp": _iso(event.timestamp),
            "tokens": event.tokens,
            "email": event.email,
            "report_kind": event.kind if counted else "",
        },
    )


def _app_event_item(portal: Portal, run: SyncRun | None, event: PersonEvent, counted: bool) -> OutboxItem:
    return OutboxItem(
        portal=portal,
        kind=OutboxKind.APP_EVENT,
        dedupe_key=event.event_id,
        sync_run=run,
        payload={
            "eventTypeName": APP_EVENT_TYPES[event.template],
            "id": event.event_id,
            "objectId": event.contact_id,
            "timestamp": _iso(event.timestamp),
            "properties": event.tokens,
            "email": event.email,
            "report_kind": event.kind if counted else "",
        },
    )


def _marketing_event_item(portal: Portal, run: SyncRun | None, session: Session) -> OutboxItem:
    webinar = session.webinar
    external_id = marketing_event_external_id(session=session, webinar=webinar)
    start = session.start_time or webinar.start_time
    end = session.end_time
    if end is None and start is not None and (session.scheduled_duration_minutes or webinar.duration_minutes):
        end = start + dt.timedelta(minutes=session.scheduled_duration_minutes or webinar.duration_minutes or 0)
    body: dict[str, Any] = {
        "externalAccountId": MARKETING_EXTERNAL_ACCOUNT,
        "externalEventId": external_id,
        "eventName": webinar.topic or f"Zoom webinar {webinar.webinar_id}",
        "eventOrganizer": webinar.host_email or "Zoom",
        "eventType": "WEBINAR",
        "eventUrl": zoom_url_clean(webinar.join_url),  # https on Zoom only
        "eventDescription": f"Zoom webinar {webinar.webinar_id}",
        "customProperties": [],
    }
    if start is not None:
        body["startDateTime"] = _iso(start)
    if end is not None:
        body["endDateTime"] = _iso(end)
    return OutboxItem(
        portal=portal,
        kind=OutboxKind.MARKETING_EVENT,
        dedupe_key=external_id,
        sync_run=run,
        payload={"externalEventId": external_id, "body": body},
    )


def _participation_item(
    portal: Portal,
    run: SyncRun | None,
    *,
    external_id: str,
    state: str,
    contact_id: str,
    email: str,
    at: dt.datetime | None,
    properties: dict[str, str],
    report_kind: str,
) -> OutboxItem:
    return OutboxItem(
        portal=portal,
        kind=OutboxKind.MARKETING_PARTICIPATION,
        dedupe_key=f"{external_id}|{state}|{email}",
        sync_run=run,
        payload={
            "externalEventId": external_id,
            "state": state,
            "input": {
                "vid": int(contact_id),
                "interactionDateTime": int(at.timestamp() * 1000) if at else 0,
                "properties": properties,
            },
            "email": email,
            "report_kind": report_kind,
        },
    )


def event_outbox_items(
    *, portal: Portal, run: SyncRun | None, facts: EventFacts, sinks: Iterable[str]
) -> list[OutboxItem]:
    """The outbox rows for `facts` on every configured sink. Only the first sink's rows carry
    `report_kind`, so the report counts each event once however many sinks receive it."""
    items: list[OutboxItem] = []
    sinks = [s for s in sinks if s in SINK_KINDS]
    for position, sink in enumerate(sinks):
        counted = position == 0
        if sink == "timeline":
            items.extend(_timeline_item(portal, run, e, counted) for e in facts.events)
        elif sink == "app_events":
            items.extend(_app_event_item(portal, run, e, counted) for e in facts.events)
        elif sink == "marketing_events":
            items.extend(_marketing_items(portal, run, facts, counted))
    return items


def _marketing_items(portal: Portal, run: SyncRun | None, facts: EventFacts, counted: bool) -> list[OutboxItem]:
    items: list[OutboxItem] = []
    sessions_by_webinar: dict[int, list[Session]] = defaultdict(list)
    for session in facts.sessions.values():
        sessions_by_webinar[session.webinar_id].append(session)
    used: set[int] = set()
    for event in facts.events:
        if event.kind == KIND_REGISTRATION:
            # A registration is for the webinar: the person is registered for each held session.
            targets = sessions_by_webinar.get(event.webinar_pk, [])
            for position, session in enumerate(sorted(targets, key=lambda s: s.pk)):
                used.add(session.pk)
                items.append(
                    _participation_item(
                        portal,
                        run,
                        external_id=marketing_event_external_id(session=session, webinar=session.webinar),
                        state="register",
                        contact_id=event.contact_id,
                        email=event.email,
                        at=event.timestamp,
                        properties={},
                        # One registration event per webinar in the report, not per session.
                        report_kind=event.kind if counted and position == 0 else "",
                    )
                )
        elif event.session_pk is not None and event.attendance is not None:
            session = facts.sessions[event.session_pk]
            used.add(session.pk)
            att = event.attendance
            items.append(
                _participation_item(
                    portal,
                    run,
                    external_id=marketing_event_external_id(session=session, webinar=session.webinar),
                    state="attend",
                    contact_id=event.contact_id,
                    email=event.email,
                    at=att.first_join,
                    # HubSpot's only properties for "attend" are joinedAt / leftAt (epoch ms),
                    # and it derives the attendance duration from them: leftAt is set so that
                    # the duration is our attended seconds (§5: rejoin gaps not counted).
                    properties={
                        "joinedAt": _ms(att.first_join),
                        "leftAt": _ms(att.first_join + dt.timedelta(seconds=att.seconds)),
                    },
                    report_kind=event.kind if counted else "",
                )
            )
    attended = {(e.email, e.session_pk) for e in facts.events if e.kind == KIND_ATTENDANCE}
    for email, contact_id, webinar_pk, at in facts.cancelled:
        for session in sessions_by_webinar.get(webinar_pk, []):
            if (email, session.pk) in attended:
                continue  # cancelled, then attended anyway: the attendance stands
            used.add(session.pk)
            items.append(
                _participation_item(
                    portal,
                    run,
                    external_id=marketing_event_external_id(session=session, webinar=session.webinar),
                    state="cancel",
                    contact_id=contact_id,
                    email=email,
                    at=at,
                    properties={},
                    report_kind="",
                )
            )
    # The marketing event itself comes first in the outbox (sent before its participations).
    events = [_marketing_event_item(portal, run, facts.sessions[pk]) for pk in sorted(used)]
    return events + items


# --- sending (each sink's rows through outbox_send) --------------------------------------


def _count(report: SyncReport, items: Iterable[OutboxItem]) -> None:
    for item in items:
        kind = item.payload.get("report_kind")
        if kind:
            report.events[kind] = report.events.get(kind, 0) + 1


class _EventSender(OutboxSender):
    """Events keyed by their deterministic id: one sent before is DUPLICATE (already in
    HubSpot, so sent); only those created now are counted in the report."""

    counted = (Outcome.CREATED,)

    def __init__(self, ctx: PushContext) -> None:
        self.ctx = ctx

    def key(self, item: OutboxItem) -> str:
        return str(item.payload["id"])

    def apply(self, deliveries: list[Delivery]) -> None:
        _count(self.ctx.report, [d.item for d in deliveries if d.result.outcome in self.counted])


class TimelineEventSender(_EventSender):
    """v3 timeline events, by contact id (`objectId`), so an event never creates a contact."""

    def __init__(self, ctx: PushContext, template_ids: dict[str, str]) -> None:
        super().__init__(ctx)
        self.template_ids = template_ids

    def send(self, items: list[OutboxItem]) -> BatchResult:
        return self.ctx.client.timeline_events_batch_create(
            [
                {
                    "eventTemplateId": self.template_ids[i.payload["template"]],
                    "id": i.payload["id"],
                    "objectId": i.payload["objectId"],
                    "timestamp": i.payload["timestamp"],
                    "tokens": i.payload["tokens"],
                }
                for i in items
            ]
        )


class AppEventSender(_EventSender):
    """2026-03 app events (occurrences are immutable; a repeated id refuses the batch)."""

    def send(self, items: list[OutboxItem]) -> BatchResult:
        return self.ctx.client.app_events_batch_create(
            [
                {
                    "eventTypeName": i.payload["eventTypeName"],
                    "id": i.payload["id"],
                    "objectId": i.payload["objectId"],
                    "timestamp": i.payload["timestamp"],
                    "properties": i.payload["properties"],
                }
                for i in items
            ]
        )


class MarketingEventSender(OutboxSender):
    """The marketing event of a session, keyed by its external event id (one PUT each: an
    upsert, so sending one again changes nothing)."""

    def __init__(self, ctx: PushContext) -> None:
        self.ctx = ctx

    def key(self, item: OutboxItem) -> str:
        return str(item.payload["externalEventId"])

    def send(self, items: list[OutboxItem]) -> BatchResult:
        return self.ctx.client.marketing_events_upsert(
            [{"externalEventId": i.payload["externalEventId"], "body": i.payload["body"]} for i in items]
        )


class ParticipationSender(_EventSender):
    """Participations of one marketing event and one state (the caller groups them), by
    contact id (`create`), never by email: email-create would create contacts (R12–R14)."""

    counted = (Outcome.OK,)

    def __init__(self, ctx: PushContext, *, external_id: str, state: str) -> None:
        super().__init__(ctx)
        self.external_id, self.state = external_id, state

    def key(self, item: OutboxItem) -> str:
        return str(item.payload["input"]["vid"])

    def send(self, items: list[OutboxItem]) -> BatchResult:
        return self.ctx.client.marketing_event_attendance(
            self.external_id,
            self.state,
            by="contact",
            inputs=[i.payload["input"] for i in items],
            external_account_id=MARKETING_EXTERNAL_ACCOUNT,
        )


def timeline_events_send(*, ctx: PushContext, items: list[OutboxItem], template_ids: dict[str, str]) -> None:
    missing = {i.payload["template"] for i in items} - set(template_ids)
    if missing:
        raise RuntimeError(f"timeline event templates missing in HubSpot: {', '.join(sorted(missing))}")
    outbox_send(sender=TimelineEventSender(ctx, template_ids), items=items, report=ctx.report)


def app_events_send(*, ctx: PushContext, items: list[OutboxItem]) -> None:
    outbox_send(sender=AppEventSender(ctx), items=items, report=ctx.report)


def marketing_events_send(*, ctx: PushContext, items: list[OutboxItem]) -> None:
    """Upsert one marketing event per session (PUT by externalEventId: idempotent)."""
    outbox_send(sender=MarketingEventSender(ctx), items=items, report=ctx.report)


MARKETING_EVENT_REFUSED = "its marketing event was refused by HubSpot"


def marketing_participations_send(*, ctx: PushContext, items: list[OutboxItem]) -> None:
    """Participations of one marketing event and one state (the caller groups them). When
    HubSpot refused the marketing event itself, they fail with it (HubSpot would refuse each
    call for the missing event, and every run would stop there)."""
    first = items[0].payload
    refused = OutboxItem.objects.filter(
        portal=ctx.portal,
        kind=OutboxKind.MARKETING_EVENT,
        dedupe_key=first["externalEventId"],
        status=OutboxStatus.FAILED,
    ).exists()
    if refused:
        for item in items:
            outbox_mark_failed(item=item, error=MARKETING_EVENT_REFUSED, report=ctx.report)
        return
    sender = ParticipationSender(ctx, external_id=first["externalEventId"], state=first["state"])
    outbox_send(sender=sender, items=items, report=ctx.report)
