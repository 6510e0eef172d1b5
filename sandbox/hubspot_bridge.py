"""Where the sandbox core finds the fake HubSpot's state class (`sandbox.hubspot.state`).

The core relies on: `HubSpotState.from_scenario(data, path=...)` (raising ScenarioError),
`.snapshot()`, `.issue_token()`, `.token_valid(token)`, and optionally
`.token_expired_seconds_ago(token)`, `.adopt_tokens(old)`, `.portal_id`,
`.developer_api_key` (see sandbox.middleware and sandbox.state).
"""

from sandbox.hubspot.state import HubSpotState

__all__ = ["HubSpotState"]
