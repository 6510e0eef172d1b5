"""The workflow action "Add contact to Zoom webinar" (R11, R17, R24–R26; INTERFACES.md §7).

`webinar_registration_add` is the one entry point. It is idempotent per HubSpot callbackId:
the first request claims an ActionExecution row; a duplicate of a finished execution gets
the stored answer, so a contact is registered once however often HubSpot retries.

Order of checks (cheap and local first, so a bad input costs no Zoom call):
  portal installed → webinar ID (R24) → email → Zoom account connected → which account owns
  the webinar (R25) → host / alternative host / connected user (R26) → registration open →
  registration questions (R11; B6: required ones answered from the contact's mapped
  properties) → Zoom's per-registrant daily limit → POST the registrant with first name,
  last name, email and the mapped answers.

Retries (research/hubspot-api.md §6.3): HubSpot retries a 429 (honouring Retry-After) and
a 5xx (exponential backoff, up to 3 days), and never retries SUCCESS/FAIL_CONTINUE. So a
Zoom per-second 429 answers 429 + Retry-After, a Zoom 5xx or network failure answers 503;
everything retrying cannot fix answers FAIL_CONTINUE with an errorCode. Zoom's daily
per-registrant limit is final for the day: FAIL_CONTINUE ZOOM_DAILY_LIMIT (a retry within
HubSpot's window would only burn more of Zoom's quota).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from connector.clients import errors as api_errors
from connector.clients.factories import hubspot_client_for, zoom_client_for
from connector.clients.zoom import ZoomClient
from connector.models import ConnectionStatus, Portal, ZoomAccount
from connector.services import tokens
from connector.services.registration_questions import (
    SENT_FIELDS,
    STANDARD_QUESTION_LABELS,
    RegistrationAnswers,
    properties_needed,
    questions_from_zoom,
    registration_answers_build,
    registration_fields_get,
)
from workflows.models import ActionExecution, ExecutionStatus, RegistrantAddAttempt
from workflows.services.outcome import (
    HOST_CANNOT_REGISTER_MESSAGE,
    ActionOutcome,
    ErrorCode,
    ExecutionState,
)

logger = logging.getLogger("zoomsync.workflows")

# Zoom: "3 requests per day (UTC) per registrant" for add-registrant (research/zoom-api.md §9).
ZOOM_ADDS_PER_REGISTRANT_PER_DAY = 3
# A RUNNING claim older than this belongs to a crashed request: a retry may take it over.
STALE_CLAIM = timedelta(minutes=2)
# Answer for a duplicate that arrives while the first request is still running.
BUSY_RETRY_AFTER_SECONDS = 10
DEFAULT_RETRY_AFTER_SECONDS = 10
MAX_RETRY_AFTER_SECONDS = 3600
# Inside HubSpot's synchronous call, the Zoom client must not sleep through long backoffs.
ACTION_CLIENT_MAX_RETRIES = 1
ACTION_CLIENT_MAX_BACKOFF = 5.0

# Zoom's registration fields the action fills (R11); Zoom names vs. what we send.
_ZOOM_FIELD_LABELS = {"last_name": "Last name", **STANDARD_QUESTION_LABELS}

# R24: people paste IDs as shown by Zoom ("812 3456 7890", "812-3456-7890").
_WEBINAR_ID_SEPARATORS = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014\u2212]+")
_WEBINAR_ID = re.compile(r"[0-9]{9,19}")
_INT64_MAX = 2**63 - 1
_EMAIL_SPLIT = re.compile(r"[\s,;]+")


def webinar_id_normalize(raw: object) -> str | None:
    """R24: the webinar ID with spaces and dashes removed, or None when it is not one.

    Zoom webinar IDs are 9–11 digit numbers (int64 in the API). Only ASCII digits count:
    `str.isdigit` would let "²" or Arabic-Indic digits through.
    """
    if not isinstance(raw, str):
        return None
    compact = _WEBINAR_ID_SEPARATORS.sub("", raw)
    if not _WEBINAR_ID.fullmatch(compact) or int(compact) > _INT64_MAX or int(compact) == 0:
        return None
    return compact


def email_clean(raw: object) -> str | None:
    """The contact's email, trimmed, if it is one Zoom accepts (≤128 chars)."""
    if not isinstance(raw, str):
        return None
    email = raw.strip()
    if not email or len(email) > 128:
        return None
    try:
        validate_email(email)
    except ValidationError:
        return None
    return email


def name_clean(raw: object) -> str:
    if not isinstance(raw, str):
        return ""
    # Control characters (NUL included: PostgreSQL text cannot hold it) never belong in a name.
    printable = "".join(ch for ch in raw if ch.isprintable() or ch.isspace())
    return " ".join(printable.split())[:64]  # Zoom: first_name/last_name ≤ 64


# What of HubSpot's request is stored for support (B4: only what is needed). The contact's
# properties are not: email and names are kept in their own columns, cleaned.
_STORED_KEYS = ("callbackId", "origin", "context", "inputFields")


def request_body_stored(body: Mapping[str, Any] | None) -> dict[str, Any]:
    """The part of a workflow request body that is kept: ids and input fields, no properties."""
    if not body:
        return {}
    kept = {key: body[key] for key in _STORED_KEYS if key in body}
    contact = body.get("object")
    if isinstance(contact, Mapping):
        kept["object"] = {k: contact[k] for k in ("objectId", "objectType") if k in contact}
    return kept


@dataclass
class _Request:
    portal: Portal | None
    email: str | None
    first_name: str
    last_name: str
    webinar_id: str | None
    # B6: the contact as HubSpot sent it (its id and the properties in the request).
    contact_object_id: str = ""
    contact_properties: dict[str, Any] = field(default_factory=dict)


class _Finished(Exception):
    """Raised inside the decision to stop with an outcome."""

    def __init__(self, outcome: ActionOutcome, *, zoom_account: ZoomAccount | None = None) -> None:
        self.outcome = outcome
        self.zoom_account = zoom_account


# --------------------------------------------------------------------------------------
# Entry point


def webinar_registration_add(
    *,
    portal: Portal | None,
    callback_id: str,
    email: object,
    first_name: object,
    last_name: object,
    webinar_id_raw: object,
    hub_id: int | None = None,
    contact_object_id: str = "",
    request_body: Mapping[str, Any] | None = None,
    signature_version: str = "",
) -> ActionOutcome:
    """Register the contact for the webinar (once per callbackId) and say what to answer."""
    now = timezone.now()
    cleaned_email = email_clean(email)
    webinar_id = webinar_id_normalize(webinar_id_raw)
    request = _Request(
        portal=portal,
        email=cleaned_email,
        first_name=name_clean(first_name),
        last_name=name_clean(last_name),
        webinar_id=webinar_id,
        contact_object_id=str(contact_object_id)[:64],
        contact_properties=_request_properties(request_body),
    )
    defaults = {
        "portal": portal,
        "hub_id": hub_id if hub_id is not None else (portal.hub_id if portal else None),
        "status": ExecutionStatus.RUNNING,
        "signature_version": signature_version,
        "request_body": request_body_stored(request_body),
        "contact_object_id": str(contact_object_id)[:64],
        "webinar_id_raw": webinar_id_raw[:200] if isinstance(webinar_id_raw, str) else "",
        "webinar_id": webinar_id or "",
        "email": (cleaned_email or "").lower(),
        "first_name": request.first_name,
        "last_name": request.last_name,
        "claimed_at": now,
        "attempts": 1,
    }
    try:
        with transaction.atomic():
            execution, created = ActionExecution.objects.get_or_create(callback_id=callback_id, defaults=defaults)
    except IntegrityError:
        # Lost a race with a concurrent duplicate: the winner's row decides.
        execution, created = ActionExecution.objects.get(callback_id=callback_id), False

    if not created:
        replay = _execution_replay_or_claim(execution, now=now)
        if replay is not None:
            return replay
        execution.refresh_from_db()

    try:
        outcome, zoom_account = _registration_decide(request, execution=execution)
    except Exception:
        # Our own bug or the database: leave the row retryable, let HubSpot retry (5xx).
        ActionExecution.objects.filter(pk=execution.pk).update(status=ExecutionStatus.RETRY, updated_at=timezone.now())
        raise
    _execution_finish(execution, outcome, zoom_account=zoom_account, request=request)
    return outcome


def _execution_replay_or_claim(execution: ActionExecution, *, now: datetime) -> ActionOutcome | None:
    """For a callbackId seen before: the stored answer, a 'busy' answer, or None after
    taking the row over for another attempt (it was waiting for a retry, or its claimer died)."""
    if execution.status in (ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED):
        return outcome_from_execution(execution)
    stale = execution.claimed_at is None or now - execution.claimed_at > STALE_CLAIM
    if execution.status == ExecutionStatus.RUNNING and not stale:
        return ActionOutcome.retry(
            http_status=429,
            retry_after_seconds=BUSY_RETRY_AFTER_SECONDS,
            message="This callback is being processed; retry shortly",
        )
    # Compare-and-set, so two concurrent retries cannot both run it.
    claimed = ActionExecution.objects.filter(
        pk=execution.pk, status=execution.status, claimed_at=execution.claimed_at
    ).update(status=ExecutionStatus.RUNNING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now)
    if not claimed:
        return ActionOutcome.retry(
            http_status=429,
            retry_after_seconds=BUSY_RETRY_AFTER_SECONDS,
            message="This callback is being processed; retry shortly",
        )
    return None


def outcome_from_execution(execution: ActionExecution) -> ActionOutcome:
    """The answer stored for a finished execution, rebuilt exactly."""
    fields = execution.output_fields or {}
    if execution.status == ExecutionStatus.SUCCEEDED:
        return ActionOutcome.success(
            registrant_id=str(fields.get("registrantId", execution.registrant_id)),
            join_url=str(fields.get("joinUrl", execution.join_url)),
        )
    return ActionOutcome(
        ExecutionState.FAIL_CONTINUE,
        error_code=str(fields.get("errorCode", execution.error_code)),
        error_message=str(fields.get("errorMessage", execution.error_message)),
    )


def _execution_finish(
    execution: ActionExecution,
    outcome: ActionOutcome,
    *,
    zoom_account: ZoomAccount | None,
    request: _Request,
) -> None:
    now = timezone.now()
    if outcome.state == ExecutionState.SUCCESS:
        status = ExecutionStatus.SUCCEEDED
    elif outcome.state == ExecutionState.FAIL_CONTINUE:
        status = ExecutionStatus.FAILED
    else:
        status = ExecutionStatus.RETRY
    execution.status = status
    execution.zoom_account = zoom_account
    execution.error_code = outcome.error_code
    execution.error_message = outcome.error_message
    execution.http_status = outcome.http_status
    execution.output_fields = outcome.output_fields()
    if outcome.state == ExecutionState.SUCCESS:
        execution.registrant_id = outcome.registrant_id[:100]
        execution.join_url = outcome.join_url[:1000]
        execution.registered_at = now
    with transaction.atomic():
        execution.save()
        if outcome.state == ExecutionState.SUCCESS and request.portal is not None:
            # R17: the saved success is the connector's record of the registration (receiver in
            # registration_record); the next pull of the webinar sees the registrant: ask for it now.
            from workflows.tasks import webinar_sync_after_registration

            webinar_sync_after_registration.delay_on_commit(
                portal_id=request.portal.pk, execution_id=execution.pk, webinar_id=execution.webinar_id
            )
    logger.info(
        "workflow action %s: %s %s",
        execution.callback_id,
        outcome.state.value,
        outcome.error_code,
        extra={
            "callback_id": execution.callback_id,
            "hub_id": execution.hub_id,
            "webinar_id": execution.webinar_id,
            "state": outcome.state.value,
            "error_code": outcome.error_code,
            "attempt": execution.attempts,
        },
    )


# --------------------------------------------------------------------------------------
# The decision


def _registration_decide(request: _Request, *, execution: ActionExecution) -> tuple[ActionOutcome, ZoomAccount | None]:
    try:
        return _registration_run(request, execution=execution)
    except _Finished as finished:
        return finished.outcome, finished.zoom_account


def _registration_run(request: _Request, *, execution: ActionExecution) -> tuple[ActionOutcome, ZoomAccount]:
    portal = request.portal
    # An unknown or uninstalled portal gets a readable FAIL_CONTINUE, not a 401: the
    # signature proved the request is HubSpot's, and the workflow history should say why.
    if portal is None or portal.status == ConnectionStatus.UNINSTALLED:
        raise _Finished(
            ActionOutcome.failure(
                ErrorCode.ZOOM_NOT_CONNECTED, "zoomsync is not installed in this HubSpot account"
            )
        )
    if request.webinar_id is None:
        raise _Finished(ActionOutcome.failure(ErrorCode.INVALID_WEBINAR_ID))  # R24
    if request.email is None:
        raise _Finished(ActionOutcome.failure(ErrorCode.MISSING_CONTACT_EMAIL))
    if not request.first_name:
        raise _Finished(
            ActionOutcome.failure(ErrorCode.MISSING_CONTACT_NAME, "Zoom requires the contact's first name")
        )

    accounts = list(
        portal.zoom_accounts.filter(status=ConnectionStatus.CONNECTED).order_by(
            "-is_primary_business_unit", "connected_at", "pk"
        )
    )
    if not accounts:
        raise _Finished(ActionOutcome.failure(ErrorCode.ZOOM_NOT_CONNECTED))

    account, client, webinar = _webinar_locate(accounts=accounts, webinar_id=request.webinar_id)  # R25

    def finish(code: ErrorCode, message: str = "") -> _Finished:
        return _Finished(ActionOutcome.failure(code, message), zoom_account=account)

    try:
        # R26: hosts, alternative hosts and the connected Zoom user cannot register.
        if request.email.lower() in _host_emails(client=client, webinar=webinar, account=account):
            raise finish(ErrorCode.HOST_CANNOT_REGISTER, HOST_CANNOT_REGISTER_MESSAGE)

        raw_settings = webinar.get("settings")
        settings_: Mapping[str, Any] = raw_settings if isinstance(raw_settings, Mapping) else {}
        if str(settings_.get("approval_type", "")) == "2":  # 2 = no registration required
            raise finish(
                ErrorCode.REGISTRATION_CLOSED,
                "Registration is not enabled for this webinar (Zoom: no registration required)",
            )

        # R11: detect extra required fields before calling the registrant endpoint.
        try:
            questions = client.registration_questions_get(request.webinar_id)
        except api_errors.BadRequest as exc:
            raise _zoom_refusal(exc, zoom_account=account) from None
        # B6: required questions are answered from the contact's mapped properties; R11
        # fails only for a required question with no mapping or no value, or an answer
        # Zoom would refuse.
        answers = _registration_answers(request, questions=questions, account=account)
        if not answers.complete:
            raise finish(ErrorCode.EXTRA_REQUIRED_FIELDS, _answers_message(answers))
        if not request.last_name and _last_name_required(questions):
            raise finish(
                ErrorCode.MISSING_CONTACT_NAME,
                "The webinar's registration form requires a last name and the contact has none",
            )

        # Zoom's 3-per-day limit per registrant: don't make Zoom refuse (and count) a 4th.
        if _adds_today(account=account, webinar_id=request.webinar_id, email=request.email) >= ZOOM_ADDS_PER_REGISTRANT_PER_DAY:
            raise finish(ErrorCode.ZOOM_DAILY_LIMIT)

        RegistrantAddAttempt.objects.create(
            execution=execution, zoom_account=account, webinar_id=request.webinar_id, email=request.email.lower()
        )
        try:
            created = client.registrant_add(
                request.webinar_id,
                email=request.email,
                first_name=request.first_name,
                last_name=request.last_name,
                answers=answers.fields,  # B6: the mapped answers, nothing else
                custom_questions=answers.custom_questions,
            )
        except api_errors.RateLimited as exc:
            if _is_daily_limit(exc):
                raise finish(ErrorCode.ZOOM_DAILY_LIMIT) from None
            raise
        except (api_errors.BadRequest, api_errors.NotFound, api_errors.Forbidden, api_errors.Conflict) as exc:
            raise _zoom_refusal(exc, zoom_account=account) from None
    except _Finished:
        raise
    except (api_errors.RateLimited, api_errors.ServerError, api_errors.TransportError, tokens.TokenRefreshRetryable) as exc:
        raise _Finished(_retry_outcome(exc), zoom_account=account) from None
    except (api_errors.Unauthorized, tokens.TokenRefreshFailed):
        raise finish(
            ErrorCode.ZOOM_NOT_CONNECTED, "The Zoom connection needs to be reconnected (authorization failed)"
        ) from None
    except api_errors.ApiError as exc:
        raise _zoom_refusal(exc, zoom_account=account) from None

    created = created if isinstance(created, Mapping) else {}
    registrant_id = str(created.get("registrant_id") or created.get("id") or "")
    join_url = str(created.get("join_url") or webinar.get("join_url") or "")
    return ActionOutcome.success(registrant_id=registrant_id, join_url=join_url), account


# --------------------------------------------------------------------------------------
# R25: which connected account owns the webinar


def _action_zoom_client(account: ZoomAccount) -> ZoomClient:
    """The Zoom client for one account, tuned for a synchronous HubSpot call: at most one
    short retry inside the request, so a slow Zoom turns into a 429/503 HubSpot retries."""
    return zoom_client_for(account, max_retries=ACTION_CLIENT_MAX_RETRIES, max_backoff=ACTION_CLIENT_MAX_BACKOFF)


def _webinar_locate(*, accounts: list[ZoomAccount], webinar_id: str) -> tuple[ZoomAccount, Any, dict[str, Any]]:
    """Find the webinar in the primary business unit's account first (R25).

    Found there → that account registers. Found only in another connected account →
    NOT_PRIMARY_BUSINESS_UNIT (the contact is not registered). Found nowhere →
    WEBINAR_NOT_FOUND, or ZOOM_NOT_CONNECTED when the primary account could not be asked.
    """
    primary_unusable = False
    has_primary = any(a.is_primary_business_unit for a in accounts)
    for account in accounts:
        try:
            client = _action_zoom_client(account)
            webinar = client.webinar_get(webinar_id)
        except (api_errors.NotFound, api_errors.BadRequest, api_errors.Forbidden):
            # 3001 "does not exist", 300 "invalid webinar ID", 200 "no permission":
            # not this account's webinar.
            continue
        except (api_errors.Unauthorized, tokens.TokenRefreshFailed):
            logger.warning("Zoom account %s: authorization failed while locating a webinar", account.account_id)
            if account.is_primary_business_unit:
                primary_unusable = True
            continue
        except (api_errors.RateLimited, api_errors.ServerError, api_errors.TransportError, tokens.TokenRefreshRetryable) as exc:
            raise _Finished(_retry_outcome(exc), zoom_account=account) from None
        except api_errors.ApiError:
            continue
        if not isinstance(webinar, Mapping):
            continue
        if account.is_primary_business_unit:
            return account, client, dict(webinar)
        raise _Finished(
            ActionOutcome.failure(
                ErrorCode.NOT_PRIMARY_BUSINESS_UNIT,
                f"Webinar {webinar_id} belongs to the Zoom account connected to business unit "
                f"{account.business_unit_id}, not to the primary business unit; the contact was not registered",
            ),
            zoom_account=account,
        )
    if not has_primary:
        raise _Finished(
            ActionOutcome.failure(
                ErrorCode.ZOOM_NOT_CONNECTED, "No Zoom account is connected to the primary business unit"
            )
        )
    if primary_unusable:
        raise _Finished(
            ActionOutcome.failure(
                ErrorCode.ZOOM_NOT_CONNECTED,
                "The Zoom account of the primary business unit needs to be reconnected",
            )
        )
    raise _Finished(
        ActionOutcome.failure(
            ErrorCode.WEBINAR_NOT_FOUND, f"No connected Zoom account has a webinar with ID {webinar_id}"
        )
    )


# --------------------------------------------------------------------------------------
# R26: hosts


def _emails_in(value: object) -> set[str]:
    if not isinstance(value, str):
        return set()
    return {part.strip().lower() for part in _EMAIL_SPLIT.split(value) if "@" in part}


def _host_emails(*, client: Any, webinar: Mapping[str, Any], account: ZoomAccount) -> set[str]:
    """Lower-cased emails that may not register: the host, every alternative host and the
    Zoom user who connected the account (R26)."""
    emails: set[str] = set()
    emails |= _emails_in(webinar.get("host_email"))
    host_id = webinar.get("host_id")
    if not emails and isinstance(host_id, str) and host_id:
        emails |= _user_email(client, host_id)
    settings_ = webinar.get("settings")
    if isinstance(settings_, Mapping):
        emails |= _emails_in(settings_.get("alternative_hosts"))
    if account.connected_user_email:
        emails.add(account.connected_user_email.strip().lower())
    elif account.connected_user_id:
        emails |= _user_email(client, account.connected_user_id)
    return emails


def _user_email(client: Any, user_id: str) -> set[str]:
    try:
        user = client.user_get(user_id)
    except (api_errors.NotFound, api_errors.BadRequest, api_errors.Forbidden):
        return set()
    return _emails_in(user.get("email")) if isinstance(user, Mapping) else set()


# --------------------------------------------------------------------------------------
# R11: registration questions


def _request_properties(body: Mapping[str, Any] | None) -> dict[str, Any]:
    contact = body.get("object") if isinstance(body, Mapping) else None
    props = contact.get("properties") if isinstance(contact, Mapping) else None
    return dict(props) if isinstance(props, Mapping) else {}


def _registration_answers(request: _Request, *, questions: object, account: ZoomAccount) -> RegistrationAnswers:
    """B6: the answers to the webinar's questions from the contact's mapped properties.

    The properties the request does not carry are read in one HubSpot call (the contact by
    its id, only the mapped properties); nothing is read when no question is mapped.
    """
    assert request.portal is not None
    listed = questions_from_zoom(questions)
    mapping = registration_fields_get(portal=request.portal) if listed else {}
    contact = dict(request.contact_properties)
    missing = [p for p in properties_needed(questions=listed, mapping=mapping) if p not in contact]
    if missing and request.contact_object_id:
        try:
            # No retry inside HubSpot's own call: a busy HubSpot gets 429/503 and retries the action.
            client = hubspot_client_for(request.portal, max_retries=0)
            record = client.contact_get(request.contact_object_id, properties=missing)
        except api_errors.NotFound:
            record = {}
        except (api_errors.RateLimited, api_errors.ServerError, api_errors.TransportError,
                tokens.TokenRefreshRetryable) as exc:
            raise _Finished(_retry_outcome(exc, service="HubSpot"), zoom_account=account) from None
        except (api_errors.ApiError, tokens.TokenRefreshFailed):
            logger.warning("workflow action: the contact's mapped properties could not be read")
            record = {}
        props = record.get("properties") if isinstance(record, Mapping) else None
        if isinstance(props, Mapping):
            contact.update({k: v for k, v in props.items() if k in missing})
    return registration_answers_build(questions=listed, mapping=mapping, contact=contact)


def _answers_message(answers: RegistrationAnswers) -> str:
    message = answers.problem_message()
    return message[:1].upper() + message[1:] + (
        " (map them to contact properties in the zoomsync settings, Registration questions)"
        if answers.unanswered else ""
    )


def extra_fields_message(fields: Iterable[str]) -> str:
    listed = ", ".join(fields)
    return (
        "The webinar's registration form requires fields this action cannot send "
        f"(it sends only first name, last name and email): {listed}"
    )


def _last_name_required(questions: object) -> bool:
    if not isinstance(questions, Mapping):
        return False
    return any(
        q.get("field_name") == "last_name" and q.get("required") is True for q in _dicts(questions.get("questions"))
    )


def _dicts(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


# --------------------------------------------------------------------------------------
# Zoom's answers


def _adds_today(*, account: ZoomAccount, webinar_id: str, email: str) -> int:
    midnight_utc = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return RegistrantAddAttempt.objects.filter(
        zoom_account=account, webinar_id=webinar_id, email=email.lower(), attempted_at__gte=midnight_utc
    ).count()


def _is_daily_limit(exc: api_errors.RateLimited) -> bool:
    """Zoom's per-registrant limit: "You have exceeded the daily rate limit (3) ..."."""
    kind = str(exc.headers.get("X-RateLimit-Type", "")).lower() if exc.headers else ""
    return "daily" in (exc.message or "").lower() or "daily" in kind


def _zoom_refusal(exc: api_errors.ApiError, *, zoom_account: ZoomAccount | None) -> _Finished:
    """Map a Zoom refusal to the errorCode HubSpot shows (nothing here is worth a retry)."""
    code = str(exc.code) if exc.code is not None else ""
    message = exc.message or ""
    lowered = message.lower()
    if code == "3027" or "host can" in lowered:
        outcome = ActionOutcome.failure(ErrorCode.HOST_CANNOT_REGISTER, HOST_CANNOT_REGISTER_MESSAGE)  # R26
    elif code in {"3000", "3038", "3043", "3035"}:
        # 3000 registration disabled / attendee limit / paid / panelist, 3038 over, 3043/3035 full.
        outcome = ActionOutcome.failure(ErrorCode.REGISTRATION_CLOSED, f"Zoom: {message}" if message else "")
    elif code == "3001" or isinstance(exc, api_errors.NotFound):
        outcome = ActionOutcome.failure(ErrorCode.WEBINAR_NOT_FOUND)
    elif code == "300":
        outcome = _validation_refusal(exc)
    else:
        outcome = ActionOutcome.failure(ErrorCode.ZOOM_REJECTED, f"Zoom refused the registration: {message or exc.status}")
    return _Finished(outcome, zoom_account=zoom_account)


def _validation_refusal(exc: api_errors.ApiError) -> ActionOutcome:
    """Zoom 300 "Validation Failed" with errors[]{field, message}: a required field we did
    not send (R11) or a value Zoom rejects."""
    body = exc.body if isinstance(exc.body, Mapping) else {}
    fields = [str(e.get("field")) for e in _dicts(body.get("errors")) if e.get("field")]
    if "email" in fields:
        return ActionOutcome.failure(ErrorCode.MISSING_CONTACT_EMAIL, "Zoom rejected the contact's email address")
    extra = [_ZOOM_FIELD_LABELS.get(f, f) for f in fields if f not in SENT_FIELDS]
    if extra:
        return ActionOutcome.failure(ErrorCode.EXTRA_REQUIRED_FIELDS, extra_fields_message(extra))
    if "invalid webinar id" in (exc.message or "").lower():
        return ActionOutcome.failure(ErrorCode.WEBINAR_NOT_FOUND)
    if fields:
        return ActionOutcome.failure(
            ErrorCode.MISSING_CONTACT_NAME, f"Zoom rejected the contact's {', '.join(fields)}"
        )
    return ActionOutcome.failure(ErrorCode.ZOOM_REJECTED, f"Zoom refused the registration: {exc.message}")


def _retry_outcome(exc: Exception, *, service: str = "Zoom") -> ActionOutcome:
    """Zoom (or HubSpot) busy or down: answer so that HubSpot retries (429 + Retry-After, or 503)."""
    if isinstance(exc, api_errors.RateLimited):
        wait = exc.retry_after if exc.retry_after is not None else DEFAULT_RETRY_AFTER_SECONDS
        seconds = int(min(MAX_RETRY_AFTER_SECONDS, max(1, round(wait))))
        return ActionOutcome.retry(http_status=429, retry_after_seconds=seconds, message=f"{service} rate limit; retry later")
    return ActionOutcome.retry(
        http_status=503,
        retry_after_seconds=DEFAULT_RETRY_AFTER_SECONDS,
        message=f"{service} is unavailable; retry later",
    )
