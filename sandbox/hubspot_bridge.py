"""Where the sandbox core finds the fake HubSpot's state class.

`sandbox.hubspot.state.HubSpotState` is built separately; until it exists, a minimal stand-in
keeps the core (Zoom, control API, server) usable. The stand-in accepts only `portal_id` and
issues tokens, so nothing pretends to be a HubSpot that is not there.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

try:
    from sandbox.hubspot.state import HubSpotState
except ImportError as exc:  # pragma: no cover - only before sandbox.hubspot exists
    if exc.name not in ("sandbox.hubspot", "sandbox.hubspot.state"):
        raise

    from sandbox.scenario import keys_check

    class HubSpotState:  # type: ignore[no-redef]
        def __init__(self, portal_id: int = 62515) -> None:
            self.portal_id = portal_id
            self.tokens: dict[str, float] = {}

        @classmethod
        def from_scenario(cls, data: dict[str, Any], *, path: str = "hubspot") -> HubSpotState:
            keys_check(data, allowed=("portal_id",), path=path)
            return cls(int(data.get("portal_id", 62515)))

        def snapshot(self) -> dict[str, Any]:
            return {"portal_id": self.portal_id, "contacts": [], "property_groups": [],
                    "properties": [], "timeline_events": [], "marketing_events": []}

        def issue_token(self) -> str:
            from sandbox.config import knobs

            token = "hs-sbx-" + secrets.token_urlsafe(24)
            self.tokens[token] = time.time() + knobs().token_lifetime_s
            return token

        def token_valid(self, token: str) -> bool:
            return self.tokens.get(token, 0) > time.time()


__all__ = ["HubSpotState"]
