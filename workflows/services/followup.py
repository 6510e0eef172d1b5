"""After a registration: ask the sync engine for a pull of that webinar, so R17/R18/R22
follow quickly (its registrants only, merged with any sync already asked for)."""

from __future__ import annotations

import logging

from django.conf import settings

from connector.models import Portal
from connector.services.sync_requests import sync_request

logger = logging.getLogger("zoomsync.workflows")


def sync_after_registration_enabled() -> bool:
    """WORKFLOWS_SYNC_AFTER_REGISTRATION, default on only with a real broker: without one,
    Celery runs tasks in-process, and the sync of the webinar would run inside HubSpot's call."""
    configured = getattr(settings, "WORKFLOWS_SYNC_AFTER_REGISTRATION", None)
    if configured is not None:
        return bool(configured)
    return not settings.CELERY_TASK_ALWAYS_EAGER


def portal_sync_request(*, portal_id: int, webinar_id: str = "") -> bool:
    """Ask the sync engine for a sync of the webinar (a SyncRun with trigger "workflow" and
    webinar_ids [webinar_id]; the whole portal when no webinar is known); True when asked."""
    if not sync_after_registration_enabled():
        logger.info(
            "portal %s: no sync queued after a workflow registration (Celery is eager or "
            "WORKFLOWS_SYNC_AFTER_REGISTRATION is off); the next scheduled pull picks it up",
            portal_id,
        )
        return False
    portal = Portal.objects.filter(pk=portal_id).first()
    if portal is None or not portal.is_active:
        logger.info("portal %s is gone or not connected: no sync after registration", portal_id)
        return False
    try:
        sync_request(portal=portal, source="workflow", webinar_ids=[webinar_id] if webinar_id else None)
    except Exception:
        # The registration is done and recorded; a failed enqueue must not undo the answer.
        logger.exception("portal %s: could not queue a sync after a workflow registration", portal_id)
        return False
    return True
