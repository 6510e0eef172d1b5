"""One portal's sync: the entry points. The stages live in `services/pipeline.py` (one code
path for the in-process sync and the workers); asking for a sync is
`services/sync_requests.py`. Kept here: the names callers and tests have always used.
"""

from __future__ import annotations

from connector.models import Portal, SyncRun
from connector.services.pipeline import (
    LEASE_TTL,
    TRANSIENT_ERRORS,
    Progress,
    SyncAlreadyRunning,
    SyncLeaseLost,
    lease_owner_new,
    portal_sync,
    sync_lease_acquire,
    sync_lease_release,
    sync_lease_renew,
)
from connector.services.pull import account_level_pull, account_pull

__all__ = [
    "LEASE_TTL",
    "TRANSIENT_ERRORS",
    "Progress",
    "SyncAlreadyRunning",
    "SyncLeaseLost",
    "account_level_pull",
    "account_pull",
    "lease_owner_new",
    "portal_sync",
    "sync_lease_acquire",
    "sync_lease_release",
    "sync_lease_renew",
    "sync_run_start",
]


def sync_run_start(*, portal: Portal, trigger: str = "manual") -> SyncRun:
    """Ask for a sync of the portal (merged with a queued or running one): see
    `connector.services.sync_requests.sync_request`."""
    from connector.services.sync_requests import sync_request

    return sync_request(portal=portal, source=trigger)
