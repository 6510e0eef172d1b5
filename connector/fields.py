"""EncryptedTextField: stored as Fernet ciphertext, read back as plaintext."""

from __future__ import annotations

from typing import Any

from django.db import models

from connector import crypto


class EncryptedTextField(models.TextField):
    """Text encrypted at rest. An empty string stays empty (nothing to hide).

    Not queryable by value: lookups compare ciphertext, which changes on every write.
    """

    description = "Text encrypted with MultiFernet"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))
