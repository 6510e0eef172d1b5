"""Compute: the attendance arithmetic and the four person values of INTERFACES.md §5.

`session_attendance` is the one definition of attended seconds and attendance % (pure).
`attendance_iter` streams (session, email, Attendance) for push (events); `attendance_by_session`
is the same as a dict for small inputs. `person_stats_compute` writes PersonStats (R16–R19)
in two streaming passes over the database, so memory stays flat at 100,000 people.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from connector.models import (
    ContactLink,
    ContactState,
    ExternalRegistration,
    ParticipantRow,
    PersonStats,
    Portal,
    Registrant,
    Session,
    SkipReason,
    Webinar,
)
from connector.services.guests import (
    guests_found_count,
    guests_unidentified_rows,
    participant_rows_of_people,
    participant_rows_with_person_email,
)
from connector.services.sync_settings import email_normalize
from connector.services.upsert import dt_db, rows_upsert

if TYPE_CHECKING:
    from connector.services.report import SyncReport

logger = logging.getLogger("zoomsync.compute")

ONE_DECIMAL = Decimal("0.1")
HUNDRED = Decimal(100)
# R18/R17: the registration statuses that count as "holds a registration".
COUNTED_REGISTRATION_STATUSES = ("approved", "pending")
WRITE_BATCH = 1000
# The four properties as push stores them for someone with nothing counted (INTERFACES.md §1).
ZEROED_PROPERTIES = {
    "zoomsync_average_attendance_percent": "",
    "zoomsync_last_registered_webinar": "",
    "zoomsync_registration_count": "0",
    "zoomsync_attended_count": "0",
}

Interval = tuple["dt.datetime | None", "dt.datetime | None"]


@dataclass(frozen=True)
class Attendance:
    seconds: int
    percent: Decimal  # one decimal, 0–100
    first_join: dt.datetime
    last_leave: dt.datetime


def percent_round(value: Decimal) -> Decimal:
    """One decimal, half up (INTERFACES.md §5)."""
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def session_bounds(
    *, session_start: dt.datetime | None, session_end: dt.datetime | None, scheduled_minutes: int | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The session's [start, end]; an unknown end is start + the scheduled duration (§5)."""
    if session_start is not None and session_end is None and scheduled_minutes:
        session_end = session_start + dt.timedelta(minutes=scheduled_minutes)
    if session_start is not None and session_end is not None and session_end < session_start:
        session_end = session_start
    return session_start, session_end


def session_attendance(
    *,
    session_start: dt.datetime | None,
    session_end: dt.datetime | None,
    scheduled_minutes: int | None,
    rows: Iterable[Interval],
) -> Attendance | None:
    """One person's attendance of one session: the union of their [join, leave] rows
    (rejoins merged, overlaps counted once) clipped to the session's [start, end].

    A row with no join time counts from the session's start, one with no leave time until its
    end (Zoom leaves leave_time empty for someone still in the session). None when the person
    attended zero seconds (not "attended", §5).
    """
    start, end = session_bounds(session_start=session_start, session_end=session_end, scheduled_minutes=scheduled_minutes)
    raw: list[tuple[dt.datetime, dt.datetime, dt.datetime, dt.datetime]] = []  # clipped + raw
    for join, leave in rows:
        join_c = join if join is not None else start
        leave_c = leave if leave is not None else end
        if join_c is None or leave_c is None:
            continue
        raw_join, raw_leave = join_c, leave_c
        if start is not None and join_c < start:
            join_c = start
        if end is not None and leave_c > end:
            leave_c = end
        if leave_c > join_c:
            raw.append((join_c, leave_c, raw_join, raw_leave))
    if not raw:
        return None
    raw.sort()
    seconds = 0.0
    cur_start, cur_end = raw[0][0], raw[0][1]
    for join_c, leave_c, _, _ in raw[1:]:
        if join_c <= cur_end:
            cur_end = max(cur_end, leave_c)
        else:
            seconds += (cur_end - cur_start).total_seconds()
            cur_start, cur_end = join_c, leave_c
    seconds += (cur_end - cur_start).total_seconds()
    whole = int(seconds)
    if whole <= 0:
        return None
    if start is not None and end is not None and end > start:
        length = Decimal(int((end - start).total_seconds()))
        percent = min(HUNDRED, Decimal(whole) * HUNDRED / length) if length > 0 else HUNDRED
    else:
        # Neither an end nor a scheduled duration: nothing to divide by, so the person
        # attended all that is known of the session.
        percent = HUNDRED
    return Attendance(
        seconds=whole,
        percent=percent_round(percent),
        first_join=min(r[2] for r in raw),
        last_leave=max(r[3] for r in raw),
    )


def _sessions_of(webinars: Iterable[Webinar] | QuerySet[Webinar]) -> QuerySet[Session]:
    if isinstance(webinars, QuerySet):
        return Session.objects.filter(webinar__in=webinars)
    return Session.objects.filter(webinar__in=[w.pk for w in webinars])


def _attendance_groups(
    *, sessions: QuerySet[Session], email_first: bool, emails: frozenset[str] | None = None
) -> Iterator[tuple[Session, str, Attendance, str]]:
    """Stream (session, email, Attendance, display name) for every person with attended
    seconds > 0, grouped by session then email, or by email then session (one person's
    sessions together). Guests without an email (R3) are left out unless their registrant id
    names a registrant (B5). Rows are read in order
    with a server-side cursor, one person-session at a time: memory does not grow with people.
    """
    by_pk = {s.pk: s for s in sessions.select_related("webinar")}
    if not by_pk:
        return
    order = ("person_email", "session_id", "join_time") if email_first else ("session_id", "person_email", "join_time")
    if emails is None:
        of_people = participant_rows_with_person_email(sessions=sessions)  # B5: guests found by registrant id
    else:
        # B2: only who changed, narrowed by their emails and registrant ids before the B5 lookup.
        of_people = participant_rows_of_people(
            rows=ParticipantRow.objects.filter(session__in=sessions), emails=list(emails)
        )
    rows = (
        of_people
        .order_by(*order)
        .values_list("session_id", "person_email", "join_time", "leave_time", "name")
    )
    current: tuple[int, str] | None = None
    intervals: list[Interval] = []
    name = ""

    def flush() -> Iterator[tuple[Session, str, Attendance, str]]:
        assert current is not None
        session = by_pk[current[0]]
        att = session_attendance(
            session_start=session.start_time,
            session_end=session.end_time,
            scheduled_minutes=session.scheduled_duration_minutes or session.webinar.duration_minutes,
            rows=intervals,
        )
        if att is not None:
            yield session, current[1], att, name

    for session_id, email, join, leave, row_name in rows.iterator(chunk_size=5000):
        key = (session_id, email)
        if key != current:
            if current is not None:
                yield from flush()
            current, intervals, name = key, [], ""
        name = name or row_name
        intervals.append((join, leave))
    if current is not None:
        yield from flush()


def attendance_iter(*, sessions: QuerySet[Session]) -> Iterator[tuple[Session, str, Attendance]]:
    """Stream (session, email, Attendance) for every person with attended seconds > 0."""
    for session, email, att, _ in _attendance_groups(sessions=sessions, email_first=False):
        yield session, email, att


def attendance_by_session(*, webinars: Iterable[Webinar] | QuerySet[Webinar]) -> dict[int, dict[str, Attendance]]:
    """{session.pk: {email: Attendance}} for people with attended seconds > 0 (no guests)."""
    out: dict[int, dict[str, Attendance]] = {}
    for session, email, att in attendance_iter(sessions=_sessions_of(webinars)):
        out.setdefault(session.pk, {})[email] = att
    return out


def _name_split(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first[:200], last.strip()[:200]


def _external_registrations(portal: Portal) -> list[dict[str, Any]]:
    """R17: registrations the connector made itself (the workflow action), as {"email",
    "join_url", "registered_at", "webinar_id"}, oldest first; the latest of these or Zoom's
    registrations decides (INTERFACES.md §5)."""
    rows = (
        ExternalRegistration.objects.filter(portal=portal)
        .exclude(join_url="")
        .order_by(F("registered_at").asc(nulls_first=True), "pk")
        .values("email", "join_url", "registered_at", "webinar_id")
    )
    return [{**r, "email": email_normalize(r["email"])} for r in rows if r["email"]]


@dataclass
class _Stats:
    """A PersonStats row on its way to the database (a model instance costs 10× more)."""

    portal_id: int
    email: str
    first_name: str = ""
    last_name: str = ""
    registration_count: int = 0
    attended_count: int = 0
    average_attendance_percent: Decimal | None = None
    last_registered_url: str = ""
    last_registered_at: dt.datetime | None = None


def _stats_write(batch: list[_Stats], update_fields: list[str]) -> None:
    if batch:
        now = dt_db(timezone.now())
        rows = [
            (
                p.portal_id,
                p.email,
                p.first_name,
                p.last_name,
                p.registration_count,
                p.attended_count,
                p.average_attendance_percent,
                p.last_registered_url,
                dt_db(p.last_registered_at),
                now,
            )
            for p in batch
        ]
        rows_upsert(
            model=PersonStats,
            columns=STATS_COLUMNS,
            rows=rows,
            conflict=("portal_id", "email"),
            update=[*update_fields, "computed_at"],
        )
        batch.clear()


STATS_COLUMNS = (
    "portal_id",
    "email",
    "first_name",
    "last_name",
    "registration_count",
    "attended_count",
    "average_attendance_percent",
    "last_registered_url",
    "last_registered_at",
    "computed_at",
)


def synced_webinars_of(*, portal: Portal) -> QuerySet[Webinar]:
    """Webinars that pass every rule (skip_reason == ""), of the portal's Zoom accounts."""
    return Webinar.objects.filter(account__portal=portal, skip_reason="")


def workflow_registrations_since(*, portal: Portal, since: dt.datetime) -> set[str]:
    """B2: people the workflow action registered since `since` (changed for R17)."""
    return set(
        ExternalRegistration.objects.filter(portal=portal, registered_at__gte=since).values_list("email", flat=True)
    )


@transaction.atomic
def person_stats_compute(*, portal: Portal, report: SyncReport, emails: frozenset[str] | None = None) -> None:
    """Write PersonStats for every person of the synced webinars (INTERFACES.md §5), or only
    for `emails` (B2: the people whose rows changed; None: everyone).

    Pass 1 (registrations, R17/R18) resets the attendance values; pass 2 (attendance,
    R16/R19) sets them for people who attended; people in neither pass are deleted.
    Guests without an email are counted as skipped (R3), once per session and name.
    """
    started = timezone.now()
    if emails is not None:
        # Rows kept only to lower a contact's values (cancellations, below) are looked at
        # again until their contact holds the lowered values, then dropped.
        zeroed = PersonStats.objects.filter(portal=portal, registration_count=0, attended_count=0)
        emails = emails | frozenset(zeroed.values_list("email", flat=True))
    webinars = synced_webinars_of(portal=portal)
    external_regs: dict[str, dict[str, Any]] = {}
    synced_ids = set(webinars.values_list("webinar_id", flat=True))
    for item in _external_registrations(portal):
        if item["webinar_id"] and item["webinar_id"] not in synced_ids:
            continue  # §5: only webinars that pass every rule count
        if emails is not None and item["email"] not in emails:
            continue  # B2: not changed, not recomputed
        best = external_regs.get(item["email"])
        if best is None or (item["registered_at"] or started) > (best["registered_at"] or started):
            external_regs[item["email"]] = item

    # Pass 1: registrations (approved or pending), one email at a time.
    regs_of = Registrant.objects.filter(webinar__in=webinars, status__in=COUNTED_REGISTRATION_STATUSES)
    if emails is not None:
        regs_of = regs_of.filter(email__in=emails)
    regs = (
        regs_of.exclude(email="")
        .order_by("email", F("create_time").asc(nulls_first=True), "pk")
        .values_list("email", "webinar__webinar_id", "create_time", "join_url", "webinar__join_url", "first_name", "last_name")
    )
    batch: list[_Stats] = []
    current: str | None = None
    webinar_ids: set[str] = set()
    last: tuple[Any, ...] | None = None

    def reg_flush() -> None:
        assert current is not None and last is not None
        _, _, create_time, join_url, webinar_url, first, last_name = last
        url, at = join_url or webinar_url, create_time
        wf = external_regs.pop(current, None)
        if wf is not None and (at is None or (wf["registered_at"] is not None and wf["registered_at"] > at)):
            url, at = wf["join_url"], wf["registered_at"]
        batch.append(
            _Stats(
                portal_id=portal.pk,
                email=current,
                first_name=first,
                last_name=last_name,
                registration_count=len(webinar_ids),
                attended_count=0,
                average_attendance_percent=None,
                last_registered_url=url,
                last_registered_at=at,
            )
        )
        if len(batch) >= WRITE_BATCH:
            _stats_write(batch, REG_FIELDS)

    for row in regs.iterator(chunk_size=5000):
        email = row[0]
        if email != current:
            if current is not None:
                reg_flush()
            current, webinar_ids = email, set()
        webinar_ids.add(row[1])
        # Rows come ordered by create_time (unknown first): the last one is the latest (R17).
        last = row
    if current is not None:
        reg_flush()
    _stats_write(batch, REG_FIELDS)

    # Pass 2: attendance. People who attended without a registration get their name from Zoom.
    current = None
    name = ""
    count, total = 0, Decimal(0)
    synced_sessions = Session.objects.filter(webinar__in=webinars)

    def att_flush() -> None:
        assert current is not None
        first, last_name = _name_split(name)
        batch.append(
            _Stats(
                portal_id=portal.pk,
                email=current,
                first_name=first,
                last_name=last_name,
                attended_count=count,
                average_attendance_percent=percent_round(total / count),
            )
        )
        if len(batch) >= WRITE_BATCH:
            _stats_write(batch, ATT_FIELDS)

    for email, att, display_name in _attendance_by_email_iter(sessions=synced_sessions, emails=emails):
        if email != current:
            if current is not None and count:
                att_flush()
            current, count, total = email, 0, Decimal(0)
        name = name if count and name else display_name
        count += 1
        total += att.percent
    if current is not None and count:
        att_flush()
    _stats_write(batch, ATT_FIELDS)

    # People the connector registered who are not (yet) seen as Zoom registrants (R17).
    for email, wf in external_regs.items():
        PersonStats.objects.filter(portal=portal, email=email).update(
            last_registered_url=wf["join_url"], last_registered_at=wf["registered_at"], computed_at=timezone.now()
        )

    # Cancellations (issue 5): someone whose every counted registration was cancelled or
    # denied drops out of both passes; while their contact still holds values we pushed, keep
    # a zeroed row so push lowers R16–R19 on the contact (nothing is created for them).
    holding = (
        ContactLink.objects.filter(portal=portal, state=ContactState.LINKED)
        .exclude(pushed_properties={})
        .exclude(pushed_properties=ZEROED_PROPERTIES)
        .values("email")
    )
    recomputed = PersonStats.objects.filter(portal=portal, computed_at__lt=started)
    if emails is not None:
        recomputed = recomputed.filter(email__in=emails)
    recomputed.filter(email__in=holding).update(
        registration_count=0,
        attended_count=0,
        average_attendance_percent=None,
        last_registered_url="",
        last_registered_at=None,
        computed_at=timezone.now(),
    )
    recomputed.filter(computed_at__lt=started).delete()

    # R3: guests without an email are counted and reported, never synced.
    # B5: a guest whose registrant id names a registrant counted above as that person.
    report.guests_found = guests_found_count(sessions=synced_sessions)
    guests = (
        guests_unidentified_rows(sessions=synced_sessions)
        .order_by("session__uuid", "name")
        .values_list("session__uuid", "name")
        .distinct()
    )
    for uuid, name in guests.iterator(chunk_size=5000):
        report.skip(
            kind="person",
            reason=SkipReason.NO_EMAIL,
            subject=f"{uuid} {name or '(no name)'}"[:300],
            detail="Zoom gave no email for this participant (guest): turn on registration to sync them",
        )


REG_FIELDS = [
    "first_name",
    "last_name",
    "registration_count",
    "attended_count",
    "average_attendance_percent",
    "last_registered_url",
    "last_registered_at",
]
ATT_FIELDS = ["attended_count", "average_attendance_percent"]


def _attendance_by_email_iter(
    *, sessions: QuerySet[Session], emails: frozenset[str] | None = None
) -> Iterator[tuple[str, Attendance, str]]:
    """(email, Attendance, the person's Zoom display name in that session), one person's
    sessions together."""
    for _, email, att, name in _attendance_groups(sessions=sessions, email_first=True, emails=emails):
        yield email, att, name


__all__ = [
    "Attendance",
    "attendance_by_session",
    "attendance_iter",
    "percent_round",
    "person_stats_compute",
    "session_attendance",
    "session_bounds",
    "synced_webinars_of",
]
