"""Smoke test of a running zoomsync (CI's production-stack step; also works on `make dev`):
sign in through the login form, press "Sync now" for a portal, wait until the run finishes,
and exit 0 only if it succeeded. Also checks /healthz and /metrics.

    python .ci/smoke.py --url http://127.0.0.1:8000 --username U --password P --hub-id 62515
"""

from __future__ import annotations

import argparse
import re
import sys
import time

import requests


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10)
    page.raise_for_status()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if not match:
        raise SystemExit(f"no CSRF token on {url}")
    return match.group(1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--hub-id", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--expect-created", type=int, default=None,
                        help="the run must have created exactly this many contacts")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    session = requests.Session()

    deadline = time.monotonic() + args.timeout
    while True:
        try:
            if session.get(f"{base}/healthz", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{base}/healthz did not answer 200 within {args.timeout:.0f} s")
        time.sleep(0.5)

    login = f"{base}/accounts/login/"
    token = _csrf(session, login)
    answer = session.post(login, timeout=10, headers={"Referer": login}, data={
        "csrfmiddlewaretoken": token, "username": args.username, "password": args.password})
    if answer.url.rstrip("/").endswith("/accounts/login") or "sessionid" not in session.cookies:
        raise SystemExit(f"sign-in failed (HTTP {answer.status_code})")
    print(f"signed in as {args.username}")

    dashboard = f"{base}/portals/{args.hub_id}/"
    token = _csrf(session, dashboard)
    started = session.post(f"{base}/portals/{args.hub_id}/sync/", timeout=30,
                           headers={"Referer": dashboard}, data={"csrfmiddlewaretoken": token})
    match = re.search(r"/runs/(\d+)/", started.url)
    if not match:
        raise SystemExit(f"Sync now did not lead to a run page (HTTP {started.status_code}, {started.url})")
    run_id = int(match.group(1))
    print(f"Sync now: run {run_id}")

    progress_url = f"{base}/portals/{args.hub_id}/runs/{run_id}/progress.json"
    while True:
        progress = session.get(progress_url, timeout=10).json()
        if progress["finished"]:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"run {run_id} did not finish within {args.timeout:.0f} s: {progress}")
        time.sleep(0.5)
    print(f"run {run_id}: {progress['status']}; {progress.get('summary')}")
    if progress["status"] != "succeeded" or progress.get("errors"):
        raise SystemExit(f"run {run_id} did not succeed: {progress}")
    created = (progress.get("summary") or {}).get("contacts_created")
    if args.expect_created is not None and created != args.expect_created:
        raise SystemExit(f"run {run_id} created {created} contacts, expected {args.expect_created}")

    # The run happened in a worker process: the web's /metrics must still count it.
    metrics = session.get(f"{base}/metrics", timeout=10)
    wanted = {"zoomsync_sync_duration_seconds_count": 'status="succeeded"',
              "zoomsync_api_calls_total": 'provider="zoom"'}
    for name, labels in wanted.items():
        match = re.search(rf"^{name}\{{{labels}\}} (\S+)$", metrics.text, flags=re.M)
        if metrics.status_code != 200 or not match or float(match.group(1)) < 1:
            raise SystemExit(f"/metrics (HTTP {metrics.status_code}) has no {name}{{{labels}}} >= 1")
    print("metrics: the worker's sync and API calls are counted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
