"""The sandbox's in-memory world: one per process.

`SandboxState` holds the fake Zoom (`.zoom`), the fake HubSpot (`.hubspot`) and the call
counters. One RLock (`.lock`) serialises every mutation; views hold it only while they touch
the state (never while sleeping for latency). `reset()` and `load()` replace the whole world.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.hubspot_bridge import HubSpotState
    from sandbox.zoom.state import ZoomState

SERVICES = ("zoom", "hubspot")


class CallCounters:
    """Calls per service keyed "METHOD /path/template", plus throttled (429) and fault counts."""

    def __init__(self) -> None:
        self.calls: dict[str, Counter[str]] = {s: Counter() for s in SERVICES}
        self.throttled: Counter[str] = Counter({s: 0 for s in SERVICES})
        self.faults: Counter[str] = Counter({s: 0 for s in SERVICES})

    def snapshot(self) -> dict[str, Any]:
        return {
            "zoom": dict(self.calls["zoom"]),
            "hubspot": dict(self.calls["hubspot"]),
            "throttled": {s: self.throttled[s] for s in SERVICES},
            "faults": {s: self.faults[s] for s in SERVICES},
            "total": {s: sum(self.calls[s].values()) for s in SERVICES},
        }


class SandboxState:
    def __init__(self, *, zoom: ZoomState, hubspot: HubSpotState) -> None:
        self.lock = threading.RLock()
        self.zoom = zoom
        self.hubspot = hubspot
        self.counters = CallCounters()
        # Rate-limit windows live here so a reset clears them (sandbox.middleware).
        self.rate_windows: dict[Any, Any] = {}

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"hubspot": self.hubspot.snapshot(), "zoom": self.zoom.snapshot()}


def _empty() -> SandboxState:
    from sandbox.scenario import scenario_load

    return scenario_load({})


_holder_lock = threading.Lock()
_state: SandboxState | None = None


def sandbox_state() -> SandboxState:
    """The world this process serves."""
    global _state
    if _state is None:
        with _holder_lock:
            if _state is None:
                _state = _empty()
    return _state


def reset() -> SandboxState:
    """Empty world, counters to zero, knobs back to the server's baseline."""
    from sandbox.config import knobs_restore_baseline

    global _state
    new = _empty()
    with _holder_lock:
        _state = new
    knobs_restore_baseline()
    return new


def load(scenario: dict[str, Any] | str) -> SandboxState:
    """Replace the world with a scenario (a dict, a built-in name or a file path).

    Counters start from zero. Zoom OAuth tokens of accounts that still exist stay valid, so a
    connected connector survives a scenario swap (HubSpot's too, when its state supports it).
    """
    from sandbox.scenario import scenario_load, scenario_read

    global _state
    new = scenario_load(scenario_read(scenario))
    with _holder_lock:
        old = _state
        if old is not None:
            with old.lock:
                new.zoom.adopt_tokens(old.zoom)
                adopt = getattr(new.hubspot, "adopt_tokens", None)
                if adopt is not None:
                    adopt(old.hubspot)
        _state = new
    return new


def zoom_replace(scenario: dict[str, Any]) -> SandboxState:
    """Replace only the fake Zoom with the `zoom` part of a scenario (extension, issue 5).

    HubSpot's state, the call counters and the Zoom tokens of accounts still there stay, so a
    test can change what Zoom holds between two syncs (a recording processed, a registration
    cancelled, a webinar moved) and see what the next sync does to HubSpot.
    """
    from sandbox.scenario import keys_check, scenario_load

    keys_check(scenario, allowed=("hubspot", "zoom"), path="")
    new_zoom = scenario_load({"zoom": scenario.get("zoom") or {}}).zoom
    world = sandbox_state()
    with world.lock:
        new_zoom.adopt_tokens(world.zoom)
        world.zoom = new_zoom
    return world
