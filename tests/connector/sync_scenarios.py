"""Sync test helpers (E1): a small sandbox scenario exercising R2–R5, R8, R10 and R3.

Imported by test_pull*/test_sync*/test_commands* (a helper module, not a conftest, so other
areas' fixtures stay separate)."""

from __future__ import annotations

import copy
from typing import Any

BASE_SCENARIO: dict[str, Any] = {
    "hubspot": {
        "portal_id": 62515,
        "users": [{"id": "9001", "email": "marketer@acme.com"}],
        "business_units": [{"id": "0", "name": "Acme", "primary": True}],
        "contacts": [],
    },
    "zoom": {
        "accounts": [
            {
                "account_id": "zacc_main",
                "business_unit_id": "0",
                "users": [
                    {"id": "zu_1", "email": "Host@Acme.com", "first_name": "Hal", "last_name": "Host"},
                    {"id": "zu_2", "email": "pat@partner.example", "first_name": "Pat", "last_name": "Partner"},
                ],
                "zoom_events": [{"event_id": "ze_1", "webinar_ids": [81000000009]}],
                "webinars": [
                    {
                        "id": 81000000001,
                        "host_id": "zu_1",
                        "topic": "Launch",
                        "type": 5,
                        "start_time": "2026-10-01T15:00:00Z",
                        "duration": 60,
                        "join_url": "https://zoom.us/j/81000000001",
                        "registrants": [
                            {"id": "r_1", "email": "Jane@Example.COM", "first_name": "Jane", "last_name": "Doe",
                             "status": "approved", "create_time": "2026-09-20T10:00:00Z",
                             "join_url": "https://zoom.us/w/81000000001?tk=r_1"},
                            {"id": "r_2", "email": "bob@example.org", "first_name": "Bob", "last_name": "Lee",
                             "status": "pending", "create_time": "2026-09-21T10:00:00Z"},
                            {"id": "r_3", "email": "den@example.org", "first_name": "Den", "last_name": "Nied",
                             "status": "denied", "create_time": "2026-09-22T10:00:00Z"},
                        ],
                        "instances": [
                            {
                                "uuid": "4444AAAiAAAAAiAiAiiAii==",
                                "start_time": "2026-10-01T15:00:00Z",
                                "end_time": "2026-10-01T16:00:00Z",
                                "participants": [
                                    {"id": "p_1", "name": "Jane Doe", "user_email": "jane@example.com",
                                     "registrant_id": "r_1",
                                     "join_time": "2026-10-01T14:55:00Z", "leave_time": "2026-10-01T15:30:00Z"},
                                    {"id": "p_1", "name": "Jane Doe", "user_email": "jane@example.com",
                                     "registrant_id": "r_1",
                                     "join_time": "2026-10-01T15:20:00Z", "leave_time": "2026-10-01T15:45:00Z"},
                                    {"id": "p_2", "name": "Guest Gus", "user_email": "",
                                     "join_time": "2026-10-01T15:00:00Z", "leave_time": "2026-10-01T15:10:00Z"},
                                ],
                            }
                        ],
                    },
                    {
                        "id": 81000000002,
                        "host_id": "zu_2",
                        "topic": "Partner webinar",
                        "type": 5,
                        "start_time": "2026-10-02T15:00:00Z",
                        "duration": 60,
                        "registrants": [
                            {"id": "r_9", "email": "eve@example.net", "first_name": "Eve", "last_name": "X",
                             "status": "approved", "create_time": "2026-09-20T10:00:00Z"},
                        ],
                    },
                    {
                        "id": 81000000009,
                        "host_id": "zu_1",
                        "topic": "Zoom Events session",
                        "type": 5,
                        "start_time": "2026-10-03T15:00:00Z",
                        "duration": 60,
                        "registrants": [
                            {"id": "r_8", "email": "zed@example.net", "first_name": "Zed", "last_name": "Y",
                             "status": "approved", "create_time": "2026-09-20T10:00:00Z"},
                        ],
                    },
                ],
            }
        ]
    },
}


def scenario_copy() -> dict[str, Any]:
    """A fresh copy of the base scenario, to adjust per test before loading."""
    return copy.deepcopy(BASE_SCENARIO)


def connect(sandbox: Any, data: dict[str, Any] | str):
    """Load the scenario into the sandbox and connect the portal (over HTTP)."""
    from connector.services.sandbox_connect import sandbox_connect

    sandbox.load(data)
    return sandbox_connect(url=sandbox.url)


def fanout_begin(run: Any) -> list[int] | None:
    """What portal_sync_task does with a broker: claim the run, pull the account level and
    hand the webinar pks to the fan-out (collected here instead of launched). None when the
    run is live in another worker (a redelivered task), as the task then does nothing."""
    from connector.services.pipeline import RunBusy, pipeline_run

    launched: list[list[int]] = []
    try:
        pipeline_run(run=run, launch=lambda _run, pks: launched.append(list(pks)))
    except RunBusy:
        return None
    return launched[0] if launched else None

