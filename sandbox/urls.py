"""Sandbox routes: fake Zoom under /zoom/, fake HubSpot under /hubspot/, control API under
/_sandbox/. Mounted at the site root only when ZOOMSYNC_SANDBOX=1 (zoomsync/urls.py)."""

from __future__ import annotations

from typing import Any

from django.urls import include, path

from sandbox import control


def _csrf_exempt_all(patterns: list[Any]) -> list[Any]:
    # Fake APIs are called by API clients, never by browsers: no CSRF.
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            _csrf_exempt_all(pattern.url_patterns)
        elif hasattr(pattern, "callback"):
            pattern.callback.csrf_exempt = True
    return patterns


urlpatterns = [
    path("_sandbox/scenario", control.scenario, name="sandbox-scenario"),
    path("_sandbox/reset", control.reset, name="sandbox-reset"),
    path("_sandbox/zoom", control.zoom, name="sandbox-zoom"),
    path("_sandbox/token", control.token, name="sandbox-token"),
    path("_sandbox/calls", control.calls, name="sandbox-calls"),
    path("_sandbox/state", control.state, name="sandbox-state"),
    path("_sandbox/config", control.config, name="sandbox-config"),
    path("_sandbox/webhooks", control.webhooks, name="sandbox-webhooks"),
    path("_sandbox/act", control.act, name="sandbox-act"),
    path("zoom/", include("sandbox.zoom.urls")),
    path("hubspot/", include("sandbox.hubspot.urls")),
]

_csrf_exempt_all(urlpatterns)
