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
CONTACT_VALUE_MAX = 65536  # HubSpot: a string property holds at most 65,536 characters
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
    *,
    answers: Mapping[str, str],
    mapping: Mapping[str, str],
    current: Mapping[str, Any],
    ours: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """B6 inbound: {property: answer} for the mapped properties the contact has no value for.
    `answers` is keyed like `registrant_answers_from_zoom`; the first answer per property wins.
    A value the contact holds because we wrote it (`ours`: what was last pushed) counts as
    ours to keep, so a second sync sends nothing; any other value is never overwritten."""
    by_normal = {question_key_normalize(k): v for k, v in answers.items()}
    ours = ours or {}
    out: dict[str, str] = {}
    for key, prop in mapping.items():
        value = by_normal.get(question_key_normalize(key))
        if not value or prop in out:
            continue
        existing = "" if current.get(prop) is None else str(current.get(prop)).strip()
        if existing and existing != str(ours.get(prop) or "").strip():
            continue  # only where the contact's value is empty (or is the one we wrote)
        out[prop] = value[:CONTACT_VALUE_MAX]
    return out


# --- the settings screen: the questions webinars ask, the properties a portal has --------------

OVERVIEW_WEBINARS = 25  # the most recent (upcoming first) synced webinars asked for their questions


@dataclass
class QuestionRow:
    key: str  # the mapping key: a standard field name or custom: + the title
    label: str
    custom: bool
    options: tuple[str, ...] = ()
    asked_by: list[tuple[str, bool]] = field(default_factory=list)  # (webinar topic, required)
    mapped_to: str = ""


@dataclass
class QuestionsOverview:
    rows: list[QuestionRow]
    properties: list[tuple[str, str]]  # (name, label) of the contact properties an answer can go to
    problems: list[str]  # plain words: what could not be read


def _property_usable(definition: Mapping[str, Any]) -> bool:
    name = str(definition.get("name") or "")
    meta = definition.get("modificationMetadata")
    read_only = bool(definition.get("readOnlyValue")) or (
        isinstance(meta, Mapping) and bool(meta.get("readOnlyValue"))
    )
    return bool(
        _PROPERTY_NAME.match(name)
        and not name.startswith(_RESERVED_PREFIX)
        and name not in _RESERVED
        and not read_only
        and not definition.get("hidden")
        and not definition.get("archived")
    )


def registration_questions_overview(*, portal: Portal) -> QuestionsOverview:
    """B6 mapping screen: every standard question, the custom questions of the portal's
    synced webinars (read from Zoom, `GET /webinars/{id}/registrants/questions`), which
    webinar asks each, the current mapping, and the portal's contact properties (read from
    HubSpot). Whatever cannot be read is said in `problems`; the rest is still shown."""
    from connector.clients import errors as api_errors
    from connector.clients.factories import hubspot_client_for, zoom_client_for
    from connector.models import ConnectionStatus, Webinar
    from connector.services import tokens

    failures = (api_errors.ApiError, tokens.TokenRefreshFailed, tokens.TokenRefreshRetryable)
    mapping = registration_fields_get(portal=portal)
    rows: dict[str, QuestionRow] = {
        name: QuestionRow(key=name, label=label, custom=False, options=STANDARD_CHOICES.get(name, ()))
        for name, label in STANDARD_QUESTION_LABELS.items()
    }
    problems: list[str] = []
    webinars = (
        Webinar.objects.filter(account__portal=portal, account__status=ConnectionStatus.CONNECTED, skip_reason="")
        .select_related("account")
        .order_by("-start_time", "-pk")[:OVERVIEW_WEBINARS]
    )
    clients: dict[int, Any] = {}
    for webinar in webinars:
        client = clients.get(webinar.account_id)
        if client is None:
            client = clients[webinar.account_id] = zoom_client_for(webinar.account, max_retries=0)
        try:
            answer = client.registration_questions_get(webinar.webinar_id)
        except api_errors.BadRequest:
            continue  # registration is not enabled for this webinar: it asks nothing
        except api_errors.NotFound:
            continue
        except failures:
            problems.append(f"Zoom did not answer with the questions of “{webinar.topic or webinar.webinar_id}”.")
            continue
        for question in questions_from_zoom(answer):
            normal = question_key_normalize(question.key)
            row = rows.get(normal) or rows.get(question.key)
            if row is None:
                row = rows[normal] = QuestionRow(
                    key=CUSTOM_PREFIX + question.label, label=question.label, custom=True, options=question.options
                )
            row.asked_by.append((webinar.topic or webinar.webinar_id, question.required))
    for key, prop in mapping.items():
        normal = question_key_normalize(key)
        row = rows.get(normal) or rows.get(key)
        if row is None:  # mapped earlier, asked by no webinar shown now
            row = rows[normal] = QuestionRow(key=key, label=question_label(key), custom=True)
        row.mapped_to = prop
    properties: list[tuple[str, str]] = []
    try:
        listed = hubspot_client_for(portal, max_retries=0).properties_list("contacts")
    except failures:
        listed = []
        problems.append("HubSpot did not answer with the contact properties; the current choices are kept.")
    properties = sorted(
        {(str(d["name"]), str(d.get("label") or d["name"])) for d in listed if _property_usable(d)},
        key=lambda p: (p[1].casefold(), p[0]),
    )
    known = {name for name, _ in properties}
    properties += [(prop, prop) for prop in sorted(set(mapping.values()) - known)]
    every = [rows[name] for name in STANDARD_QUESTIONS] + sorted(
        (r for r in rows.values() if r.custom), key=lambda r: r.label.casefold()
    )
    # The questions the webinars ask (or that are mapped) first, then the rest.
    ordered = [r for r in every if r.asked_by or r.mapped_to] + [r for r in every if not (r.asked_by or r.mapped_to)]
    return QuestionsOverview(rows=ordered, properties=properties, problems=problems)


def _dicts(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


__all__ = [
    "CUSTOM_PREFIX",
    "STANDARD_QUESTIONS",
    "STANDARD_QUESTION_LABELS",
    "Question",
    "QuestionRow",
    "QuestionsOverview",
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
    "registration_questions_overview",
]
