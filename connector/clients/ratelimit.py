"""Client-side rate limiting: GCRA (generic cell rate algorithm), in Redis or in-process.

Why GCRA and why our own ~30 lines of Lua rather than a library
----------------------------------------------------------------
The two maintained candidates were weighed and not taken:

* `limits` (alisaifee) has Redis fixed/moving/sliding windows but only answers "allowed
  or not"; a blocking acquire has to poll, and a moving window lets a full burst of 100
  through and then stalls for ten seconds. That burst-then-stall is exactly what makes a
  sync collide with HubSpot's own rolling window when two workers share a portal.
* `pyrate-limiter` has a Redis bucket (a sorted-set log: one member per request) and a
  blocking mode, but its API changed incompatibly in each of v2, v3 and v4, and the log
  costs memory per request.

GCRA keeps one number per key (the "theoretical arrival time"), spaces requests evenly at
the allowed rate (what the benchmark needs: ~10 HubSpot calls per second sustained, never
a burst), and its Redis form is a single atomic script using Redis's own clock, so every
worker on every host agrees. Each `acquire` *reserves* the next slot and sleeps until it,
so waiters are served in order and Redis is called once per request, not polled.

Rates
-----
A rate "N/P[/B]" means: at most about N requests in any P seconds, with bursts of at most
B (default 1: pure even spacing). The emission interval is P / (N - B + 1), so even with a
full burst no window of P seconds holds more than N + 1 requests.

* HubSpot: 110 requests / 10 s per portal for marketplace apps. Default `100/10`
  (10 per second, ≤ 101 in any 10 s) leaves room for clock jitter and network reordering;
  setting or env `HUBSPOT_RATE_LIMIT`. The search API has its own 5/s limit
  (`HUBSPOT_SEARCH_RATE_LIMIT`, default `4/1`).
* Zoom: per account, per rate-limit label, shared by every endpoint with that label
  (research/zoom-api.md §9). Pro plan defaults LIGHT 30/s, MEDIUM 20/s, HEAVY 10/s, set
  to 90% (27, 18, 9) so a normal sync never sees a 429; settings/env `ZOOM_RATE_LIMIT_LIGHT`,
  `ZOOM_RATE_LIMIT_MEDIUM`, `ZOOM_RATE_LIMIT_HEAVY`.

Keys: `hubspot:{hub_id}`, `hubspot:{hub_id}:search`, `zoom:{account_id}:{LABEL}`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

logger = logging.getLogger("zoomsync.clients.ratelimit")


@dataclass(frozen=True)
class Rate:
    limit: int
    period: float
    burst: int = 1

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period <= 0 or not 1 <= self.burst <= self.limit:
            raise ValueError(f"invalid rate {self.limit}/{self.period}/{self.burst}")

    @classmethod
    def parse(cls, text: str) -> Rate:
        """ "100/10" → 100 per 10 s; "30/1/3" → 30 per second, bursts of 3."""
        parts = [p.strip() for p in str(text).split("/")]
        if len(parts) not in (2, 3):
            raise ValueError(f"rate must look like N/SECONDS[/BURST], got {text!r}")
        burst = int(parts[2]) if len(parts) == 3 else 1
        return cls(limit=int(parts[0]), period=float(parts[1]), burst=burst)

    @property
    def interval(self) -> float:
        """Seconds between two requests at the steady rate."""
        return self.period / (self.limit - self.burst + 1)

    @property
    def tolerance(self) -> float:
        """How far ahead of the steady schedule a burst may run."""
        return (self.burst - 1) * self.interval


@runtime_checkable
class RateLimiter(Protocol):
    def acquire(self, key: str, cost: int = 1) -> None:
        """Block until `cost` requests may be sent under `key`."""
        ...


RateResolver = Callable[[str], Rate | None]


class GcraLimiter:
    """Shared plumbing: resolve the key's rate, reserve a slot, sleep until it."""

    def __init__(
        self,
        resolver: RateResolver,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 600.0,
    ) -> None:
        self.resolver = resolver
        self.sleep = sleep
        self.max_wait = max_wait
        self.total_wait = 0.0
        # Rates the provider announced for a key (its rate-limit headers): they win over the
        # configured default, so a long push runs close to the real limit (B2).
        self.learned: dict[str, Rate] = {}

    def rate_learn(self, key: str, rate: Rate) -> None:
        """Use `rate` for `key` from now on (what the provider's headers say)."""
        if self.learned.get(key) != rate:
            logger.info("rate of %s set to %s/%ss from the provider's headers", key, rate.limit, rate.period)
            self.learned[key] = rate

    def acquire(self, key: str, cost: int = 1) -> None:
        rate = self.learned.get(key) or self.resolver(key)
        if rate is None:
            return
        wait = self.reserve(key, rate, cost)
        if wait > 1e-6:  # float noise is not a wait
            wait = min(wait, self.max_wait)
            self.total_wait += wait
            self.sleep(wait)

    def reserve(self, key: str, rate: Rate, cost: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def slow_down(self, key: str, seconds: float) -> None:
        """Push the key's schedule back (the server said we are close to its limit)."""


class InProcessLimiter(GcraLimiter):
    """Thread-safe GCRA for one process (no broker configured)."""

    def __init__(
        self,
        resolver: RateResolver,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 600.0,
    ) -> None:
        super().__init__(resolver, sleep=sleep, max_wait=max_wait)
        self.clock = clock
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, key: str, rate: Rate, cost: int) -> float:
        with self._lock:
            now = self.clock()
            tat = max(self._tat.get(key, now), now)
            send_at = max(now, tat - rate.tolerance)
            self._tat[key] = tat + rate.interval * cost
            return send_at - now

    def slow_down(self, key: str, seconds: float) -> None:
        with self._lock:
            now = self.clock()
            self._tat[key] = max(self._tat.get(key, now), now) + seconds


# KEYS[1] = bucket; ARGV = interval, tolerance, cost, extra delay. Returns the wait (s) as a
# string (Lua numbers become integers in replies). Redis TIME is the one clock all workers
# share, so host clock skew cannot let two workers double the rate.
_GCRA_LUA = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local extra = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local send_at = tat - tolerance
if send_at < now then send_at = now end
local new_tat = tat + interval * cost + extra
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX', math.ceil((new_tat - now + tolerance) * 1000) + 1000)
return string.format('%.6f', send_at - now)
"""


class RedisLimiter(GcraLimiter):
    """GCRA in Redis: one atomic script per request, shared by all workers."""

    def __init__(
        self,
        resolver: RateResolver,
        *,
        client: Any = None,
        url: str = "",
        prefix: str = "zoomsync:rl:",
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 600.0,
        fallback: InProcessLimiter | None = None,
    ) -> None:
        super().__init__(resolver, sleep=sleep, max_wait=max_wait)
        if client is None:
            import redis

            client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self.client = client
        self.prefix = prefix
        self._script = client.register_script(_GCRA_LUA)
        # If Redis is briefly unreachable, pace in-process rather than fail the sync.
        self.fallback = fallback or InProcessLimiter(resolver, sleep=sleep, max_wait=max_wait)

    def reserve(self, key: str, rate: Rate, cost: int) -> float:
        return self._run(key, rate.interval, rate.tolerance, cost, 0.0, rate)

    def slow_down(self, key: str, seconds: float) -> None:
        rate = self.resolver(key)
        if rate is not None:
            self._run(key, 0.0, rate.tolerance, 0, seconds, rate)

    def _run(
        self, key: str, interval: float, tolerance: float, cost: int, extra: float, rate: Rate
    ) -> float:
        import redis

        try:
            reply = self._script(keys=[self.prefix + key], args=[interval, tolerance, cost, extra])
        except redis.RedisError as exc:
            logger.warning(
                "rate limiter: Redis unavailable, pacing in-process",
                extra={"limiter_key": key, "error": type(exc).__name__},
            )
            return self.fallback.reserve(key, rate, cost) if cost else 0.0
        return float(reply.decode() if isinstance(reply, bytes) else reply)


# --- configuration --------------------------------------------------------------

ZOOM_LABELS = ("LIGHT", "MEDIUM", "HEAVY", "RESOURCE_INTENSIVE")
_DEFAULTS = {
    "HUBSPOT_RATE_LIMIT": "100/10",
    "HUBSPOT_SEARCH_RATE_LIMIT": "4/1",
    "ZOOM_RATE_LIMIT_LIGHT": "27/1",
    "ZOOM_RATE_LIMIT_MEDIUM": "18/1",
    "ZOOM_RATE_LIMIT_HEAVY": "9/1",
    "ZOOM_RATE_LIMIT_RESOURCE_INTENSIVE": "9/60",
}


def _setting(name: str) -> str:
    """Django setting, else environment variable, else the default above."""
    try:
        from django.conf import settings

        value = getattr(settings, name, None)
    except Exception:  # settings not configured (plain scripts)
        value = None
    if value in (None, ""):
        value = os.environ.get(name) or _DEFAULTS[name]
    return str(value)


def rates_for(service: str) -> dict[str, Rate]:
    if service == "hubspot":
        return {
            "default": Rate.parse(_setting("HUBSPOT_RATE_LIMIT")),
            "search": Rate.parse(_setting("HUBSPOT_SEARCH_RATE_LIMIT")),
        }
    if service == "zoom":
        return {label: Rate.parse(_setting(f"ZOOM_RATE_LIMIT_{label}")) for label in ZOOM_LABELS}
    raise ValueError(f"unknown service {service!r}")


def resolver_for(service: str, rates: Mapping[str, Rate] | None = None) -> RateResolver:
    """Key → rate. `hubspot:{hub}` → default, `hubspot:{hub}:search` → search,
    `zoom:{account}:{LABEL}` → that label (MEDIUM when no label is given)."""
    table = dict(rates or rates_for(service))

    def resolve(key: str) -> Rate | None:
        suffix = key.rsplit(":", 1)[-1] if key.count(":") >= 2 else ""
        if service == "zoom":
            return table.get(suffix.upper()) or table.get("MEDIUM")
        return table.get(suffix) or table.get("default")

    return resolve


_limiters: dict[str, RateLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(service: str) -> RateLimiter:
    """The process-wide limiter for "hubspot" or "zoom" (one instance, so every client in
    the process shares its schedule). Redis-backed when settings.REDIS_URL is set."""
    with _limiters_lock:
        limiter = _limiters.get(service)
        if limiter is None:
            resolver = resolver_for(service)
            redis_url = _redis_url()
            if redis_url:
                limiter = RedisLimiter(resolver, url=redis_url)
            else:
                limiter = InProcessLimiter(resolver)
            _limiters[service] = limiter
        return limiter


def limiters_reset() -> None:
    """Forget the cached limiters (tests, or after settings change)."""
    with _limiters_lock:
        _limiters.clear()


def _redis_url() -> str:
    try:
        from django.conf import settings

        return str(getattr(settings, "REDIS_URL", "") or "")
    except Exception:
        return os.environ.get("REDIS_URL", "")
