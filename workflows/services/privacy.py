"""The workflow action's part of erasure and retention (B3, B4): receivers of the
connector's erasure signals (the core never imports this app).

An execution row is kept (its callback id answers HubSpot's retries the same way), but
everything personal in it is emptied; add attempts keep only a keyed hash of the email,
which is all Zoom's 3-adds-per-day count needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.dispatch import receiver

from connector.models import Portal, ZoomAccount
from connector.services.erasure import (
    ERASED,
    person_erasing,
    retention_pruning,
    zoom_account_erasing,
)
from workflows.models import ActionExecution, RegistrantAddAttempt

PERSONAL_BLANK: dict[str, Any] = {
    "email": "",
    "first_name": "",
    "last_name": "",
    "request_body": {},
    "contact_object_id": "",
    "join_url": "",
    "registrant_id": "",
    "error_message": ERASED,
}


def _executions_erase(executions: Any) -> int:
    count = 0
    for execution in executions.only("pk", "output_fields"):
        fields = {k: v for k, v in (execution.output_fields or {}).items() if k in ("hs_execution_state", "errorCode")}
        ActionExecution.objects.filter(pk=execution.pk).update(output_fields=fields, **PERSONAL_BLANK)
        count += 1
    return count


@receiver(person_erasing, dispatch_uid="workflows.person_erasing")
def person_erasing_receiver(
    sender: Any, *, portal: Portal, email: str, contact_id: str, email_hash: str, **kwargs: Any
) -> dict[str, int]:
    match = Q(pk__in=[])
    if email:
        match |= Q(email__iexact=email)
    if contact_id:
        match |= Q(contact_object_id=contact_id)
    executions = ActionExecution.objects.filter(Q(portal=portal) | Q(hub_id=portal.hub_id)).filter(match)
    counts = {"workflow execution": _executions_erase(executions)}
    if email:
        counts["registrant add attempt"] = RegistrantAddAttempt.objects.filter(
            zoom_account__portal=portal, email__iexact=email
        ).update(email=email_hash)
    return counts


@receiver(zoom_account_erasing, dispatch_uid="workflows.zoom_account_erasing")
def zoom_account_erasing_receiver(sender: Any, *, account: ZoomAccount, **kwargs: Any) -> dict[str, int]:
    # Registrations made in that account: the people's data goes with the account.
    return {
        "workflow execution": _executions_erase(ActionExecution.objects.filter(zoom_account=account)),
        "registrant add attempt": RegistrantAddAttempt.objects.filter(zoom_account=account).delete()[0],
    }


@receiver(retention_pruning, dispatch_uid="workflows.retention_pruning")
def retention_pruning_receiver(sender: Any, *, cutoff: datetime, **kwargs: Any) -> dict[str, int]:
    bodies = ActionExecution.objects.filter(created_at__lt=cutoff).exclude(request_body={})
    return {"workflow request body": bodies.update(request_body={})}
