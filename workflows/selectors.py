"""Reads over the workflow action's records."""

from __future__ import annotations

from django.db.models import QuerySet

from connector.models import Portal
from workflows.models import ActionExecution, ExecutionStatus


def workflow_registrations_for_portal(*, portal: Portal) -> QuerySet[ActionExecution]:
    """Registrations the workflow action made for this portal, oldest first (R17).

    Each row has `email` (lower-cased), `webinar_id`, `registrant_id`, `join_url` and
    `registered_at`. The sync reads the connector's copy (connector.ExternalRegistration,
    recorded when each success is saved), never these rows.
    """
    return ActionExecution.objects.filter(portal=portal, status=ExecutionStatus.SUCCEEDED).order_by(
        "registered_at", "pk"
    )
