"""What the benchmark scripts share: a free loopback port, and waiting for a process they
started to answer over HTTP (run as `python bench/<script>.py`, so this folder is on the path)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, *, ok_only: bool = False) -> None:
    """Until `url` answers (with a 2xx when `ok_only`); SystemExit naming the log if the
    process exits first or two minutes go by."""
    import requests

    for _ in range(600):
        try:
            response = requests.get(url, timeout=2)
            if response.ok or not ok_only:
                return
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"{url} did not start: see {log}")
        time.sleep(0.2)
    raise SystemExit(f"{url} did not start")
