"""Authentication of fake HubSpot requests: OAuth bearer tokens and the developer `hapikey`.

The sandbox core's middleware may answer 401s first; these checks make the HubSpot views
correct on their own too (the same bodies either way).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import HttpRequest

from sandbox.hubspot.errors import HubSpotError
from sandbox.hubspot.state import HubSpotState

NO_CREDENTIALS = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)

# auth modes a route declares
OAUTH = "oauth"        # Authorization: Bearer <access token>
HAPIKEY = "hapikey"    # ?hapikey=<developer API key> (timeline templates, action definitions)
NONE = "none"          # the OAuth endpoints themselves


def bearer_token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def bearer_error(state: HubSpotState, token: str) -> HubSpotError | None:
    """The 401 HubSpot gives for a missing, unknown or expired access token (or None)."""
    if not token:
        return HubSpotError(401, NO_CREDENTIALS, category="INVALID_AUTHENTICATION")
    valid, expired_for = state.token_valid(token)
    if valid:
        return None
    if expired_for < 0:
        return HubSpotError(401, NO_CREDENTIALS, category="INVALID_AUTHENTICATION")
    info = state.token_info(token)
    expire_time = datetime.fromtimestamp(info.expires_at, tz=UTC) if info else None
    return HubSpotError(
        401,
        f"The OAuth token used to make this call expired {expired_for} second(s) ago.",
        category="EXPIRED_AUTHENTICATION",
        context={"expire time": [expire_time.strftime("%a %b %d %H:%M:%S UTC %Y")]
                 if expire_time else []},
    )


def hapikey_error(state: HubSpotState, request: HttpRequest) -> HubSpotError | None:
    key = request.GET.get("hapikey", "")
    if not key:
        return HubSpotError(401, "Authentication credentials not found. This endpoint needs "
                                 "the developer API key in the `hapikey` query parameter.",
                            category="INVALID_AUTHENTICATION")
    if state.developer_api_key is not None and key != state.developer_api_key:
        return HubSpotError(401, "The API key provided is invalid. View or manage your API key "
                                 "here: https://app.hubspot.com/l/api-key/",
                            category="INVALID_AUTHENTICATION")
    return None


def auth_error(state: HubSpotState, request: HttpRequest, mode: str) -> HubSpotError | None:
    if mode == OAUTH:
        return bearer_error(state, bearer_token(request))
    if mode == HAPIKEY:
        return hapikey_error(state, request)
    return None
