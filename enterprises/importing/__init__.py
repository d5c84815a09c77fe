"""Importing enterprises and annual reports from Excel (.xlsx) or CSV: all rows or nothing, every bad row reported.

Entry point: `import_file(path=…, actor=…)`, called by the admin import page and `manage.py import_enterprises`.
Modules: `readers` (format, encoding, streaming), `columns` (headers), `validate` (rows), `load` (staging and
upsert: set-based SQL on PostgreSQL, ORM elsewhere), `sinks` (error collection and report), `service`.
"""

from __future__ import annotations

from enterprises.importing.result import (
    KIND_ANNUAL_REPORTS,
    KIND_ENTERPRISES,
    KIND_MIXED,
    KINDS,
    ImportResult,
    RowError,
)
from enterprises.importing.service import import_file

__all__ = [
    "KINDS",
    "KIND_ANNUAL_REPORTS",
    "KIND_ENTERPRISES",
    "KIND_MIXED",
    "ImportResult",
    "RowError",
    "import_file",
]
