"""OAuth v1: token grant and refresh, access- and refresh-token info (research §1.2–1.3).

Choices: refresh tokens are NOT rotated (HubSpot does not document rotation; the same
refresh token is returned on every refresh, and clients that store whatever comes back work
either way). Authorization codes are single-use. `client_id`/`client_secret` are checked only
when the scenario sets them.
"""

from __future__ import annotations

from typing import Any

from sandbox.hubspot.contacts import Answer
from sandbox.hubspot.errors import HubSpotError, correlation_id
from sandbox.hubspot.state import HubSpotState


def _oauth_error(status_code: str, message: str, error: str = "invalid_request") -> HubSpotError:
    # HubSpot's OAuth errors carry `status` as the code; `category` is added so the body also
    # fits the spec's `Error` schema.
    return HubSpotError(400, message, body={
        "status": status_code, "message": message, "error": error,
        "error_description": message, "correlationId": correlation_id(),
        "category": "VALIDATION_ERROR",
    })


def token_grant(state: HubSpotState, form: dict[str, str]) -> Answer:
    with state.lock:
        if state.client_id is not None and form.get("client_id") != state.client_id:
            raise _oauth_error("BAD_CLIENT_ID", "missing or unknown client id", "invalid_client")
        if state.client_secret is not None and form.get("client_secret") != state.client_secret:
            raise _oauth_error("BAD_CLIENT_SECRET", "missing or invalid client secret",
                               "invalid_client")
        grant = form.get("grant_type", "")
        if grant == "authorization_code":
            code = form.get("code", "")
            if not code or code in state.used_codes:
                raise _oauth_error("BAD_AUTH_CODE", "missing or unknown auth code",
                                   "invalid_grant")
            if not form.get("redirect_uri"):
                raise _oauth_error("BAD_REDIRECT_URI", "missing redirect_uri")
            state.used_codes.add(code)
            return 200, state.issue_token_pair()
        if grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            if refresh not in state.refresh_tokens:
                raise _oauth_error("BAD_REFRESH_TOKEN",
                                   "refresh token is invalid, expired or revoked",
                                   "invalid_grant")
            return 200, state.issue_token_pair(refresh_token=refresh)
        raise _oauth_error("BAD_GRANT_TYPE", f"unsupported grant_type {grant!r}",
                           "unsupported_grant_type")


def access_token_info(state: HubSpotState, token: str) -> Answer:
    with state.lock:
        info = state.token_info(token)
        if info is None:
            raise HubSpotError(404, "Token not found", category="OBJECT_NOT_FOUND")
        remaining = max(0, int(info.expires_at - state.clock()))
        user = state.users[0]["email"] if state.users else f"admin@{state.hub_domain}"
        user_id = state.installer_user_id()
        body: dict[str, Any] = {
            "token": token, "user": user, "hub_domain": state.hub_domain,
            "scopes": list(info.scopes), "hub_id": state.portal_id, "app_id": state.app_id,
            "expires_in": remaining, "user_id": user_id, "token_type": "access",
            "is_private_distribution": False,
            "signed_access_token": {
                "expiresAt": int(info.expires_at * 1000), "scopes": "-",
                "hubId": state.portal_id, "userId": user_id, "appId": state.app_id,
                "hublet": "na1", "isUserLevel": False, "installingUserId": user_id,
                "isPrivateDistribution": False, "isServiceAccount": False,
                "appInstallId": f"{state.app_id}-{state.portal_id}", "audience": "-",
                "newSignature": "-", "signature": "-", "scopeToScopeGroupPks": "-",
                "trialScopes": "", "trialScopeToScopeGroupPks": "",
            },
        }
        return 200, body


def refresh_token_info(state: HubSpotState, token: str) -> Answer:
    with state.lock:
        scopes = state.refresh_tokens.get(token)
        if scopes is None:
            raise HubSpotError(404, "Token not found", category="OBJECT_NOT_FOUND")
        user = state.users[0]["email"] if state.users else f"admin@{state.hub_domain}"
        return 200, {
            "token": token, "user": user, "hub_domain": state.hub_domain,
            "scopes": list(scopes), "hub_id": state.portal_id,
            "client_id": state.client_id or "sandbox-client-id",
            "user_id": state.installer_user_id(), "token_type": "refresh",
        }


def refresh_token_delete(state: HubSpotState, token: str) -> Answer:
    with state.lock:
        state.refresh_tokens.pop(token, None)
    return 204, None
