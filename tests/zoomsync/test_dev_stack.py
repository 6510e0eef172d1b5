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
    assert any("ALLOWED_HOSTS" in p for p in problems)
    good = {**values, "DATABASE_URL": "postgres://u@h/db", "CELERY_BROKER_URL": "redis://h:6379/0",
            "FIELD_ENCRYPTION_KEYS": "k", "ALLOWED_HOSTS": "zoomsync.example.com"}
    assert up_problems(good) == []
    assert up_problems({**good, "DEBUG": "1"}) == ["DEBUG is on: production runs with DEBUG=0"]
    assert any("ZOOMSYNC_SANDBOX" in p for p in up_problems({**good, "ZOOMSYNC_SANDBOX": "1"}))


def test_manage_py_sandbox_mounts_the_sandbox_app_itself():
    env = {k: v for k, v in os.environ.items() if k != "ZOOMSYNC_SANDBOX"}
    env["DEBUG"] = "1"
    done = subprocess.run([sys.executable, "manage.py", "sandbox", "generate", "--webinars", "1",
                           "--registrants", "2"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"portal_id":62515' in done.stdout


def _dev_up(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    import time

    start = log_path.stat().st_size if log_path.exists() else 0
    log = log_path.open("ab")
    proc = subprocess.Popen(["make", "dev"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    def up() -> bool:  # the web app printed the login and the worker is consuming
        text = log_path.read_bytes()[start:].decode(errors="replace")
        return "sign in as admin" in text and " ready." in text

    while not up():
        if proc.poll() is not None or time.monotonic() > deadline:
            _dev_down(proc)
            raise AssertionError(log_path.read_text(errors="replace")[-3000:])
        time.sleep(0.5)
    return proc


def _log_tail(log_path: Path) -> str:
    """The stack's log without the progress polls (they would hide what the worker said)."""
    lines = [ln for ln in log_path.read_text(errors="replace").splitlines() if "progress.json" not in ln]
    return "\n".join(lines)[-12000:]


def _dev_down(proc: subprocess.Popen[bytes]) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.mark.slow
def test_make_dev_syncs_through_its_worker_and_goes_on_where_it_was_after_a_restart(tmp_path):
    """The whole dev stack (sandbox, web, worker) as `make dev` starts it: sign in with the
    printed login, Sync now creates the contacts; stopped and started again, the same login
    works and the next Sync now creates none (the sandbox and the database kept their state)."""
    from tests.sandbox.test_serve_command import free_port

    dev_dir = tmp_path / "dev"
    web_port, sandbox_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REDIS_URL",
                        "PROMETHEUS_MULTIPROC_DIR", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(DEV_DIR=str(dev_dir), DEV_PORT=str(web_port), SANDBOX_PORT=str(sandbox_port))
    log_path = tmp_path / "dev.log"
    smoke = [sys.executable, ".ci/smoke.py", "--url", f"http://127.0.0.1:{web_port}", "--username", "admin",
             "--hub-id", "62515", "--timeout", "90"]

    proc = _dev_up(env, log_path)
    try:
        password = (dev_dir / "admin-password").read_text().strip()
        first = subprocess.run([*smoke, "--password", password], cwd=ROOT, capture_output=True, text=True, timeout=150)
        assert first.returncode == 0, first.stdout + first.stderr + _log_tail(log_path)
        assert "'contacts_created': 0" not in first.stdout
    finally:
        _dev_down(proc)
    assert (dev_dir / "sandbox.state").exists() and (dev_dir / "dev.sqlite3").exists()
    assert (dev_dir / "broker" / "control" / "default.exchange").exists()  # the broker's tables stay in the stack's folder

    proc = _dev_up(env, log_path)
    try:
        again = subprocess.run([*smoke, "--password", password, "--expect-created", "0"], cwd=ROOT,
                               capture_output=True, text=True, timeout=150)
        assert again.returncode == 0, again.stdout + again.stderr + _log_tail(log_path)
        assert "Sync now: run 2" in again.stdout  # the first run is still there
    finally:
        _dev_down(proc)
    assert "sync state started afresh" not in log_path.read_text()
