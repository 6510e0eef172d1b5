"""The real-time part of `make demo`: after the first sync, a few live changes in the sandbox,
each delivered to zoomsync as the provider's signed webhook, and how fast each reached HubSpot.

Without a broker (the demo's default) the webhook's work runs in-process before its answer, so
the time of one act (change, webhook, processing, HubSpot write) is the arrival-to-HubSpot time.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

FUTURE = 81000000005  # "Future Roadmap 2030"
LAUNCH = 81000000001  # "Launch: Product Tour"


def _contact(server: Any, email: str) -> dict[str, Any] | None:
    for item in server.state()["hubspot"]["contacts"]:
        if item["properties"].get("email", "").lower() == email and not item["archived"]:
            return item
    return None


def demo_live(*, server: Any, say: Callable[[str], None]) -> list[tuple[str, float, bool]]:
    """Subscribe the sandbox to zoomsync's webhooks, perform the live acts, print each one's
    time to HubSpot. Returns (act, seconds, reached) for each."""
    from django.conf import settings

    settings.ZOOMSYNC_PUBLIC_URL = server.url
    settings.ZOOM_WEBHOOK_SECRET_TOKEN = settings.ZOOM_WEBHOOK_SECRET_TOKEN or secrets.token_urlsafe(24)
    settings.HUBSPOT_CLIENT_SECRET = settings.HUBSPOT_CLIENT_SECRET or secrets.token_urlsafe(24)
    server.webhooks_subscribe(
        zoom={"url": f"{server.url}/webhooks/zoom", "secret_token": settings.ZOOM_WEBHOOK_SECRET_TOKEN},
        hubspot={"url": f"{server.url}/webhooks/hubspot", "client_secret": settings.HUBSPOT_CLIENT_SECRET},
    )
    results: list[tuple[str, float, bool]] = []

    def timed(label: str, action: str, check: Callable[[], bool], **fields: Any) -> None:
        started = time.monotonic()
        server.act(action, **fields)
        seconds = time.monotonic() - started
        reached = check()
        results.append((label, seconds, reached))
        say(f"  {label:<62} {'in HubSpot after' if reached else 'NOT in HubSpot after'} {seconds:.1f} s")

    email = "live.lara@example.com"
    say("Live changes (signed webhooks from the sandbox, no scheduled sync in between):")

    def registered() -> bool:
        found = _contact(server, email)
        return found is not None and found["properties"].get("zoomsync_registration_count") == "1"

    timed("Lara registers for Future Roadmap 2030", "register", registered, account_id="zacc_main",
          webinar_id=FUTURE, registrant={"email": email, "first_name": "Lara", "last_name": "Live"})
    registrant = next(r["id"] for a in server.state()["zoom"]["accounts"] for w in a["webinars"]
                      if w["id"] == FUTURE for r in w["registrants"] if r["email"] == email)

    def cancelled() -> bool:
        found = _contact(server, email)
        return found is not None and found["properties"].get("zoomsync_registration_count") == "0"

    timed("Lara cancels: her registration count goes down", "registration_status", cancelled,
          account_id="zacc_main", webinar_id=FUTURE, registrant_id=registrant, status="cancelled")
    jane = _contact(server, "jane.doe@example.com")
    attended = int((jane or {}).get("properties", {}).get("zoomsync_attended_count") or 0)

    def attendance() -> bool:
        found = _contact(server, "jane.doe@example.com")
        return found is not None and int(found["properties"].get("zoomsync_attended_count") or 0) == attended + 1

    timed("An encore session of the Launch webinar ends (Jane attended)", "hold_session", attendance,
          account_id="zacc_main", webinar_id=LAUNCH,
          instance={"uuid": "DemoEncore000000000001==", "participants": [{"user_email": "jane.doe@example.com"}]})

    def deleted() -> bool:
        from connector.models import ContactLink, ContactState

        return ContactLink.objects.filter(email="maria.garcia@umbrella.example", state=ContactState.DELETED).exists()

    timed("Maria's contact is deleted in HubSpot: never recreated", "delete_contact", deleted, contact_id="506")
    return results
