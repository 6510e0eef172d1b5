"""Celery tasks of the workflow action (thin: IDs in, one service call)."""

from __future__ import annotations

from celery import shared_task

from workflows.services.followup import portal_sync_request


@shared_task(
    name="workflows.webinar_sync_after_registration",
    queue="realtime",
    acks_late=True,
    time_limit=60,
    soft_time_limit=50,
    ignore_result=True,
)
def webinar_sync_after_registration(
    *, portal_id: int, execution_id: int | None = None, webinar_id: str = ""
) -> bool:
    """R17: a registration made by the workflow action reaches HubSpot with the next pull;
    ask for a pull of that webinar now. `execution_id` is for the logs."""
    return portal_sync_request(portal_id=portal_id, webinar_id=webinar_id)
