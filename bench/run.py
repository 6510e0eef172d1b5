"""Benchmark of one full sync against the sandbox, with HubSpot's 110 requests / 10 s on.

    .venv/bin/python bench/run.py                 # 1×: one webinar, 10,000 registrants
    .venv/bin/python bench/run.py --scale 10      # 10×: 100,000 registrants (~10 minutes)
    .venv/bin/python bench/run.py --json out.json # also write the numbers as JSON

Each run is its own process (so peak memory is this sync's): it generates the scenario
(`sandbox generate`: 80 % of registrants attend, 20 % rejoin rows, 3 % guests), starts
`manage.py sandbox serve` in a subprocess with rate limits on, migrates a fresh SQLite
database, connects (connect_sandbox), runs a full sync (pull + compute + push) and then a
second sync, and prints API calls per service against the theoretical minimum, wall time
against the floor (HubSpot calls ÷ 11 per second), 429s received, and peak memory.
Not part of CI (minutes of wall time by design: the floor is the rate limit).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import free_port, wait_http

REPO = Path(__file__).resolve().parent.parent
HUBSPOT_PER_SECOND = 11  # 110 requests / 10 s


def _database_url(tmp: Path, *, postgres: bool, scale: int) -> str:
    """A fresh database: SQLite in the temp directory, or a new PostgreSQL database (the
    production engine) on the local server (`postgres` user, as .ci/run uses)."""
    if not postgres:
        return f"sqlite:///{tmp / 'bench.sqlite3'}"
    name = f"zoomsync_bench_{scale}x_{os.getpid()}"
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def _env(tmp: Path, database_url: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.update(
        {
            # Connections may name the sandbox's loopback URLs only with the sandbox mounted,
            # which needs DEBUG=1 at start; DEBUG is turned off right after setup (below), so
            # the sync runs as in production (no query log growing).
            "DEBUG": "1",
            "SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": database_url,
            "ZOOMSYNC_SANDBOX": "1",
        }
    )
    env.pop("CELERY_BROKER_URL", None)
    env.pop("REDIS_URL", None)  # in-process limiter: one process
    return env


def scenario_write(*, scale: int, path: Path) -> dict[str, int]:
    sys.path.insert(0, str(REPO))
    from sandbox.generate import scenario_generate

    registrants = int(os.environ.get("BENCH_REGISTRANTS") or 10_000 * scale)
    # 90 % of generated registrations are approved and only approved ones attend:
    # 0.889 × 0.9 ≈ 80 % of registrants attend.
    scenario = scenario_generate(
        webinars=1, registrants=registrants, attendance_rate=0.889, rejoin_rate=0.2, guest_rate=0.03, seed=7
    )
    path.write_text(json.dumps(scenario))
    webinar = scenario["zoom"]["accounts"][0]["webinars"][0]
    rows = webinar["instances"][0]["participants"]
    regs = webinar["registrants"]
    return {
        "registrants": len(regs),
        "registrants_counted": sum(1 for r in regs if r["status"] in ("approved", "pending")),
        "participant_rows": len(rows),
        "attendees": len({r["user_email"] for r in rows if r["user_email"]}),
        "guest_rows": sum(1 for r in rows if not r["user_email"]),
        "existing_contacts": len(scenario["hubspot"]["contacts"]),
        "zoom_users": len(scenario["zoom"]["accounts"][0]["users"]),
    }


def sandbox_start(*, port: int, scenario: Path, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, DEBUG="1", ZOOMSYNC_SANDBOX="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--scenario",
            str(scenario),
            "--rate-limits",
            "on",
            "--hubspot-rate-limit",
            "110/10",
        ],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )

    wait_http(f"http://127.0.0.1:{port}/_sandbox/calls", proc, log, ok_only=True)
    return proc


def _peak_rss_reset() -> None:
    """Linux: writing 5 to clear_refs resets VmHWM, so the peak measured next is the sync's."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def bench_once(*, scale: int, postgres: bool = False) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"zoomsync-bench-{scale}x-"))
    scenario_path = tmp / "scenario.json"
    # In a child process: the generator's 100,000 dicts must not count in our peak memory.
    child = subprocess.run(
        [sys.executable, __file__, "--scale", str(scale), "--write-scenario", str(scenario_path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    facts = json.loads(child.stdout)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    sandbox = sandbox_start(port=port, scenario=scenario_path, log=tmp / "sandbox.log")
    try:
        database_url = _database_url(tmp, postgres=postgres, scale=scale)
        os.environ.update(_env(tmp, database_url))
        os.environ["DJANGO_SETTINGS_MODULE"] = "zoomsync.settings"
        sys.path.insert(0, str(REPO))
        import django

        django.setup()
        from django.conf import settings as django_settings

        django_settings.DEBUG = False  # no query log: the sync runs as in production
        import requests
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from connector.services.sandbox_connect import sandbox_connect
        from connector.services.sync import portal_sync

        portal = sandbox_connect(url=url)
        requests.delete(f"{url}/_sandbox/calls", timeout=10)
        phases: dict[str, float] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in phases:
                phases[phase] = time.monotonic()
                print(f"[{time.strftime('%H:%M:%S')}] {phase}", file=sys.stderr, flush=True)

        rss_before = _peak_rss_mb()
        _peak_rss_reset()
        started = time.monotonic()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            report = profiler.runcall(portal_sync, portal=portal, full=True, progress=progress)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
        else:
            report = portal_sync(portal=portal, full=True, progress=progress)
        wall = time.monotonic() - started
        push_wall = time.monotonic() - phases.get("push", started)
        peak_mb = _peak_rss_mb()
        first_calls = requests.get(f"{url}/_sandbox/calls", timeout=10).json()

        requests.delete(f"{url}/_sandbox/calls", timeout=10)
        started2 = time.monotonic()
        report2 = portal_sync(portal=portal, progress=None)
        wall2 = time.monotonic() - started2
        second_calls = requests.get(f"{url}/_sandbox/calls", timeout=10).json()
        persons = people_total(report)

        # B2: a change of 10 people (10 new registrants) costs what changed.
        scenario = json.loads(scenario_path.read_text())
        webinar = scenario["zoom"]["accounts"][0]["webinars"][0]
        template = dict(webinar["registrants"][0])
        for n in range(10):
            webinar["registrants"].append(
                {**template, "id": f"bench_new_{n}", "email": f"bench.new{n}@example.org", "status": "approved"}
            )
        loaded = requests.post(f"{url}/_sandbox/zoom", json=scenario, timeout=300)
        if not loaded.ok:
            raise SystemExit(f"sandbox refused the changed scenario: {loaded.status_code} {loaded.text[:300]}")
        del scenario, webinar
        requests.delete(f"{url}/_sandbox/calls", timeout=10)
        started3 = time.monotonic()
        report3 = portal_sync(portal=portal, progress=None)
        wall3 = time.monotonic() - started3
        third_calls = requests.get(f"{url}/_sandbox/calls", timeout=10).json()
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
        if postgres and "database_url" in locals():
            from django.db import connections

            connections.close_all()
            name = database_url.rsplit("/", 1)[1]
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"])

    people = report["people"]
    created, updated = people["contacts_created"], people["contacts_updated"]
    events = report["events"]
    not_found = created + people["skipped"]["deleted_contact"] + people["skipped"]["internal_domain"]
    hub_min_ops = {
        "read by email": math.ceil(persons / 100),
        "read archived (R14)": math.ceil(not_found / 100),
        "create": math.ceil(created / 100),
        "update": math.ceil(updated / 100),
        "registration events": math.ceil(events["registration"] / 100),
        "attendance events": math.ceil(events["attendance"] / 100),
        # properties list, group create, properties batch create, templates list, 3 template
        # creates, account users, token info (app id)
        "setup": 9,
    }
    hub_min = sum(hub_min_ops.values())
    zoom_min = (
        1  # token
        + 1  # users
        + facts["zoom_users"]  # webinars per user
        + 1  # webinar details
        + math.ceil(facts["registrants"] / 300)
        + 1  # past instances
        + math.ceil(facts["participant_rows"] / 300)
    )
    hub_calls = sum(first_calls["hubspot"].values())
    zoom_calls = sum(first_calls["zoom"].values())
    floor = hub_calls / HUBSPOT_PER_SECOND
    writes2 = {
        k: v
        for k, v in second_calls["hubspot"].items()
        if v and not k.startswith("GET") and "batch/read" not in k and "/search" not in k
    }
    return {
        "scale": scale,
        "database": "postgresql" if postgres else "sqlite",
        "scenario": facts,
        "report": {"people": people, "events": events, "pulled": report["pulled"], "errors": report["errors"][:5]},
        "calls": {
            "hubspot": hub_calls,
            "hubspot_min": hub_min,
            "hubspot_min_ops": hub_min_ops,
            "hubspot_target": round(1.05 * hub_min + 10, 1),
            "zoom": zoom_calls,
            "zoom_min": zoom_min,
            "zoom_target": round(1.05 * zoom_min + 10, 1),
            "by_endpoint": first_calls,
        },
        "wall_s": round(wall, 1),
        "push_wall_s": round(push_wall, 1),
        "floor_s": round(floor, 1),
        "wall_over_floor": round(wall / floor, 2) if floor else None,
        "push_wall_over_floor": round(push_wall / floor, 2) if floor else None,
        "throttled_429": first_calls["throttled"],
        "peak_rss_mb": peak_mb,
        "rss_before_sync_mb": rss_before,
        "second_sync": {
            "wall_s": round(wall2, 1),
            "hubspot_writes": writes2,
            "hubspot_calls": sum(second_calls["hubspot"].values()),
            "zoom_calls": sum(second_calls["zoom"].values()),
            "zoom_by_endpoint": second_calls["zoom"],
            "created": report2["people"]["contacts_created"],
            "updated": report2["people"]["contacts_updated"],
            "events": report2["events"],
        },
        "change_of_10": {
            "wall_s": round(wall3, 1),
            "hubspot_calls": sum(third_calls["hubspot"].values()),
            "hubspot_by_endpoint": third_calls["hubspot"],
            "zoom_calls": sum(third_calls["zoom"].values()),
            "zoom_by_endpoint": third_calls["zoom"],
            "created": report3["people"]["contacts_created"],
            "updated": report3["people"]["contacts_updated"],
            "events": report3["events"],
        },
    }


def people_total(report: dict[str, Any]) -> int:
    from connector.models import PersonStats

    return PersonStats.objects.count()


def summary(result: dict[str, Any]) -> str:
    c = result["calls"]
    lines = [
        f"== {result['scale']}x ({result['database']}): {result['scenario']['registrants']} registrants, "
        f"{result['scenario']['attendees']} attendees, {result['scenario']['participant_rows']} participant rows, "
        f"{result['scenario']['guest_rows']} guest rows, {result['scenario']['existing_contacts']} existing contacts",
        f"HubSpot calls {c['hubspot']} (minimum {c['hubspot_min']}, target <= {c['hubspot_target']}) "
        f"{'OK' if c['hubspot'] <= c['hubspot_target'] else 'MISSED'}",
        f"  minimum by operation: {c['hubspot_min_ops']}",
        f"Zoom calls    {c['zoom']} (minimum {c['zoom_min']}, target <= {c['zoom_target']}) "
        f"{'OK' if c['zoom'] <= c['zoom_target'] else 'MISSED'}",
        f"Wall          {result['wall_s']} s total, push {result['push_wall_s']} s; floor {result['floor_s']} s "
        f"(HubSpot calls / 11 per s): total {result['wall_over_floor']}x, push {result['push_wall_over_floor']}x",
        f"429s          {result['throttled_429']}",
        f"Peak memory   {result['peak_rss_mb']} MB peak RSS during the sync (peak before it: "
        f"{result['rss_before_sync_mb']} MB: Django, migrate, connect)",
        f"Second sync   {result['second_sync']['wall_s']} s, HubSpot writes {result['second_sync']['hubspot_writes'] or 0}, "
        f"created {result['second_sync']['created']}, updated {result['second_sync']['updated']}, "
        f"events {result['second_sync']['events']}",
        f"Unchanged     HubSpot calls {result['second_sync']['hubspot_calls']}, "
        f"Zoom calls {result['second_sync']['zoom_calls']} {result['second_sync']['zoom_by_endpoint']}",
        f"10 changed    {result['change_of_10']['wall_s']} s, HubSpot calls {result['change_of_10']['hubspot_calls']} "
        f"{result['change_of_10']['hubspot_by_endpoint']}, Zoom calls {result['change_of_10']['zoom_calls']} "
        f"{result['change_of_10']['zoom_by_endpoint']}, "
        f"created {result['change_of_10']['created']}, events {result['change_of_10']['events']}",
        f"Report        {json.dumps(result['report'])}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--postgres", action="store_true", help="run on a fresh local PostgreSQL database")
    parser.add_argument("--write-scenario", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_scenario:
        print(json.dumps(scenario_write(scale=args.scale, path=args.write_scenario)))
        return
    result = bench_once(scale=args.scale, postgres=args.postgres)
    print(summary(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
