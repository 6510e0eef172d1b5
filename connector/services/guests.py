"""Guests found again (SPEC B5): a participant row without an email is attributed to a
registrant of the same webinar when its `registrant_id` says who it is.

Zoom strips the email of participants flagged as guests (R3), but the participants report
(pulled with `include_fields=registrant_id`) still carries the registrant id of anyone who
joined through their registration link. The registrants list has that person's email, so
the row counts as their attendance: the interval union, the percent and the attendance
event are the registrant's, exactly as if Zoom had shown the email. Rows nobody can
identify stay guests without an email (R3: counted and reported, never synced).

Nothing is written to the participant rows: the person's email is derived in the query
(`person_email`), so a later pull that stores Zoom's row again changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case as CaseWhen
from django.db.models import CharField, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from connector.models import ParticipantRow, Registrant, Session

__all__ = [
    "guests_found_count",
    "participant_rows_of_people",
    "guests_unidentified_rows",
    "participant_rows_with_person_email",
]


def _registrant_email() -> Subquery:
    """The email of the registrant of the row's own webinar with the row's registrant id."""
    return Subquery(
        Registrant.objects.filter(
            webinar_id=OuterRef("session__webinar_id"), registrant_id=OuterRef("registrant_id")
        )
        .exclude(email="")
        .values("email")[:1],
        output_field=CharField(),
    )


def _person_email_annotated(rows: QuerySet[ParticipantRow]) -> QuerySet[Any]:
    # B5: a row without an email whose registrant id is a registrant of the same webinar
    # counts as that registrant; any other row keeps the email Zoom gave (maybe none, R3).
    return rows.annotate(
        person_email=CaseWhen(
            When(Q(email="") & ~Q(registrant_id=""), then=Coalesce(_registrant_email(), Value(""))),
            default=F("email"),
            output_field=CharField(),
        )
    )


def participant_rows_with_person_email(*, sessions: QuerySet[Session]) -> QuerySet[Any]:
    """The sessions' participant rows that belong to someone known, each annotated with
    `person_email`: Zoom's email, or the registrant's email found by registrant id (B5).
    Rows nobody can identify are left out (R3)."""
    rows = _person_email_annotated(ParticipantRow.objects.filter(session__in=sessions))
    return rows.exclude(person_email="")


def guests_unidentified_rows(*, sessions: QuerySet[Session]) -> QuerySet[Any]:
    """Rows without an email that no registrant id identifies: the guests of R3."""
    rows = _person_email_annotated(ParticipantRow.objects.filter(session__in=sessions, email=""))
    return rows.filter(person_email="")


def guests_found_count(*, sessions: QuerySet[Session]) -> int:
    """How many people (one per session and registrant) Zoom reported without an email and
    were found again by their registrant id (B5)."""
    rows = _person_email_annotated(ParticipantRow.objects.filter(session__in=sessions, email=""))
    return rows.exclude(person_email="").values("session_id", "person_email").distinct().count()


def participant_rows_of_people(*, rows: QuerySet[ParticipantRow], emails: list[str]) -> QuerySet[Any]:
    """The rows (of a queryset of participant rows) that belong to these people, Zoom's email
    or found by registrant id (B5), annotated with `person_email`."""
    # Guest rows are narrowed to the registrant ids of these people first (one subquery, not
    # a lookup per guest row of the portal), then checked against the row's own webinar.
    their_ids = Registrant.objects.filter(email__in=emails).exclude(registrant_id="").values("registrant_id")
    candidates = rows.filter(Q(email__in=emails) | Q(email="", registrant_id__in=their_ids))
    return _person_email_annotated(candidates).filter(person_email__in=emails)
