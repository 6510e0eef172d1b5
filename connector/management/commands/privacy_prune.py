"""`manage.py privacy_prune [--days N]`: retention pruning now (also run daily by beat),
and erasure of portals uninstalled longer ago than the grace period (docs/privacy.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from connector.services.erasure import portals_erase_due
from connector.services.retention import retention_prune


class Command(BaseCommand):
    help = "Prune personal data older than the retention period; erase long-uninstalled portals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="override ZOOMSYNC_RETENTION_DAYS")

    def handle(self, *args: Any, **options: Any) -> None:
        result = retention_prune(days=options["days"])
        for table, rows in sorted(result.counts.items()):
            self.stdout.write(f"{table}: {rows}")
        self.stdout.write(f"portals erased: {portals_erase_due()}")
