"""What the workflow action answers HubSpot (INTERFACES.md §7, research/hubspot-api.md §6.3)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    # Fixed by INTERFACES.md §7.
    HOST_CANNOT_REGISTER = "HOST_CANNOT_REGISTER"  # R26
    NOT_PRIMARY_BUSINESS_UNIT = "NOT_PRIMARY_BUSINESS_UNIT"  # R25
    EXTRA_REQUIRED_FIELDS = "EXTRA_REQUIRED_FIELDS"  # R11
    WEBINAR_NOT_FOUND = "WEBINAR_NOT_FOUND"
    INVALID_WEBINAR_ID = "INVALID_WEBINAR_ID"  # R24
    MISSING_CONTACT_EMAIL = "MISSING_CONTACT_EMAIL"
    REGISTRATION_CLOSED = "REGISTRATION_CLOSED"
    ZOOM_NOT_CONNECTED = "ZOOM_NOT_CONNECTED"
    # Extensions (allowed by INTERFACES.md: extend freely).
    MISSING_CONTACT_NAME = "MISSING_CONTACT_NAME"  # Zoom requires a first name (and last name if asked)
    ZOOM_DAILY_LIMIT = "ZOOM_DAILY_LIMIT"  # Zoom: 3 adds per registrant per webinar per UTC day
    ZOOM_REJECTED = "ZOOM_REJECTED"  # any other refusal retrying cannot fix (no permission, plan, ...)


# R26: the exact wording the source article gives.
HOST_CANNOT_REGISTER_MESSAGE = "Webinar hosts cannot register for the webinar"

# Shown in HubSpot's workflow history through the action definition's execution rules;
# kept here too so the endpoint's errorMessage and the definition say the same thing.
ERROR_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.HOST_CANNOT_REGISTER: HOST_CANNOT_REGISTER_MESSAGE,
    ErrorCode.NOT_PRIMARY_BUSINESS_UNIT: (
        "The webinar belongs to a Zoom account connected to another business unit; only webinars "
        "of the Zoom account connected to the primary business unit can be used"
    ),
    ErrorCode.EXTRA_REQUIRED_FIELDS: (
        "The webinar's registration form requires fields other than first name, last name and email"
    ),
    ErrorCode.WEBINAR_NOT_FOUND: "No connected Zoom account has a webinar with this ID",
    ErrorCode.INVALID_WEBINAR_ID: (
        "The webinar ID must be the webinar's number (digits; spaces and dashes are ignored)"
    ),
    ErrorCode.MISSING_CONTACT_EMAIL: "The contact has no valid email address",
    ErrorCode.REGISTRATION_CLOSED: "Registration is not open for this webinar",
    ErrorCode.ZOOM_NOT_CONNECTED: "No Zoom account is connected to this HubSpot account",
    ErrorCode.MISSING_CONTACT_NAME: "Zoom requires the contact's first name (and last name when the form asks for it)",
    ErrorCode.ZOOM_DAILY_LIMIT: (
        "Zoom allows only 3 registration requests per person per webinar per day; try again tomorrow"
    ),
    ErrorCode.ZOOM_REJECTED: "Zoom refused the registration",
}


class ExecutionState(StrEnum):
    SUCCESS = "SUCCESS"
    FAIL_CONTINUE = "FAIL_CONTINUE"
    # Not a HubSpot state: answer 429/503 without hs_execution_state so HubSpot retries.
    RETRY = "RETRY"


@dataclass(frozen=True)
class ActionOutcome:
    state: ExecutionState
    error_code: str = ""
    error_message: str = ""
    registrant_id: str = ""
    join_url: str = ""
    http_status: int = 200
    retry_after_seconds: int | None = None

    @classmethod
    def success(cls, *, registrant_id: str, join_url: str) -> ActionOutcome:
        return cls(ExecutionState.SUCCESS, registrant_id=registrant_id, join_url=join_url)

    @classmethod
    def failure(cls, code: ErrorCode, message: str = "") -> ActionOutcome:
        return cls(ExecutionState.FAIL_CONTINUE, error_code=code.value, error_message=message or ERROR_MESSAGES[code])

    @classmethod
    def retry(cls, *, http_status: int, retry_after_seconds: int, message: str) -> ActionOutcome:
        return cls(
            ExecutionState.RETRY,
            error_message=message,
            http_status=http_status,
            retry_after_seconds=retry_after_seconds,
        )

    @property
    def is_final(self) -> bool:
        return self.state != ExecutionState.RETRY

    def output_fields(self) -> dict[str, str]:
        """HubSpot's `outputFields` (strings only). Empty for a retry answer: with an
        hs_execution_state HubSpot would finish the action instead of retrying."""
        if self.state == ExecutionState.SUCCESS:
            return {
                "hs_execution_state": ExecutionState.SUCCESS.value,
                "registrantId": self.registrant_id,
                "joinUrl": self.join_url,
            }
        if self.state == ExecutionState.FAIL_CONTINUE:
            return {
                "hs_execution_state": ExecutionState.FAIL_CONTINUE.value,
                "errorCode": self.error_code,
                "errorMessage": self.error_message,
            }
        return {}
