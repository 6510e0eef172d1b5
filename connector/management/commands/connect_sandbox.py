"""`manage.py connect_sandbox --url http://127.0.0.1:8899`: the portal and every Zoom account
of the sandbox's loaded scenario (INTERFACES.md §2). A portal synced with another sandbox
world (the sandbox restarted without its state file, or loaded another scenario) starts its
sync state afresh, or, with --refuse-new-world, is left alone with a clear error."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connector.services.sandbox_connect import SandboxConnectError, sandbox_connection_make


class Command(BaseCommand):
    help = "Connect a portal and every Zoom account of a running sandbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8899",
                            help="the sandbox's base URL (for one portal of a multi-portal"
                                 " sandbox: http://HOST:PORT/p/PORTAL_ID)")
        parser.add_argument("--refuse-new-world", action="store_true",
                            help="refuse (instead of starting the portal's sync state afresh)"
                                 " when the sandbox serves another world than the portal knew")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            connection = sandbox_connection_make(
                url=options["url"], on_new_world="refuse" if options["refuse_new_world"] else "reset")
        except SandboxConnectError as exc:
            raise CommandError(str(exc)) from exc
        portal = connection.portal
        if connection.reset is not None:
            self.stdout.write(
                f"The sandbox serves a new world: portal {portal.hub_id}'s sync state started afresh"
                f" (removed {connection.reset.describe()}; settings, memberships and runs kept).")
        accounts = ", ".join(
            f"{a.account_id} (business unit {a.business_unit_id}{', primary' if a.is_primary_business_unit else ''})"
            for a in portal.zoom_accounts.filter(status="connected").order_by("account_id")
        )
        self.stdout.write(f"Connected portal {portal.hub_id} at {portal.api_base}; Zoom accounts: {accounts or 'none'}")
