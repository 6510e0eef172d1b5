"""Builders for push tests: a portal pointed at the sandbox's HubSpot, and Zoom data written
straight into our database (what E1's pull would have stored), so each rule test sets up
exactly the people it is about. No tests here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from connector.models import (
    ParticipantRow,
    Portal,
    PortalSyncSettings,
    Registrant,
    Session,
    SyncRun,
    Webinar,
    ZoomAccount,
)
from connector.selectors import sync_rules_get
from connector.services.compute import person_stats_compute
from connector.services.push import portal_push
from connector.services.report import SyncReport

T0 = dt.datetime(2026, 5, 4, 15, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def sandbox_portal(sandbox: Any, *, hub: dict[str, Any] | None = None, **settings: Any) -> Portal:
    """Load a HubSpot-only scenario and connect a portal (with settings) to it."""
    scenario = {"hubspot": {"portal_id": 62515, **(hub or {})}, "zoom": {"accounts": []}}
    sandbox.load(scenario)
    portal = Portal.objects.create(
        hub_id=62515,
        name="Acme",
        api_base=sandbox.hubspot_api_base,
        access_token=sandbox.token("hubspot"),
        token_expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    PortalSyncSettings.objects.create(portal=portal, **settings)
    ZoomAccount.objects.create(portal=portal, account_id="zacc_main")
    return portal


@dataclass
class WebinarBuilder:
    webinar: Webinar
    sessions: list[Session] = field(default_factory=list)
    _n: int = 0

    def register(
        self, email: str, *, first: str = "", last: str = "", status: str = "approved", minutes: float = -1440
    ) -> Registrant:
        self._n += 1
        local = email.split("@")[0]
        return Registrant.objects.create(
            webinar=self.webinar,
            registrant_id=f"r_{self.webinar.webinar_id}_{self._n}",
            email=email.strip().lower(),
            first_name=first or local.title(),
            last_name=last or "Tester",
            status=status,
            create_time=at(minutes),
            join_url=f"https://zoom.us/w/{self.webinar.webinar_id}?tk=r{self._n}",
        )

    def session(self, *, start: float = 0, end: float | None = 60, uuid: str = "") -> Session:
        session = Session.objects.create(
            webinar=self.webinar,
            uuid=uuid or f"uuid-{self.webinar.webinar_id}-{len(self.sessions) + 1}==",
            start_time=at(start),
            end_time=at(end) if end is not None else None,
            scheduled_duration_minutes=60,
            participants_complete=True,
        )
        self.sessions.append(session)
        return session

    def attend(self, email: str, join: float, leave: float, *, session: Session | None = None, name: str = "") -> None:
        session = session or self.sessions[0]
        n = ParticipantRow.objects.filter(session=session).count() + 1
        ParticipantRow.objects.create(
            session=session,
            row_key=f"p_{n}",
            email=email.strip().lower(),
            name=name or email.split("@")[0],
            join_time=at(join),
            leave_time=at(leave),
        )


def webinar_make(portal: Portal, *, webinar_id: str = "81000000001", topic: str = "Launch") -> WebinarBuilder:
    account = portal.zoom_accounts.first()
    webinar = Webinar.objects.create(
        account=account,
        webinar_id=webinar_id,
        host_email="host@acme.com",
        topic=topic,
        webinar_type=5,
        start_time=T0,
        duration_minutes=60,
        join_url=f"https://zoom.us/j/{webinar_id}",
    )
    return WebinarBuilder(webinar=webinar)


def push_run(portal: Portal, **kwargs: Any) -> SyncReport:
    """Compute PersonStats (E1's compute) and push, as portal_sync does after a pull."""
    run = SyncRun.objects.create(portal=portal, trigger="test")
    report = SyncReport(portal=portal, run=run)
    person_stats_compute(portal=portal, report=report)
    portal_push(portal=portal, run=run, report=report, rules=sync_rules_get(portal=portal), **kwargs)
    report.finish()
    return report


def contacts_by_email(state: dict[str, Any], *, archived: bool = False) -> dict[str, dict[str, Any]]:
    return {
        c["properties"]["email"].lower(): c
        for c in state["hubspot"]["contacts"]
        if c.get("archived", False) == archived and c["properties"].get("email")
    }


def hubspot_writes(calls: dict[str, Any]) -> dict[str, int]:
    """The HubSpot calls that change something (batch reads are POSTs but read)."""
    return {
        key: n
        for key, n in calls["hubspot"].items()
        if not key.startswith("GET") and "batch/read" not in key and "/search" not in key and n
    }
