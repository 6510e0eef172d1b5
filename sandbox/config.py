"""Runtime knobs of the sandbox (latency, rate limits, fault injection, token lifetimes).

One set of knobs per process, like the state. `SandboxServer(**knobs)` and `sandbox serve` flags
set the *baseline*; `POST /_sandbox/config` changes the current values; `POST /_sandbox/reset`
restores the baseline. Every random draw (faults) comes from one seeded RNG so runs reproduce.
"""

from __future__ import annotations

import copy
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

ZOOM_LABELS = ("light", "medium", "heavy")


def _zoom_limits_default() -> dict[str, int]:
    # Zoom "Pro" plan per-second limits per account and label (research/zoom-api.md §9).
    return {"light": 30, "medium": 20, "heavy": 10}


@dataclass
class Knobs:
    latency_ms: int = 0
    rate_limits: bool = True
    # HubSpot: [max requests, window seconds], per portal, rolling window.
    hubspot_rate_limit: list[int] = field(default_factory=lambda: [110, 10])
    zoom_rate_limits: dict[str, int] = field(default_factory=_zoom_limits_default)
    # Probabilities per API call (0..1).
    fault_rate: float = 0.0
    timeout_rate: float = 0.0
    drop_rate: float = 0.0
    # A "read timeout" fault sleeps this long before answering normally.
    timeout_delay_s: float = 3.0
    seed: int | None = None
    # HubSpot access-token lifetime (real: 1800 s); Zoom's (real: 3600 s).
    token_lifetime_s: int = 1800
    zoom_token_lifetime_s: int = 3600
    # Zoom: add-registrant calls per registrant per webinar per UTC day.
    registrant_daily_limit: int = 3
    # Live changes and webhooks (sandbox/webhooks.py, sandbox/live.py).
    webhook_duplicate_rate: float = 0.0
    webhook_shuffle: bool = False
    webhook_delay_ms: int = 0
    # A just-held session's participant report is empty for this long (Zoom's report lags).
    report_delay_s: float = 0.0
    # A failed delivery is tried again after each delay (Zoom: 5, 20, 60 minutes; short here).
    webhook_retry_delays_s: list[float] = field(default_factory=lambda: [0.5, 1.0, 2.0])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class KnobError(ValueError):
    pass


_FLOAT_KNOBS = ("fault_rate", "timeout_rate", "drop_rate", "timeout_delay_s", "webhook_duplicate_rate",
                "report_delay_s")
_INT_KNOBS = ("latency_ms", "token_lifetime_s", "zoom_token_lifetime_s", "registrant_daily_limit",
              "webhook_delay_ms")


def knobs_validate(changes: dict[str, Any], *, base: Knobs) -> Knobs:
    """Return a copy of `base` with `changes` applied; KnobError names a bad knob."""
    new = copy.deepcopy(base)
    names = set(Knobs.__dataclass_fields__)
    for key, value in changes.items():
        if key not in names:
            raise KnobError(f"unknown knob {key!r}; known: {sorted(names)}")
        if key in _FLOAT_KNOBS:
            try:
                value = float(value)
            except (TypeError, ValueError) as exc:
                raise KnobError(f"{key} must be a number") from exc
            if key.endswith("_rate") and not 0.0 <= value <= 1.0:
                raise KnobError(f"{key} must be between 0 and 1")
            if value < 0:
                raise KnobError(f"{key} must be >= 0")
        elif key in _INT_KNOBS:
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise KnobError(f"{key} must be a non-negative integer")
            value = int(value)
        elif key == "webhook_retry_delays_s":
            if not isinstance(value, list | tuple) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 3600 for v in value
            ):
                raise KnobError("webhook_retry_delays_s must be a list of seconds (0..3600)")
            value = [float(v) for v in value]
        elif key in ("rate_limits", "webhook_shuffle"):
            if isinstance(value, str):
                value = value.lower() in ("1", "on", "true", "yes")
            value = bool(value)
        elif key == "hubspot_rate_limit":
            if (
                not isinstance(value, list | tuple)
                or len(value) != 2
                or not all(isinstance(v, int) and v > 0 for v in value)
            ):
                raise KnobError("hubspot_rate_limit must be [max_requests, window_seconds]")
            value = [int(value[0]), int(value[1])]
        elif key == "zoom_rate_limits":
            if not isinstance(value, dict):
                raise KnobError("zoom_rate_limits must be an object")
            merged = dict(new.zoom_rate_limits)
            for label, limit in value.items():
                if label.lower() not in ZOOM_LABELS:
                    raise KnobError(f"zoom_rate_limits: unknown label {label!r}")
                if not isinstance(limit, int) or limit <= 0:
                    raise KnobError(f"zoom_rate_limits.{label} must be a positive integer")
                merged[label.lower()] = limit
            value = merged
        elif key == "seed" and value is not None and (
            isinstance(value, bool) or not isinstance(value, int)
        ):
            raise KnobError("seed must be an integer or null")
        setattr(new, key, value)
    return new


class _KnobStore:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.baseline = Knobs()
        self.current = Knobs()
        self.rng = random.Random()  # noqa: S311 - fault injection, not security

    def set_baseline(self, knobs: Knobs) -> None:
        with self.lock:
            self.baseline = copy.deepcopy(knobs)
            self._install(copy.deepcopy(knobs))

    def restore_baseline(self) -> None:
        with self.lock:
            self._install(copy.deepcopy(self.baseline))

    def update(self, changes: dict[str, Any]) -> Knobs:
        with self.lock:
            new = knobs_validate(changes, base=self.current)
            reseed = "seed" in changes
            self.current = new
            if reseed:
                self.rng.seed(new.seed)
            return new

    def _install(self, knobs: Knobs) -> None:
        self.current = knobs
        self.rng.seed(knobs.seed)

    def random(self) -> float:
        with self.lock:
            return self.rng.random()

    def choice(self, seq: list[Any]) -> Any:
        with self.lock:
            return self.rng.choice(seq)

    def shuffle(self, seq: list[Any]) -> None:
        with self.lock:
            self.rng.shuffle(seq)


_store = _KnobStore()


def knobs() -> Knobs:
    """The knobs in force now (read-only by convention; change them with `knobs_update`)."""
    return _store.current


def knobs_update(changes: dict[str, Any]) -> Knobs:
    return _store.update(changes)


def knobs_set_baseline(changes: dict[str, Any]) -> Knobs:
    new = knobs_validate(changes, base=Knobs())
    _store.set_baseline(new)
    return new


def knobs_restore_baseline() -> None:
    _store.restore_baseline()


def rng_random() -> float:
    return _store.random()


def rng_choice(seq: list[Any]) -> Any:
    return _store.choice(seq)


def rng_shuffle(seq: list[Any]) -> None:
    _store.shuffle(seq)
