"""zoomsync settings: one module, driven by environment variables (INTERFACES.md §8).

Production (DEBUG off) has no default for a secret and refuses to start without one.
Development defaults exist only when DEBUG is on; the development secrets are generated
once into an ignored local file (`.dev-secrets.env`), never committed.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DEV_SECRETS_FILE = BASE_DIR / ".dev-secrets.env"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)


def _dev_secrets() -> dict[str, str]:
    """Read, or create once, the development-only secrets file."""
    if not DEV_SECRETS_FILE.exists():
        from cryptography.fernet import Fernet

        body = (
            f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
            f"FIELD_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
        )
        try:
            fd = os.open(DEV_SECRETS_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process won the race; read what it wrote
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(body)
    values: dict[str, str] = {}
    for line in DEV_SECRETS_FILE.read_text().splitlines():
        if "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _secret(name: str) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(
            f"{name} is not set. It is required when DEBUG is off "
            f"(set DEBUG=1 for development defaults)."
        )
    return _dev_secrets()[name]


SECRET_KEY = _secret("SECRET_KEY")
FIELD_ENCRYPTION_KEYS = [k.strip() for k in _secret("FIELD_ENCRYPTION_KEYS").split(",") if k.strip()]

ZOOMSYNC_PUBLIC_URL = env.str("ZOOMSYNC_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
ZOOMSYNC_SANDBOX = env.bool("ZOOMSYNC_SANDBOX", default=False)
if ZOOMSYNC_SANDBOX and not DEBUG:
    # The sandbox answers anyone (its control API resets the world) and lets connections
    # point at other API hosts: a development tool only.
    raise ImproperlyConfigured(
        "ZOOMSYNC_SANDBOX=1 is for development only and needs DEBUG=1; "
        "unset ZOOMSYNC_SANDBOX in production."
    )
# Hosts a connection's api_base/oauth_base may name (the sandbox on loopback).
ZOOMSYNC_SANDBOX_HOSTS = env.list("ZOOMSYNC_SANDBOX_HOSTS", default=["127.0.0.1", "localhost", "::1"])

if not DEBUG and not env.list("ALLOWED_HOSTS", default=[]):
    # Without it Django would answer any Host header (and did answer `testserver`).
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set. It is required when DEBUG is off: the host names this "
        "server answers to, comma-separated (e.g. ALLOWED_HOSTS=zoomsync.example.com)."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
_public_host = ZOOMSYNC_PUBLIC_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
if _public_host and _public_host not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_public_host)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[ZOOMSYNC_PUBLIC_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from a pinned package, not a CDN
    "django_celery_beat",
    "connector",
    "settings_ui",
    "workflows",
]
if ZOOMSYNC_SANDBOX:
    INSTALLED_APPS.append("sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "zoomsync.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "zoomsync.urls"
WSGI_APPLICATION = "zoomsync.wsgi.application"
ASGI_APPLICATION = "zoomsync.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Concurrent threads (sandbox, live server, workers) wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sign-in throttling (zoomsync/auth.py): after LOGIN_MAX_FAILURES failed sign-ins for a
# user name (or LOGIN_MAX_FAILURES_PER_IP from one address), sign-in is refused for
# LOGIN_LOCKOUT_SECONDS, even with the right password.
AUTHENTICATION_BACKENDS = ["zoomsync.auth.ThrottledModelBackend"]
LOGIN_MAX_FAILURES = env.int("LOGIN_MAX_FAILURES", default=5)
LOGIN_MAX_FAILURES_PER_IP = env.int("LOGIN_MAX_FAILURES_PER_IP", default=30)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Celery (zoomsync/celery.py reads CELERY_*) ---------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_NAMES = ["sync", "realtime", "default"]
# Countdowns must stay below this, or Redis redelivers the task early.
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 60 * 60}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# With a broker, one portal's sync fans out: a Celery task per synced webinar (docs/sync.md).
ZOOMSYNC_SYNC_FANOUT = env.bool("ZOOMSYNC_SYNC_FANOUT", default=True)
# B2: the nightly full reconciliation's time (UTC, "HH:MM"; the beat entry is made at migrate)
# and how long after a session Zoom's participant report may still grow.
ZOOMSYNC_RECONCILE_AT = env.str("ZOOMSYNC_RECONCILE_AT", default="03:30")
ZOOMSYNC_PARTICIPANTS_SETTLE_HOURS = env.float("ZOOMSYNC_PARTICIPANTS_SETTLE_HOURS", default=6.0)
CELERY_TIMEZONE = "UTC"

# --- Dev stack broker (ops; `make dev`): CELERY_BROKER_URL=filesystem:// passes tasks
# between the web app and the worker through a folder, so the dev stack needs no Redis.
CELERY_BROKER_FOLDER = env.str("CELERY_BROKER_FOLDER", default=str(BASE_DIR / ".dev" / "broker"))
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("", "processed", "results", "control"):
        os.makedirs(os.path.join(CELERY_BROKER_FOLDER, _sub), exist_ok=True)
    _folders: dict[str, object] = {
        "data_folder_in": CELERY_BROKER_FOLDER,
        "data_folder_out": CELERY_BROKER_FOLDER,
        "processed_folder": os.path.join(CELERY_BROKER_FOLDER, "processed"),
        # The exchange tables too (kombu's default is ./control, in whatever folder the
        # process started from, shared by every dev stack run from there).
        "control_folder": os.path.join(CELERY_BROKER_FOLDER, "control"),
        "store_processed": False,
    }
    CELERY_BROKER_TRANSPORT_OPTIONS.update(_folders)
    if CELERY_RESULT_BACKEND == CELERY_BROKER_URL:
        CELERY_RESULT_BACKEND = "file://" + os.path.join(CELERY_BROKER_FOLDER, "results")

# Shared locks and rate limiting use Redis when a broker is configured.
REDIS_URL = env.str("REDIS_URL", default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- The two APIs ---------------------------------------------------------------
HUBSPOT_CLIENT_ID = env.str("HUBSPOT_CLIENT_ID", default="")
HUBSPOT_CLIENT_SECRET = env.str("HUBSPOT_CLIENT_SECRET", default="")
HUBSPOT_APP_ID = env.str("HUBSPOT_APP_ID", default="")
# Workflow requests must carry the v3 signature (timestamped); v2 is refused (replayable).
HUBSPOT_REQUIRE_SIGNATURE_V3 = env.bool("HUBSPOT_REQUIRE_SIGNATURE_V3", default=True)
HUBSPOT_DEVELOPER_API_KEY = env.str("HUBSPOT_DEVELOPER_API_KEY", default="")
ZOOM_CLIENT_ID = env.str("ZOOM_CLIENT_ID", default="")
ZOOM_CLIENT_SECRET = env.str("ZOOM_CLIENT_SECRET", default="")
ZOOM_WEBHOOK_SECRET_TOKEN = env.str("ZOOM_WEBHOOK_SECRET_TOKEN", default="")
# How a worker gathers a burst of webhooks into full HubSpot batches (docs/webhooks.md).
ZOOMSYNC_WEBHOOK_DEBOUNCE_S = env.float("ZOOMSYNC_WEBHOOK_DEBOUNCE_S", default=1.0)
ZOOMSYNC_WEBHOOK_GATHER_S = env.float("ZOOMSYNC_WEBHOOK_GATHER_S", default=8.0)
ZOOMSYNC_WEBHOOK_GATHER_QUIET_S = env.float("ZOOMSYNC_WEBHOOK_GATHER_QUIET_S", default=1.0)
ZOOMSYNC_WEBHOOK_GATHER_LEAD_S = env.float("ZOOMSYNC_WEBHOOK_GATHER_LEAD_S", default=1.5)
ZOOM_API_BASE = env.str("ZOOM_API_BASE", default="https://api.zoom.us/v2").rstrip("/")
ZOOM_OAUTH_BASE = env.str("ZOOM_OAUTH_BASE", default="https://zoom.us").rstrip("/")
HUBSPOT_API_BASE = env.str("HUBSPOT_API_BASE", default="https://api.hubapi.com").rstrip("/")
HUBSPOT_AUTHORIZE_URL = env.str("HUBSPOT_AUTHORIZE_URL", default="https://app.hubspot.com/oauth/authorize")
HUBSPOT_SCOPES = [
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
    "timeline",
    "automation",
    "settings.users.read",
]
HUBSPOT_OPTIONAL_SCOPES = [
    "business_units_view.read",
    "crm.objects.marketing_events.read",
    "crm.objects.marketing_events.write",
]
# --- Privacy (docs/privacy.md) ----------------------------------------------------
# Sent outbox payloads, old runs' skip records and workflow request bodies are pruned
# after this many days (B4).
ZOOMSYNC_RETENTION_DAYS = env.int("ZOOMSYNC_RETENTION_DAYS", default=90)
# An uninstalled portal's data is erased this many days after the uninstall (B4).
ZOOMSYNC_UNINSTALL_GRACE_DAYS = env.int("ZOOMSYNC_UNINSTALL_GRACE_DAYS", default=30)

# Refresh this long before expiry (HubSpot tokens live 30 min, Zoom 1 h).
TOKEN_REFRESH_MARGIN_SECONDS = env.int("TOKEN_REFRESH_MARGIN_SECONDS", default=300)

# --- DRF / OpenAPI --------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
SPECTACULAR_SETTINGS = {
    # Swagger UI from the pinned drf-spectacular-sidecar package (works offline, no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "TITLE": "zoomsync",
    "DESCRIPTION": "Zoom webinars into HubSpot: workflow action and admin API",
    "VERSION": "0.1.0",
}

# --- Production headers (`manage.py check --deploy` is clean with DEBUG off) ----------
# A Content-Security-Policy without inline scripts (zoomsync/middleware.py), in every mode.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Trust X-Forwarded-Proto only when told a proxy sets it (and strips it from clients), e.g.
# SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https. Trusting it unconditionally lets
# any client claim https.
_proxy_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_header:
    if len(_proxy_header) != 2:
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER is 'HEADER,value', e.g. HTTP_X_FORWARDED_PROTO,https")
    SECURE_PROXY_SSL_HEADER = (_proxy_header[0], _proxy_header[1])
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # /healthz is probed over plain HTTP by load balancers and containers.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)

# --- Logging (ops; docs/operations.md) -----------------------------------------------
# LOG_FORMAT=json (default with DEBUG off): one JSON object per line (python-json-logger)
# with the portal, run, Zoom account and Celery task ids (zoomsync.log); plain: text.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "zoomsync.log.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s%(ctx)s"},
        "json": {"()": "zoomsync.log.json_formatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    "loggers": {
        "zoomsync": {"level": env.str("LOG_LEVEL", default="INFO"), "propagate": True},
        # Celery logs through this configuration (not its own) so worker lines are JSON too.
        "celery": {"level": "INFO", "propagate": True},
    },
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Prometheus metrics (zoomsync.metrics): with several processes (gunicorn workers, Celery
# workers) on one host, PROMETHEUS_MULTIPROC_DIR names the shared folder (`make up` sets it).
# ZOOMSYNC_METRICS_TOKEN, when set, is the bearer token /metrics requires.
ZOOMSYNC_METRICS_TOKEN = env.str("ZOOMSYNC_METRICS_TOKEN", default="")
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")

logging.getLogger("zoomsync").debug("settings loaded")
