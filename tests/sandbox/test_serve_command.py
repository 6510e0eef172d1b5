"""`python manage.py sandbox serve` answers a Zoom call made with its own OAuth token, and a
HubSpot contacts batch read made with a HubSpot token (issue 3, "Done when")."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_serve_demo_answers_zoom_and_hubspot():
    port = free_port()
    env = dict(os.environ, ZOOMSYNC_SANDBOX="1", DEBUG="1")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "serve", "--port", str(port),
         "--scenario", "demo", "--seed", "1"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/_sandbox/calls", timeout=1)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.stderr.read()) from None
                time.sleep(0.2)
        token = requests.post(f"{base}/zoom/oauth/token", timeout=10, params={
            "grant_type": "account_credentials", "account_id": "zacc_main"}).json()["access_token"]
        users = requests.get(f"{base}/zoom/v2/users", timeout=10,
                             headers={"Authorization": f"Bearer {token}"})
        assert users.status_code == 200
        assert "hal.host@acme.com" in [u["email"] for u in users.json()["users"]]

        hs_token = requests.get(f"{base}/_sandbox/token", params={"service": "hubspot"},
                                timeout=10).json()["access_token"]
        read = requests.post(f"{base}/hubspot/crm/v3/objects/contacts/batch/read", timeout=10,
                             headers={"Authorization": f"Bearer {hs_token}"},
                             json={"idProperty": "email", "properties": ["email"],
                                   "inputs": [{"id": "jane.doe@example.com"}]})
        assert read.status_code == 200
        assert read.json()["results"][0]["id"] == "501"
        assert "X-HubSpot-RateLimit-Max" in read.headers
        calls = requests.get(f"{base}/_sandbox/calls", timeout=10).json()
        assert calls["zoom"]["GET /v2/users"] == 1
        assert calls["hubspot"]["POST /crm/v3/objects/contacts/batch/read"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert proc.returncode == 0
