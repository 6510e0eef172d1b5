"""Fixtures for the API client unit tests (HTTP mocked with `responses`, no real sleeps)."""

from __future__ import annotations

import pytest
import responses

from connector.clients.hubspot import HubSpotClient
from connector.clients.zoom import ZoomClient

ZOOM = "https://api.zoom.us/v2"
HUBSPOT = "https://api.hubapi.com"


class SleepRecorder:
    """Stands in for time.sleep: records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def zoom(sleeps) -> ZoomClient:
    return ZoomClient(
        base_url=ZOOM,
        token_provider=lambda: "zoom-token",
        sleep=sleeps,
        max_retries=3,
        max_backoff=5,
        backoff_base=0.01,
    )


@pytest.fixture
def hubspot(sleeps) -> HubSpotClient:
    return HubSpotClient(
        base_url=HUBSPOT,
        token_provider=lambda: "hs-token",
        sleep=sleeps,
        max_retries=3,
        max_backoff=5,
        backoff_base=0.01,
        developer_api_key="dev-key",
        app_id=4242,
    )
