"""The settings UI's part of erasure (B3): a person erased from a portal is scrubbed from
its audit log (the settings documents name Zoom users by email)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from connector.models import Portal
from connector.services.erasure import json_scrub, person_erasing
from settings_ui.models import AuditLogEntry


@receiver(person_erasing, dispatch_uid="settings_ui.person_erasing")
def person_erasing_receiver(sender: Any, *, portal: Portal, email: str, **kwargs: Any) -> dict[str, int]:
    if not email:
        return {}
    changed_rows = 0
    for entry in AuditLogEntry.objects.filter(portal=portal).only("pk", "source", "before", "after", "diff"):
        source, c0 = json_scrub(entry.source, [email])
        before, c1 = json_scrub(entry.before, [email])
        after, c2 = json_scrub(entry.after, [email])
        diff, c3 = json_scrub(entry.diff, [email])
        if c0 or c1 or c2 or c3:
            AuditLogEntry.objects.filter(pk=entry.pk).update(source=source, before=before, after=after, diff=diff)
            changed_rows += 1
    return {"audit log entry": changed_rows}
