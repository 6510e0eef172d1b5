"""B6 inbound: registrants' answers written to the mapped contact properties, in the same
batched contact writes as the four properties (no extra HubSpot call per person).

With `registration_answers_to_contacts` on, push reads the mapped properties in the batch
read it already makes (by email, 100 a call), and this module adds the answers whose
property is empty on the contact to the properties that contact is written with: a new
contact is created with them, a linked one gets them in its batched update. People the sync
never writes (R12 account users, R13 secondary emails, R14 deleted contacts) are never
linked, so they never get answers either.

Answers come from the registrants of the synced webinars (the latest registration first,
per question).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F

from connector.models import Portal, Registrant
from connector.services.registration_questions import (
    answers_to_contacts_enabled,
    contact_answer_properties,
    registration_fields_get,
)

__all__ = ["AnswerWriter"]


@dataclass
class AnswerWriter:
    """The answers one push writes. Inactive (reads nothing, adds nothing) when the setting
    is off or nothing is mapped."""

    portal: Portal
    mapping: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_portal(cls, *, portal: Portal) -> AnswerWriter:
        if not answers_to_contacts_enabled(portal=portal):  # B6: off by default
            return cls(portal=portal)
        return cls(portal=portal, mapping=registration_fields_get(portal=portal))

    @property
    def active(self) -> bool:
        return bool(self.mapping)

    @property
    def read_properties(self) -> list[str]:
        """The mapped properties, read with the contacts' batch read."""
        return sorted(set(self.mapping.values())) if self.active else []

    def _answers(self, emails: Iterable[str]) -> dict[str, dict[str, str]]:
        from connector.services.compute import COUNTED_REGISTRATION_STATUSES, synced_webinars_of

        wanted = list(emails)
        out: dict[str, dict[str, str]] = {}
        if not wanted:
            return out
        rows = (
            Registrant.objects.filter(
                webinar__in=synced_webinars_of(portal=self.portal),
                email__in=wanted,
                status__in=COUNTED_REGISTRATION_STATUSES,
            )
            .exclude(answers={})
            .order_by("email", F("create_time").desc(nulls_last=True), "-pk")
            .values_list("email", "answers")
        )
        for email, answers in rows:
            if isinstance(answers, Mapping):
                merged = out.setdefault(email, {})
                for key, value in answers.items():
                    merged.setdefault(str(key), str(value))  # the latest registration wins
        return out

    def properties_for(
        self,
        *,
        emails: Iterable[str],
        current: Mapping[str, Mapping[str, Any]],
        pushed: Mapping[str, Mapping[str, Any]],
        new: bool = False,
    ) -> dict[str, dict[str, str]]:
        """{email: {property: answer}} to add to these people's contact write. `current` is
        each contact's values from the batch read; a person whose contact values are unknown
        gets nothing (an answer never overwrites a value we have not seen), unless `new`."""
        if not self.active:
            return {}
        people = [e for e in emails if new or e in current]
        out: dict[str, dict[str, str]] = {}
        for email, answers in self._answers(people).items():
            props = contact_answer_properties(
                answers=answers, mapping=self.mapping, current=current.get(email, {}), ours=pushed.get(email, {})
            )
            if props:
                out[email] = props
        return out
