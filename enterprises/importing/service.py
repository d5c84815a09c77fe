"""The import service: one file in, everything imported in one transaction or nothing and every bad row out."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from core.audit import audit_log
from core.models import Job, User
from enterprises.importing import readers
from enterprises.importing.columns import HeaderError, HeaderMap, map_header
from enterprises.importing.load import Context, Counts, loader_for_connection
from enterprises.importing.result import (
    KIND_ANNUAL_REPORTS,
    KIND_ENTERPRISES,
    KIND_MIXED,
    KINDS,
    FileRejected,
    ImportResult,
    RowError,
)
from enterprises.importing.sinks import DEFAULT_CAP, ErrorSink
from enterprises.importing.validate import AnnualReportRows, EnterpriseRows, ReferenceData

logger = logging.getLogger(__name__)

JOB_KINDS = {KIND_ENTERPRISES: "import_enterprises", KIND_ANNUAL_REPORTS: "import_annual_reports"}
ACTION_IMPORT = "enterprise.import"


class _Rollback(Exception):
    """Leaves the transaction with everything undone (errors, a dry run, nothing changed), carrying the result."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("rollback")
        self.result = result


def import_file(
    *,
    path: Path | str,
    actor: User | None,
    file_name: str | None = None,
    dry_run: bool = False,
    kind: str | None = None,
    max_errors: int = DEFAULT_CAP,
) -> ImportResult:
    """Import enterprises and/or annual reports from an .xlsx or .csv file (format detected by content).

    All rows valid → all written in one transaction: upsert by USCC (annual reports: by entity and year), one
    audit event per changed record, and a Job row with its own audit event recording the import. A file that
    changes nothing (the same file again) writes nothing at all. Any error → nothing written, and the result
    lists every bad row (the first `max_errors` of them; all of them in `report_path` when there are more).
    `dry_run` validates and computes the counts, then rolls back. `kind` forces the table kind instead of
    detecting it from the headers. Permission checks are the caller's (the admin view, the command).
    """
    path = Path(path)
    name = file_name or path.name
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    result = ImportResult(kind=kind or "", file_name=name, dry_run=dry_run)
    try:
        _allowed_region(actor)  # refuse an account without a county before reading anything
        info = readers.inspect(path, name=name)
        result.sha256 = info.sha256
        with transaction.atomic():
            _run(info=info, actor=actor, kind=kind, max_errors=max_errors, result=result)
            # Nothing to keep: errors, a dry run, or a re-import that changed nothing (no job, no audit event).
            if not result.ok or dry_run or not result.changed_anything:
                result.job_id = None
                raise _Rollback(result)
    except _Rollback as rollback:
        return rollback.result
    except FileRejected as exc:
        result.errors = [RowError(row=exc.row, column="", message=exc.message, sheet=exc.sheet)]
        result.error_count = 1
        result.created = result.updated = result.unchanged = 0
        result.job_id = None
    return result


def _allowed_region(actor: User | None) -> str | None:
    """The one county a county-scoped actor may import into; None for the city and for system imports."""
    if actor is None or not actor.pk or actor.is_city_wide:
        return None
    if not actor.region_code:
        raise FileRejected("您的账号未分配辖区，不能导入经营主体数据")
    return actor.region_code


def _run(
    *,
    info: readers.FileInfo,
    actor: User | None,
    kind: str | None,
    max_errors: int,
    result: ImportResult,
) -> None:
    ref = ReferenceData.load(allowed_region=_allowed_region(actor))
    loader = loader_for_connection(cap=max_errors)
    sink = loader.sink
    loader.prepare()
    clock = time.perf_counter()
    seconds: dict[str, float] = {}
    headers: dict[int, HeaderMap] = {}
    sheet_names: list[str] = []
    rows = 0
    with readers.open_tables(info) as tables:
        for table in tables:
            sheet_names.append(table.name)
            header = _header(table, kind=kind, sink=sink)
            if header is None:
                continue
            headers[table.index] = header
            validator = (EnterpriseRows if header.kind == KIND_ENTERPRISES else AnnualReportRows)(header, ref)
            counter = [0]
            loader.stage(header.kind, table.index, _validated(table, validator, sink, counter))
            rows += counter[0]
    result.rows = rows
    kinds = {h.kind for h in headers.values()}
    result.kind = kind or (KIND_MIXED if len(kinds) > 1 else next(iter(kinds), ""))
    if rows == 0 and sink.count == 0:
        sink.add(0, None, "", "文件中没有数据行（第 1 行是表头，数据从第 2 行开始）")
    ctx = Context(headers=headers, sheet_names=sheet_names, ref=ref)
    seconds["read_validate_stage"] = round(time.perf_counter() - clock, 2)
    clock = time.perf_counter()
    loader.check(ctx)
    seconds["check"] = round(time.perf_counter() - clock, 2)
    stem = info.sha256[:12]
    result.errors, result.error_count, result.report_path = sink.finish(sheet_names=sheet_names, stem=stem)
    if result.error_count:
        loader.cleanup()
        return
    started = timezone.now()
    job = Job.objects.create(
        kind=JOB_KINDS[KIND_ENTERPRISES if KIND_ENTERPRISES in kinds else KIND_ANNUAL_REPORTS],
        status=Job.Status.RUNNING,
        created_by=actor if actor is not None and actor.pk else None,
        params={"file_name": info.name, "sha256": info.sha256, "size": info.size, "format": info.format},
        started_at=started,
        progress_total=rows,
    )
    clock = time.perf_counter()
    counts = loader.apply(ctx=ctx, actor=actor, job=job)
    loader.cleanup()
    seconds["apply"] = round(time.perf_counter() - clock, 2)
    total = Counts()
    for part in counts.values():
        total.created += part.created
        total.updated += part.updated
        total.unchanged += part.unchanged
    result.created, result.updated, result.unchanged = total.created, total.updated, total.unchanged
    job.status = Job.Status.SUCCEEDED
    job.progress_done = rows
    job.finished_at = timezone.now()
    job.result = {
        "kind": result.kind,
        "rows": rows,
        **total.as_dict(),
        "errors": 0,
        "by_kind": {k: c.as_dict() for k, c in counts.items()},
        "seconds": seconds,
    }
    job.save()
    audit_log(
        actor=actor,
        action=ACTION_IMPORT,
        obj=job,
        after={"file_name": info.name, "sha256": info.sha256, **job.result},
        note=f"{result.summary()}",
    )
    result.job_id = job.pk
    logger.info("import %s: %s (%s)", info.name, result.summary(), seconds)


def _header(table: readers.Table, *, kind: str | None, sink: ErrorSink) -> HeaderMap | None:
    """The table's header map, or None after reporting why it cannot be read (an empty sheet is skipped)."""
    if not any(table.header):
        first = next(table.rows, None)
        if first is not None:
            sink.add(table.index, 1, "", "第 1 行应为表头，但为空")
        return None
    try:
        return map_header(table.header, kind=kind)
    except HeaderError as exc:
        for message in exc.messages:
            sink.add(table.index, 1, "", message)
        return None


def _validated(table: readers.Table, validator, sink: ErrorSink, counter: list[int]) -> Iterator[tuple]:
    index = table.index
    add = sink.add
    n = 0
    for row_no, cells in table.rows:
        n += 1
        record, errors, key = validator(row_no, cells)
        for column, message in errors:
            add(index, row_no, column, message)
        yield row_no, record, key
    counter[0] = n
