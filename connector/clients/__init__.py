"""API clients for Zoom and HubSpot on one shared base (see base.py)."""

from .base import BaseClient, api_calls_counted
from .errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    HubSpotErrorCode,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
)
from .hubspot import BatchResult, HubSpotClient, ItemOutcome, Outcome
from .zoom import ZoomClient

__all__ = [
    "ApiError",
    "BadRequest",
    "BaseClient",
    "BatchResult",
    "Conflict",
    "Forbidden",
    "HubSpotClient",
    "HubSpotErrorCode",
    "ItemOutcome",
    "NotFound",
    "Outcome",
    "RateLimited",
    "ServerError",
    "TransportError",
    "Unauthorized",
    "ZoomClient",
    "api_calls_counted",
]
