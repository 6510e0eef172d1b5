"""Chaos benchmark (B2: a sync always finishes): real PostgreSQL, real Redis, two prefork
Celery workers, the sandbox with faults; workers killed, Redis and PostgreSQL restarted.

    .venv/bin/python bench/chaos.py                       # clean run, then the chaos run
    .venv/bin/python bench/chaos.py --no-redis --no-pg    # worker kills only (for development)
    .venv/bin/python bench/chaos.py --registrants 3000 --json out.json

1. Clean run (database `zs_chaos_clean`): no faults. The script asks for a sync as every
   caller would, with duplicates (five requests at once, and the same `portal_sync_task`
   delivered three more times), and waits until no run is queued or running. It records the
   HubSpot state (`GET /_sandbox/state`, normalised: ids and write times aside, contacts keyed
   by email, events by contact email) and the time the sync took.
2. Chaos run (database `zs_chaos`, fresh): the same scenario with 5 % server errors, 2 % slow
   answers (3 s, past nothing but the worker's patience), 1 % dropped connections, HubSpot's
   110 / 10 s; a worker SIGKILLed (its whole process group: an OOM kill) three times at
   random moments mid-sync and started again, Redis restarted once (`shutdown nosave`: every
   queued message and chord counter lost) and PostgreSQL once. Meanwhile the script asks for
   a sync every `--beat` seconds, as beat would, until the state converges.

Printed: converged yes/no, time against the clean run (target <= 3x), final HubSpot state ==
clean state (target: identical), runs left `running`/`queued` (target 0), runs FAILED (and
why). Each phase runs in its own process (Django is set up once per database). Worker logs
stay in the temporary directory named at the start.

Restarting Redis and PostgreSQL disturbs everything else on the machine that uses them: run
the full chaos rarely; `--no-redis --no-pg` keeps to the worker kills.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import free_port, wait_http

REPO = Path(__file__).resolve().parent.parent
REDIS_DB = 7
BROKER = f"redis://127.0.0.1:6379/{REDIS_DB}"
WORKER_CMD = ["-m", "celery", "-A", "zoomsync", "worker", "-Q", "sync,realtime,default",
              "--pool", "prefork", "--concurrency", "2", "-l", "info", "--without-gossip", "--without-mingle"]
# The chaos run's Zoom limits per second (the connector paces at 27 / 18 / 9).
ZOOM_CHAOS_LIMITS = {"light": 12, "medium": 8, "heavy": 4}
# HubSpot properties the sandbox sets at write time: not part of what a sync decides.
WRITE_TIME_PROPERTIES = {"createdate", "lastmodifieddate", "hs_object_id", "hs_lastmodifieddate"}


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _env(database: str, key: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DEBUG": "1",  # connections may name the sandbox's loopback URLs
        "SECRET_KEY": "chaos-secret-key-not-for-production-0123456789",
        "FIELD_ENCRYPTION_KEYS": key,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "CELERY_BROKER_URL": BROKER,
        "ZOOMSYNC_SANDBOX": "1",
    })
    env.pop("REDIS_URL", None)
    env.setdefault("ZOOMSYNC_API_SPECS", "/work/shared/specs")
    return env


# --- the world -------------------------------------------------------------------------------


def scenario_write(*, registrants: int, webinars: int, path: Path) -> None:
    sys.path.insert(0, str(REPO))
    from sandbox.generate import scenario_generate

    scenario = scenario_generate(
        webinars=webinars, registrants=registrants, attendance_rate=0.889, rejoin_rate=0.2, guest_rate=0.03, seed=7
    )
    path.write_text(json.dumps(scenario))


def sandbox_start(*, port: int, scenario: Path, log: Path, chaos: bool, seed: int) -> subprocess.Popen[bytes]:

    args = [sys.executable, "manage.py", "sandbox", "serve", "--port", str(port), "--scenario", str(scenario),
            "--rate-limits", "on", "--hubspot-rate-limit", "110/10"]
    if chaos:
        args += ["--fault-rate", "0.05", "--timeout-rate", "0.02", "--timeout-delay-s", "3",
                 "--drop-rate", "0.01", "--seed", str(seed)]
    proc = subprocess.Popen(args, cwd=REPO, env=dict(os.environ, DEBUG="1", ZOOMSYNC_SANDBOX="1"),
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    wait_http(f"http://127.0.0.1:{port}/_sandbox/calls", proc, log, ok_only=True)
    return proc


def hubspot_normalised(url: str) -> dict[str, Any]:
    """The sandbox's HubSpot state with ids and write times aside: contacts by email, timeline
    events and marketing participations by the contact's email."""
    import requests

    hub = requests.get(f"{url}/_sandbox/state", timeout=120).json()["hubspot"]
    email_of = {c["id"]: (c["properties"].get("email") or "").lower() for c in hub["contacts"]}
    contacts = {}
    for c in hub["contacts"]:
        props = {k: v for k, v in c["properties"].items() if k not in WRITE_TIME_PROPERTIES}
        contacts[email_of[c["id"]] or f"id:{c['id']}"] = {
            "archived": c["archived"], "additional_emails": sorted(c["additional_emails"]), "properties": props
        }
    templates = {t["id"]: t["name"] for t in hub["event_templates"]}
    events = sorted(
        json.dumps({"template": e.get("template_name") or templates.get(e["eventTemplateId"]),
                    "contact": email_of.get(str(e["objectId"]), str(e["objectId"])),
                    "tokens": e["tokens"], "timestamp": e["timestamp"]}, sort_keys=True)
        for e in hub["timeline_events"]
    )
    marketing = sorted(
        json.dumps({"externalEventId": m["externalEventId"], "eventName": m["eventName"],
                    "start": m["startDateTime"], "end": m["endDateTime"],
                    "participations": sorted(
                        [email_of.get(str(p["contactId"]), str(p["contactId"])), p["state"],
                         p["attendanceDurationSeconds"]] for p in m["participations"])},
                   sort_keys=True)
        for m in hub["marketing_events"]
    )
    return {
        "contacts": contacts,
        "timeline_events": events,
        "marketing_events": marketing,
        "properties": sorted(f"{p['objectType']}:{p['groupName']}:{p['name']}:{p['type']}" for p in hub["properties"]),
        "property_groups": sorted(f"{g['objectType']}:{g['name']}" for g in hub["property_groups"]),
        "event_templates": sorted(f"{t['name']}:{','.join(sorted(t['tokens']))}" for t in hub["event_templates"]),
    }


def state_digest(state: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]


def state_diff(a: dict[str, Any], b: dict[str, Any], limit: int = 5) -> list[str]:
    out = []
    for key in a:
        if a[key] == b.get(key):
            continue
        if key == "contacts":
            only_a = sorted(set(a[key]) - set(b[key]))
            only_b = sorted(set(b[key]) - set(a[key]))
            changed = [e for e in a[key] if e in b[key] and a[key][e] != b[key][e]]
            out.append(f"contacts: {len(only_a)} only in clean {only_a[:limit]}, {len(only_b)} only in chaos "
                       f"{only_b[:limit]}, {len(changed)} differ")
            for email in changed[:limit]:
                pa, pb = a[key][email]["properties"], b[key][email]["properties"]
                diff = {k: (pa.get(k), pb.get(k)) for k in set(pa) | set(pb) if pa.get(k) != pb.get(k)}
                out.append(f"  {email}: {diff} archived {a[key][email]['archived']}/{b[key][email]['archived']}")
        else:
            sa, sb = set(a[key]), set(b.get(key, []))
            out.append(f"{key}: {len(a[key])} vs {len(b.get(key, []))}; only in clean {sorted(sa - sb)[:limit]}; "
                       f"only in chaos {sorted(sb - sa)[:limit]}")
    return out


# --- services: workers, Redis, PostgreSQL ----------------------------------------------------


class Workers:
    """Two prefork workers, each in its own process group (a kill takes its children too)."""

    def __init__(self, *, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: list[subprocess.Popen[bytes]] = []
        self.names: list[str] = []
        self.started = 0

    def start(self, slot: int | None = None) -> None:
        self.started += 1
        name = f"chaos{self.started}@{socket.gethostname()}"
        proc = subprocess.Popen([sys.executable, *WORKER_CMD, "-n", name], cwd=REPO, env=self.env,
                                stdout=(self.logs / f"worker{self.started}.log").open("wb"),
                                stderr=subprocess.STDOUT, start_new_session=True)
        if slot is None:
            self.procs.append(proc)
            self.names.append(name)
        else:
            self.procs[slot] = proc
            self.names[slot] = name

    def slot_of(self, run_id: int, rng: random.Random) -> tuple[int, bool]:
        """The worker running a task of the run (`celery inspect active`): the kill hits the
        live sync, not an idle worker; a random one when none answers."""
        from connector.tasks import portal_sync_task

        try:
            active = portal_sync_task.app.control.inspect(timeout=1.5).active() or {}
        except Exception:  # noqa: BLE001 - the broker restarting
            active = {}
        for node, tasks in active.items():
            for task in tasks:
                args = list(task.get("args") or [])
                run_arg = args[1] if task.get("name", "").endswith("portal_sync_task") and len(args) > 1 else (
                    args[0] if args else None)
                if run_arg == run_id and node in self.names:
                    return self.names.index(node), True
        return rng.randrange(len(self.procs)), False

    def kill(self, slot: int) -> None:
        proc = self.procs[slot]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for n, proc in enumerate(self.procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill(n)


def redis_restart() -> float:
    started = time.monotonic()
    subprocess.run(["redis-cli", "shutdown", "nosave"], capture_output=True)
    time.sleep(1)
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
                    "--save", "", "--appendonly", "no"], check=True, capture_output=True)
    for _ in range(100):
        if subprocess.run(["redis-cli", "ping"], capture_output=True, text=True).stdout.strip() == "PONG":
            break
        time.sleep(0.1)
    return round(time.monotonic() - started, 1)


def postgres_restart() -> float:
    started = time.monotonic()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"], check=True,
                   capture_output=True)
    return round(time.monotonic() - started, 1)


def database_fresh(name: str) -> None:
    for sql in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)


# --- one phase (its own process) -------------------------------------------------------------


def _retrying(fn: Any, *, tries: int = 30) -> Any:
    """Call fn, surviving a database or broker that is restarting (the script's own reads)."""
    from django.db import close_old_connections, connections

    for attempt in range(tries):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - anything a restart throws
            if attempt == tries - 1:
                raise
            _log(f"  (script: {type(exc).__name__}: {str(exc)[:120]}; again)")
            connections.close_all()
            close_old_connections()
            time.sleep(1)
    return None


def phase_run(args: argparse.Namespace) -> dict[str, Any]:
    chaos = args.phase == "chaos"
    database = "zs_chaos" if chaos else "zs_chaos_clean"
    tmp = Path(args.tmp)
    database_fresh(database)
    subprocess.run(["redis-cli", "-n", str(REDIS_DB), "flushdb"], check=True, capture_output=True)
    from cryptography.fernet import Fernet

    env = _env(database, Fernet.generate_key().decode())
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "zoomsync.settings"
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    import requests
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    sandbox = sandbox_start(port=port, scenario=Path(args.scenario), log=tmp / f"sandbox-{args.phase}.log",
                            chaos=chaos, seed=args.seed)
    logs = tmp / args.phase
    logs.mkdir(exist_ok=True)
    workers = Workers(env=env, logs=logs)
    from django.utils import timezone

    from connector.models import SyncRun, SyncRunStatus
    from connector.services.sandbox_connect import sandbox_connect
    from connector.services.sync_requests import sync_request
    from connector.tasks import portal_sync_task

    rng = random.Random(args.seed)
    faults: list[str] = []
    if chaos:
        faults = ["kill"] * args.kills
        if args.redis:
            faults.insert(1, "redis")
        if args.pg:
            faults.insert(min(3, len(faults)), "pg")
    injected: list[dict[str, Any]] = []
    clean = json.loads(Path(args.clean_state).read_text()) if args.clean_state else None
    try:
        portal = sandbox_connect(url=url)
        if chaos:
            # Zoom's per-second limits below the connector's own pacing: real 429s with
            # Retry-After (HubSpot's headers keep its limiter under 110 / 10 s).
            requests.post(f"{url}/_sandbox/config", json={"zoom_rate_limits": ZOOM_CHAOS_LIMITS}, timeout=10)
        requests.delete(f"{url}/_sandbox/calls", timeout=10)
        workers.start()
        workers.start()
        time.sleep(3)
        t0 = time.monotonic()
        # Duplicates: five requests at once (merged into one run), then the same task delivered
        # three more times.
        runs: list[int] = []

        def ask() -> None:
            from django.db import connection

            try:
                runs.append(sync_request(portal=portal, source="manual").pk)
            finally:
                connection.close()

        threads = [threading.Thread(target=ask) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        _log(f"{args.phase}: 5 requests at once -> runs {sorted(set(runs))}")
        for _ in range(3):
            portal_sync_task.apply_async(args=(portal.pk, runs[0], False))
        next_beat = time.monotonic() + args.beat
        next_fault = time.monotonic() + rng.uniform(8, 20)
        converged_at = None
        first_done_at = None
        next_check = 0.0
        beats = 0
        while time.monotonic() - t0 < args.timeout:
            time.sleep(1)
            now = time.monotonic()
            active = _retrying(lambda: list(
                SyncRun.objects.filter(portal=portal, status__in=[SyncRunStatus.QUEUED, SyncRunStatus.RUNNING])
                .values_list("pk", "status", "phase", "heartbeat_at")))
            # A fault hits a live sync: a running run whose heartbeat is fresh.
            live = [a for a in active if a[1] == SyncRunStatus.RUNNING and a[3] is not None
                    and (timezone.now() - a[3]).total_seconds() < 6]
            active = [a[:3] for a in active]
            if faults and now >= next_fault and live:
                fault = faults.pop(0)
                at = round(now - t0, 1)
                slot, hit = -1, False
                if fault == "kill":
                    slot, hit = workers.slot_of(live[0][0], rng)
                    workers.kill(slot)
                    time.sleep(rng.uniform(1, 4))
                    workers.start(slot)
                    took = 0.0
                elif fault == "redis":
                    took = redis_restart()
                else:
                    took = postgres_restart()
                injected.append({"fault": fault, "at_s": at, "took_s": took, "active": [list(a) for a in active]})
                if fault == "kill":
                    injected[-1]["worker"] = slot
                    injected[-1]["hit_live_task"] = hit
                _log(f"{args.phase}: fault {fault} at {at} s (took {took} s), runs under way {active}"
                     + (f", worker {slot} {'running the sync' if hit else '(picked at random)'}" if fault == "kill" else ""))
                next_fault = time.monotonic() + rng.uniform(5, 20)
                continue
            if now >= next_beat:
                next_beat = now + args.beat
                beats += 1
                try:
                    _retrying(lambda: sync_request(portal=portal, source="beat"), tries=3)
                except Exception as exc:  # noqa: BLE001 - beat would fail this once too
                    _log(f"{args.phase}: beat request failed: {type(exc).__name__}: {exc}")
            if faults or now < next_check:
                continue
            next_check = now + 2
            # Converged: the latest finished run succeeded and (chaos) HubSpot holds the clean
            # state. Runs may still be under way (the follow-ups the requests asked for).
            done = _retrying(lambda: SyncRun.objects.filter(
                portal=portal, status__in=[SyncRunStatus.SUCCEEDED, SyncRunStatus.FAILED]
            ).order_by("-finished_at").first())
            if done is None or done.status != SyncRunStatus.SUCCEEDED:
                continue
            if first_done_at is None:
                first_done_at = now - t0
            if clean is None or hubspot_normalised(url) == clean:
                converged_at = now - t0
                break
        # The requests stop (beat's next one is minutes away): whatever is under way must end.
        settle_deadline = time.monotonic() + 120
        while time.monotonic() < settle_deadline and _retrying(lambda: SyncRun.objects.filter(
                portal=portal, status__in=[SyncRunStatus.QUEUED, SyncRunStatus.RUNNING]).exists()):
            time.sleep(1)
        elapsed = time.monotonic() - t0
        state = hubspot_normalised(url)
        rows = _retrying(lambda: list(SyncRun.objects.filter(portal=portal).order_by("pk").values(
            "pk", "trigger", "status", "phase", "error_code", "error", "started_at", "finished_at")))
        calls = requests.get(f"{url}/_sandbox/calls", timeout=10).json()
    finally:
        workers.stop()
        sandbox.terminate()
        sandbox.wait(timeout=30)
    Path(args.state_out).write_text(json.dumps(state))
    return {
        "phase": args.phase,
        "converged": converged_at is not None,
        "converged_s": round(converged_at, 1) if converged_at is not None else None,
        "first_success_s": round(first_done_at, 1) if first_done_at is not None else None,
        "elapsed_s": round(elapsed, 1),
        "beats": beats,
        "faults": injected,
        "faults_not_injected": faults,
        "state_digest": state_digest(state),
        "contacts": len(state["contacts"]),
        "timeline_events": len(state["timeline_events"]),
        "runs": [
            {**r, "error": (r["error"] or "")[:200],
             "started_at": r["started_at"].isoformat() if r["started_at"] else None,
             "finished_at": r["finished_at"].isoformat() if r["finished_at"] else None}
            for r in rows
        ],
        "left_active": sum(1 for r in rows if r["status"] in ("queued", "running")),
        "failed": [r for r in rows if r["status"] == "failed"],
        "calls": {"zoom": calls["total"]["zoom"], "hubspot": calls["total"]["hubspot"],
                  "throttled": calls["throttled"], "faults": calls["faults"]},
        "worker_tracebacks": _tracebacks(logs),
    }


def _tracebacks(logs: Path) -> dict[str, int]:
    """Error lines in the workers' logs, by their last line (the exception)."""
    found: dict[str, int] = {}
    for log in sorted(logs.glob("worker*.log")):
        lines = log.read_text(errors="replace").splitlines()
        for n, line in enumerate(lines):
            if line.startswith("Traceback"):
                end = n + 1
                while end < len(lines) and (lines[end].startswith(" ") or not lines[end].strip()):
                    end += 1
                last = lines[end][:160] if end < len(lines) else "?"
                found[last] = found.get(last, 0) + 1
    return found


# --- the driver --------------------------------------------------------------------------------


def _phase(tmp: Path, phase: str, args: argparse.Namespace, clean_state: Path | None) -> dict[str, Any]:
    out = tmp / f"{phase}.json"
    cmd = [sys.executable, __file__, "--phase", phase, "--tmp", str(tmp), "--scenario", str(tmp / "scenario.json"),
           "--state-out", str(tmp / f"{phase}-state.json"), "--result-out", str(out), "--seed", str(args.seed),
           "--beat", str(args.beat), "--timeout", str(args.timeout), "--kills", str(args.kills)]
    if clean_state is not None:
        cmd += ["--clean-state", str(clean_state)]
    if not args.redis:
        cmd.append("--no-redis")
    if not args.pg:
        cmd.append("--no-pg")
    subprocess.run(cmd, check=True, cwd=REPO)
    return json.loads(out.read_text())


def summary(clean: dict[str, Any], chaos: dict[str, Any] | None) -> str:
    lines = [f"clean: {clean['first_success_s']} s to the first successful run, {clean['contacts']} contacts, "
             f"{clean['timeline_events']} timeline events, {len(clean['runs'])} runs, state {clean['state_digest']}, "
             f"calls {clean['calls']}"]
    if chaos is None:
        return "\n".join(lines)
    ratio = round(chaos["converged_s"] / clean["first_success_s"], 2) if chaos["converged"] else None
    lines += [
        "chaos faults: " + ", ".join(
            f"{f['fault']}@{f['at_s']}s" + ("" if f.get("hit_live_task", True) else " (idle worker)")
            for f in chaos["faults"])
        + (f" (not injected: {chaos['faults_not_injected']})" if chaos["faults_not_injected"] else ""),
        f"converged     {'yes' if chaos['converged'] else 'NO'} in {chaos['converged_s'] or chaos['elapsed_s']} s; "
        f"clean {clean['first_success_s']} s; ratio {ratio} (target <= 3) {'OK' if ratio and ratio <= 3 else 'MISSED'}",
        f"state         {'identical' if chaos['state_digest'] == clean['state_digest'] else 'DIFFERENT'} "
        f"({chaos['state_digest']} vs {clean['state_digest']}; {chaos['contacts']} contacts, "
        f"{chaos['timeline_events']} timeline events)",
        f"left active   {chaos['left_active']} run(s) queued or running (target 0)",
        f"runs          {len(chaos['runs'])}, FAILED {len(chaos['failed'])}"
        + "".join(f"\n  run {r['pk']} ({r['trigger']}): {r['error_code']}: {r['error']}" for r in chaos["failed"]),
        f"calls         {chaos['calls']}",
        f"worker errors {chaos['worker_tracebacks'] or 'none'}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registrants", type=int, default=8000)
    parser.add_argument("--webinars", type=int, default=4)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--no-redis", dest="redis", action="store_false", help="do not restart Redis")
    parser.add_argument("--no-pg", dest="pg", action="store_false", help="do not restart PostgreSQL")
    parser.add_argument("--beat", type=float, default=5.0, help="seconds between the requests beat would make")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up after this many seconds")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--clean-only", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    for internal in ("--phase", "--tmp", "--scenario", "--state-out", "--result-out", "--clean-state"):
        parser.add_argument(internal, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        result = phase_run(args)
        Path(args.result_out).write_text(json.dumps(result, indent=2, default=str))
        return
    tmp = Path(tempfile.mkdtemp(prefix="zoomsync-chaos-"))
    _log(f"logs and states in {tmp}")
    scenario_write(registrants=args.registrants, webinars=args.webinars, path=tmp / "scenario.json")
    clean = _phase(tmp, "clean", args, None)
    print(summary(clean, None), flush=True)
    chaos = None
    if not args.clean_only:
        chaos = _phase(tmp, "chaos", args, tmp / "clean-state.json")
        a = json.loads((tmp / "clean-state.json").read_text())
        b = json.loads((tmp / "chaos-state.json").read_text())
        print(summary(clean, chaos))
        for line in state_diff(a, b):
            print("  diff:", line)
    if args.json:
        args.json.write_text(json.dumps({"clean": clean, "chaos": chaos}, indent=2, default=str))


if __name__ == "__main__":
    main()
