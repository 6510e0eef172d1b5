"""pytest fixtures for the sandbox (registered from tests/conftest.py).

- `sandbox_server_session`: one `SandboxServer` per test session, on a free loopback port.
- `sandbox`: per test: empty world, counters zero, knobs back to defaults; returns the server.
  Load a world with `sandbox.load("demo")` / `sandbox.load({...})`; change knobs with
  `sandbox.configure(rate_limits=False, latency_ms=5, ...)`.
- `sandbox_demo`: like `sandbox`, with the built-in demo scenario loaded.
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


@pytest.fixture
def sandbox(sandbox_server_session: SandboxServer) -> SandboxServer:
    sandbox_server_session.reset()
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
