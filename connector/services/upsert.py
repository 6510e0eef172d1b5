"""Bulk upsert of plain rows (INSERT … ON CONFLICT … DO UPDATE), for the pull and compute.

Django's `bulk_create(update_conflicts=True)` prepares every value of every model instance
through its field machinery: at 100,000 registrants that is most of the sync's CPU time.
Here rows are tuples already in database form (datetimes through `dt_db`), sent with one
executemany per page (SQLite) or `execute_values` (PostgreSQL, one statement per 1,000 rows).
Both backends speak the same ON CONFLICT dialect.
"""

from __future__ import annotations

import datetime as dt
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
