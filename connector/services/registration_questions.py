"""Registration questions (SPEC B6): Zoom's registration form mapped to HubSpot contact properties.

The settings document's `registration_fields` maps a Zoom question to a contact property
(INTERFACES.md §4): a standard question by its Zoom field name (`job_title`), a custom one as
`custom:` + its title, compared trimmed and case-insensitively. Two uses:

- outbound (the workflow action): `registration_answers_build` turns the contact's mapped
  property values into the answers Zoom's registrant endpoint takes, and says which required
  questions stay unanswered and which answers Zoom would refuse (a choice that is not one of
  the question's options), so the action fails before calling Zoom (R11);
- inbound (the sync): `registrant_answers_from_zoom` keeps a registrant's answers keyed like
  the mapping, and `contact_answer_properties` says which mapped properties to fill on a
  contact (only those the contact has no value for).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from connector.models import Portal, PortalSyncSettings, RegistrationFieldMapping

CUSTOM_PREFIX = "custom:"
# Zoom's standard registration questions besides the three the action always sends
# (research/zoom-api.md §4.3), with the labels Zoom's form shows.
STANDARD_QUESTION_LABELS: dict[str, str] = {
    "address": "Address",
    "city": "City",
    "state": "State/Province",
    "zip": "Zip/Postal code",
    "country": "Country/Region",
    "phone": "Phone",
    "industry": "Industry",
    "org": "Organization",
    "job_title": "Job title",
    "purchasing_time_frame": "Purchasing time frame",
    "role_in_purchase_process": "Role in purchase process",
    "no_of_employees": "Number of employees",
    "comments": "Questions & comments",
}
STANDARD_QUESTIONS = tuple(STANDARD_QUESTION_LABELS)
# The three fields the action fills from the contact's own email, first and last name (R11).
SENT_FIELDS = frozenset({"email", "first_name", "last_name"})
# Standard questions whose answer must be one of a list (the enums of Zoom's POST registrants).
STANDARD_CHOICES: dict[str, tuple[str, ...]] = {
    "no_of_employees": (
        "1-20", "21-50", "51-100", "101-500", "500-1,000", "1,001-5,000", "5,001-10,000", "More than 10,000",
    ),
    "purchasing_time_frame": ("Within a month", "1-3 months", "4-6 months", "More than 6 months", "No timeframe"),
    "role_in_purchase_process": ("Decision Maker", "Evaluator/Recommender", "Influencer", "Not involved"),
}
CHOICE_TYPES = frozenset({"single_radio", "single_dropdown", "multiple"})
CUSTOM_ANSWER_MAX = 128  # Zoom: custom_questions[].value ≤ 128 characters
CUSTOM_TITLE_MAX = 300
_PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
# Properties a mapping may not name: zoomsync's own four (R16–R19) and the email, which
# identifies the contact and is never overwritten by an answer.
_RESERVED_PREFIX = "zoomsync_"
_RESERVED = frozenset({"email", "hs_object_id", "hs_additional_emails"})


def question_key_normalize(key: str) -> str:
    """The form keys are compared in: standard names as they are, custom titles trimmed and
    case-folded (`custom:Company size` ≡ `custom: company SIZE `)."""
    if key.startswith(CUSTOM_PREFIX):
        return CUSTOM_PREFIX + " ".join(key[len(CUSTOM_PREFIX):].split()).casefold()
    return key.strip()


def custom_key(title: str) -> str:
    return CUSTOM_PREFIX + title.strip()


def question_label(key: str) -> str:
    """Plain words for a question key: Zoom's label or the custom question's title."""
    if key.startswith(CUSTOM_PREFIX):
        return key[len(CUSTOM_PREFIX):].strip()
    return STANDARD_QUESTION_LABELS.get(key, key)


# --- the settings document ------------------------------------------------------------------


def registration_fields_parse(value: Any) -> dict[str, str]:
    """Validate `registration_fields` (INTERFACES.md §4); every error names the entry at fault."""
    if not isinstance(value, dict):
        raise ValidationError("registration_fields: expected an object mapping a Zoom question to a contact property")
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for raw_key, raw_property in value.items():
        if not isinstance(raw_key, str) or not isinstance(raw_property, str):
            raise ValidationError("registration_fields: keys and values must be text")
        key = raw_key.strip()
        if key.startswith(CUSTOM_PREFIX):
            title = " ".join(key[len(CUSTOM_PREFIX):].split())
            if not title:
                raise ValidationError(f"registration_fields: {raw_key!r} names no custom question (write custom:<title>)")
            if len(title) > CUSTOM_TITLE_MAX:
                raise ValidationError(f"registration_fields: the custom question title in {raw_key!r} is too long")
            key = CUSTOM_PREFIX + title
        elif key in SENT_FIELDS:
            raise ValidationError(
                f"registration_fields: {raw_key!r} is always sent from the contact's own email and name; it cannot be mapped"
            )
        elif key not in STANDARD_QUESTION_LABELS:
            raise ValidationError(
                f"registration_fields: {raw_key!r} is not a Zoom registration question "
                f"(one of {', '.join(STANDARD_QUESTIONS)}, or custom:<title>)"
            )
        prop = raw_property.strip()
        if not _PROPERTY_NAME.match(prop):
            raise ValidationError(
                f"registration_fields.{key}: {raw_property!r} is not a HubSpot property name (example: jobtitle)"
            )
        if prop.startswith(_RESERVED_PREFIX) or prop in _RESERVED:
            raise ValidationError(f"registration_fields.{key}: the property {prop!r} cannot hold registration answers")
        normal = question_key_normalize(key)
        if normal in seen:
            raise ValidationError(f"registration_fields: {raw_key!r} and {seen[normal]!r} are the same question")
        seen[normal] = raw_key
        out[key] = prop
    return dict(sorted(out.items()))


def registration_fields_get(*, portal: Portal) -> dict[str, str]:
    """The portal's mapping {question key: contact property}, keys as the admin wrote them."""
    return dict(
        RegistrationFieldMapping.objects.filter(portal=portal)
        .order_by("question_key")
        .values_list("question_key", "hubspot_property")
    )


def registration_fields_set(*, portal: Portal, fields: Mapping[str, str]) -> None:
    """Replace the portal's mapping (already validated by `registration_fields_parse`)."""
    RegistrationFieldMapping.objects.filter(portal=portal).exclude(question_key__in=list(fields)).delete()
    for key, prop in fields.items():
        RegistrationFieldMapping.objects.update_or_create(
            portal=portal, question_key=key, defaults={"hubspot_property": prop}
        )


def answers_to_contacts_enabled(*, portal: Portal) -> bool:
    return bool(
        PortalSyncSettings.objects.filter(portal=portal).values_list("registration_answers_to_contacts", flat=True).first()
    )


# --- outbound: the workflow action ------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    key: str  # standard field name, or custom: + Zoom's exact title
    label: str
    required: bool
    options: tuple[str, ...] = ()  # empty: free text
    multiple: bool = False


def questions_from_zoom(questions: object) -> list[Question]:
    """Zoom's `GET /webinars/{id}/registrants/questions` answer as a list of questions the
    action may have to fill (the three sent fields left out)."""
    if not isinstance(questions, Mapping):
        return []
    out: list[Question] = []
    for item in _dicts(questions.get("questions")):
        name = str(item.get("field_name") or "")
        if not name or name in SENT_FIELDS:
            continue
        out.append(
            Question(
                key=name,
                label=STANDARD_QUESTION_LABELS.get(name, name),
                required=item.get("required") is True,
                options=STANDARD_CHOICES.get(name, ()),
            )
        )
    for item in _dicts(questions.get("custom_questions")):
        title = str(item.get("title") or "")
        if not title.strip():
            continue
        qtype = str(item.get("type") or "short")
        options = tuple(str(a) for a in item.get("answers") or [] if isinstance(a, str)) if qtype in CHOICE_TYPES else ()
        out.append(
            Question(
                key=CUSTOM_PREFIX + title,
                label=title.strip(),
                required=item.get("required") is True,
                options=options,
                multiple=qtype == "multiple",
            )
        )
    return out


def mapped_property(question: Question, mapping: Mapping[str, str]) -> str | None:
    normal = question_key_normalize(question.key)
    for key, prop in mapping.items():
        if question_key_normalize(key) == normal:
            return prop
    return None


def properties_needed(*, questions: Iterable[Question], mapping: Mapping[str, str]) -> list[str]:
    """The contact properties the action must read to answer these questions."""
    out: list[str] = []
    for question in questions:
        prop = mapped_property(question, mapping)
        if prop and prop not in out:
            out.append(prop)
    return out


@dataclass
class RegistrationAnswers:
    """What the action sends besides the three fields, and why it may not register."""

    fields: dict[str, str] = field(default_factory=dict)  # standard field name → value
    custom_questions: list[dict[str, str]] = field(default_factory=list)  # [{title, value}]
    unanswered: list[str] = field(default_factory=list)  # labels: required, no mapping or no value
    refused: list[str] = field(default_factory=list)  # labels + why: a value Zoom would refuse
    dropped: list[str] = field(default_factory=list)  # optional questions whose value Zoom would refuse

    @property
    def complete(self) -> bool:
        return not self.unanswered and not self.refused

    def problem_message(self) -> str:
        parts = []
        if self.unanswered:
            parts.append(
                "the webinar's registration form requires answers the contact has no mapped value for: "
                + ", ".join(self.unanswered)
            )
        if self.refused:
            parts.append("Zoom would refuse these answers: " + "; ".join(self.refused))
        return "; ".join(parts)


def _choice_match(value: str, options: tuple[str, ...], *, multiple: bool) -> str | None:
    """The answer as Zoom's option text, or None when it is not one of the options.
    A HubSpot value matches an option exactly or trimmed and case-insensitively; a
    multiple-choice answer may list several (HubSpot separates them with ';')."""
    by_fold = {o.strip().casefold(): o for o in options}

    def one(part: str) -> str | None:
        return part if part in options else by_fold.get(part.strip().casefold())

    exact = one(value)
    if exact is not None or not multiple:
        return exact
    parts = [p for p in re.split(r"[;,]", value) if p.strip()]
    matched = [one(p) for p in parts]
    if not parts or any(m is None for m in matched):
        return None
    return ",".join(m for m in matched if m is not None)


def registration_answers_build(
    *, questions: Iterable[Question], mapping: Mapping[str, str], contact: Mapping[str, Any]
) -> RegistrationAnswers:
    """B6: the answers to send from the contact's mapped property values (R11 checks)."""
    result = RegistrationAnswers()
    for question in questions:
        prop = mapped_property(question, mapping)
        raw = contact.get(prop) if prop else None
        value = raw.strip() if isinstance(raw, str) else ("" if raw is None else str(raw).strip())
        if not value:
            if question.required:
                result.unanswered.append(question.label)  # R11: required, no mapping or no value
            continue
        problem = ""
        if question.options:
            matched = _choice_match(value, question.options, multiple=question.multiple)
            if matched is None:
                problem = f"{question.label} ({value!r} is not one of its options: {', '.join(question.options)})"
            else:
                value = matched
        if not problem and question.key.startswith(CUSTOM_PREFIX) and len(value) > CUSTOM_ANSWER_MAX:
            problem = f"{question.label} (longer than {CUSTOM_ANSWER_MAX} characters)"
        if problem:
            # A required question Zoom would refuse fails the registration; an optional one
            # is left unanswered so the contact still registers.
            (result.refused if question.required else result.dropped).append(problem)
            continue
        if question.key.startswith(CUSTOM_PREFIX):
            result.custom_questions.append({"title": question.key[len(CUSTOM_PREFIX):], "value": value})
        else:
            result.fields[question.key] = value
    return result


# --- inbound: registrants' answers to contacts -------------------------------------------------


def registrant_answers_from_zoom(item: Mapping[str, Any]) -> dict[str, str]:
    """A Zoom registrant's answers keyed like the mapping ({} when none)."""
    out: dict[str, str] = {}
    for name in STANDARD_QUESTIONS:
        value = item.get(name)
        if isinstance(value, str) and value.strip():
            out[name] = value.strip()
    for answer in _dicts(item.get("custom_questions")):
        title, value = answer.get("title"), answer.get("value")
        if isinstance(title, str) and title.strip() and isinstance(value, str) and value.strip():
            out[custom_key(title)] = value.strip()
    return out


def contact_answer_properties(
    *, answers: Mapping[str, str], mapping: Mapping[str, str], current: Mapping[str, Any]
) -> dict[str, str]:
    """B6 inbound: {property: answer} for the mapped properties the contact has no value for.
    `answers` is keyed like `registrant_answers_from_zoom`; the first answer per property wins."""
    by_normal = {question_key_normalize(k): v for k, v in answers.items()}
    out: dict[str, str] = {}
    for key, prop in mapping.items():
        value = by_normal.get(question_key_normalize(key))
        if not value or prop in out:
            continue
        existing = current.get(prop)
        if existing is not None and str(existing).strip():
            continue  # only where the contact's value is empty
        out[prop] = value
    return out


def _dicts(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


__all__ = [
    "CUSTOM_PREFIX",
    "STANDARD_QUESTIONS",
    "STANDARD_QUESTION_LABELS",
    "Question",
    "RegistrationAnswers",
    "answers_to_contacts_enabled",
    "contact_answer_properties",
    "properties_needed",
    "question_key_normalize",
    "question_label",
    "questions_from_zoom",
    "registrant_answers_from_zoom",
    "registration_answers_build",
    "registration_fields_get",
    "registration_fields_parse",
    "registration_fields_set",
]
