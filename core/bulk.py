"""Bulk loading: PostgreSQL COPY for large volumes, with a portable fallback for SQLite (the demo default).

Memory stays flat: rows are turned into CSV text as the server reads them (`CopyStream`, a file-like object that
psycopg2's copy_expert pulls from), never materialised as a list. `csv_block` formats rows into text ahead of time
for a caller that prepares the next block in another thread while the server loads the previous one.

NULL is written as an unquoted `\\N`; a text value that is literally `\\N` is written quoted (`"\\N"`), which COPY
reads as that text, not as NULL.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection

NULL = r"\N"
_COPY_OPTIONS = r"WITH (FORMAT csv, NULL '\N')"
_READ_SIZE = 1 << 20  # what copy_expert asks the stream for at a time


def _csv_value(value: Any) -> Any:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    return value


def _quoted(value: Any) -> str:
    """One field, formatted by hand (rows holding a literal \\N): quoted when csv would quote it, or when it is \\N."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    if text == NULL or any(c in text for c in ',"\r\n') or text == "":
        return '"' + text.replace('"', '""') + '"'
    return text


class _Lines:
    """What csv.writer writes into: a list of strings and their total length."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts = []
        self.size = 0
        return text


def _write_row(writer: Any, out: _Lines, row: Sequence[Any]) -> None:
    if NULL in row:  # a literal \N among the values (C-level comparison: cheap for the usual row)
        out.write(",".join(_quoted(v) for v in row) + "\n")
    else:
        writer.writerow([_csv_value(v) for v in row])


class CopyStream(io.TextIOBase):
    """A read-only text file over `rows`: each read() formats just enough rows as COPY CSV. Counts the rows."""

    def __init__(self, rows: Iterable[Sequence[Any]]) -> None:
        super().__init__()
        self._rows: Iterator[Sequence[Any]] = iter(rows)
        self._out = _Lines()
        self._writer = csv.writer(self._out, lineterminator="\n")
        self._rest = ""
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        want = _READ_SIZE if size is None or size < 0 else size
        out, writer = self._out, self._writer
        out.write(self._rest)
        self._rest = ""
        while out.size < want:
            row = next(self._rows, None)
            if row is None:
                break
            _write_row(writer, out, row)
            self.count += 1
        text = out.take()
        if len(text) > want:
            text, self._rest = text[:want], text[want:]
        return text


def csv_block(rows: Iterable[Sequence[Any]]) -> tuple[str, int]:
    """`rows` as COPY CSV text (for copy_csv), and how many rows it holds. Pure Python: safe in any thread."""
    out = _Lines()
    writer = csv.writer(out, lineterminator="\n")
    count = 0
    for row in rows:
        _write_row(writer, out, row)
        count += 1
    return out.take(), count


def _copy_sql(table: str, columns: Sequence[str]) -> str:
    quoted_cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    return f"COPY {connection.ops.quote_name(table)} ({quoted_cols}) FROM STDIN {_COPY_OPTIONS}"


def copy_csv(table: str, columns: Sequence[str], text: str) -> None:
    """Load CSV text made by csv_block into `table` (PostgreSQL only), in the caller's transaction."""
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(_copy_sql(table, columns), io.StringIO(text), size=_READ_SIZE)


def copy_rows(
    table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, buffer_rows: int | None = None
) -> int:
    """Insert `rows` into `table` (`columns` in order). Returns the number of rows written.

    PostgreSQL: one COPY … FROM STDIN (CSV, NULL as \\N) reading a CopyStream, so `rows` is consumed while the
    COPY runs and must not use the database connection. A generator that does (e.g. one reading a server-side
    cursor) passes `buffer_rows`: blocks of that many rows are formatted first, then COPYed, one COPY per block.
    Other databases: executemany INSERTs in batches. Runs in the caller's transaction; the caller decides
    atomicity.
    """
    count = 0
    if connection.vendor == "postgresql":
        if buffer_rows is None:
            stream = CopyStream(rows)
            with connection.cursor() as cursor:
                cursor.cursor.copy_expert(_copy_sql(table, columns), stream, size=_READ_SIZE)  # psycopg2
            return stream.count
        iterator = iter(rows)
        while True:
            text, n = csv_block(itertools.islice(iterator, buffer_rows))
            if not n:
                return count
            copy_csv(table, columns, text)
            count += n

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
