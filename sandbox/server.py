"""`SandboxServer`: the sandbox over real HTTP, on loopback, in a daemon thread.

It serves the whole Django application (so `/_sandbox/...`, `/zoom/...` and `/hubspot/...` are
all there) through `sandbox.middleware.SandboxMiddleware`, on Django's threaded HTTP/1.1 server
with keep-alive. The request handler passes the raw request target through as
`environ["RAW_URI"]` (needed for Zoom's double-encoded UUIDs) and can drop a connection without
answering (`environ["sandbox.drop"]`).

The helpers (`load`, `reset`, `calls`, `state`, `token`, `configure`) call the control API over
HTTP, exactly as scripts do.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import requests
from django.core.servers import basehttp

from sandbox.middleware import DropConnection, SandboxMiddleware


class _ServerHandler(basehttp.ServerHandler):
    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], DropConnection):
            handler = self.request_handler  # type: ignore[attr-defined]
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            return
        super().handle_error()


class _RequestHandler(basehttp.WSGIRequestHandler):
    # TCP_NODELAY: the stdlib handler writes the status line, headers and body separately;
    # with Nagle on, each answer waits for the client's delayed ACK (~40 ms a call).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        # Quiet: thousands of calls per sync; counts are in /_sandbox/calls.
        return

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["RAW_URI"] = self.path  # the request target exactly as the client sent it
        environ["sandbox.drop"] = "1"  # this server can drop a connection (DropConnection)
        return environ

    def handle_one_request(self) -> None:
        # Django's handle_one_request, with a ServerHandler that can drop the connection.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = ""
            self.request_version = ""
            self.command = ""
            self.send_error(414)
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        handler = _ServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ())
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]


class _HTTPServer(basehttp.ThreadedWSGIServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError | DropConnection):
            return
        super().handle_error(request, client_address)


class _QuietFakeApis(logging.Filter):
    """Expected 4xx answers of the fake APIs are not warnings of this Django site."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        path = getattr(request, "path", "") or ""
        return not path.startswith(("/zoom/", "/hubspot/", "/_sandbox/"))


_QUIET = _QuietFakeApis()


def sandbox_app() -> Any:
    """The WSGI application the sandbox serves (Django + the sandbox middleware)."""
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    request_logger = logging.getLogger("django.request")
    if _QUIET not in request_logger.filters:
        request_logger.addFilter(_QUIET)
    if "sandbox" not in settings.INSTALLED_APPS:
        raise RuntimeError(
            "The sandbox app is not installed: set ZOOMSYNC_SANDBOX=1 in the environment "
            "before Django starts (e.g. `ZOOMSYNC_SANDBOX=1 python manage.py sandbox serve`)."
        )
    return SandboxMiddleware(app)


class SandboxServer:
    """The fake Zoom + HubSpot on a loopback port.

    `scenario`: "demo" (built-in name), a JSON file path, a scenario dict, a list of those
    (one portal or more each: a multi-portal world), or None (empty).
    `state_file`: keep the world in this file (`sandbox.persist`): an existing file is read
    back instead of the scenario, and the world is saved while serving and on stop.
    `knobs`: see `sandbox.config.Knobs` (latency_ms, rate_limits, fault_rate, seed, ...); they
    become the baseline that `reset()` restores.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 scenario: str | Path | dict[str, Any] | list[Any] | None = "demo",
                 state_file: str | Path | None = None, **knobs: Any) -> None:
        self.host = host
        self.port = port
        self.scenario = scenario
        self.state_file = Path(state_file) if state_file else None
        self.restored = False
        self.knobs = knobs
        self._keeper: Any = None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.session = requests.Session()

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        from sandbox import state
        from sandbox.config import knobs_set_baseline

        app = sandbox_app()
        knobs_set_baseline(self.knobs)
        keeper = None
        if self.state_file is not None:
            from sandbox.persist import StateKeeper

            keeper = StateKeeper(self.state_file)
            self.restored = keeper.restore()
        if not self.restored:
            state.reset()
            if self.scenario is not None:
                state.load(self._scenario_data())
        httpd = _HTTPServer((self.host, self.port), _RequestHandler, ipv6=":" in self.host)
        httpd.set_app(app)
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"sandbox-{self.port}", daemon=True)
        self._thread.start()
        if keeper is not None:
            keeper.start()
            self._keeper = keeper
        return self

    def _scenario_data(self) -> dict[str, Any] | str:
        from sandbox.scenario import scenario_read, scenarios_merge

        if isinstance(self.scenario, list):
            return scenarios_merge([scenario_read(s if isinstance(s, dict) else str(s))
                                    for s in self.scenario])
        return self.scenario if isinstance(self.scenario, dict) else str(self.scenario)

    def serve_forever(self) -> None:
        """Serve in the calling thread (the `sandbox serve` command); stop() ends it."""
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
        if self._keeper is not None:
            self._keeper.stop()  # after the last request: nothing is lost
            self._keeper = None
        if self._httpd is not None:
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.session.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def zoom_api_base(self) -> str:
        return f"{self.url}/zoom/v2"

    @property
    def zoom_oauth_base(self) -> str:
        return f"{self.url}/zoom"

    @property
    def hubspot_api_base(self) -> str:
        return f"{self.url}/hubspot"

    # --- control API helpers (over HTTP) ------------------------------------------------------

    def _control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.session.request(method, f"{self.url}/_sandbox/{path}", timeout=60, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"sandbox {method} /_sandbox/{path}: {response.status_code} "
                               f"{response.text[:500]}")
        return response.json()

    def load(self, scenario: str | Path | dict[str, Any]) -> dict[str, Any]:
        """Replace the world: a built-in name ("demo"), a file path or a scenario dict."""
        if isinstance(scenario, dict):
            body = scenario
        elif isinstance(scenario, Path) or "/" in str(scenario) or str(scenario).endswith(".json"):
            from sandbox.scenario import scenario_read

            body = scenario_read(str(scenario))
        else:
            body = {"name": str(scenario)}
        return self._control("POST", "scenario", json=body)

    def load_zoom(self, scenario: dict[str, Any]) -> dict[str, Any]:
        """Replace only Zoom's state with the scenario's `zoom` part (HubSpot's state stays)."""
        return self._control("POST", "zoom", json=scenario)

    def reset(self) -> dict[str, Any]:
        return self._control("POST", "reset")

    def calls(self) -> dict[str, Any]:
        return self._control("GET", "calls")

    def calls_clear(self) -> dict[str, Any]:
        return self._control("DELETE", "calls")

    def state(self) -> dict[str, Any]:
        return self._control("GET", "state")

    def token(self, service: str = "zoom", account_id: str | None = None) -> str:
        params = {"service": service}
        if account_id is not None:
            params["account_id"] = account_id
        return self._control("GET", "token", params=params)["access_token"]

    def configure(self, **knobs: Any) -> dict[str, Any]:
        return self._control("POST", "config", json=knobs)

    def config(self) -> dict[str, Any]:
        return self._control("GET", "config")

    def act(self, action: str, **fields: Any) -> dict[str, Any]:
        """One live change of the world, then its webhooks (sandbox/live.py)."""
        return self._control("POST", "act", json={"action": action, **fields})

    def webhooks_subscribe(self, **subscriptions: Any) -> dict[str, Any]:
        return self._control("POST", "webhooks", json=subscriptions)

    def webhooks(self) -> dict[str, Any]:
        return self._control("GET", "webhooks")
