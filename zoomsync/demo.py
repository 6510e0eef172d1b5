"""`make demo` (`python -m zoomsync.demo`): the whole product against the built-in sandbox.

Migrates its own database (`demo.sqlite3` unless DATABASE_URL says otherwise; `make dev`
keeps its state elsewhere), starts the sandbox with the `demo` scenario on a
free loopback port, connects the portal and both Zoom accounts (as `connect_sandbox` does),
applies a settings document that exercises every rule of the scenario, runs a full sync,
prints the report (counts by kind and by skip reason, API calls per service), runs the sync
once more to show it is idempotent, shows a guest found again by her registration (B5) and
the workflow action registering a contact for a webinar whose form requires a custom question
(B6), stops the sandbox and exits 0.

The demo portal is re-created on every run: the sandbox starts from the scenario each time,
so what our database remembers of an earlier sandbox must not carry over.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

DEMO_SETTINGS: dict[str, Any] = {
    "sync_mode": "all",
    "selected_users": [],
    # R5: Pat's "Partner Summit" is not synced.
    "excluded_host_domains": ["partner.example"],
    # R6: Lena's "Compliance Update" recording is not synced (her recording switch is on).
    "excluded_recording_domains": ["acme-legal.com"],
    # R7: Nina (new, @acme.com) is not created; Olivia (existing contact) is still updated.
    "excluded_contact_domains": ["acme.com"],
    "users": {
        # R9: Hal's recordings sync; Ada's do not (her switch is off: recordings_off).
        "hal.host@acme.com": {"sync_new_webinars_by_default": True, "sync_recordings": True},
        "ada.alt@acme.com": {"sync_new_webinars_by_default": True, "sync_recordings": False},
        "lena.legal@acme-legal.com": {"sync_new_webinars_by_default": True, "sync_recordings": True},
    },
    "webinars": {},
    "event_sinks": ["timeline"],
    # B6: the "Advanced Setup Workshop" form requires Organization and a custom "Team size".
    "registration_fields": {"org": "company", "custom:Team size": "team_size"},
}
WORKSHOP = "81000000006"


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zoomsync.settings")
    os.environ.setdefault("DEBUG", "1")
    # The demo's own database (never the dev stack's or a production one).
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{Path(__file__).resolve().parent.parent / 'demo.sqlite3'}")
    # The sandbox app must be installed before Django starts.
    os.environ["ZOOMSYNC_SANDBOX"] = "1"
    import logging

    import django

    django.setup()
    # The report is the output: routine request logs would drown it.
    logging.disable(logging.INFO)
    logging.getLogger("django.request").setLevel(logging.ERROR)
    logging.getLogger("kombu").setLevel(logging.ERROR)


def _say(text: str = "") -> None:
    print(text, flush=True)


def main() -> int:
    started = time.monotonic()
    _setup()
    from django.core.management import call_command

    from connector.models import Portal, SyncRun
    from connector.services.report import report_format
    from connector.services.sandbox_connect import sandbox_connect
    from connector.services.sync import portal_sync
    from connector.services.sync_settings import sync_settings_import
    from sandbox.server import SandboxServer

    _say("zoomsync demo: migrate, sandbox, connect, sync, report")
    call_command("migrate", interactive=False, verbosity=0)
    server = SandboxServer(port=0, scenario="demo")
    server.start()
    try:
        _say(f"  sandbox (scenario 'demo') on {server.url}")
        for old in Portal.objects.filter(hub_id=server.state()["hubspot"]["portal_id"]):
            old.delete()  # the previous demo's portal: its sandbox is gone
        portal = sandbox_connect(url=server.url)
        accounts = ", ".join(
            f"{a.account_id} (business unit {a.business_unit_id}{', primary' if a.is_primary_business_unit else ''})"
            for a in portal.zoom_accounts.order_by("account_id")
        )
        _say(f"  connected portal {portal.hub_id}; Zoom accounts: {accounts}")
        sync_settings_import(portal=portal, document=DEMO_SETTINGS)
        _say(
            "  settings: excluded host domains partner.example; recording domains acme-legal.com;"
            " contact domains acme.com; recordings on for Hal and Lena"
        )
        _say()
        progress = _progress_printer() if sys.stderr.isatty() else None
        report = portal_sync(portal=portal, run=SyncRun.objects.create(portal=portal, trigger="demo"), progress=progress)
        if progress is not None:
            sys.stderr.write("\r" + " " * 70 + "\r")
        _say(report_format(report))
        calls = server.calls()
        _say()
        _say("  Sandbox saw: " + ", ".join(f"{s} {n}" for s, n in calls["total"].items())
             + " requests; throttled (429): " + ", ".join(f"{s} {n}" for s, n in calls["throttled"].items()))
        _say()
        server.calls_clear()
        again = portal_sync(portal=portal, run=SyncRun.objects.create(portal=portal, trigger="demo"))
        writes = sum(n for k, n in server.calls()["hubspot"].items() if not k.startswith("GET") and "batch/read" not in k
                     and "oauth" not in k)
        _say(
            f"Second sync (nothing changed in Zoom): contacts created {again['people']['contacts_created']},"
            f" updated {again['people']['contacts_updated']}, events {sum(again['events'].values())},"
            f" HubSpot writes {writes}"
        )
        _say()
        _guests_show(portal=portal, report=again)
        _say()
        _registration_show(portal=portal, server=server)
        if report["errors"] or again["errors"]:
            _say("The demo sync reported errors (above).")
        _say()
        from zoomsync.demo_live import demo_live

        demo_live(server=server, say=_say)
    finally:
        server.stop()
    _say(f"Done in {time.monotonic() - started:.1f} s.")
    return 0


def _guests_show(*, portal: Any, report: dict[str, Any]) -> None:
    """B5: the guest Zoom reported without an email, counted for her registration."""
    from connector.models import PersonStats

    _say(f"Guests found again by their registration: {report['people']['guests_found']}"
         f" (guests nobody can identify: {report['people']['skipped']['no_email']})")
    maria = PersonStats.objects.filter(portal=portal, email="maria.garcia@umbrella.example").first()
    if maria is not None:
        _say(f"  maria.garcia@umbrella.example joined 'Launch: Product Tour' as a guest (no email):"
             f" counted as her attendance (webinars attended {maria.attended_count},"
             f" average {maria.average_attendance_percent} %)")


def _registration_show(*, portal: Any, server: Any) -> None:
    """B6: the workflow action registers Jane for a webinar whose form requires more than
    the three fields, answering from her mapped contact properties."""
    from workflows.services.registration import webinar_registration_add

    jane = next(c for c in server.state()["hubspot"]["contacts"] if c["id"] == "501")
    props = jane["properties"]
    body = {"object": {"objectId": 501, "objectType": "CONTACT",
                       "properties": {k: props.get(k) for k in ("email", "firstname", "lastname")}},
            "inputFields": {"webinarId": WORKSHOP}}
    outcome = webinar_registration_add(
        portal=portal, callback_id="demo-registration-questions", email=props.get("email"),
        first_name=props.get("firstname"), last_name=props.get("lastname"), webinar_id_raw=WORKSHOP,
        contact_object_id="501", request_body=body,
    )
    _say(f"Workflow action: {props.get('email')} → 'Advanced Setup Workshop' (requires Organization"
         f" and 'Team size'; mapped to company = {props.get('company')!r}, team_size = {props.get('team_size')!r})")
    if outcome.error_code:
        _say(f"  {outcome.state.value} {outcome.error_code}: {outcome.error_message}")
        return
    webinar = next(w for a in server.state()["zoom"]["accounts"] for w in a["webinars"] if str(w["id"]) == WORKSHOP)
    registrant = next(r for r in webinar["registrants"] if r["id"] == outcome.registrant_id)
    answers = ", ".join([f"{k} = {v!r}" for k, v in registrant["answers"].items()]
                        + [f"{q['title']} = {q['value']!r}" for q in registrant["custom_questions"]])
    _say(f"  {outcome.state.value}: registrant {outcome.registrant_id}, answers sent: {answers}")


def _progress_printer():
    def show(phase: str, done: int, total: int) -> None:
        sys.stderr.write(f"\r  {phase:<24} {done}/{total}          ")
        sys.stderr.flush()

    return show


if __name__ == "__main__":
    sys.exit(main())
