"""Helpers for the sandbox's own tests: HTTP sessions authenticated against the fake APIs."""

from __future__ import annotations

import pytest
import requests


class ZoomClient:
    """A bare requests wrapper for the fake Zoom (tests speak raw HTTP on purpose)."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **kwargs):
        return self.session.get(self.base + path, timeout=30, **kwargs)

    def post(self, path: str, **kwargs):
        return self.session.post(self.base + path, timeout=30, **kwargs)


@pytest.fixture
def zoom(sandbox_demo) -> ZoomClient:
    """The demo world, as the main Zoom account sees it (rate limits off: tests call fast)."""
    sandbox_demo.configure(rate_limits=False)
    return ZoomClient(f"{sandbox_demo.url}/zoom/v2", sandbox_demo.token("zoom", "zacc_main"))


@pytest.fixture
def zoom_factory(sandbox):
    def make(account_id: str) -> ZoomClient:
        return ZoomClient(f"{sandbox.url}/zoom/v2", sandbox.token("zoom", account_id))

    return make
