"""`manage.py sync_settings export --portal ID` / `import --portal ID FILE` (INTERFACES.md §4).

A bad document is refused with a message naming the key at fault, exit status 1, and
nothing changed (the import validates before it writes).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from connector.models import Portal
from connector.services.sync_settings import sync_settings_export, sync_settings_import


def portal_get(value: int) -> Portal:
    """A portal by its HubSpot hub id (falls back to our database id)."""
    portal = Portal.objects.filter(hub_id=value).first() or Portal.objects.filter(pk=value).first()
    if portal is None:
        raise CommandError(f"no portal {value} (connect one first: manage.py connect_sandbox)")
    return portal


class Command(BaseCommand):
    help = "Export or import a portal's sync settings document (JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="print the settings document to stdout")
        export.add_argument("--portal", type=int, required=True, help="HubSpot portal (hub) id")
        imp = sub.add_parser("import", help="replace the settings with a document ('-' = stdin)")
        imp.add_argument("--portal", type=int, required=True, help="HubSpot portal (hub) id")
        imp.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        portal = portal_get(options["portal"])
        if options["action"] == "export":
            self.stdout.write(json.dumps(sync_settings_export(portal=portal), indent=2, sort_keys=True))
            return
        path = options["file"]
        try:
            text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path} is not valid JSON: {exc}") from exc
        try:
            sync_settings_import(portal=portal, document=document)
        except ValidationError as exc:
            raise CommandError(f"{path}: {'; '.join(exc.messages)} (nothing was changed)") from exc
        self.stdout.write(f"Imported sync settings for portal {portal.hub_id} from {path}")
