"""`manage.py connect_sandbox --url http://127.0.0.1:8899`: the portal and every Zoom account
of the sandbox's loaded scenario (INTERFACES.md §2)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connector.services.sandbox_connect import SandboxConnectError, sandbox_connect


class Command(BaseCommand):
    help = "Connect a portal and every Zoom account of a running sandbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8899", help="the sandbox's base URL")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            portal = sandbox_connect(url=options["url"])
        except SandboxConnectError as exc:
            raise CommandError(str(exc)) from exc
        accounts = ", ".join(
            f"{a.account_id} (business unit {a.business_unit_id}{', primary' if a.is_primary_business_unit else ''})"
            for a in portal.zoom_accounts.filter(status="connected").order_by("account_id")
        )
        self.stdout.write(f"Connected portal {portal.hub_id} at {portal.api_base}; Zoom accounts: {accounts or 'none'}")
