"""Client-side rate limiter: GCRA in-process (fake clock, no real sleeps) and in Redis."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
import responses

from connector.clients.ratelimit import (
    InProcessLimiter,
    Rate,
    RedisLimiter,
    limiter_for,
    limiters_reset,
    resolver_for,
)
from connector.clients.zoom import ZoomClient


class FakeClock:
    """A monotonic clock that only moves when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)
            self.now += seconds


def _limiter(clock: FakeClock, rate: Rate) -> InProcessLimiter:
    return InProcessLimiter(lambda key: rate, clock=clock, sleep=clock.sleep)


def _max_in_window(times: list[float], window: float) -> int:
    best = 0
    for i, start in enumerate(times):
        best = max(best, sum(1 for t in times[i:] if t < start + window - 1e-9))
    return best


def test_hubspot_default_rate_spaces_requests_evenly_under_110_per_10s():
    clock = FakeClock()
    limiter = _limiter(clock, Rate.parse("100/10"))
    sent: list[float] = []
    for _ in range(300):
        limiter.acquire("hubspot:62515")
        sent.append(clock.now)

    # 10 per second, evenly: 300 requests take 29.9 s, never a burst.
    assert sent[-1] - sent[0] == pytest.approx(29.9)
    gaps = {round(b - a, 6) for a, b in zip(sent, sent[1:], strict=False)}
    assert gaps == {0.1}
    assert _max_in_window(sent, 10.0) <= 101 < 110


def test_rate_is_not_serialised_to_one_per_second():
    # The benchmark needs ~11 HubSpot calls per second; the limiter must allow ~10/s.
    clock = FakeClock()
    limiter = _limiter(clock, Rate.parse("100/10"))
    for _ in range(101):
        limiter.acquire("k")
    assert clock.now - 1000.0 == pytest.approx(10.0)


def test_burst_then_steady_rate_keeps_window_cap():
    clock = FakeClock()
    rate = Rate.parse("30/1/3")
    limiter = _limiter(clock, rate)
    sent = []
    for _ in range(90):
        limiter.acquire("zoom:acc:LIGHT")
        sent.append(clock.now)
    assert sent[:3] == [1000.0, 1000.0, 1000.0]  # the burst goes at once
    assert _max_in_window(sent, 1.0) <= 31


def test_idle_time_is_not_banked_beyond_the_burst():
    clock = FakeClock()
    limiter = _limiter(clock, Rate.parse("10/1/2"))
    limiter.acquire("k")
    clock.now += 60  # a minute idle
    before = len(clock.sleeps)
    for _ in range(5):
        limiter.acquire("k")
    # Only the burst of 2 goes without waiting; then 0.111 s spacing resumes.
    waits = clock.sleeps[before:]
    assert len(waits) == 3
    assert all(w == pytest.approx(1 / 9) for w in waits)


def test_keys_are_independent():
    clock = FakeClock()
    limiter = _limiter(clock, Rate.parse("1/1"))
    limiter.acquire("hubspot:1")
    limiter.acquire("hubspot:2")
    assert clock.sleeps == []
    limiter.acquire("hubspot:1")
    assert clock.sleeps == [1.0]


def test_cost_reserves_several_slots():
    clock = FakeClock()
    limiter = _limiter(clock, Rate.parse("10/1"))
    limiter.acquire("k", cost=5)
    limiter.acquire("k")
    assert clock.sleeps == [pytest.approx(0.5)]


def test_slow_down_pushes_schedule_back():
    clock = FakeClock()
    limiter = _limiter(clock, Rate.parse("10/1"))
    limiter.acquire("k")
    limiter.slow_down("k", 3.0)
    limiter.acquire("k")
    assert clock.sleeps == [pytest.approx(3.1)]


def test_threads_share_one_schedule():
    # The clock stands still, so each reservation's wait shows its slot in the schedule.
    clock = FakeClock()
    waits: list[float] = []
    lock = threading.Lock()

    def record(seconds: float) -> None:
        with lock:
            waits.append(seconds)

    limiter = InProcessLimiter(lambda key: Rate.parse("50/1"), clock=clock, sleep=record)
    threads = [
        threading.Thread(target=lambda: [limiter.acquire("k") for _ in range(10)]) for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 50 reservations, 20 ms apart, no slot given twice.
    assert sorted(round(w, 6) for w in waits) == [round(i * 0.02, 6) for i in range(1, 50)]


def test_zoom_429_retry_after_goes_through_the_shared_limiter():
    clock = FakeClock()
    limiter = InProcessLimiter(resolver_for("zoom"), clock=clock, sleep=clock.sleep)
    client = ZoomClient(
        base_url="https://api.zoom.us/v2",
        token_provider=lambda: "t",
        limiter=limiter,
        limiter_key="zoom:acc",
        sleep=clock.sleep,
    )
    with responses.RequestsMock() as rsps:
        rsps.get("https://api.zoom.us/v2/users/u", status=429, headers={"Retry-After": "2"})
        rsps.get("https://api.zoom.us/v2/users/u", json={"id": "u"})
        assert client.user_get("u") == {"id": "u"}
    # The wait is served by the limiter (so every client on the key waits), exactly once.
    assert sum(clock.sleeps) == pytest.approx(2.0 + Rate.parse("27/1").interval, abs=0.01)


def test_rate_parse_and_resolution():
    assert Rate.parse("100/10") == Rate(100, 10.0, 1)
    assert Rate.parse("30/1/3").interval == pytest.approx(1 / 28)
    with pytest.raises(ValueError):
        Rate.parse("fast")
    with pytest.raises(ValueError):
        Rate.parse("5/1/9")
    hubspot = resolver_for("hubspot", {"default": Rate(100, 10), "search": Rate(4, 1)})
    assert hubspot("hubspot:62515") == Rate(100, 10)
    assert hubspot("hubspot:62515:search") == Rate(4, 1)
    zoom = resolver_for("zoom", {"LIGHT": Rate(27, 1), "MEDIUM": Rate(18, 1), "HEAVY": Rate(9, 1)})
    assert zoom("zoom:acc:HEAVY") == Rate(9, 1)
    assert zoom("zoom:acc") == Rate(18, 1)


def test_limits_configurable_from_settings(settings):
    settings.HUBSPOT_RATE_LIMIT = "50/10"
    settings.ZOOM_RATE_LIMIT_HEAVY = "40/1"
    settings.REDIS_URL = ""
    limiters_reset()
    try:
        hubspot = limiter_for("hubspot")
        assert isinstance(hubspot, InProcessLimiter)
        assert hubspot.resolver("hubspot:1") == Rate(50, 10)
        assert limiter_for("hubspot") is hubspot  # one per process: clients share it
        assert limiter_for("zoom").resolver("zoom:a:HEAVY") == Rate(40, 1)
    finally:
        limiters_reset()


# --- Redis (the real local server) ------------------------------------------------


def _redis_client():
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {url}: {exc}")
    return client


@pytest.mark.services
def test_redis_limiter_spaces_requests_across_workers():
    client = _redis_client()
    rate = Rate.parse("20/1")
    waits: list[float] = []
    prefix = f"zoomsync:test:{uuid.uuid4().hex}:"
    # Two "workers" (separate limiter objects) on the same key share one schedule.
    first = RedisLimiter(lambda key: rate, client=client, prefix=prefix, sleep=waits.append)
    second = RedisLimiter(lambda key: rate, client=client, prefix=prefix, sleep=waits.append)
    try:
        started: list[float] = []
        for i in range(20):
            started.append(time.monotonic())
            (first if i % 2 else second).acquire("hubspot:62515")
        # Nobody sleeps, so each reservation lands one interval (50 ms) after the last; the wait
        # told is that slot less the real time already gone by (a loaded machine is slow).
        assert len(waits) == 19
        for n, wait in enumerate(waits, start=1):
            gone = started[n] - started[0]
            assert wait == pytest.approx(n * 0.05 - gone, abs=0.02)
        # Another key is independent.
        before = len(waits)
        first.acquire("hubspot:other")
        assert len(waits) == before
    finally:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


@pytest.mark.services
def test_redis_limiter_slow_down_and_expiry():
    client = _redis_client()
    rate = Rate.parse("10/1")
    waits: list[float] = []
    prefix = f"zoomsync:test:{uuid.uuid4().hex}:"
    limiter = RedisLimiter(lambda key: rate, client=client, prefix=prefix, sleep=waits.append)
    try:
        limiter.acquire("k")
        limiter.slow_down("k", 2.0)
        limiter.acquire("k")
        assert waits[0] == pytest.approx(2.1, abs=0.05)
        ttl = client.pttl(f"{prefix}k")
        assert 0 < ttl <= 4000  # the key does not outlive its schedule by much
    finally:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


def test_redis_limiter_falls_back_in_process_when_redis_is_down():
    import redis

    clock = FakeClock()
    rate = Rate.parse("10/1")
    fallback = InProcessLimiter(lambda key: rate, clock=clock, sleep=clock.sleep)
    broken = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter = RedisLimiter(lambda key: rate, client=broken, sleep=clock.sleep, fallback=fallback)
    limiter.acquire("k")
    limiter.acquire("k")
    assert clock.sleeps == [pytest.approx(0.1)]
