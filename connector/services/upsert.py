"""Bulk upsert of plain rows (INSERT … ON CONFLICT … DO UPDATE), for the pull and compute.

Django's `bulk_create(update_conflicts=True)` prepares every value of every model instance
through its field machinery: at 100,000 registrants that is most of the sync's CPU time.
Here rows are tuples already in database form (datetimes through `dt_db`), sent with one
executemany per page (SQLite) or `execute_values` (PostgreSQL, one statement per 1,000 rows).
Both backends speak the same ON CONFLICT dialect.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models, transaction


def dt_db(value: dt.datetime | None) -> Any:
    """A datetime as the backend stores it (SQLite: naive UTC text; PostgreSQL: as is)."""
    if value is None:
        return None
    return connection.ops.adapt_datetimefield_value(value)


def rows_upsert(
    *,
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert `rows` (tuples in `columns` order) into the model's table; on a conflict of the
    `conflict` columns update the `update` columns (or do nothing when `update` is empty)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    cols = ", ".join(qn(c) for c in columns)
    if update:
        action = "DO UPDATE SET " + ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in update)
    else:
        action = "DO NOTHING"
    target = ", ".join(qn(c) for c in conflict)
    # One transaction per page: in autocommit, SQLite would commit (fsync) every row.
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            # Identifiers only (quoted model metadata); every value is a parameter.
            sql = f"INSERT INTO {table} ({cols}) VALUES %s ON CONFLICT ({target}) {action}"  # noqa: S608
            execute_values(cursor.cursor, sql, [tuple(r) for r in rows], page_size=1000)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({cols}) VALUES ({placeholders}) ON CONFLICT ({target}) {action}"  # noqa: S608
            cursor.executemany(sql, rows)


def rows_changed_emails(
    *,
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: Sequence[str],
    compare: Sequence[str],
    email: str = "email",
) -> set[str]:
    """The emails of `rows` that are new or differ from what the table holds in `compare`
    (old and new email both, when the email changed). Call it before `rows_upsert`, in the
    same transaction: B2's change tracking (one read per page, raw values in database form
    so they compare equal to what `dt_db` makes)."""
    if not rows:
        return set()
    qn = connection.ops.quote_name
    index = {c: i for i, c in enumerate(columns)}
    key_at = [index[c] for c in conflict]
    cmp_at = [index[c] for c in compare]
    email_at = index[email]
    wanted = {tuple(r[i] for i in key_at): r for r in rows}
    table = qn(model._meta.db_table)
    select = ", ".join(qn(c) for c in [*conflict, *compare])
    where, params = [], []
    for n, column in enumerate(conflict):
        values = sorted({k[n] for k in wanted}, key=str)
        where.append(f"{qn(column)} IN ({', '.join(['%s'] * len(values))})")
        params.extend(values)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select} FROM {table} WHERE {' AND '.join(where)}", params)  # noqa: S608
        existing = {tuple(row[: len(conflict)]): tuple(row[len(conflict) :]) for row in cursor.fetchall()}
    email_cmp = compare.index(email) if email in compare else None
    changed: set[str] = set()
    for key, row in wanted.items():
        old = existing.get(key)
        new = tuple(row[i] for i in cmp_at)
        if old is None or tuple(_same(v) for v in old) != tuple(_same(v) for v in new):
            changed.add(str(row[email_at] or ""))
            if old is not None and email_cmp is not None:
                changed.add(str(old[email_cmp] or ""))
    changed.discard("")
    return changed


def _same(value: Any) -> Any:
    """One form for values read back and values about to be written (datetimes as UTC text,
    JSON as sorted text)."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in " T":
        return value.replace("T", " ")
    return value
