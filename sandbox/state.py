"""The sandbox's in-memory world: one per process.

`SandboxState` holds one or more HubSpot portals, each with its own fake Zoom (a
`PortalWorld`: `.hubspot`, `.zoom`, its rate-limit windows), and the call counters. `.zoom`,
`.hubspot` and `.rate_windows` resolve to the portal the current request is routed to
(`portal_routed`, set by `sandbox.middleware` from a `/p/<portal_id>/` path prefix or a
HubSpot bearer token), and to the first portal otherwise, so single-portal code never sees the
difference. One RLock (`.lock`) serialises every mutation; views hold it only while they touch
the state (never while sleeping for latency). `reset()` and `load()` replace the whole world.

Every world has a `world_id` (a fresh random id whenever `reset()` or `load()` builds one,
kept by `zoom_replace` and by the state file): the connector compares it with the one it
connected to, so a sandbox that restarted with a new world is never mistaken for the old one.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
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


class PortalWorld:
    """One HubSpot portal and the Zoom accounts connected to it."""

    def __init__(self, *, zoom: ZoomState, hubspot: HubSpotState) -> None:
        self.zoom = zoom
        self.hubspot = hubspot
        # Rate-limit windows live here so a reset clears them (sandbox.middleware).
        self.rate_windows: dict[Any, Any] = {}

    @property
    def portal_id(self) -> int:
        return int(self.hubspot.portal_id)


# The portal id the current request is routed to (None: the first portal).
_routed: contextvars.ContextVar[int | None] = contextvars.ContextVar("sandbox_portal", default=None)


@contextlib.contextmanager
def portal_routed(portal_id: int | None) -> Iterator[None]:
    """Within the block, `.zoom`/`.hubspot` of the world are those of `portal_id`."""
    token = _routed.set(portal_id)
    try:
        yield
    finally:
        _routed.reset(token)


class SandboxState:
    def __init__(self, *, zoom: ZoomState, hubspot: HubSpotState,
                 more: list[PortalWorld] | None = None) -> None:
        self.lock = threading.RLock()
        self.world_id = uuid.uuid4().hex
        first = PortalWorld(zoom=zoom, hubspot=hubspot)
        self.portals: dict[int, PortalWorld] = {first.portal_id: first}
        self.primary_portal_id = first.portal_id
        for extra in more or []:
            self.portals[extra.portal_id] = extra
        self.counters = CallCounters()

    # --- the routed portal ----------------------------------------------------------------

    def portal(self, portal_id: int | None = None) -> PortalWorld:
        """The portal `portal_id` (KeyError if unknown), else the routed one, else the first
        (also when the routed portal is not in this world: a load under a prefix replaced it)."""
        if portal_id is not None:
            return self.portals[portal_id]
        routed = _routed.get()
        return self.portals.get(routed if routed is not None else self.primary_portal_id) or \
            self.portals[self.primary_portal_id]

    def portal_for_token(self, token: str) -> int | None:
        """The portal that issued this HubSpot access or refresh token (None: unknown)."""
        for portal_id, world in self.portals.items():
            hub = world.hubspot
            if token in hub.access_tokens or token in hub.refresh_tokens:
                return portal_id
        return None

    @property
    def zoom(self) -> ZoomState:
        return self.portal().zoom

    @zoom.setter
    def zoom(self, value: ZoomState) -> None:
        self.portal().zoom = value

    @property
    def hubspot(self) -> HubSpotState:
        return self.portal().hubspot

    @property
    def rate_windows(self) -> dict[Any, Any]:
        return self.portal().rate_windows

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            out: dict[str, Any] = {"world_id": self.world_id, "hubspot": self.hubspot.snapshot(),
                   "zoom": self.zoom.snapshot()}
            if len(self.portals) > 1:
                out["portals"] = sorted(self.portals)
            return out


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

    Counters start from zero; the world gets a new `world_id`. Zoom OAuth tokens of accounts
    that still exist stay valid, so a connected connector survives a scenario swap (HubSpot's
    too, for a portal id that is still there).
    """
    from sandbox.scenario import scenario_load, scenario_read

    global _state
    new = scenario_load(scenario_read(scenario))
    with _holder_lock:
        old = _state
        if old is not None:
            with old.lock:
                for portal_id, world in new.portals.items():
                    # The first portal adopts from the first (as with one portal per sandbox).
                    before = old.portals.get(portal_id) or (
                        old.portal(old.primary_portal_id) if portal_id == new.primary_portal_id else None)
                    if before is None:
                        continue
                    world.zoom.adopt_tokens(before.zoom)
                    adopt = getattr(world.hubspot, "adopt_tokens", None)
                    if adopt is not None:
                        adopt(before.hubspot)
        _state = new
    return new


def install(world: SandboxState) -> SandboxState:
    """Serve `world` from now on (a world read back from a state file)."""
    global _state
    with _holder_lock:
        _state = world
    return world


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
