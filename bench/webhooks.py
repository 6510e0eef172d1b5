"""Benchmark of the real-time path: webhooks in, HubSpot writes out (INTERFACES.md §9, SPEC B1).

    .venv/bin/python bench/webhooks.py [--registrations 1000] [--attendees 2000] [--json out.json]

PostgreSQL (database zs_webhooks, recreated; `BENCH_DATABASE` names another), Redis (db 4,
flushed; `BENCH_REDIS_DB` another) and ONE Celery worker, as in production. It starts the
sandbox (`sandbox serve`, rate limits on, HubSpot 110 requests / 10 s),
the connector's web server (`runserver`, receiving the webhooks) and the worker; connects and
syncs once; subscribes the sandbox's webhooks to the connector; then, at the sandbox's pace
(one act after the other): N registrations of new people (`webinar.registration_created` each)
and a session of M participants (half of them those registrants, half walk-ins:
`webinar.started`, M joined, M left, `webinar.ended`). It waits until every event is processed
and prints:
  * latency from a webhook's arrival to its HubSpot write (the end of the first refresh that
    started after it arrived), p50 and p95, for the registrations and for the session's end;
    and for the registrations, arrival to the end of the run that created the person's contact
    (0 when that run ended before the webhook arrived: `registration_run_latency_s`), and
    arrival to the moment HubSpot had both their contact and their registration event (the
    outbox rows' send times: `registration_in_hubspot_latency_s`);
  * HubSpot calls during the stream against the minimum for those people (one batch call per
    100 objects of each kind written, plus one batch read per 100 people), and against that
    minimum plus R14's look-up of new people among archived contacts (one read per 100 created);
  * 429s received; the endpoint's answer time p50 / p99 (as the sandbox measured it).
Not part of CI (minutes of wall time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import free_port, wait_http

REPO = Path(__file__).resolve().parent.parent
# BENCH_DATABASE / BENCH_REDIS_DB: so that it can run beside other benchmarks and test runs.
DATABASE = os.environ.get("BENCH_DATABASE", "zs_webhooks")
REDIS_DB = os.environ.get("BENCH_REDIS_DB", "4")
REDIS = f"redis://127.0.0.1:6379/{REDIS_DB}"
ZOOM_SECRET = "bench-zoom-secret"
HUBSPOT_SECRET = "bench-hubspot-secret"


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def _scenario(now: dt.datetime) -> dict[str, Any]:
    start = (now - dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "hubspot": {"portal_id": 62515, "client_secret": HUBSPOT_SECRET,
                    "users": [{"id": "9001", "email": "marketer@acme.com"}], "contacts": []},
        "zoom": {"accounts": [{
            "account_id": "zacc_bench",
            "users": [{"id": "zu_host", "email": "host@acme.com", "first_name": "Hal", "last_name": "Host"}],
            "webinars": [{"id": 81000000101, "host_id": "zu_host", "topic": "Live benchmark", "type": 5,
                          "start_time": start, "duration": 60}],
        }]},
    }


def _env(web_port: int) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.update({
        "DEBUG": "1",  # the sandbox app (needed for sandbox connections) requires it
        "SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "CELERY_BROKER_URL": REDIS,
        "REDIS_URL": REDIS,
        # Connections keep their sandbox base URLs only while the sandbox app is mounted.
        "ZOOMSYNC_SANDBOX": "1",
        "ZOOMSYNC_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "ZOOM_WEBHOOK_SECRET_TOKEN": ZOOM_SECRET,
        "HUBSPOT_CLIENT_SECRET": HUBSPOT_SECRET,
        "LOG_LEVEL": "WARNING",
    })
    return env


def bench(*, registrations: int, attendees: int) -> dict[str, Any]:
    import requests

    load_start = [round(x, 2) for x in os.getloadavg()]
    tmp = Path(tempfile.mkdtemp(prefix="zoomsync-bench-webhooks-"))
    now = dt.datetime.now(dt.UTC)
    scenario_path = tmp / "scenario.json"
    scenario_path.write_text(json.dumps(_scenario(now)))
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {DATABASE}"], check=True)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {DATABASE}"], check=True)
    subprocess.run(["redis-cli", "-n", REDIS_DB, "flushdb"], check=True, capture_output=True)
    sandbox_port, web_port = free_port(), free_port()
    sandbox_url, web_url = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{web_port}"
    env = _env(web_port)
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], log: str, extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(args, cwd=REPO, env={**env, **(extra or {})}, stdout=(tmp / log).open("wb"),
                                stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc

    try:
        sandbox = start([sys.executable, "manage.py", "sandbox", "serve", "--port", str(sandbox_port), "--scenario",
                         str(scenario_path), "--rate-limits", "on", "--hubspot-rate-limit", "110/10"],
                        "sandbox.log", {"DEBUG": "1", "ZOOMSYNC_SANDBOX": "1", "DATABASE_URL": f"sqlite:///{tmp}/sb.db",
                                        "CELERY_BROKER_URL": ""})
        wait_http(f"{sandbox_url}/_sandbox/calls", sandbox, tmp / "sandbox.log")
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "zoomsync.settings"
        sys.path.insert(0, str(REPO))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from connector.models import SyncRun, WebhookEvent
        from connector.services.sandbox_connect import sandbox_connect
        from connector.services.sync import portal_sync
        from zoomsync.celery import app as celery_app

        celery_app.conf.task_always_eager = True  # the first sync, in this process
        portal = sandbox_connect(url=sandbox_url)
        portal_sync(portal=portal, run=SyncRun.objects.create(portal=portal, trigger="cli"))
        celery_app.conf.task_always_eager = False

        web = start([sys.executable, "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload"], "web.log")
        wait_http(f"{web_url}/healthz", web, tmp / "web.log")
        start([str(Path(sys.executable).parent / "celery"), "-A", "zoomsync", "worker", "-Q", "sync,realtime,default",
               "--concurrency", "1", "-l", "warning"], "worker.log")
        time.sleep(4)
        session = requests.Session()
        session.post(f"{sandbox_url}/_sandbox/webhooks", timeout=30, json={
            "zoom": {"url": f"{web_url}/webhooks/zoom", "secret_token": ZOOM_SECRET},
            "hubspot": {"url": f"{web_url}/webhooks/hubspot", "client_secret": HUBSPOT_SECRET},
        }).raise_for_status()
        session.delete(f"{sandbox_url}/_sandbox/calls", timeout=30)
        answer_ms: list[float] = []

        def act(body: dict[str, Any]) -> None:
            response = session.post(f"{sandbox_url}/_sandbox/act", json=body, timeout=600)
            response.raise_for_status()
            answer_ms.extend(d["ms"] for d in response.json()["deliveries"])

        stream_started = time.monotonic()
        emails = [f"live{i:05d}@example.com" for i in range(registrations)]
        for i, email in enumerate(emails):
            act({"action": "register", "account_id": "zacc_bench", "webinar_id": 81000000101,
                 "registrant": {"email": email, "first_name": f"Live{i}", "last_name": "Person"}})
        print(f"[{time.strftime('%H:%M:%S')}] {registrations} registrations sent", file=sys.stderr, flush=True)
        walkins = [f"walkin{i:05d}@example.org" for i in range(max(0, attendees - registrations))]
        participants = [{"user_email": e} for e in (emails + walkins)[:attendees]]
        act({"action": "hold_session", "account_id": "zacc_bench", "webinar_id": 81000000101,
             "instance": {"uuid": "BenchSession0000000001==", "participants": participants}})
        sent_s = time.monotonic() - stream_started
        print(f"[{time.strftime('%H:%M:%S')}] session sent ({len(answer_ms)} deliveries in {sent_s:.0f} s)",
              file=sys.stderr, flush=True)
        from connector.webhooks.tasks import webhook_inbox_drain_task

        deadline = time.monotonic() + 30 * 60
        last_drain = time.monotonic()
        while time.monotonic() < deadline:
            open_events = WebhookEvent.objects.filter(status__in=("pending", "retrying")).count()
            if not open_events:
                break
            if time.monotonic() - last_drain > 60:
                webhook_inbox_drain_task.delay()  # what the beat entry does every minute
                last_drain = time.monotonic()
            time.sleep(1)
        while time.monotonic() < deadline and SyncRun.objects.filter(status__in=("queued", "running")).exists():
            time.sleep(1)  # the last run finishes before the sandbox stops
        done_s = time.monotonic() - stream_started
        calls = session.get(f"{sandbox_url}/_sandbox/calls", timeout=30).json()

        runs = list(SyncRun.objects.filter(status="succeeded", trigger="webhook").order_by("started_at")
                    .values_list("started_at", "finished_at"))

        def latency(received: dt.datetime) -> float | None:
            for started, finished in runs:
                if started >= received:
                    return (finished - received).total_seconds()
            return None

        def latencies(kind: str) -> list[float]:
            out = []
            for received in WebhookEvent.objects.filter(event_type=kind).values_list("received_at", flat=True):
                value = latency(received)
                if value is not None:
                    out.append(value)
            return out

        reg_lat = latencies("webinar.registration_created")
        from connector.models import OutboxItem

        # The person's own write: the end of the run that created their contact (with its
        # registration count; its events go in the same run), 0 when HubSpot had it before the
        # webhook arrived (a run read Zoom after they registered, before their webhook came).
        run_end = dict(SyncRun.objects.values_list("pk", "finished_at"))
        written = {key: run_end.get(run_id) for key, run_id in OutboxItem.objects.filter(
            kind="contact_create", status="sent").values_list("dedupe_key", "sync_run_id")}
        # And the moment HubSpot had both the person's contact and their registration event
        # (the later of the two outbox rows' sent_at).
        in_hubspot: dict[str, dt.datetime] = {}
        for payload, sent_at in OutboxItem.objects.filter(status="sent", kind__in=("contact_create", "timeline_event")) \
                .values_list("payload", "sent_at"):
            if sent_at is None or "email" not in payload or payload.get("report_kind", "registration") != "registration":
                continue
            email = str(payload["email"]).lower()
            in_hubspot[email] = max(sent_at, in_hubspot.get(email, sent_at))
        write_lat: list[float] = []
        hubspot_lat: list[float] = []
        for received, body in WebhookEvent.objects.filter(event_type="webinar.registration_created").values_list(
                "received_at", "raw_body"):
            email = json.loads(body)["payload"]["object"]["registrant"]["email"].strip().lower()
            finished = written.get(email)
            if finished is not None:
                write_lat.append(max(0.0, (finished - received).total_seconds()))
            if email in in_hubspot:
                hubspot_lat.append(max(0.0, (in_hubspot[email] - received).total_seconds()))
        end_lat = latencies("webinar.ended")
        hubspot = {k: v for k, v in calls["hubspot"].items() if "oauth" not in k}

        sent = OutboxItem.objects.filter(sync_run__trigger="webhook", status="sent")
        by_kind: dict[str, int] = {}
        for kind in sent.values_list("kind", flat=True):
            by_kind[kind] = by_kind.get(kind, 0) + 1
        people = registrations + len(walkins)
        minimum = sum(math.ceil(n / 100) for n in by_kind.values()) + math.ceil(people / 100)
        # R14: a person not found by email is looked up once more among archived (deleted)
        # contacts before it is created (HubSpot's batch read returns archived ones only when
        # asked for them alone), 100 a call.
        minimum_r14 = minimum + math.ceil(by_kind.get("contact_create", 0) / 100)
        total = sum(hubspot.values())
        statuses = WebhookEvent.objects.values_list("status", flat=True)
        return {
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                     text=True).stdout.strip(),
            "load_average_start": load_start, "load_average_end": [round(x, 2) for x in os.getloadavg()],
            "registrations": registrations, "participants": attendees, "deliveries": len(answer_ms),
            "stream_sent_s": round(sent_s, 1), "all_processed_s": round(done_s, 1),
            "events_stored": WebhookEvent.objects.count(),
            "events_open_at_end": sum(1 for s in statuses if s in ("pending", "retrying")),
            "events_dead": sum(1 for s in statuses if s == "dead"),
            "refreshes": len(runs),
            "registration_latency_s": {"p50": round(_percentile(reg_lat, 50), 2), "p95": round(_percentile(reg_lat, 95), 2),
                                       "n": len(reg_lat)},
            "registration_run_latency_s": {
                "p50": round(_percentile(write_lat, 50), 2), "p95": round(_percentile(write_lat, 95), 2),
                "n": len(write_lat), "written_before_arrival": sum(1 for v in write_lat if v == 0.0)},
            "registration_in_hubspot_latency_s": {
                "p50": round(_percentile(hubspot_lat, 50), 2), "p95": round(_percentile(hubspot_lat, 95), 2),
                "max": round(max(hubspot_lat, default=float("nan")), 2), "n": len(hubspot_lat)},
            "session_end_latency_s": [round(v, 2) for v in end_lat],
            # Empty when a run pulled the session's report before its webinar.ended arrived
            # (the sandbox sends the session's 2 × M participant events first, one by one).
            "session_written_before_its_end_event": not end_lat,
            "hubspot_calls": total, "hubspot_calls_minimum": minimum,
            "hubspot_ratio": round(total / minimum, 2) if minimum else None,
            "hubspot_calls_minimum_with_r14_check": minimum_r14,
            "hubspot_ratio_with_r14_check": round(total / minimum_r14, 2) if minimum_r14 else None,
            "hubspot_calls_by_endpoint": hubspot, "objects_written": by_kind,
            "throttled": calls["throttled"],
            "endpoint_ms": {"p50": _percentile(answer_ms, 50), "p99": _percentile(answer_ms, 99), "max": max(answer_ms)},
        }
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registrations", type=int, default=1000)
    parser.add_argument("--attendees", type=int, default=2000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = bench(registrations=args.registrations, attendees=args.attendees)
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
