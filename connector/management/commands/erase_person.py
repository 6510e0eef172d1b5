"""`manage.py erase_person --portal HUB_ID EMAIL [--contact-id ID]`: a privacy request made
by email (B3). Erases the person from every table of the portal; only a keyed hash of the
email stays, so they are never created in HubSpot again (R14)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email

from connector.models import Portal
from connector.services.erasure import person_erase


class Command(BaseCommand):
    help = "Erase a person (by email) from a portal's data, as asked by a privacy request."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--portal", type=int, required=True, help="HubSpot portal (hub) id")
        parser.add_argument("email", nargs="?", default="", help="the person's email address")
        parser.add_argument("--contact-id", default="", help="the person's HubSpot contact id")

    def handle(self, *args: Any, **options: Any) -> None:
        portal = Portal.objects.filter(hub_id=options["portal"]).first()
        if portal is None:
            raise CommandError(f"No portal with hub id {options['portal']}.")
        email = str(options["email"] or "").strip()
        contact_id = str(options["contact_id"] or "").strip()
        if not email and not contact_id:
            raise CommandError("Give the person's email address (or --contact-id).")
        if email:
            try:
                validate_email(email)
            except ValidationError as exc:
                raise CommandError(f"{email!r} is not an email address.") from exc
        result = person_erase(portal=portal, email=email or None, contact_id=contact_id or None)
        if not result.counts or set(result.counts) == {"erased person"}:
            self.stdout.write("Nothing was stored about this person; they will never be created.")
        for table, rows in sorted(result.counts.items()):
            self.stdout.write(f"{table}: {rows}")
        self.stdout.write(self.style.SUCCESS("Erased."))
