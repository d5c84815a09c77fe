"""The import service: one file in, everything imported in one transaction or nothing and every bad row out."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from core.audit import audit_log
from core.models import Job, User
from enterprises.importing import readers, stream
from enterprises.importing.columns import HeaderMap
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
from enterprises.importing.sinks import DEFAULT_CAP
from enterprises.importing.validate import ReferenceData

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
    allowed_region = _allowed_region(actor)
    ref = ReferenceData.load(allowed_region=allowed_region)
    loader = loader_for_connection(cap=max_errors)
    sink = loader.sink
    loader.prepare()
    # The job row exists from the start (the audit events of written blocks name it); like everything else it is
    # rolled back when the import ends with errors, as a dry run or without any change.
    job = Job.objects.create(
        kind=JOB_KINDS[KIND_ENTERPRISES],
        status=Job.Status.RUNNING,
        created_by=actor if actor is not None and actor.pk else None,
        params={"file_name": info.name, "sha256": info.sha256, "size": info.size, "format": info.format},
        started_at=timezone.now(),
    )
    loader.begin(actor=actor, job=job, allowed_region=allowed_region)
    clock = time.perf_counter()
    seconds: dict[str, float] = {}
    waited = 0.0
    headers: dict[int, HeaderMap] = {}
    sheet_names: list[str] = []
    rows = 0
    produced = stream.blocks(info, kind=kind, ref=ref, encoder=loader.encoder)
    while True:
        wait = time.perf_counter()
        item = next(produced, None)
        waited += time.perf_counter() - wait
        if item is None:
            break
        if isinstance(item, stream.TableStart):
            sheet_names.append(item.name)
            for row, message in item.errors:
                sink.add(item.index, row, "", message)
            if item.header is not None:
                headers[item.index] = item.header
            continue
        for row, column, message in item.errors:
            sink.add(item.sheet, row, column, message)
        rows += item.rows
        loader.stage(item.kind, item.sheet, item.payload, clean=sink.count == 0)
    result.rows = rows
    kinds = {h.kind for h in headers.values()}
    result.kind = kind or (KIND_MIXED if len(kinds) > 1 else next(iter(kinds), ""))
    if rows == 0 and sink.count == 0:
        sink.add(0, None, "", "文件中没有数据行（第 1 行是表头，数据从第 2 行开始）")
    ctx = Context(headers=headers, sheet_names=sheet_names, ref=ref)
    # read, validate, stage — and, for entities, write each block while the next one is validated
    seconds["read_validate_stage_write"] = round(time.perf_counter() - clock, 2)
    seconds["of_which_waiting_for_the_reader"] = round(waited, 2)
    block_seconds = getattr(loader, "block_seconds", None)
    if block_seconds is not None:
        seconds["of_which_database_blocks"] = round(block_seconds, 2)
    clock = time.perf_counter()
    loader.check(ctx)
    seconds["check"] = round(time.perf_counter() - clock, 2)
    stem = info.sha256[:12]
    result.errors, result.error_count, result.report_path = sink.finish(sheet_names=sheet_names, stem=stem)
    if result.error_count:
        loader.cleanup()
        return
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
    job.kind = JOB_KINDS[KIND_ENTERPRISES if KIND_ENTERPRISES in kinds else KIND_ANNUAL_REPORTS]
    job.status = Job.Status.SUCCEEDED
    job.progress_total = rows
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
