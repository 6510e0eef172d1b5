"""`manage.py sync [--portal ID] [--full] [--json] [--pull-only]`: an in-process sync.

--json prints the report (INTERFACES.md §6) to stdout; otherwise the report is printed for
people, with a progress bar on stderr when it is a terminal.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connector.models import ConnectionStatus, Portal, SyncRun
from connector.services.report import report_format
from connector.services.sync import SyncAlreadyRunning, portal_sync


class ProgressBar:
    """One line on a terminal, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last = 0.0
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase == self.phase and now - self.last < 0.1 and done != total:
            return
        self.phase, self.last = phase, now
        width = 30
        filled = int(width * done / total) if total else 0
        self.stream.write(f"\r{phase:<22} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}   ")
        self.stream.flush()

    def close(self) -> None:
        if self.phase:
            self.stream.write("\r" + " " * 70 + "\r")
            self.stream.flush()


class Command(BaseCommand):
    help = "Sync Zoom into HubSpot now, in this process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--portal", type=int, help="HubSpot portal (hub) id; default: every connected portal")
        parser.add_argument("--full", action="store_true", help="pull everything again, finished sessions too")
        parser.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
        parser.add_argument("--pull-only", action="store_true", help="Zoom → database only; nothing sent to HubSpot")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["portal"] is not None:
            portal = Portal.objects.filter(hub_id=options["portal"]).first()
            if portal is None:
                raise CommandError(f"no portal {options['portal']} (connect one first: manage.py connect_sandbox)")
            portals = [portal]
        else:
            portals = list(Portal.objects.filter(status=ConnectionStatus.CONNECTED).order_by("hub_id"))
            if not portals:
                raise CommandError("no connected portal (connect one first: manage.py connect_sandbox)")
        reports = []
        failed = False
        for portal in portals:
            bar = ProgressBar(sys.stderr) if sys.stderr.isatty() and not options["json"] else None
            run = SyncRun.objects.create(portal=portal, trigger="cli")
            try:
                report = portal_sync(
                    portal=portal, run=run, full=options["full"], pull_only=options["pull_only"], progress=bar
                )
            except SyncAlreadyRunning as exc:
                raise CommandError(str(exc)) from exc
            finally:
                if bar is not None:
                    bar.close()
            failed = failed or bool(report["errors"])
            reports.append(report)
            if not options["json"]:
                self.stdout.write(report_format(report))
        if options["json"]:
            self.stdout.write(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))
        if failed:
            self.stderr.write("The sync finished with errors (see the report).")
