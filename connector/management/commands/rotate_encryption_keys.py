"""Re-encrypt every EncryptedTextField value with the first FIELD_ENCRYPTION_KEYS key.

Rotation: put the new key first and keep the old one after it, run this command, then
remove the old key. Raw column values are read (Cast to a plain TextField, so nothing is
decrypted by the field) and written back with a plain-text Value (so nothing is encrypted
twice). All or nothing: one undecryptable value aborts the run and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import TextField, Value
from django.db.models.functions import Cast

from connector import crypto
from connector.fields import EncryptedTextField


def encrypted_fields() -> list[tuple[Any, list[str]]]:
    """(model, [field names]) for every concrete model with EncryptedTextFields."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        names = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, EncryptedTextField)
        ]
        if names:
            found.append((model, names))
    return found


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields with the first key of FIELD_ENCRYPTION_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every value decrypts; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        total = 0
        with transaction.atomic():
            for model, names in encrypted_fields():
                label = model._meta.label
                raw = (
                    model._base_manager.annotate(
                        **{f"_raw_{n}": Cast(n, output_field=TextField()) for n in names}
                    )
                    .values_list("pk", *[f"_raw_{n}" for n in names])
                    .order_by("pk")
                )
                counts = dict.fromkeys(names, 0)
                for pk, *values in raw.iterator(chunk_size=500):
                    updates: dict[str, Value] = {}
                    for name, value in zip(names, values, strict=True):
                        if not value:
                            continue
                        try:
                            rotated = crypto.rotate(value)
                        except crypto.DecryptionError as exc:
                            raise CommandError(
                                f"{label}.{name} (pk={pk}) cannot be decrypted with any key in "
                                f"FIELD_ENCRYPTION_KEYS; nothing was changed. Add the key that "
                                f"encrypted it and run again."
                            ) from exc
                        updates[name] = Value(rotated, output_field=TextField())
                        counts[name] += 1
                    if updates and not dry_run:
                        model._base_manager.filter(pk=pk).update(**updates)
                for name, count in counts.items():
                    total += count
                    self.stdout.write(f"{label}.{name}: {count} value(s) re-encrypted")
            verb = "would be re-encrypted (dry run)" if dry_run else "re-encrypted with the first key"
            self.stdout.write(self.style.SUCCESS(f"{total} value(s) {verb}"))
