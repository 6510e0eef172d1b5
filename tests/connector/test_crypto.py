"""Secrets at rest: EncryptedTextField round-trip, ciphertext in the table, key rotation
(`manage.py rotate_encryption_keys`), and a wrong key raising instead of leaking ciphertext."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from connector import crypto
from connector.models import Portal, ZoomAccount

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def old_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    return settings


@pytest.mark.django_db
def test_encrypted_field_round_trip(old_key):
    portal = Portal.objects.create(hub_id=1, access_token="plain-access", refresh_token="plain-refresh")
    fresh = Portal.objects.get(pk=portal.pk)
    assert fresh.access_token == "plain-access"
    assert fresh.refresh_token == "plain-refresh"


@pytest.mark.django_db
def test_stored_value_is_ciphertext_not_plaintext(old_key):
    portal = Portal.objects.create(hub_id=1, access_token="plain-access")
    raw = _raw("connector_portal", "access_token", portal.pk)
    assert raw != "plain-access"
    assert "plain-access" not in raw
    assert Fernet(OLD_KEY.encode()).decrypt(raw.encode()).decode() == "plain-access"


@pytest.mark.django_db
def test_empty_value_stays_empty(old_key):
    portal = Portal.objects.create(hub_id=1, access_token="")
    assert _raw("connector_portal", "access_token", portal.pk) == ""
    assert Portal.objects.get(pk=portal.pk).access_token == ""


@pytest.mark.django_db
def test_wrong_key_raises_clear_error_never_returns_ciphertext(old_key, settings):
    portal = Portal.objects.create(hub_id=1, access_token="plain-access")
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # the key that encrypted it is gone
    with pytest.raises(crypto.DecryptionError, match="FIELD_ENCRYPTION_KEYS"):
        Portal.objects.get(pk=portal.pk)


def test_decrypt_of_garbage_raises(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("not-a-fernet-token")


@pytest.mark.django_db
def test_rotation_new_key_first_then_old_key_removed_still_decrypts(old_key, settings):
    portal = Portal.objects.create(hub_id=1, access_token="pa", refresh_token="pr")
    zoom = ZoomAccount.objects.create(portal=portal, account_id="z", client_secret="zs",
                                      access_token="za", refresh_token="")
    before = _raw("connector_portal", "access_token", portal.pk)

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    # Both keys configured: old values still read (all keys decrypt).
    assert Portal.objects.get(pk=portal.pk).access_token == "pa"
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    report = out.getvalue()
    assert "connector.Portal.access_token: 1" in report
    assert "connector.ZoomAccount.client_secret: 1" in report
    assert "connector.ZoomAccount.refresh_token: 0" in report  # empty stays empty

    after = _raw("connector_portal", "access_token", portal.pk)
    assert after != before
    # Encrypted exactly once, with the new key: no double encryption.
    assert Fernet(NEW_KEY.encode()).decrypt(after.encode()).decode() == "pa"

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # old key removed
    fresh = Portal.objects.get(pk=portal.pk)
    assert (fresh.access_token, fresh.refresh_token) == ("pa", "pr")
    zfresh = ZoomAccount.objects.get(pk=zoom.pk)
    assert (zfresh.client_secret, zfresh.access_token, zfresh.refresh_token) == ("zs", "za", "")


@pytest.mark.django_db
def test_rotation_aborts_without_changes_when_a_value_cannot_be_decrypted(old_key, settings):
    good = Portal.objects.create(hub_id=1, access_token="pa")
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    Portal.objects.create(hub_id=2, access_token="pb")  # encrypted with NEW only
    before = _raw("connector_portal", "access_token", good.pk)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), NEW_KEY]  # OLD_KEY missing
    with pytest.raises(CommandError, match=r"connector.Portal.access_token \(pk="):
        call_command("rotate_encryption_keys", stdout=StringIO())
    assert _raw("connector_portal", "access_token", good.pk) == before


@pytest.mark.django_db
def test_rotation_dry_run_writes_nothing(old_key, settings):
    portal = Portal.objects.create(hub_id=1, access_token="pa")
    before = _raw("connector_portal", "access_token", portal.pk)
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    out = StringIO()
    call_command("rotate_encryption_keys", "--dry-run", stdout=out)
    assert "dry run" in out.getvalue()
    assert _raw("connector_portal", "access_token", portal.pk) == before
