"""Helpers for the issue-5 tests over HTTP to the sandbox (recordings, recurring webinars,
cancellations): scenario builders with times relative to now, and readers of the HubSpot
state. A helper module, not a conftest: no tests here."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from connector.models import Portal, SyncRun
from connector.services.sync import portal_sync
from connector.services.sync_settings import sync_settings_import

NOW = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
# Sessions that ended a few hours ago: recordings are still looked for (RECORDING_WAIT).
START = NOW - dt.timedelta(hours=4)

TEMPLATE_RECORDING = "Zoom: Recording available"
TEMPLATE_ATTENDANCE = "Zoom: Webinar attendance"
TEMPLATE_REGISTRATION = "Zoom: Webinar registration"


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def at(start: dt.datetime, minutes: float) -> str:
    return iso(start + dt.timedelta(minutes=minutes))


def ms(value: dt.datetime) -> str:
    return str(int(value.timestamp() * 1000))


def base_scenario(*, users: list[dict[str, Any]] | None = None, webinars: list[dict[str, Any]]) -> dict[str, Any]:
    return copy.deepcopy(
        {
            "hubspot": {
                "portal_id": 62515,
                "users": [{"id": "9001", "email": "marketer@acme.com"}],
                "business_units": [{"id": "0", "name": "Acme", "primary": True}],
                "contacts": [],
            },
            "zoom": {
                "accounts": [
                    {
                        "account_id": "zacc_main",
                        "business_unit_id": "0",
                        "users": users
                        or [{"id": "zu_1", "email": "host@acme.com", "first_name": "Hal", "last_name": "Host"}],
                        "webinars": webinars,
                    }
                ]
            },
        }
    )


def registrant(rid: str, email: str, *, status: str = "approved", created: dt.datetime, webinar_id: int) -> dict[str, Any]:
    first = email.split("@")[0].title()
    return {
        "id": rid,
        "email": email,
        "first_name": first,
        "last_name": "Tester",
        "status": status,
        "create_time": iso(created),
        "join_url": f"https://zoom.us/w/{webinar_id}?tk={rid}",
    }


def participant(pid: str, email: str, start: dt.datetime, join_min: float, leave_min: float, rid: str = "") -> dict[str, Any]:
    row = {
        "id": pid,
        "name": email.split("@")[0].title(),
        "user_email": email,
        "join_time": at(start, join_min),
        "leave_time": at(start, leave_min),
    }
    if rid:
        row["registrant_id"] = rid
    return row


def webinar_of(scenario: dict[str, Any], webinar_id: int) -> dict[str, Any]:
    return next(w for w in scenario["zoom"]["accounts"][0]["webinars"] if w["id"] == webinar_id)


def connect(sandbox: Any, scenario: dict[str, Any], settings: dict[str, Any] | None = None) -> Portal:
    from connector.services.sandbox_connect import sandbox_connect

    sandbox.load(scenario)
    portal = sandbox_connect(url=sandbox.url)
    if settings is not None:
        sync_settings_import(portal=portal, document=settings)
    return portal


def sync(portal: Portal) -> dict[str, Any]:
    run = SyncRun.objects.create(portal=portal, trigger="cli")
    return portal_sync(portal=portal, run=run)


def contact_ids(state: dict[str, Any]) -> dict[str, str]:
    """{email: contact id} of HubSpot's live contacts."""
    return {
        c["properties"]["email"]: c["id"]
        for c in state["hubspot"]["contacts"]
        if not c.get("archived") and c["properties"].get("email")
    }


def contact_props(state: dict[str, Any], email: str) -> dict[str, Any]:
    return next(c["properties"] for c in state["hubspot"]["contacts"] if c["properties"].get("email") == email)


def events_of(state: dict[str, Any], template: str) -> list[dict[str, Any]]:
    return [e for e in state["hubspot"]["timeline_events"] if e["template_name"] == template]


def events_by_email(state: dict[str, Any], template: str) -> dict[str, list[dict[str, Any]]]:
    emails = {cid: email for email, cid in contact_ids(state).items()}
    out: dict[str, list[dict[str, Any]]] = {}
    for e in events_of(state, template):
        out.setdefault(emails.get(str(e["objectId"]), "?"), []).append(e)
    return out
