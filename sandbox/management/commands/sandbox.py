"""`python manage.py sandbox serve|generate` (INTERFACES.md §2).

The sandbox app (and so this command) exists only with ZOOMSYNC_SANDBOX=1 in the environment;
`python -m sandbox ...` sets it for you.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


def _rate(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(value)
    return rate


class Command(BaseCommand):
    help = "Serve the sandbox (fake Zoom + HubSpot) or generate a large scenario."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        serve = sub.add_parser("serve", help="serve the sandbox on loopback until interrupted")
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=8899)
        serve.add_argument("--scenario", action="append", default=None,
                           help="built-in name (demo), a JSON file, or 'none' for empty; repeat"
                                " it to serve several HubSpot portals (one per file)")
        serve.add_argument("--state-file", default=None,
                           help="keep the world in this file: read back on start (instead of"
                                " the scenario), saved while serving and on stop")
        serve.add_argument("--latency-ms", type=int, default=0)
        serve.add_argument("--rate-limits", choices=("on", "off"), default="on")
        serve.add_argument("--fault-rate", type=_rate, default=0.0,
                           help="probability of a 500/502/503 answer per API call")
        serve.add_argument("--timeout-rate", type=_rate, default=0.0,
                           help="probability of a slow answer (see --timeout-delay-s)")
        serve.add_argument("--timeout-delay-s", type=float, default=3.0)
        serve.add_argument("--drop-rate", type=_rate, default=0.0,
                           help="probability of closing the connection without an answer")
        serve.add_argument("--seed", type=int, default=None)
        serve.add_argument("--token-lifetime-s", type=int, default=1800,
                           help="HubSpot access-token lifetime")
        serve.add_argument("--zoom-token-lifetime-s", type=int, default=3600)
        serve.add_argument("--hubspot-rate-limit", default="110/10",
                           help="HubSpot per-portal limit as MAX/SECONDS (default 110/10)")

        gen = sub.add_parser("generate", help="print a synthetic scenario as JSON")
        gen.add_argument("--webinars", type=int, required=True)
        gen.add_argument("--registrants", type=int, required=True,
                         help="registrations in total, spread over the webinars")
        gen.add_argument("--attendance-rate", type=_rate, default=0.6)
        gen.add_argument("--rejoin-rate", type=_rate, default=0.1)
        gen.add_argument("--guest-rate", type=_rate, default=0.05)
        gen.add_argument("--seed", type=int, default=1)
        gen.add_argument("--portals", type=int, default=1,
                         help="HubSpot portals (each its own Zoom account and webinars; ids 62515, 62516, ...)")
        gen.add_argument("--people", type=int, default=None,
                         help="distinct people (default: one per registration)")
        gen.add_argument("--existing-contact-rate", type=_rate, default=0.2)
        gen.add_argument("--recurring-every", type=int, default=0,
                         help="every Nth webinar is recurring (type 9); 0: none")
        gen.add_argument("--occurrences", type=int, default=3, help="held occurrences of a recurring webinar")
        gen.add_argument("--recording-rate", type=_rate, default=0.0,
                         help="share of held sessions with a cloud recording")
        gen.add_argument("--transcript-rate", type=_rate, default=0.5,
                         help="share of recordings with a transcript file")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "generate":
            self._generate(options)
        else:
            self._serve(options)

    def _generate(self, options: dict[str, Any]) -> None:
        from sandbox.generate import scenario_generate_portals

        data = scenario_generate_portals(
            portals=options["portals"], webinars=options["webinars"], registrants=options["registrants"],
            attendance_rate=options["attendance_rate"], rejoin_rate=options["rejoin_rate"],
            guest_rate=options["guest_rate"], seed=options["seed"], people=options["people"],
            existing_contact_rate=options["existing_contact_rate"],
            recurring_every=options["recurring_every"], occurrences=options["occurrences"],
            recording_rate=options["recording_rate"], transcript_rate=options["transcript_rate"],
        )
        json.dump(data, sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")

    def _serve(self, options: dict[str, Any]) -> None:
        from sandbox.persist import StateFileError
        from sandbox.scenario import ScenarioError
        from sandbox.server import SandboxServer

        try:
            limit_max, limit_window = (int(x) for x in options["hubspot_rate_limit"].split("/"))
        except ValueError as exc:
            raise CommandError("--hubspot-rate-limit must look like 110/10") from exc
        names = options["scenario"] or ["demo"]
        scenario: Any = None if names == ["none"] else names[0] if len(names) == 1 else names
        server = SandboxServer(
            host=options["host"], port=options["port"], scenario=scenario,
            state_file=options["state_file"],
            latency_ms=options["latency_ms"], rate_limits=options["rate_limits"] == "on",
            fault_rate=options["fault_rate"], timeout_rate=options["timeout_rate"],
            timeout_delay_s=options["timeout_delay_s"], drop_rate=options["drop_rate"],
            seed=options["seed"], token_lifetime_s=options["token_lifetime_s"],
            zoom_token_lifetime_s=options["zoom_token_lifetime_s"],
            hubspot_rate_limit=[limit_max, limit_window],
        )
        try:
            server.start()
        except ScenarioError as exc:
            raise CommandError(f"scenario: {exc}") from exc
        except StateFileError as exc:
            raise CommandError(str(exc)) from exc
        except (RuntimeError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        stop = threading.Event()

        def _stop(signum: int, frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        from sandbox.state import sandbox_state

        world = sandbox_state()
        origin = (f"state file {server.state_file}" if server.restored
                  else f"scenario: {', '.join(names)}")
        if len(world.portals) > 1:
            origin += "; portals " + ", ".join(f"{p} at {server.url}/p/{p}" for p in sorted(world.portals))
        self.stdout.write(f"sandbox serving on {server.url} ({origin}); "
                          f"Zoom at {server.url}/zoom/v2, HubSpot at {server.url}/hubspot, "
                          f"control at {server.url}/_sandbox/")
        self.stdout.flush()
        while not stop.wait(0.5):
            pass
        server.stop()
        self.stdout.write("sandbox stopped")
