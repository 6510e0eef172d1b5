"""Settings from the environment (INTERFACES.md §8): each case runs a fresh interpreter,
because settings are read once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

# Every variable settings.py reads, removed so each case starts from a clean slate.
SETTINGS_VARS = [
    "DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DATABASE_URL", "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND", "REDIS_URL", "ZOOMSYNC_PUBLIC_URL", "ZOOMSYNC_SANDBOX", "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS", "ZOOM_API_BASE", "ZOOM_OAUTH_BASE", "HUBSPOT_API_BASE",
    "HUBSPOT_AUTHORIZE_URL", "TOKEN_REFRESH_MARGIN_SECONDS", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "LOG_LEVEL",
]

DUMP = """
import json, django
from django.conf import settings
django.setup()
from zoomsync.celery import app
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ENGINE": db["ENGINE"], "NAME": str(db["NAME"]), "HOST": db.get("HOST"), "PORT": db.get("PORT"),
    "USER": db.get("USER"), "PASSWORD": db.get("PASSWORD"),
    "EAGER": settings.CELERY_TASK_ALWAYS_EAGER, "APP_EAGER": app.conf.task_always_eager,
    "BROKER": settings.CELERY_BROKER_URL, "REDIS_URL": settings.REDIS_URL,
    "CACHE": settings.CACHES["default"]["BACKEND"],
    "KEYS": settings.FIELD_ENCRYPTION_KEYS, "PUBLIC": settings.ZOOMSYNC_PUBLIC_URL,
    "HOSTS": settings.ALLOWED_HOSTS, "SANDBOX": settings.ZOOMSYNC_SANDBOX,
    "APPS": settings.INSTALLED_APPS,
    "ZOOM_API_BASE": settings.ZOOM_API_BASE, "ZOOM_OAUTH_BASE": settings.ZOOM_OAUTH_BASE,
    "HUBSPOT_API_BASE": settings.HUBSPOT_API_BASE,
    "SESSION_COOKIE_SECURE": getattr(settings, "SESSION_COOKIE_SECURE", False),
}))
"""

PROD_SECRETS = {"SECRET_KEY": "x" * 50, "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "ALLOWED_HOSTS": "zoomsync.example.com"}  # all three required in production


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "zoomsync.settings"
    return subprocess.run(
        [sys.executable, "-c", DUMP], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def _settings(env: dict[str, str]) -> dict:
    result = _run(env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_without_secret_key_fails_fast_naming_it():
    result = _run({"DEBUG": "0", "FIELD_ENCRYPTION_KEYS": PROD_SECRETS["FIELD_ENCRYPTION_KEYS"]})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr


def test_production_without_encryption_keys_fails_fast_naming_them():
    result = _run({"DEBUG": "0", "SECRET_KEY": PROD_SECRETS["SECRET_KEY"]})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "FIELD_ENCRYPTION_KEYS is not set" in result.stderr


def test_debug_is_off_by_default():
    # No DEBUG at all is production: secrets are then required.
    result = _run({})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_with_secrets_starts_and_is_hardened():
    values = _settings({"DEBUG": "0", **PROD_SECRETS})
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["KEYS"] == [PROD_SECRETS["FIELD_ENCRYPTION_KEYS"]]


def test_debug_uses_development_secrets_from_ignored_file():
    values = _settings({"DEBUG": "1"})
    assert values["KEYS"] and all(Fernet(k.encode()) for k in values["KEYS"])
    ignored = (ROOT / ".gitignore").read_text().split()
    assert ".dev-secrets.env" in ignored


def test_encryption_keys_are_a_comma_separated_list_first_encrypts():
    k1, k2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    values = _settings({"DEBUG": "0", "SECRET_KEY": "s" * 50, "FIELD_ENCRYPTION_KEYS": f"{k1}, {k2},",
                        "ALLOWED_HOSTS": "zoomsync.example.com"})
    assert values["KEYS"] == [k1, k2]


def test_database_url_default_is_sqlite_file_in_project_folder():
    values = _settings({"DEBUG": "1"})
    assert values["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(values["NAME"]) == ROOT / "db.sqlite3"


def test_database_url_parses_postgres():
    values = _settings({"DEBUG": "1", "DATABASE_URL": "postgres://zs:pw@db.internal:5433/zoomsync"})
    assert values["ENGINE"] == "django.db.backends.postgresql"
    assert (values["NAME"], values["HOST"], values["PORT"]) == ("zoomsync", "db.internal", 5433)
    assert (values["USER"], values["PASSWORD"]) == ("zs", "pw")


def test_celery_broker_unset_runs_tasks_eagerly_in_process():
    values = _settings({"DEBUG": "1"})
    assert values["BROKER"] == ""
    assert values["EAGER"] is True
    assert values["APP_EAGER"] is True
    assert values["CACHE"].endswith("LocMemCache")


def test_celery_broker_set_sends_tasks_to_workers_and_shares_redis():
    values = _settings({"DEBUG": "1", "CELERY_BROKER_URL": "redis://redis.internal:6379/0"})
    assert values["EAGER"] is False
    assert values["APP_EAGER"] is False
    # Locks and rate limits are shared through the same Redis.
    assert values["REDIS_URL"] == "redis://redis.internal:6379/0"
    assert values["CACHE"].endswith("RedisCache")


def test_public_url_trailing_slash_stripped_and_host_allowed():
    values = _settings({"DEBUG": "1", "ZOOMSYNC_PUBLIC_URL": "https://sync.acme.com/"})
    assert values["PUBLIC"] == "https://sync.acme.com"
    assert "sync.acme.com" in values["HOSTS"]


def test_api_bases_default_to_the_real_hosts_and_can_point_at_a_sandbox():
    values = _settings({"DEBUG": "1"})
    assert values["ZOOM_API_BASE"] == "https://api.zoom.us/v2"
    assert values["ZOOM_OAUTH_BASE"] == "https://zoom.us"
    assert values["HUBSPOT_API_BASE"] == "https://api.hubapi.com"
    values = _settings({"DEBUG": "1", "ZOOM_API_BASE": "http://127.0.0.1:8899/zoom/v2/",
                        "HUBSPOT_API_BASE": "http://127.0.0.1:8899/hubspot"})
    assert values["ZOOM_API_BASE"] == "http://127.0.0.1:8899/zoom/v2"
    assert values["HUBSPOT_API_BASE"] == "http://127.0.0.1:8899/hubspot"


@pytest.mark.parametrize(("flag", "mounted"), [("1", True), ("0", False)])
def test_sandbox_app_mounted_only_when_asked(flag, mounted):
    values = _settings({"DEBUG": "1", "ZOOMSYNC_SANDBOX": flag})
    assert values["SANDBOX"] is mounted
    assert ("sandbox" in values["APPS"]) is mounted
