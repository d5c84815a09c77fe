"""Collecting row errors without holding 10^6 of them in memory, and the full error report as CSV.

On PostgreSQL errors go to a TEMP table (in the import's transaction, so they vanish with it); the first
`cap` in file order are shown and, when there are more, all of them are written to a CSV report. Elsewhere
(SQLite, small files) a list does the same job.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.bulk import copy_rows
from enterprises.importing.result import RowError

DEFAULT_CAP = 10_000
_FLUSH = 5_000
_REPORT_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ErrorSink:
    """Where row errors go while the file streams; `finish` returns (shown errors, total count, report path)."""

    def __init__(self, *, cap: int = DEFAULT_CAP) -> None:
        self.cap = cap
        self.count = 0

    def add(self, sheet: int, row: int | None, column: str, message: str) -> None:
        raise NotImplementedError

    def finish(self, *, sheet_names: list[str], stem: str) -> tuple[list[RowError], int, str | None]:
        raise NotImplementedError

    @staticmethod
    def _error(sheet_names: list[str], sheet: int, row: int, column: str, message: str) -> RowError:
        # A sheet is named only when the workbook has several: "行 12，列 uscc：…" is what a one-table file needs.
        name = sheet_names[sheet] if len(sheet_names) > 1 and sheet < len(sheet_names) else ""
        return RowError(row=row or None, column=column, message=message, sheet=name)


class MemoryErrorSink(ErrorSink):
    """Every error in a list (the portable path is for small files)."""

    def __init__(self, *, cap: int = DEFAULT_CAP) -> None:
        super().__init__(cap=cap)
        self._items: list[tuple[int, int, int, str, str]] = []

    def add(self, sheet: int, row: int | None, column: str, message: str) -> None:
        self._items.append((sheet, row or 0, self.count, column, message))
        self.count += 1

    def finish(self, *, sheet_names: list[str], stem: str) -> tuple[list[RowError], int, str | None]:
        self._items.sort()
        errors = [self._error(sheet_names, s, r, c, m) for s, r, _seq, c, m in self._items]
        report = write_report(errors, stem=stem) if len(errors) > self.cap else None
        return errors[: self.cap], self.count, report


class PostgresErrorSink(ErrorSink):
    """Errors COPYed in batches into a TEMP table of the import's transaction, read back in file order."""

    table = "imp_err"

    def __init__(self, *, cap: int = DEFAULT_CAP) -> None:
        super().__init__(cap=cap)
        self._buffer: list[tuple[int, int, str, str]] = []

    def create_table(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
            cursor.execute(
                f"CREATE TEMP TABLE {self.table} (seq bigserial, sheet int NOT NULL, row_no int NOT NULL, "
                "col text NOT NULL, message text NOT NULL) ON COMMIT DROP"
            )

    def add(self, sheet: int, row: int | None, column: str, message: str) -> None:
        self._buffer.append((sheet, row or 0, column, message))
        self.count += 1
        if len(self._buffer) >= _FLUSH:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            copy_rows(self.table, ["sheet", "row_no", "col", "message"], self._buffer)
            self._buffer = []

    def finish(self, *, sheet_names: list[str], stem: str) -> tuple[list[RowError], int, str | None]:
        self.flush()
        order = f"SELECT sheet, row_no, col, message FROM {self.table} ORDER BY sheet, row_no, seq"
        with connection.cursor() as cursor:
            cursor.execute(f"{order} LIMIT %s", [self.cap])
            shown = [self._error(sheet_names, *row) for row in cursor.fetchall()]
        report = None
        if self.count > self.cap:
            with connection.chunked_cursor() as cursor:  # server-side cursor: the full list is streamed
                cursor.execute(order)
                report = write_report((self._error(sheet_names, *row) for row in cursor), stem=stem)
        return shown, self.count, report

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")


def _safe_cell(value: object) -> object:
    # Our own report must not carry formula injection back into Excel (column names come from the file).
    if isinstance(value, str) and value.startswith(_REPORT_FORMULA_START):
        return "'" + value
    return value


def write_report(errors: Iterable[RowError], *, stem: str) -> str:
    """All errors as a CSV Excel opens (UTF-8 with BOM) in private media; returns its path."""
    folder = Path(settings.MEDIA_ROOT) / "import_reports" / f"{timezone.localdate():%Y%m}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{timezone.localtime():%Y%m%d-%H%M%S}-{stem}-errors.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["工作表", "行", "列", "原因"])
        for error in errors:
            writer.writerow([_safe_cell(v) for v in (error.sheet, error.row or "", error.column, error.message)])
    return str(path)
