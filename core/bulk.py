"""Bulk loading: PostgreSQL COPY for large volumes, with a portable fallback for SQLite (the demo default).

Memory stays flat: rows are streamed to the server in buffers of `buffer_rows`, never materialised as a list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection


def _csv_value(value: Any) -> Any:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return value


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, buffer_rows: int = 50_000) -> int:
    """Insert `rows` into `table` (`columns` in order). Returns the number of rows written.

    PostgreSQL: COPY … FROM STDIN (CSV, NULL as \\N) in buffers. Other databases: executemany INSERTs in batches.
    Runs in the caller's transaction; the caller decides atomicity.
    """
    count = 0
    if connection.vendor == "postgresql":
        quoted_cols = ", ".join(connection.ops.quote_name(c) for c in columns)
        sql = (
            f"COPY {connection.ops.quote_name(table)} ({quoted_cols}) FROM STDIN "
            r"WITH (FORMAT csv, NULL '\N')"
        )
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg2 cursor: copy_expert
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            pending = 0
            for row in rows:
                writer.writerow([_csv_value(v) for v in row])
                pending += 1
                if pending >= buffer_rows:
                    buf.seek(0)
                    raw.copy_expert(sql, buf)
                    count += pending
                    pending = 0
                    buf = io.StringIO()
                    writer = csv.writer(buf, lineterminator="\n")
            if pending:
                buf.seek(0)
                raw.copy_expert(sql, buf)
                count += pending
        return count

    placeholders = ", ".join(["%s"] * len(columns))
    quoted_cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    sql = f"INSERT INTO {connection.ops.quote_name(table)} ({quoted_cols}) VALUES ({placeholders})"
    batch: list[Sequence[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(tuple(row))
            if len(batch) >= 2000:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count
