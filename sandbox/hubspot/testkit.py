"""Test helper: drive the fake HubSpot views in-process with Django's test client.

The HTTP fixture of `sandbox.testing` is the way to test over real HTTP (with the core's
middleware: rate limits, faults, call counting). This helper tests the HubSpot behaviour
itself, with a controllable clock, independent of the server.
"""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from sandbox.hubspot.state import HubSpotState

PREFIX = "/hubspot"
DEFAULT = object()  # "use the fake's own valid token"


class Response:
    def __init__(self, status: int, body: Any, headers: dict[str, str]) -> None:
        self.status = status
        self.body = body
        self.headers = headers

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.body!r}>"


class FakeHubSpot:
    """`load(scenario)`, then `get/post/patch/delete(path, body, query)` with a valid token."""

    def __init__(self, monkeypatch: Any) -> None:
        self.monkeypatch = monkeypatch
        self.client = Client()
        self.now = 1_790_000_000.0
        self.load({})

    def load(self, hubspot: dict[str, Any]) -> HubSpotState:
        self.state = HubSpotState.from_scenario(hubspot)
        self.state.clock = lambda: self.now
        from sandbox.hubspot import views

        self.monkeypatch.setattr(views, "current_state", lambda: self.state)
        self.token = str(self.state.issue_token(1800))
        return self.state

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def request(self, method: str, path: str, body: Any = None, *,
                query: dict[str, Any] | None = None, token: Any = DEFAULT,
                form: dict[str, str] | None = None) -> Response:
        headers = {}
        tok = self.token if token is DEFAULT else token
        if tok:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {tok}"
        url = PREFIX + path
        if query:
            from urllib.parse import urlencode

            url += "?" + urlencode(query, doseq=True)
        kwargs: dict[str, Any] = dict(headers)
        if form is not None:
            resp = self.client.generic(
                method, url, data=_urlencode(form),
                content_type="application/x-www-form-urlencoded", **kwargs)
        elif body is not None:
            resp = self.client.generic(method, url, data=json.dumps(body),
                                       content_type="application/json", **kwargs)
        else:
            resp = self.client.generic(method, url, **kwargs)
        parsed = json.loads(resp.content) if resp.content else None
        return Response(resp.status_code, parsed, dict(resp.headers))

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("PUT", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.request("DELETE", path, **kw)


def _urlencode(form: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(form)


# A URLconf with only the fake HubSpot, for `pytest.mark.urls("sandbox.hubspot.testkit")`:
# HubSpot tests do not depend on the rest of the site's routes.
def _urlpatterns() -> list[Any]:
    from django.urls import include, path

    return [path("hubspot/", include("sandbox.hubspot.urls"))]


urlpatterns = _urlpatterns()
