"""R17: a registration Zoom accepted is recorded in the connector's table, in the same
transaction as the action's success.

The receiver runs on every save of an ActionExecution, so however the success is written
(the action's `_execution_finish`, a data fix, a test), the connector knows of it; the core
never reads this app's tables.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from connector.services.external_registrations import external_registration_record
from workflows.models import ActionExecution, ExecutionStatus


@receiver(post_save, sender=ActionExecution, dispatch_uid="workflows.registration_record")
def registration_record_receiver(sender: Any, *, instance: ActionExecution, **kwargs: Any) -> None:
    portal = instance.portal
    if instance.status != ExecutionStatus.SUCCEEDED or portal is None:
        return
    external_registration_record(
        portal=portal,
        zoom_account=instance.zoom_account,
        webinar_id=instance.webinar_id,
        email=instance.email,
        join_url=instance.join_url,
        registrant_id=instance.registrant_id,
        registered_at=instance.registered_at,
    )
