"""pytest fixtures for the sandbox (registered from tests/conftest.py).

- `sandbox_server_session`: one `SandboxServer` per test session, on a free loopback port.
- `sandbox`: per test: empty world, counters zero, knobs back to defaults; returns the server.
  Load a world with `sandbox.load("demo")` / `sandbox.load({...})`; change knobs with
  `sandbox.configure(rate_limits=False, latency_ms=5, ...)`.
- `sandbox_demo`: like `sandbox`, with the built-in demo scenario loaded.
- Markers as fixture arguments: `@pytest.mark.sandbox_knobs(latency_ms=5, rate_limits=False)`
  applies knobs, `@pytest.mark.sandbox_scenario("demo")` (or a dict/path) loads a world, both
  before the test gets `sandbox`.
- `contract_recorder`: a factory `attach(session) -> ContractRecorder` validating every
  exchange of a `requests.Session` against the official specs; skips when the specs are absent
  (fails instead when REQUIRE_SPECS=1). Call `recorder.assert_clean()` at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sandbox.server import SandboxServer


@pytest.fixture(scope="session")
def sandbox_server_session() -> Iterator[SandboxServer]:
    server = SandboxServer(port=0, scenario=None)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sandbox_knobs(**knobs): sandbox knobs for this test")
    config.addinivalue_line("markers", "sandbox_scenario(scenario): sandbox world for this test")


@pytest.fixture
def sandbox(sandbox_server_session: SandboxServer, request: pytest.FixtureRequest) -> SandboxServer:
    sandbox_server_session.reset()
    scenario = request.node.get_closest_marker("sandbox_scenario")
    if scenario is not None:
        sandbox_server_session.load(scenario.args[0])
    knobs = request.node.get_closest_marker("sandbox_knobs")
    if knobs is not None:
        sandbox_server_session.configure(**knobs.kwargs)
    return sandbox_server_session


@pytest.fixture
def contract_recorder() -> Callable[[Any], Any]:
    from sandbox.contract import ContractRecorder, specs_require

    specs_require()
    return ContractRecorder.attach


@pytest.fixture
def sandbox_demo(sandbox: SandboxServer) -> SandboxServer:
    sandbox.load("demo")
    return sandbox
