"""`manage.py dev_setup`: what `make dev` runs before the web app starts.

Migrates the database, waits for the sandbox, connects every portal it serves (and their
Zoom accounts; a portal that knew another sandbox world starts its sync state afresh, see
connect_sandbox), makes sure an admin user exists with membership of those portals, and
prints the URL and the login. Safe to run again and again: nothing is created twice and
nothing the admin set up (settings, runs, audit log) is touched.

The admin's password is generated once into `.dev/admin-password` (git-ignored) unless
--password gives one; with DEBUG off, --password is required.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from connector.models import PortalMembership
from connector.services.sandbox_connect import SandboxConnectError, sandbox_connection_make


def _password_from_file(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


class Command(BaseCommand):
    help = "Development stack set-up: migrate, connect the sandbox's portals, admin user with membership."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sandbox-url", default="http://127.0.0.1:8899")
        parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the sandbox")
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="", help="default: generated once into .dev/admin-password")
        parser.add_argument("--password-file", default=str(Path(settings.BASE_DIR) / ".dev" / "admin-password"))
        parser.add_argument("--app-url", default="", help="the URL printed (default: ZOOMSYNC_PUBLIC_URL)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["password"]:
            raise CommandError("dev_setup is for development (DEBUG=1); with DEBUG off give --password")
        call_command("migrate", interactive=False, verbosity=0)
        base = options["sandbox_url"].rstrip("/")
        state = self._wait(base, options["wait"])

        portal_ids = state.get("portals") or [state["hubspot"]["portal_id"]]
        primary = state["hubspot"]["portal_id"]
        connections = []
        for portal_id in portal_ids:
            url = base if portal_id == primary else f"{base}/p/{portal_id}"
            try:
                connections.append(sandbox_connection_make(url=url))
            except SandboxConnectError as exc:
                raise CommandError(f"portal {portal_id}: {exc}") from exc

        password = options["password"] or _password_from_file(Path(options["password_file"]))
        user_model = get_user_model()
        user = user_model.objects.filter(username=options["username"]).first()
        if user is None:
            user = user_model.objects.create_superuser(options["username"], email="", password=password)
        elif options["password"] or not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        for connection in connections:
            PortalMembership.objects.get_or_create(user=user, portal=connection.portal)

        app_url = (options["app_url"] or settings.ZOOMSYNC_PUBLIC_URL).rstrip("/")
        self.stdout.write("zoomsync dev stack ready")
        for connection in connections:
            portal = connection.portal
            accounts = ", ".join(connection.accounts) or "none"
            self.stdout.write(f"  portal {portal.hub_id} (sandbox {portal.api_base}); Zoom accounts: {accounts}")
            if connection.reset is not None:
                self.stdout.write(f"    the sandbox serves a new world: sync state started afresh"
                                  f" (removed {connection.reset.describe()})")
        self.stdout.write(f"  open {app_url}/ and sign in as {user.get_username()} / {password}")
        self.stdout.flush()

    def _wait(self, base: str, seconds: float) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            try:
                response = requests.get(f"{base}/_sandbox/state", params={"view": "accounts"}, timeout=5)
                if response.status_code == 200:
                    return response.json()
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise CommandError(f"no sandbox answered at {base} within {seconds:.0f} s "
                                   "(start it: python manage.py sandbox serve)")
            time.sleep(0.5)
