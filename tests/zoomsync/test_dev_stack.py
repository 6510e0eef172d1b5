"""The dev stack's set-up (`make dev` runs `manage.py dev_setup`), and manage.py without DEBUG."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from connector.models import Portal, PortalMembership

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_dev_setup_connects_the_sandbox_and_makes_an_admin_member(sandbox, tmp_path, client, settings):
    settings.DEBUG = True  # what `make dev` runs with (pytest-django turns it off)
    sandbox.load("demo")
    password_file = tmp_path / "admin-password"
    out = StringIO()
    call_command("dev_setup", "--sandbox-url", sandbox.url, "--password-file", str(password_file),
                 "--app-url", "http://127.0.0.1:8000", stdout=out)
    password = password_file.read_text().strip()
    assert len(password) >= 12 and oct(password_file.stat().st_mode)[-3:] == "600"
    text = out.getvalue()
    assert "open http://127.0.0.1:8000/ and sign in as admin / " + password in text
    portal = Portal.objects.get(hub_id=62515)
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and PortalMembership.objects.filter(user=admin, portal=portal).exists()
    assert client.login(username="admin", password=password)
    assert client.get(f"/portals/{portal.hub_id}/").status_code == 200

    # Again (a restarted dev stack): same login, nothing twice.
    call_command("dev_setup", "--sandbox-url", sandbox.url, "--password-file", str(password_file), stdout=StringIO())
    assert password_file.read_text().strip() == password
    assert PortalMembership.objects.filter(user=admin).count() == 1
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_dev_setup_connects_every_portal_of_a_multi_portal_sandbox(sandbox, tmp_path, settings):
    settings.DEBUG = True
    sandbox.load({"portals": [
        {"hubspot": {"portal_id": 111}, "zoom": {"accounts": [{"account_id": "zacc_one"}]}},
        {"hubspot": {"portal_id": 222}, "zoom": {"accounts": [{"account_id": "zacc_two"}]}},
    ]})
    call_command("dev_setup", "--sandbox-url", sandbox.url, "--password-file", str(tmp_path / "pw"), stdout=StringIO())
    admin = get_user_model().objects.get(username="admin")
    assert sorted(p.hub_id for p in admin.portals.all()) == [111, 222]
    assert Portal.objects.get(hub_id=222).api_base == f"{sandbox.url}/p/222/hubspot"


@pytest.mark.django_db
def test_dev_setup_without_a_sandbox_or_without_debug_is_a_clear_error(settings, tmp_path):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="no sandbox answered"):
        call_command("dev_setup", "--sandbox-url", "http://127.0.0.1:9", "--wait", "0",
                     "--password-file", str(tmp_path / "pw"))
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("dev_setup", "--password-file", str(tmp_path / "pw"))


def test_manage_py_without_debug_says_what_is_missing_without_a_traceback():
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS")}
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "SECRET_KEY is not set" in done.stderr and "DEBUG=1" in done.stderr
    assert "Traceback" not in done.stderr


def test_up_check_refuses_a_stack_that_cannot_work(tmp_path):
    from zoomsync.up_check import env_file_read, up_problems

    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nexport DEBUG=0\nDATABASE_URL='sqlite:///x'\nSECRET_KEY=abc\n")
    values = env_file_read(env_file)
    assert values == {"DEBUG": "0", "DATABASE_URL": "sqlite:///x", "SECRET_KEY": "abc"}
    problems = up_problems(values)
    assert any("PostgreSQL" in p for p in problems) and any("Redis" in p for p in problems)
    assert any("FIELD_ENCRYPTION_KEYS" in p for p in problems) and not any("SECRET_KEY" in p for p in problems)
    good = {**values, "DATABASE_URL": "postgres://u@h/db", "CELERY_BROKER_URL": "redis://h:6379/0",
            "FIELD_ENCRYPTION_KEYS": "k"}
    assert up_problems(good) == []
    assert up_problems({**good, "DEBUG": "1"}) == ["DEBUG is on: production runs with DEBUG=0"]


def test_manage_py_sandbox_mounts_the_sandbox_app_itself():
    env = {k: v for k, v in os.environ.items() if k != "ZOOMSYNC_SANDBOX"}
    env["DEBUG"] = "1"
    done = subprocess.run([sys.executable, "manage.py", "sandbox", "generate", "--webinars", "1",
                           "--registrants", "2"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"portal_id":62515' in done.stdout
