"""`manage.py webhooks subscribe|replay|status`.

- `subscribe [--target-url URL] [--api-base URL] [--app-id ID] [--developer-key KEY]`: the HubSpot
  app's webhook target and subscriptions (contact deletion, merge, privacy deletion) through the
  webhooks v3 API. Works against the sandbox (`--api-base http://127.0.0.1:8899/hubspot`).
- `replay [--portal HUB_ID] [--id N ...]`: events that failed for good (or the given ones) are
  processed again.
- `status [--portal HUB_ID]`: the webhook health per portal, in plain words.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connector.models import Portal
from connector.webhooks.selectors import webhook_health
from connector.webhooks.services import webhook_events_replay
from connector.webhooks.subscriptions import SubscribeError, hubspot_webhooks_subscribe


class Command(BaseCommand):
    help = "Webhooks: set the HubSpot subscriptions, replay failed events, show their health."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        subscribe = sub.add_parser("subscribe", help="set the HubSpot app's webhook target and subscriptions")
        subscribe.add_argument("--target-url")
        subscribe.add_argument("--api-base")
        subscribe.add_argument("--app-id")
        subscribe.add_argument("--developer-key")
        replay = sub.add_parser("replay", help="process failed events again")
        replay.add_argument("--portal", type=int)
        replay.add_argument("--id", type=int, nargs="*", dest="ids")
        status = sub.add_parser("status", help="webhook health per portal")
        status.add_argument("--portal", type=int)

    def _portal(self, hub_id: int | None) -> Portal | None:
        if hub_id is None:
            return None
        portal = Portal.objects.filter(hub_id=hub_id).first()
        if portal is None:
            raise CommandError(f"no portal {hub_id}")
        return portal

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "subscribe":
            try:
                result = hubspot_webhooks_subscribe(
                    target_url=options["target_url"], api_base=options["api_base"],
                    app_id=options["app_id"], developer_key=options["developer_key"],
                )
            except SubscribeError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"HubSpot webhooks go to {result.target_url}")
            for label, names in (("created", result.created), ("activated", result.activated),
                                 ("already active", result.unchanged)):
                if names:
                    self.stdout.write(f"  {label}: {', '.join(names)}")
            return
        portal = self._portal(options.get("portal"))
        if action == "replay":
            count = webhook_events_replay(ids=options["ids"] or None, portal=portal)
            self.stdout.write(f"{count} event(s) queued again")
            return
        portals = [portal] if portal else list(Portal.objects.order_by("hub_id"))
        for item in portals:
            health = webhook_health(portal=item)
            self.stdout.write(f"{item}: {health.summary}")
            if health.advice:
                self.stdout.write(f"  {health.advice}")
