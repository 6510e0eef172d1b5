"""HubSpot's error envelope, as the fake API answers it.

Shape (research/hubspot-api.md §2, spec `Error`): {"status": "error", "message", "correlationId",
"category", ...}. Per-item errors inside 207 batch answers use the spec's `StandardError`, which
requires `category, context, errors, links, message, status`.
"""

from __future__ import annotations

import uuid
from typing import Any


def correlation_id() -> str:
    return str(uuid.uuid4())


class HubSpotError(Exception):
    """Raised by the fake's operations; the view turns it into an HTTP answer."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        category: str = "VALIDATION_ERROR",
        body: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category
        self.extra = extra
        # A complete body overrides the envelope (OAuth errors have their own shape).
        self.body = body

    def to_body(self) -> dict[str, Any]:
        if self.body is not None:
            return self.body
        body: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": correlation_id(),
            "category": self.category,
        }
        body.update(self.extra)
        return body


def item_error(
    category: str, message: str, *, context: dict[str, list[str]] | None = None, **extra: Any
) -> dict[str, Any]:
    """One entry of a batch answer's `errors` (spec `StandardError`)."""
    err: dict[str, Any] = {
        "status": "error",
        "category": category,
        "message": message,
        "context": context or {},
        "errors": [],
        "links": {},
    }
    err.update(extra)
    return err


def not_found(message: str = "resource not found") -> HubSpotError:
    return HubSpotError(404, message, category="OBJECT_NOT_FOUND")


def batch_limit_check(inputs: list[Any], limit: int = 100) -> None:
    """HubSpot rejects CRM batches of more than 100 inputs (DOC25, DOC26; no maxItems in spec)."""
    if len(inputs) > limit:
        raise HubSpotError(
            400,
            f"Batch input limit exceeded: {len(inputs)} inputs were sent, the limit is {limit}.",
            category="VALIDATION_ERROR",
        )
