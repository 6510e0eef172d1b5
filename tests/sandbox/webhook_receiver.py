"""A tiny HTTP receiver for the sandbox's webhook tests: records every request, answers Zoom's
url_validation with the right (or a wrong) token, and can fail the first N requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self, *, secret: str = "zsecret", fail_first: int = 0, wrong_validation: bool = False) -> None:
        self.secret = secret
        self.fail_first = fail_first
        self.wrong_validation = wrong_validation
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    failing = receiver.fail_first > 0
                    if failing:
                        receiver.fail_first -= 1
                data = json.loads(body)
                if isinstance(data, dict) and data.get("event") == "endpoint.url_validation":
                    plain = data["payload"]["plainToken"]
                    key = b"wrong" if receiver.wrong_validation else receiver.secret.encode()
                    answer = {"plainToken": plain,
                              "encryptedToken": hmac.new(key, plain.encode(), hashlib.sha256).hexdigest()}
                    out = json.dumps(answer).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                    return
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def bodies(self, path: str) -> list[Any]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests if r["path"] == path]
