"""Registrations the connector made itself (R17), recorded where the sync reads them.

`external_registration_record` is the one way to record one: the workflows app calls it when
Zoom accepts a registration, inside the transaction that records the action's success.
Compute reads the rows (R17) and asks which are newer than its last run (B2).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from connector.models import ExternalRegistration, Portal, ZoomAccount
from connector.services.sync_settings import email_normalize


def external_registration_record(
    *,
    portal: Portal,
    zoom_account: ZoomAccount | None,
    webinar_id: str,
    email: str,
    join_url: str,
    registrant_id: str = "",
    registered_at: dt.datetime | None,
) -> ExternalRegistration | None:
    """Record that the connector registered `email` for the webinar (R17); the latest
    registration of a person for a webinar wins. None when there is nothing to record (no
    email or no join URL: R17 has no value to show)."""
    email = email_normalize(email)[:254]
    if not email or not join_url:
        return None
    with transaction.atomic():
        row, created = ExternalRegistration.objects.select_for_update().get_or_create(
            portal=portal,
            webinar_id=str(webinar_id)[:30],
            email=email,
            defaults={
                "zoom_account": zoom_account,
                "registrant_id": registrant_id[:100],
                "join_url": join_url[:1000],
                "registered_at": registered_at,
            },
        )
        older = row.registered_at is not None and (registered_at is None or registered_at < row.registered_at)
        if not created and not older:
            row.zoom_account = zoom_account
            row.registrant_id = registrant_id[:100]
            row.join_url = join_url[:1000]
            row.registered_at = registered_at
            row.save(update_fields=["zoom_account", "registrant_id", "join_url", "registered_at", "updated_at"])
    return row

