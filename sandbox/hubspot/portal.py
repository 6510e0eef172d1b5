"""Account-level reads: account details, settings users, business units (brands)."""

from __future__ import annotations

from typing import Any

from sandbox.hubspot.contacts import Answer
from sandbox.hubspot.errors import HubSpotError
from sandbox.hubspot.state import HubSpotState


def account_details(state: HubSpotState) -> Answer:
    return 200, {
        "portalId": state.portal_id, "accountType": "STANDARD", "timeZone": state.time_zone,
        "companyCurrency": "USD", "additionalCurrencies": [], "utcOffset": "-04:00",
        "utcOffsetMilliseconds": -14400000, "uiDomain": "app.hubspot.com",
        "dataHostingLocation": "na1",
    }


def _user_out(user: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in user.items() if v not in ("", None)}
    out.setdefault("roleIds", [])
    out.setdefault("superAdmin", False)
    return out


def users_list(state: HubSpotState, query: dict[str, Any]) -> Answer:
    try:
        limit = max(1, min(int(query.get("limit") or 100), 100))
    except ValueError:
        raise HubSpotError(400, "limit must be an integer") from None
    after = str(query.get("after") or "0")
    offset = int(after) if after.isdigit() else 0
    with state.lock:
        page = state.users[offset:offset + limit]
        body: dict[str, Any] = {"results": [_user_out(u) for u in page]}
        if offset + limit < len(state.users):
            body["paging"] = {"next": {"after": str(offset + limit)}}
    return 200, body


def user_get(state: HubSpotState, user_id: str, query: dict[str, Any]) -> Answer:
    by_email = str(query.get("idProperty", "USER_ID")).upper() == "EMAIL"
    with state.lock:
        for user in state.users:
            if (by_email and user["email"].lower() == user_id.lower()) or (
                not by_email and user["id"] == user_id
            ):
                return 200, _user_out(user)
    raise HubSpotError(404, f"User {user_id} not found", category="OBJECT_NOT_FOUND")


def business_units_for_user(state: HubSpotState, user_id: str) -> Answer:
    """All business units of the portal (the primary one first) for a known user.

    The API has no "primary" field (research §6.5); the sandbox lists the scenario's primary
    unit first and keeps the flag only in /_sandbox/state.
    """
    with state.lock:
        if not any(u["id"] == user_id for u in state.users):
            raise HubSpotError(404, f"User {user_id} not found", category="OBJECT_NOT_FOUND")
        units = sorted(state.business_units, key=lambda b: not b["primary"])
        return 200, {"results": [{"id": b["id"], "name": b["name"]} for b in units]}
