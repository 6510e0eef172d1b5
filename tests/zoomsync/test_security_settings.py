"""Production headers and sign-in (issue 12): `manage.py check --deploy` is clean with
production settings; HSTS, SSL redirect and a CSP without inline scripts are sent;
SECURE_PROXY_SSL_HEADER only when configured; ALLOWED_HOSTS required; Swagger UI from a
pinned package; sign-in throttled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model

ROOT = Path(__file__).resolve().parents[2]
PROD = {
    "DEBUG": "0",
    "SECRET_KEY": "Zq9-xW3_pL7mN2vB5cR8tY1uI4oP6aS0dF2gH4jK6lZ8xC1vB3nM5qW7eR9tY",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "zoomsync.example.com",
    "ZOOMSYNC_PUBLIC_URL": "https://zoomsync.example.com",
}
DROP = ("DEBUG", "ZOOMSYNC_SANDBOX", "ALLOWED_HOSTS", "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT",
        "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")  # a test-run setting


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in DROP}
    clean.update({"DJANGO_SETTINGS_MODULE": "zoomsync.settings", **env})
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=120)


def test_check_deploy_is_clean_with_production_settings():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PROD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_requires_allowed_hosts():
    env = {k: v for k, v in PROD.items() if k != "ALLOWED_HOSTS"}
    result = _run(["-c", "import django; django.setup()"], env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr


PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
c = Client(HTTP_HOST="zoomsync.example.com")
plain = c.get("/accounts/login/")
tls = c.get("/accounts/login/", secure=True)
forwarded = c.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
health = c.get("/healthz")
print(json.dumps({
    "proxy": list(getattr(settings, "SECURE_PROXY_SSL_HEADER", None) or []),
    "plain": [plain.status_code, plain.get("Location", "")],
    "tls": [tls.status_code, tls.get("Strict-Transport-Security", ""), tls.get("Content-Security-Policy", ""),
            tls.get("X-Frame-Options", "")],
    "forwarded": forwarded.status_code,
    "health": health.status_code,
    "other_host": Client(HTTP_HOST="testserver").get("/healthz", secure=True).status_code,
}))
"""


def _probe(extra: dict[str, str] | None = None) -> dict:
    result = _run(["-c", PROBE], {**PROD, "DATABASE_URL": "sqlite:///:memory:", **(extra or {})})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_redirects_to_https_and_sends_hsts_and_csp():
    seen = _probe()
    assert seen["plain"] == [301, "https://zoomsync.example.com/accounts/login/"]
    status, hsts, csp, frame = seen["tls"]
    assert status == 200
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp and frame == "DENY"
    assert seen["health"] in (200, 503)  # probes over plain HTTP are not redirected
    assert seen["other_host"] == 400  # `testserver` is not an allowed host in production


def test_proxy_ssl_header_trusted_only_when_configured():
    seen = _probe()
    assert seen["proxy"] == []
    assert seen["forwarded"] == 301  # a client's X-Forwarded-Proto is not believed
    seen = _probe({"SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https"})
    assert seen["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert seen["forwarded"] == 200


def test_pages_carry_a_csp_without_inline_scripts(client):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert script_src.strip() == "script-src 'self'"
    assert "<script>" not in response.content.decode()


def test_swagger_ui_is_served_from_the_pinned_package_without_inline_script(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html and "@latest" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "<script>" not in html  # the start-up script is its own URL
    assert client.get("/api/docs/?script=").status_code == 200
    bundle = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("login_url", ["/accounts/login/", "/admin/login/"])
def test_sign_in_is_throttled(client, settings, login_url):
    settings.LOGIN_MAX_FAILURES = 3
    name = f"staff-{login_url.strip('/').replace('/', '-')}"
    get_user_model().objects.create_user(name, password="right-password", is_staff=True)
    for _ in range(3):
        wrong = client.post(login_url, {"username": name, "password": "guess"})
        assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    locked = client.post(login_url, {"username": name, "password": "right-password"})
    assert locked.status_code == 200
    assert "_auth_user_id" not in client.session  # even the right password waits
    assert "Too many failed sign-ins" in locked.content.decode()
    from django.core.cache import cache

    cache.clear()  # the window passed
    ok = client.post(login_url, {"username": name, "password": "right-password"})
    assert ok.status_code == 302 and "_auth_user_id" in client.session
