"""docker-compose.yml, Dockerfile and .env.example are checked statically (no Docker engine
runs here): every variable the app services set is one settings.py reads, every command
they run exists (manage.py command, celery app + subcommand, gunicorn WSGI app, make
target), and .env.example documents every variable of INTERFACES.md §8 and settings.py."""

from __future__ import annotations

import importlib
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
SETTINGS_SRC = (ROOT / "zoomsync" / "settings.py").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()

# INTERFACES.md §8: fixed names.
INTERFACE_VARS = {
    "DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DEBUG",
    "ZOOMSYNC_PUBLIC_URL", "ZOOMSYNC_SANDBOX", "HUBSPOT_CLIENT_ID", "HUBSPOT_CLIENT_SECRET",
    "HUBSPOT_APP_ID", "HUBSPOT_DEVELOPER_API_KEY", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET",
    "ZOOM_WEBHOOK_SECRET_TOKEN", "ZOOM_API_BASE", "ZOOM_OAUTH_BASE", "HUBSPOT_API_BASE",
}
APP_SERVICES = {name: svc for name, svc in SERVICES.items() if "build" in svc}


def settings_env_vars() -> set[str]:
    """Names settings.py reads: env.<type>("NAME", ...), env("NAME") and _secret("NAME")."""
    pattern = r"""(?:env(?:\.\w+)?|_secret)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    return set(re.findall(pattern, SETTINGS_SRC))


def env_example_vars() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.M))


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, flags=re.M))


def _command(value: str | list[str]) -> list[str]:
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def _option(argv: list[str], *names: str) -> str | None:
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def assert_command_exists(argv: list[str], where: str) -> None:
    """The command is a manage.py command, a celery/gunicorn invocation of our app, or a
    make target."""
    assert argv, f"{where}: empty command"
    program = Path(argv[0]).name
    if program.startswith("python") and len(argv) > 2 and argv[1] == "manage.py":
        assert argv[2] in get_commands(), f"{where}: no manage.py command {argv[2]!r}"
    elif program.startswith("python") and argv[1:2] == ["-c"]:
        compile(argv[2], where, "exec")
    elif program == "celery":
        assert _option(argv, "-A", "--app") == "zoomsync", f"{where}: celery must run -A zoomsync"
        app = importlib.import_module("zoomsync.celery").app
        assert app.main == "zoomsync"
        sub = next(a for a in argv[3:] if not a.startswith("-"))
        assert sub in {"worker", "beat", "inspect"}, f"{where}: unexpected celery command {sub}"
        queues = _option(argv, "-Q", "--queues")
        if queues:
            assert set(queues.split(",")) <= set(settings.CELERY_TASK_QUEUES_NAMES), where
            # Every queue tasks are routed to is consumed.
            assert set(queues.split(",")) == {q.name for q in app.conf.task_queues}, where
        scheduler = _option(argv, "-S", "--scheduler")
        if scheduler:
            assert scheduler == settings.CELERY_BEAT_SCHEDULER, where
    elif program == "gunicorn":
        target = next(a for a in argv[1:] if not a.startswith("-") and "wsgi" in a)
        module, _, attr = target.partition(":")
        wsgi = importlib.import_module(module)
        assert callable(getattr(wsgi, attr or "application")), f"{where}: {target} is not a WSGI app"
        assert module == settings.WSGI_APPLICATION.rsplit(".", 1)[0], where
    elif program == "make":
        assert argv[1] in makefile_targets(), f"{where}: no make target {argv[1]!r}"
    else:
        pytest.fail(f"{where}: unknown command {argv!r}")


def test_compose_has_postgres_redis_web_worker_beat_and_migrate():
    assert {"postgres", "redis", "web", "worker", "beat", "migrate"} <= set(SERVICES)
    assert SERVICES["postgres"]["image"].startswith("postgres")
    assert SERVICES["redis"]["image"].startswith("redis")
    # web, worker, beat and migrate all run from the one image.
    assert {"web", "worker", "beat", "migrate"} <= set(APP_SERVICES)
    assert len({json.dumps(svc["build"]) for svc in APP_SERVICES.values()}) == 1


def test_compose_app_services_wait_for_database_broker_and_migrations():
    for name in ("web", "worker", "beat"):
        deps = SERVICES[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
        assert deps["migrate"]["condition"] == "service_completed_successfully", name


def code_env_vars() -> set[str]:
    """Names the code reads: settings.py, the client rate limits (os.environ) and the specs folder."""
    from connector.clients import ratelimit

    return settings_env_vars() | set(ratelimit._DEFAULTS) | {"ZOOMSYNC_API_SPECS"}


def env_example_sections() -> dict[str, set[str]]:
    """.env.example's variables by section heading ("# --- Django ---" -> "django")."""
    sections: dict[str, set[str]] = {}
    current = ""
    for line in (ROOT / ".env.example").read_text().splitlines():
        heading = re.match(r"^# --- (.+?) -+$", line)
        if heading:
            current = heading.group(1).lower()
            continue
        var = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line)
        if var:
            sections.setdefault(current, set()).add(var.group(1))
    return sections


# Sections of .env.example that are not the app's environment in compose.
NOT_FOR_COMPOSE = ("docker compose only", "dev stack only", "processes")


def test_compose_passes_every_documented_variable_to_the_app():
    documented = set().union(*(names for section, names in env_example_sections().items()
                               if not section.startswith(NOT_FOR_COMPOSE)))
    assert {"SESSION_COOKIE_SECURE", "HUBSPOT_RATE_LIMIT", "LOG_FORMAT"} <= documented  # parser sanity
    for name, svc in APP_SERVICES.items():
        passed = set(svc["environment"])
        assert not documented - passed, f"{name} does not pass {sorted(documented - passed)}"


def test_compose_defaults_keep_the_settings_defaults():
    env = SERVICES["web"]["environment"]
    # An empty CSRF_TRUSTED_ORIGINS would trust nothing: it defaults to the public URL.
    assert env["CSRF_TRUSTED_ORIGINS"] == "${CSRF_TRUSTED_ORIGINS:-${ZOOMSYNC_PUBLIC_URL:-http://localhost:8000}}"
    assert env["SESSION_COOKIE_SECURE"] == "${SESSION_COOKIE_SECURE:-1}"
    from connector.clients import ratelimit

    for var, default in ratelimit._DEFAULTS.items():
        assert env[var] == "${" + var + ":-" + default + "}", var


def test_compose_env_vars_all_exist_in_settings():
    known = code_env_vars()
    for name, svc in APP_SERVICES.items():
        env = svc.get("environment", {})
        names = env.keys() if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
        unknown = set(names) - known
        assert not unknown, f"{name} sets variables settings.py never reads: {sorted(unknown)}"


def test_compose_points_app_at_postgres_and_redis_and_requires_secrets():
    env = SERVICES["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:" in env["DATABASE_URL"]
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:")
    # Production in compose: no default secret, compose refuses to start without one.
    for secret in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS"):
        assert env[secret].startswith("${" + secret + ":?"), secret
    assert env["DEBUG"] == "${DEBUG:-0}"


def test_compose_interpolated_variables_are_documented_in_env_example():
    documented = env_example_vars()
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text()))
    assert used, "compose takes no variables from .env?"
    assert not used - documented, f"undocumented in .env.example: {sorted(used - documented)}"


@pytest.mark.parametrize("service", ["migrate", "web", "worker", "beat"])
def test_compose_commands_exist(service):
    svc = APP_SERVICES[service]
    assert_command_exists(_command(svc["command"]), f"{service}.command")
    check = svc.get("healthcheck", {}).get("test")
    if check and check[0] == "CMD-SHELL" and check[1].startswith("celery"):
        assert_command_exists(shlex.split(check[1]), f"{service}.healthcheck")


def test_compose_runs_the_three_named_queues_and_the_database_beat_scheduler():
    worker = _command(SERVICES["worker"]["command"])
    assert _option(worker, "-Q") == "sync,realtime,default"
    beat = _command(SERVICES["beat"]["command"])
    assert "beat" in beat
    assert _option(beat, "--scheduler") == "django_celery_beat.schedulers:DatabaseScheduler"


def test_makefile_runs_the_same_worker_queues():
    assert "celery -A zoomsync worker -Q sync,realtime,default" in (ROOT / "Makefile").read_text()


def test_dockerfile_builds_slim_non_root_gunicorn_image():
    assert re.search(r"^FROM python:3\.11-slim\b", DOCKERFILE, flags=re.M)
    assert re.search(r"^RUN pip install .*\.$", DOCKERFILE, flags=re.M)
    assert "manage.py collectstatic --noinput" in DOCKERFILE
    users = re.findall(r"^USER (\S+)", DOCKERFILE, flags=re.M)
    assert users and users[-1] not in {"root", "0"}
    cmd = json.loads(re.findall(r"^CMD (\[.*\])$", DOCKERFILE, flags=re.M)[-1])
    assert_command_exists(cmd, "Dockerfile CMD")
    # No secret baked into the image other than the collectstatic throwaways.
    assert not re.search(r"^ENV .*(SECRET_KEY|FIELD_ENCRYPTION_KEYS)", DOCKERFILE, flags=re.M)


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".dev-secrets.env", ".env", ".venv", ".git", "*.sqlite3"):
        assert entry in ignored, entry


def _procfile(name: str) -> dict[str, str]:
    lines = (ROOT / name).read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


def test_procfile_runs_gunicorn_worker_and_beat():
    processes = _procfile("Procfile")
    assert set(processes) == {"web", "worker", "beat"}
    for name, command in processes.items():
        assert_command_exists(shlex.split(command), f"Procfile {name}")
    assert shlex.split(processes["web"])[0] == "gunicorn"
    assert _option(shlex.split(processes["worker"]), "-Q") == "sync,realtime,default"


def test_procfile_dev_runs_sandbox_with_state_file_web_and_worker():
    processes = _procfile("Procfile.dev")
    assert set(processes) == {"sandbox", "web", "worker"}
    assert "--state-file" in processes["sandbox"]
    for name, command in processes.items():
        for part in command.split("&&"):
            argv = shlex.split(part)
            assert_command_exists(argv[1:] if argv[0] == "exec" else argv, f"Procfile.dev {name}")


def test_make_targets_dev_up_and_serve_without_the_development_server():
    text = (ROOT / "Makefile").read_text()
    assert {"dev", "up", "demo", "serve", "dev-reset"} <= makefile_targets()
    serve = re.search(r"^serve:.*?(?=^\S)", text, flags=re.M | re.S).group(0)
    assert "runserver" not in serve and "gunicorn" in serve and "DEBUG=0" in serve
    demo = re.search(r"^demo:.*?(?=^\S)", text, flags=re.M | re.S).group(0)
    assert "demo.sqlite3" in demo  # the demo's own database, never the dev stack's
    dev = re.search(r"^DEV_ENV = .*?(?=^\S)", text, flags=re.M | re.S).group(0)
    assert "DATABASE_URL=sqlite:///$(DEV_DIR)/dev.sqlite3" in dev


def test_env_example_documents_interfaces_and_settings_vars():
    documented = env_example_vars()
    assert not INTERFACE_VARS - documented, sorted(INTERFACE_VARS - documented)
    from_settings = settings_env_vars()
    assert from_settings >= {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"}  # parser sanity
    assert not from_settings - documented, sorted(from_settings - documented)


def test_env_example_leaves_secrets_empty():
    text = (ROOT / ".env.example").read_text()
    for secret in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "HUBSPOT_CLIENT_SECRET",
                   "ZOOM_CLIENT_SECRET", "ZOOM_WEBHOOK_SECRET_TOKEN", "HUBSPOT_DEVELOPER_API_KEY"):
        assert re.search(rf"^{secret}=$", text, flags=re.M), secret
