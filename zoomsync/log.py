"""Log records that say which portal, run, Zoom account and Celery task they are about.

`log_context(portal_id=..., run_id=..., account_id=...)` sets ids for the block (context
variables: per thread, per task); `ContextFilter` (installed on the console handler by
settings.LOGGING) copies them onto every record, so the JSON formatter (python-json-logger;
LOG_FORMAT=json, the default with DEBUG off) writes them as fields, and the plain formatter
appends them (`portal=62515 run=7`). Celery's task_prerun/postrun signals set `task_id`
and, from the task's arguments, `portal_pk` (`portal_id`, the row) and `run_id` (`sync_run_id`);
a sync adds `portal_id` (the hub id) and, per Zoom account, `account_id`.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import logging
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

# portal_id: the HubSpot hub id; portal_pk: the Portal row (what task arguments carry).
CONTEXT_FIELDS = ("portal_id", "portal_pk", "run_id", "account_id", "task_id")
# Task argument name -> log field.
_TASK_ARGUMENTS = {"portal_id": "portal_pk", "sync_run_id": "run_id", "run_id": "run_id",
                   "account_id": "account_id"}

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar("zoomsync_log_context", default=_EMPTY)


@contextlib.contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Within the block, log records carry these ids (None values are left out)."""
    token = _context.set({**_context.get(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def log_context_push(**ids: Any) -> contextvars.Token[Mapping[str, Any]]:
    """`log_context` without a block: pass the token to `log_context_pop` (in a finally)."""
    return _context.set({**_context.get(), **{k: v for k, v in ids.items() if v is not None}})


def log_context_pop(token: contextvars.Token[Mapping[str, Any]]) -> None:
    with contextlib.suppress(ValueError):
        _context.reset(token)


def log_context_get() -> dict[str, Any]:
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Adds the context ids as record attributes (explicit `extra=` values win) and `ctx`, the
    same ids as text for the plain format."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = _context.get()
        parts = []
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is None:
                value = ids.get(name)
                if value is not None:
                    setattr(record, name, value)
            if value is not None:
                parts.append(f"{name.removesuffix('_id')}={value}")
        record.ctx = (" [" + " ".join(parts) + "]") if parts else ""
        return True


def json_formatter(**kwargs: Any) -> logging.Formatter:
    """python-json-logger's formatter: one JSON object per line with timestamp, level, logger,
    message, the context ids and any `extra=` fields."""
    from pythonjsonlogger.core import RESERVED_ATTRS
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        reserved_attrs=[*RESERVED_ATTRS, "ctx", "color_message"],
        timestamp=False,
        **kwargs,
    )


# --- Celery -----------------------------------------------------------------------------

_task_tokens: dict[str, contextvars.Token[Mapping[str, Any]]] = {}


def _task_prerun(task_id: str | None = None, task: Any = None, args: Any = None,
                 kwargs: Any = None, **_: Any) -> None:
    ids: dict[str, Any] = {"task_id": task_id}
    try:
        bound = inspect.signature(task.run).bind_partial(*(args or ()), **(kwargs or {}))
        for name, value in bound.arguments.items():
            field = _TASK_ARGUMENTS.get(name)
            if field and value is not None and not isinstance(value, dict | list):
                ids[field] = value
        ids.update(_ids_from_rows(run_pk=ids.get("run_id"), webinar_pk=bound.arguments.get("webinar_pk")))
    except (TypeError, ValueError, AttributeError):
        pass
    if task_id:
        _task_tokens[task_id] = _context.set({**_context.get(), **ids})


def _ids_from_rows(*, run_pk: Any, webinar_pk: Any) -> dict[str, Any]:
    """The hub id of a run's portal, the Zoom account of a webinar (fan-out tasks carry
    only row ids). Never fails the task: a lookup error leaves the ids out."""
    ids: dict[str, Any] = {}
    try:
        from connector.models import SyncRun, Webinar

        if isinstance(run_pk, int):
            hub_id = SyncRun.objects.filter(pk=run_pk).values_list("portal__hub_id", flat=True).first()
            if hub_id is not None:
                ids["portal_id"] = hub_id
        if isinstance(webinar_pk, int):
            account = Webinar.objects.filter(pk=webinar_pk).values_list("account__account_id", flat=True).first()
            if account is not None:
                ids["account_id"] = account
    except Exception:  # noqa: BLE001 - logging context is best effort
        return {}
    return ids


def _task_postrun(task_id: str | None = None, **_: Any) -> None:
    token = _task_tokens.pop(task_id or "", None)
    if token is not None:
        with contextlib.suppress(ValueError):
            _context.reset(token)


def celery_signals_connect() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_prerun, weak=False, dispatch_uid="zoomsync-log-prerun")
    task_postrun.connect(_task_postrun, weak=False, dispatch_uid="zoomsync-log-postrun")
