"""Writes made from the settings UI.

Every settings change goes through `sync_settings_import` (the same path as the
`sync_settings import` command), so the UI can never store a document the command would
refuse, and every change leaves an audit log entry with a diff.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone

from connector.clients.errors import sync_error_code
from connector.models import Portal
from connector.services.sync_settings import sync_settings_export, sync_settings_import
from settings_ui.models import AuditAction, AuditLogEntry

_NESTED = ("users", "webinars")
logger = logging.getLogger("zoomsync.settings_ui")


def settings_diff(*, old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """What changed between two settings documents, one row per changed path.

    Lists also say what was added and removed, so the audit page reads like a sentence.
    Per-user and per-webinar entries are compared one by one ("users.host@acme.com").
    """
    rows: list[dict[str, Any]] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key in _NESTED and isinstance(a or {}, dict) and isinstance(b or {}, dict):
            a, b = a or {}, b or {}
            for sub in sorted(set(a) | set(b)):
                if a.get(sub) != b.get(sub):
                    rows.append({"path": f"{key}.{sub}", "old": a.get(sub), "new": b.get(sub)})
            continue
        row: dict[str, Any] = {"path": key, "old": a, "new": b}
        if isinstance(a, list) and isinstance(b, list):
            # Sets: a 60,000-domain list compares in linear time (issue 14, item 9).
            in_a, in_b = set(map(_hashable, a)), set(map(_hashable, b))
            row["added"] = [v for v in b if _hashable(v) not in in_a]
            row["removed"] = [v for v in a if _hashable(v) not in in_b]
        rows.append(row)
    return rows


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else repr(value)


def _actor(user: AbstractBaseUser | AnonymousUser | None) -> tuple[Any, str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return None, ""
    return user, user.get_username()


@transaction.atomic
def settings_document_save(
    *,
    portal: Portal,
    user: AbstractBaseUser | AnonymousUser | None,
    document: dict[str, Any],
    source: str,
    action: str = AuditAction.SETTINGS_CHANGED,
) -> tuple[dict[str, Any], AuditLogEntry | None]:
    """Validate and store a whole settings document; log the change (no entry when nothing changed).

    Raises django ValidationError (from settings_document_parse) and then writes nothing.
    """
    before = sync_settings_export(portal=portal)
    after = sync_settings_import(portal=portal, document=document)
    diff = settings_diff(old=before, new=after)
    entry = None
    if diff:
        db_user, actor = _actor(user)
        entry = AuditLogEntry.objects.create(
            portal=portal, user=db_user, actor=actor, action=action, source=source,
            before=before, after=after, diff=diff,
        )
    return after, entry


def settings_document_merge(*, portal: Portal, changes: dict[str, Any]) -> dict[str, Any]:
    """The current document with a form's changes applied (nothing is stored).

    Top-level keys replace; `users` and `webinars` entries are merged per key (a value of
    None removes the entry), so one user's page never touches another user's settings.
    """
    document = copy.deepcopy(sync_settings_export(portal=portal))
    for key, value in changes.items():
        if key in _NESTED:
            merged = dict(document.get(key, {}))
            for sub, cfg in value.items():
                if cfg is None:
                    merged.pop(sub, None)
                else:
                    merged[sub] = cfg
            document[key] = merged
        else:
            document[key] = value
    return document


def settings_update(
    *,
    portal: Portal,
    user: AbstractBaseUser | AnonymousUser | None,
    changes: dict[str, Any],
    source: str,
) -> tuple[dict[str, Any], AuditLogEntry | None]:
    """Apply a form's changes on top of the current document and save the result."""
    document = settings_document_merge(portal=portal, changes=changes)
    return settings_document_save(portal=portal, user=user, document=document, source=source)


def audit_sync_started(*, portal: Portal, user: AbstractBaseUser | AnonymousUser | None, run_id: int) -> AuditLogEntry:
    db_user, actor = _actor(user)
    return AuditLogEntry.objects.create(
        portal=portal, user=db_user, actor=actor, action=AuditAction.SYNC_STARTED,
        source=f"sync run {run_id}",
    )


# --- "Sync now" ------------------------------------------------------------------------------


class SyncUnavailable(Exception):
    """A sync cannot be started (the portal is not connected)."""


def sync_now_start(*, portal: Portal, user: AbstractBaseUser | AnonymousUser | None) -> Any:
    """Start a sync on the workers and return its SyncRun; a running one is returned instead
    of starting a second (one sync per portal at a time)."""
    from connector.models import SyncRun, SyncRunStatus

    active = (
        SyncRun.objects.filter(portal=portal, finished_at__isnull=True, status__in=["queued", "running"])
        .order_by("-id")
        .first()
    )
    if active is not None:
        return active
    if not portal.is_active:
        raise SyncUnavailable(f"The HubSpot portal is {portal.get_status_display().lower()}: reconnect it first.")
    from connector.services.sync import sync_run_start

    run = None
    try:
        with transaction.atomic():
            # sync_run_start queues the task with delay_on_commit: the worker sees the row.
            run = sync_run_start(portal=portal, trigger="manual")
            audit_sync_started(portal=portal, user=user, run_id=run.id)
    except Exception as exc:
        # Without a broker the task runs in-process at commit and its errors surface here;
        # the run page shows them, so the admin is not left with a server error.
        logger.exception("sync of portal %s failed", portal.hub_id)
        if run is None:
            raise
        SyncRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(
            status=SyncRunStatus.FAILED, error=f"{exc.__class__.__name__}: {exc}",
            error_code=sync_error_code(exc), finished_at=timezone.now(),
        )
    run.refresh_from_db()
    return run
