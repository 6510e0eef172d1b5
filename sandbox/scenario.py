"""Scenario files (INTERFACES.md §3): validation and loading.

A scenario is a JSON object with a `hubspot` part (validated by `sandbox.hubspot.state`) and a
`zoom` part (validated by `sandbox.zoom.state`). Unknown keys are an error naming the key's
full path, so a typo (`registrnts`) never passes silently.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.state import SandboxState

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"


class ScenarioError(ValueError):
    """A scenario does not follow the format; `path` names the offending key."""

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(message)
        self.path = path


def keys_check(
    data: Any,
    *,
    allowed: Iterable[str],
    path: str,
    required: Iterable[str] = (),
) -> dict[str, Any]:
    """Check that `data` is an object with only `allowed` keys (and every `required` one)."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected an object, got {type(data).__name__}", path=path)
    allowed = tuple(allowed)
    for key in data:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            where = f"{path}.{key}" if path else str(key)
            msg = f"unknown key {where!r}"
            if hint:
                msg += f" (did you mean {hint[0]!r}?)"
            msg += f"; allowed keys here: {', '.join(sorted(allowed))}"
            raise ScenarioError(msg, path=where)
    for key in required:
        if key not in data:
            where = f"{path}.{key}" if path else key
            raise ScenarioError(f"missing required key {where!r}", path=where)
    return data


def list_check(data: Any, *, path: str) -> list[Any]:
    if not isinstance(data, list):
        raise ScenarioError(f"{path}: expected a list, got {type(data).__name__}", path=path)
    return data


def scenario_read(source: str | dict[str, Any] | Path) -> dict[str, Any]:
    """A scenario from a built-in name (`demo`), a JSON file path, or an already-parsed dict."""
    if isinstance(source, dict):
        return source
    text = str(source)
    builtin = SCENARIO_DIR / f"{text}.json"
    if "/" not in text and not text.endswith(".json") and builtin.exists():
        path = builtin
    else:
        path = Path(text)
        if not path.exists():
            names = sorted(p.stem for p in SCENARIO_DIR.glob("*.json"))
            raise ScenarioError(
                f"no built-in scenario or file named {text!r} (built-in: {', '.join(names)})"
            )
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a scenario is a JSON object")
    return data


def scenario_load(data: dict[str, Any]) -> SandboxState:
    """Validate a scenario and build the world it describes (not yet installed).

    Extension: `portals`, a list of scenarios (each with its own `hubspot` and `zoom` parts),
    serves several HubSpot portals from one sandbox. The top-level `hubspot`/`zoom` pair, when
    given, is the first portal; otherwise the first entry of `portals` is.
    """
    from sandbox.hubspot_bridge import HubSpotState
    from sandbox.state import PortalWorld, SandboxState
    from sandbox.zoom.state import ZoomState

    keys_check(data, allowed=("hubspot", "zoom", "portals"), path="")
    parts: list[tuple[dict[str, Any], str]] = []
    if "portals" not in data or "hubspot" in data or "zoom" in data:
        parts.append((data, ""))
    for i, item in enumerate(list_check(data.get("portals", []), path="portals")):
        where = f"portals[{i}]"
        parts.append((keys_check(item, allowed=("hubspot", "zoom"), path=where), where + "."))
    worlds: list[PortalWorld] = []
    seen: dict[int, str] = {}
    for part, prefix in parts:
        hubspot = HubSpotState.from_scenario(part.get("hubspot") or {}, path=f"{prefix}hubspot")
        zoom = ZoomState.from_scenario(part.get("zoom") or {}, path=f"{prefix}zoom")
        world = PortalWorld(zoom=zoom, hubspot=hubspot)
        if world.portal_id in seen:
            where = f"{prefix}hubspot.portal_id"
            raise ScenarioError(
                f"{where}: portal {world.portal_id} is already {seen[world.portal_id] or 'the top-level portal'}"
                " (every portal needs its own portal_id)", path=where)
        seen[world.portal_id] = prefix.rstrip(".")
        worlds.append(world)
    first, *more = worlds
    return SandboxState(zoom=first.zoom, hubspot=first.hubspot, more=more)


def scenarios_merge(sources: list[dict[str, Any]]) -> dict[str, Any]:
    """One multi-portal scenario from several single- or multi-portal ones (`serve --scenario
    a.json --scenario b.json`): every portal of every source, in order."""
    portals: list[dict[str, Any]] = []
    for data in sources:
        if "hubspot" in data or "zoom" in data or "portals" not in data:
            portals.append({k: data[k] for k in ("hubspot", "zoom") if k in data})
        portals.extend(data.get("portals") or [])
    return {"portals": portals}
