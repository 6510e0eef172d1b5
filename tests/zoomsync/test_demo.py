"""`make demo` runs end to end and exits 0 with a report matching the demo scenario."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_runs_and_exits_zero(tmp_path):
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}
    env.pop("CELERY_BROKER_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "zoomsync.demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    # The scenario's webinars: 10 listed, R2 (Zoom Events keynote) and R5 (partner.example) skipped.
    assert "synced      8   skipped: Part of a Zoom Event 1, Host's email domain is excluded 1" in out
    assert "webinars 10, sessions 5, registrants 19" in out
    assert "Host's recording sync is off 1, Host's domain is excluded for recordings 1" in out
    assert "Guest without an email address 3" in out  # the phone guest of 81000000001 and two guests of 81000000008
    assert "Errors      none" in out
    assert "HubSpot writes 0" in out  # the second run is idempotent
    # B5: Maria joined as a guest through her registration; B6: Jane registered for a webinar
    # whose form requires Organization and a custom "Team size", answered from her properties.
    assert "Guests found again by their registration: 1" in out
    assert "answers sent: org = 'Doe Industries', Team size = '11-50'" in out
    assert "  SUCCESS: registrant " in out
    # Real time: each live act reached HubSpot through its webhook (B1, B3).
    assert "Live changes" in out and out.count("in HubSpot after") == 4 and "NOT in HubSpot" not in out
