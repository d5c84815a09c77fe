"""Credit checks (信用核查, DESIGN.md §3.8): one entity or a batch, for a purpose and a period.

Per entity the check states its *public* credit facts — abnormal listings (and individual businesses' marks),
serious listings with their restrictions, penalties under disclosure (all read through disclosure.selectors, the one
definition of what is public), published inspection results with problems (credit.sources) — or "no record found",
and whether the entity is on the red list (credit.redlist). The risk class is never part of it.

Reading of the period: the disclosure records are those the public record shows on the check's reference day (the
period's last day, or today if that is earlier), which includes records decided before the period that are still in
force; a record that ended before that day (removed, expired, stopped early by repair) is no longer public and is
not stated. Inspection results are those inspected within the period. The facts are stored with the line
(`CheckLine.facts`), so every reprint and the verification page state exactly what was checked.

Batches: pasted codes or an uploaded .xlsx/.csv of up to settings.CREDIT_CHECK_BATCH_MAX rows. Blank rows and
duplicates are noted; malformed codes, unknown codes and entities outside the requester's county become lines with
their message — listed in the result, never dropped. Anything else wrong with the input refuses the whole batch
before a row is written (ApplicationError with a Chinese message).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.audit import audit_log
from core.errors import ApplicationError
from core.jobs import job_claim, job_create, job_finish, job_progress
from core.models import Job, User
from credit import redlist, sources
from credit.models import CheckLine, CreditCheck
from disclosure.selectors import format_yuan, penalty_kinds, public_record
from enterprises import identity
from enterprises.models import Enterprise

BATCH_KIND = "credit_check_batch"
MAX_FILE_BYTES = 5 * 1024 * 1024
LINE_MESSAGES = {
    CheckLine.Outcome.UNKNOWN: "登记系统中没有该统一社会信用代码的经营主体，未予核查",
    CheckLine.Outcome.OUT_OF_SCOPE: (
        "该经营主体不属于您所在县（市、区）的监管范围，未予核查，请向其所在地市场监管部门申请"
    ),
}


def batch_max() -> int:
    return settings.CREDIT_CHECK_BATCH_MAX


# ==============================================================================================================
# Input
# ==============================================================================================================


@dataclass
class ParsedInput:
    """The codes of a batch in input order (row number, raw value) and the notes on rows that are not codes."""

    entries: list[tuple[int, str]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)


_SPLIT = re.compile(r"[\s,，;；、]+")


def _collect(rows: Iterable[tuple[int, str]]) -> ParsedInput:
    parsed = ParsedInput()
    seen: dict[str, int] = {}
    pending_blanks: list[int] = []
    for row, value in rows:
        value = (value or "").strip()
        if not value:
            pending_blanks.append(row)
            continue
        if parsed.entries:  # blank rows between codes are noted; leading and trailing ones are not rows
            parsed.notes.extend({"row": r, "value": "", "message": f"第 {r} 行为空，已跳过"} for r in pending_blanks)
        pending_blanks = []
        key = identity.normalize(value)
        if key in seen:
            parsed.notes.append(
                {
                    "row": row,
                    "value": value[:100],
                    "message": f"第 {row} 行与第 {seen[key]} 行重复（{key[:30]}），只核查一次",
                }
            )
            continue
        seen[key] = row
        parsed.entries.append((row, value[:100]))
    limit = batch_max()
    if len(parsed.entries) > limit:
        raise ApplicationError(
            f"共 {len(parsed.entries)} 个统一社会信用代码，超过单次核查上限 {limit} 个，请拆分后分批提交",
            code="too_many_rows",
        )
    if not parsed.entries:
        raise ApplicationError(
            "没有可核查的统一社会信用代码：请粘贴代码（每行一个）或上传 Excel/CSV 名单", code="empty"
        )
    return parsed


def parse_text(text: str) -> ParsedInput:
    """Pasted codes: one per line (commas, semicolons, spaces also separate codes on a line)."""
    rows: list[tuple[int, str]] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        parts = [p for p in _SPLIT.split(line) if p]
        if not parts:
            rows.append((number, ""))
        rows.extend((number, p) for p in parts)
    return _collect(rows)


def _looks_like_header(value: str) -> bool:
    return bool(value) and not identity.is_valid(value) and bool(re.search(r"[\u4e00-\u9fff]|code|uscc", value, re.I))


def _uscc_column(header: list[str]) -> int:
    for i, cell in enumerate(header):
        if "信用代码" in cell or cell.strip().lower() in {"uscc", "code", "代码"}:
            return i
    return 0


def _table_rows(table: list[list[str]]) -> list[tuple[int, str]]:
    if not table:
        return []
    first = [str(c or "").strip() for c in table[0]]
    column, start = 0, 0
    if first and any(_looks_like_header(c) for c in first):
        column, start = _uscc_column(first), 1
    return [
        (number, str(row[column] if column < len(row) and row[column] is not None else "").strip())
        for number, row in enumerate(table[start:], start=start + 1)
    ]


def parse_file(*, name: str, content: bytes) -> ParsedInput:
    """An uploaded list: .xlsx (first sheet) or .csv (UTF-8 or GB18030); the column headed 统一社会信用代码, or the
    first column. Anything that is not such a spreadsheet is refused with the reason."""
    lower = (name or "").lower()
    if len(content) > MAX_FILE_BYTES:
        raise ApplicationError(f"文件超过 {MAX_FILE_BYTES // 1024 // 1024} MB，请拆分后提交", code="file_too_large")
    if not content:
        raise ApplicationError("上传的文件是空的", code="empty")
    if lower.endswith(".xls") or content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ApplicationError("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 后上传", code="not_spreadsheet")
    if lower.endswith(".xlsx") or content[:4] == b"PK\x03\x04":
        return _collect(_table_rows(_xlsx_table(content)))
    if lower.endswith(".csv") or lower.endswith(".txt"):
        return _collect(_table_rows(_csv_table(content)))
    raise ApplicationError("文件不是 Excel（.xlsx）或 CSV 表格，请上传 .xlsx 或 .csv 文件", code="not_spreadsheet")


def _xlsx_table(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException …: all mean "not an xlsx"
        raise ApplicationError(
            "文件无法作为 Excel（.xlsx）表格读取，可能已损坏或不是表格文件", code="not_spreadsheet"
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        table = []
        for row in sheet.iter_rows(values_only=True):
            table.append(["" if v is None else str(v) for v in row])
            if len(table) > batch_max() * 2 + 10:
                break  # far over the limit already: _collect refuses it, no need to read the rest
        return table
    finally:
        workbook.close()


def _csv_table(content: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ApplicationError("CSV 文件编码无法识别，请保存为 UTF-8 编码", code="not_spreadsheet")
    if "\x00" in text:
        raise ApplicationError("文件不是 CSV 文本表格，请上传 .xlsx 或 .csv 文件", code="not_spreadsheet")
    return [row for row in csv.reader(io.StringIO(text))]


# ==============================================================================================================
# The facts of one entity
# ==============================================================================================================


def _d(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def gather_facts(
    *, enterprise: Enterprise, start: dt.date, end: dt.date, on: dt.date, red_listed: bool, inspections=None
) -> dict[str, Any]:
    """What a certificate states about one entity (JSON-ready). Personal ID numbers are already masked
    (disclosure.selectors.public_record masks restrictions'); the legal representative's ID never appears."""
    record = public_record(enterprise=enterprise, on=on)
    if inspections is None:
        inspections = sources.published_results(enterprise_ids=[enterprise.pk], start=start, end=end)
    problems = [r for r in inspections if r.problem_found and r.enterprise_id == enterprise.pk]
    facts: dict[str, Any] = {
        "entity": {
            "name": enterprise.name,
            "uscc": enterprise.uscc,
            "entity_type": str(enterprise.get_entity_type_display()),
            "legal_representative": enterprise.legal_representative,
            "address": enterprise.address,
            "region": enterprise.region.name if enterprise.region_id else "",
            "registration_date": _d(enterprise.registration_date),
            "status": str(enterprise.get_status_display()),
        },
        "period": [_d(start), _d(end)],
        "reference_date": _d(on),
        "abnormal": [
            {
                "decision_number": a.decision_number,
                "decided_on": _d(a.decided_on),
                "reason": a.reason_text,
                "authority": a.authority_name,
                "is_mark": a.is_mark,
            }
            for a in record.abnormal_listings
        ],
        "serious": [
            {
                "decision_number": s.decision_number,
                "decided_on": _d(s.decided_on),
                "listed_until": _d(s.listed_until),
                "ground": s.ground_text,
                "authority": s.authority_name,
                "restrictions": [
                    {
                        "kind": r.kind_label,
                        "person": r.person_name,
                        "person_id_number": r.person_id_number,  # masked by public_record
                        "starts_on": _d(r.starts_on),
                        "ends_on": _d(r.ends_on),
                    }
                    for r in s.restrictions
                ],
            }
            for s in record.serious_listings
        ],
        "penalties": [
            {
                "decision_number": p.decision_number,
                "decision_date": _d(p.decision_date),
                "violation": p.violation_type,
                "kinds": "、".join(label for _code, label in penalty_kinds(p.kinds)),
                "fine": format_yuan(p.fine_amount),
                "content": p.content,
                "authority": p.authority_name,
                "disclosed_from": _d(p.disclosed_from),
                "disclosed_until": _d(p.disclosed_until),
            }
            for p in record.penalties
        ],
        "inspections": [
            {
                "inspected_on": _d(r.inspected_on),
                "outcome": r.outcome_label,
                "plan": r.plan_name,
                "published_on": _d(r.published_on),
            }
            for r in problems
        ],
        "red_listed": red_listed,
    }
    facts["no_record"] = not (facts["abnormal"] or facts["serious"] or facts["penalties"] or facts["inspections"])
    return facts


def digest_of(facts: dict[str, Any], *, purpose: str) -> str:
    """SHA-256 over the canonical JSON of what the certificate states (the signature covers it)."""
    payload = json.dumps(
        {"facts": facts, "purpose": purpose}, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(payload.encode()).hexdigest()


# ==============================================================================================================
# Services
# ==============================================================================================================


def _validate_period(*, start: dt.date, end: dt.date, today: dt.date) -> None:
    if start > end:
        raise ApplicationError("核查期间的开始日期晚于结束日期，请检查", code="period_reversed")
    if end > today:
        raise ApplicationError(f"核查期间不能晚于今天（{today:%Y-%m-%d}）", code="period_future")
    if start < dt.date(1990, 1, 1):
        raise ApplicationError("核查期间的开始日期不正确", code="period_invalid")


def _purpose(purpose: str) -> str:
    if purpose not in CreditCheck.Purpose.values:
        raise ApplicationError("请选择核查用途", code="purpose")
    return purpose


def _classify_entries(check: CreditCheck, entries: list[tuple[int, str]], user: User) -> list[CheckLine]:
    """A line per entry: the entity found (to be checked), or the reason it cannot be."""
    raws = dict(entries)
    valid: dict[int, str] = {}
    lines: dict[int, CheckLine] = {}
    for row, raw in entries:
        try:
            valid[row] = identity.validate(raw)
        except identity.InvalidUSCC as exc:
            lines[row] = CheckLine(
                check_run=check, position=row, raw_value=raw, outcome=CheckLine.Outcome.MALFORMED, message=str(exc)
            )
    codes = set(valid.values())
    found = {e.uscc: e for e in Enterprise.objects.filter(uscc__in=codes).select_related("region")}
    visible = set(Enterprise.objects.visible_to(user).filter(uscc__in=list(found)).values_list("uscc", flat=True))
    for row, code in valid.items():
        enterprise = found.get(code)
        line = CheckLine(check_run=check, position=row, raw_value=raws[row], uscc=code)
        if enterprise is None:
            line.outcome, line.message = CheckLine.Outcome.UNKNOWN, LINE_MESSAGES[CheckLine.Outcome.UNKNOWN]
        elif code not in visible:
            line.outcome, line.message = CheckLine.Outcome.OUT_OF_SCOPE, LINE_MESSAGES[CheckLine.Outcome.OUT_OF_SCOPE]
        else:
            line.enterprise = enterprise
            line.outcome = CheckLine.Outcome.NO_RECORD  # until checked
        lines[row] = line
    return [lines[row] for row, _raw in entries]


def _check_lines(check: CreditCheck, lines: list[CheckLine]) -> None:
    """Gather and store the facts of the checkable lines (and allocate their serials), set-based where possible."""
    from credit.certificates import allocate_serials

    checkable = [line for line in lines if line.enterprise_id]
    ids = [line.enterprise_id for line in checkable]
    red = redlist.red_listed_ids(ids, on=check.reference_date)
    inspections = (
        sources.published_results(enterprise_ids=ids, start=check.period_start, end=check.period_end) if ids else []
    )
    serials = allocate_serials(
        prefix="B" if check.kind == CreditCheck.Kind.BATCH else "P", day=timezone.localdate(), count=len(checkable)
    )
    for line, serial in zip(checkable, serials, strict=True):
        facts = gather_facts(
            enterprise=line.enterprise,
            start=check.period_start,
            end=check.period_end,
            on=check.reference_date,
            red_listed=line.enterprise_id in red,
            inspections=[r for r in inspections if r.enterprise_id == line.enterprise_id],
        )
        line.facts = facts
        line.red_listed = facts["red_listed"]
        line.outcome = CheckLine.Outcome.NO_RECORD if facts["no_record"] else CheckLine.Outcome.RECORDS
        line.digest = digest_of(facts, purpose=check.purpose)
        line.serial = serial


def _counts(lines: list[CheckLine]) -> dict[str, int]:
    counts = {key: 0 for key in CheckLine.Outcome.values}
    for line in lines:
        counts[line.outcome] += 1
    counts["red_listed"] = sum(1 for line in lines if line.red_listed)
    counts["total"] = len(lines)
    return counts


def _new_check(*, actor: User, kind: str, purpose: str, purpose_note: str, start: dt.date, end: dt.date) -> CreditCheck:
    today = timezone.localdate()
    _validate_period(start=start, end=end, today=today)
    check = CreditCheck(
        kind=kind,
        purpose=_purpose(purpose),
        purpose_note=(purpose_note or "")[:200],
        period_start=start,
        period_end=end,
        reference_date=min(end, today),
        requested_by=actor,
        region_code="" if actor.is_city_wide else actor.region_code,
    )
    check.full_clean()
    check.save()
    return check


@transaction.atomic
def check_single(
    *, actor: User, uscc: str, purpose: str, start: dt.date, end: dt.date, purpose_note: str = ""
) -> CreditCheck:
    """Check one entity at once. A malformed or unknown code, or an entity outside the requester's county, is
    refused (nothing is recorded); the check, its line and its serial are written together."""
    try:
        code = identity.validate(uscc)
    except identity.InvalidUSCC as exc:
        raise ApplicationError(str(exc), code="malformed") from exc
    enterprise = Enterprise.objects.visible_to(actor).filter(uscc=code).first()
    if enterprise is None:
        if Enterprise.objects.filter(uscc=code).exists():
            raise ApplicationError(LINE_MESSAGES[CheckLine.Outcome.OUT_OF_SCOPE], code="out_of_scope")
        raise ApplicationError(LINE_MESSAGES[CheckLine.Outcome.UNKNOWN], code="unknown")
    check = _new_check(
        actor=actor, kind=CreditCheck.Kind.SINGLE, purpose=purpose, purpose_note=purpose_note, start=start, end=end
    )
    lines = _classify_entries(check, [(1, code)], actor)
    _check_lines(check, lines)
    CheckLine.objects.bulk_create(lines)
    check.status = CreditCheck.Status.DONE
    check.counts = _counts(lines)
    check.save(update_fields=["status", "counts", "updated_at"])
    audit_log(
        actor=actor, action="credit.check", obj=check, after={"uscc": code, "purpose": purpose, "period": [start, end]}
    )
    return check


@transaction.atomic
def check_batch_start(
    *,
    actor: User,
    parsed: ParsedInput,
    purpose: str,
    start: dt.date,
    end: dt.date,
    purpose_note: str = "",
    output: str = "zip",
    enqueue: bool = True,
) -> CreditCheck:
    """Record a batch check and queue it as a background job (core.jobs): the worker checks every line and writes
    the summary sheet and the certificates (a zip of one PDF per entity, or one combined PDF)."""
    from credit.tasks import run_check_batch

    if output not in {"zip", "combined"}:
        raise ApplicationError("请选择证书输出方式", code="output")
    check = _new_check(
        actor=actor, kind=CreditCheck.Kind.BATCH, purpose=purpose, purpose_note=purpose_note, start=start, end=end
    )
    check.input_notes = parsed.notes
    lines = _classify_entries(check, parsed.entries, actor)
    CheckLine.objects.bulk_create(lines, batch_size=1000)
    job = job_create(kind=BATCH_KIND, created_by=actor, params={"check": check.pk, "output": output})
    job.progress_total = len(lines)
    job.save(update_fields=["progress_total"])
    check.job = job
    check.counts = _counts(lines)
    check.save(update_fields=["job", "input_notes", "counts", "updated_at"])
    audit_log(
        actor=actor,
        action="credit.check_batch",
        obj=check,
        after={"rows": len(lines), "notes": len(parsed.notes), "purpose": purpose, "period": [start, end]},
    )
    if enqueue:  # False: the caller runs check_batch_run itself (the demo data, with no worker running)
        transaction.on_commit(lambda: run_check_batch.delay(job.pk))
    return check


CHUNK = 200
PART_KIND = "credit_check_batch_part"
ASSEMBLE_KIND = "credit_check_batch_assemble"
PART_SIZE = 50  # certificates per part: small enough that two workers finish close together


def batch_tasks() -> int:
    return max(1, settings.CREDIT_CHECK_BATCH_TASKS)


def _claim(job_id: int, *, resume: bool) -> Job | None:
    """job_claim, or — for a redelivered task whose worker died (acks_late) — the job it was running."""
    job = job_claim(job_id)
    if job is None and resume:
        job = Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).first()
    return job


def _advance(job_id: int, steps: int) -> None:
    """Progress from several workers at once: an increment in SQL, never a read-modify-write."""
    if steps:
        Job.objects.filter(pk=job_id).update(progress_done=F("progress_done") + steps)


def check_batch_run(job_id: int, *, workers: int | None = None, resume: bool = False) -> None:
    """The coordinating side of a batch (idempotent: a job already claimed is left alone, unless `resume` — a
    redelivery after a crash — which goes on where the dead worker stopped).

    1. The lines are checked in chunks, each its own transaction (facts, digest, serial), progress after each.
    2. The certificates are split into parts (core Job rows of kind PART_KIND, PART_SIZE certificates each) plus one
       assembling row; with `workers` > 1 (default settings.CREDIT_CHECK_BATCH_TASKS) the parts go to Celery as a
       group, each part rendering its PDFs into its own file; the task finishing the last part claims the assembling
       row (conditional UPDATE: exactly one does) and writes the summary sheet and the zip. With one worker the
       parts run here, one after the other. Progress counts rows checked, then certificates rendered."""
    from celery import group

    from credit.tasks import render_check_part

    workers = batch_tasks() if workers is None else max(1, workers)
    job = _claim(job_id, resume=resume)
    if job is None:
        return
    check = CreditCheck.objects.get(pk=job.params["check"])
    try:
        rows = check.lines.count()
        pending = list(
            check.lines.filter(enterprise__isnull=False, serial__isnull=True)
            .order_by("position")
            .values_list("pk", flat=True)
        )
        certificates = check.lines.filter(enterprise__isnull=False).count()
        job_progress(job, done=rows - len(pending), total=rows + certificates)
        for i in range(0, len(pending), CHUNK):
            with transaction.atomic():
                lines = list(
                    CheckLine.objects.select_related("enterprise__region")
                    .filter(pk__in=pending[i : i + CHUNK])
                    .order_by("position")
                )
                _check_lines(check, lines)
                CheckLine.objects.bulk_update(lines, ["facts", "red_listed", "outcome", "digest", "serial"])
                _advance(job.pk, len(lines))
        parts = _batch_parts(job=job, check=check, workers=workers)
        if job.params.get("output", "zip") == "combined" or workers == 1:
            # One combined PDF is one WeasyPrint document: rendered in one process (no PDF merging library).
            for part in parts:
                render_part(part.pk, resume=True)
            return
        transaction.on_commit(lambda: group(render_check_part.s(part.pk) for part in parts).apply_async())
    except Exception as exc:
        _fail(job, check, exc)
        raise


def _fail(job: Job, check: CreditCheck, exc: Exception) -> None:
    CreditCheck.objects.filter(pk=check.pk).update(status=CreditCheck.Status.FAILED)
    job_finish(job, result={"error": f"批量核查失败：{exc.__class__.__name__}"}, failed=True)


@transaction.atomic
def _batch_parts(*, job: Job, check: CreditCheck, workers: int) -> list[Job]:
    """The parts of a checked batch and its assembling row, made once (a rerun finds them)."""
    Job.objects.select_for_update().get(pk=job.pk)  # two coordinators (a redelivery) never both make parts
    existing = list(Job.objects.filter(kind=PART_KIND, params__parent=job.pk).order_by("pk"))
    if existing:
        return existing
    ids = list(check.lines.filter(serial__isnull=False).order_by("position").values_list("pk", flat=True))
    combined = job.params.get("output", "zip") == "combined"
    size = (len(ids) or 1) if combined else max(1, min(PART_SIZE, -(-len(ids) // workers)))
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)] or [[]]
    parts = [
        Job.objects.create(kind=PART_KIND, params={"parent": job.pk, "index": n, "lines": chunk})
        for n, chunk in enumerate(chunks)
    ]
    Job.objects.create(kind=ASSEMBLE_KIND, params={"parent": job.pk, "parts": len(parts)})
    return parts


def render_part(part_id: int, *, resume: bool = False) -> None:
    """Render one part's certificates (first prints, counter 0, logged once) into its own file, then, if it was the
    last part, assemble the batch's output. Idempotent and crash-safe: a part already done is not rendered again,
    a redelivered part whose worker died renders again (its file is replaced atomically, its prints reused)."""
    from credit.certificates import render_batch_part

    part = Job.objects.filter(pk=part_id).first()
    if part is None:
        return
    parent = Job.objects.get(pk=part.params["parent"])
    if part.status != Job.Status.SUCCEEDED:
        part = _claim(part_id, resume=resume)
        if part is None:
            return
        check = CreditCheck.objects.get(pk=parent.params["check"])
        try:
            result = render_batch_part(
                part=part,
                parent=parent,
                check=check,
                output=parent.params.get("output", "zip"),
                advance=lambda n: _advance(parent.pk, n),
            )
        except Exception as exc:
            job_finish(part, result={"error": exc.__class__.__name__}, failed=True)
            _fail(parent, check, exc)
            raise
        job_finish(part, result=result)
    _assemble_if_last(parent, resume=resume)


def _assemble_if_last(parent: Job, *, resume: bool) -> None:
    from credit.certificates import assemble_batch

    # Each part marks itself done (committed) before counting: the part finishing last always sees none left.
    if Job.objects.filter(kind=PART_KIND, params__parent=parent.pk).exclude(status=Job.Status.SUCCEEDED).exists():
        return
    assembly = Job.objects.filter(kind=ASSEMBLE_KIND, params__parent=parent.pk).first()
    if assembly is None or _claim(assembly.pk, resume=resume) is None:
        return  # another part's task is assembling (or did)
    check = CreditCheck.objects.get(pk=parent.params["check"])
    try:
        parts = list(Job.objects.filter(kind=PART_KIND, params__parent=parent.pk).order_by("pk"))
        result = assemble_batch(job=parent, check=check, parts=parts, output=parent.params.get("output", "zip"))
        CreditCheck.objects.filter(pk=check.pk).update(
            status=CreditCheck.Status.DONE, counts=_counts(list(check.lines.all()))
        )
        total = Job.objects.values_list("progress_total", flat=True).get(pk=parent.pk)
        job_progress(parent, done=total)
        job_finish(assembly, result={"parts": len(parts)})
        job_finish(parent, result=result)
    except Exception as exc:
        job_finish(assembly, result={"error": exc.__class__.__name__}, failed=True)
        _fail(parent, check, exc)
        raise


def job_of_check(check: CreditCheck) -> Job | None:
    return check.job


OWN_PERIOD_YEARS = 3


@transaction.atomic
def check_own(*, user: User) -> CheckLine:
    """An entity's own credit check from its portal account (DESIGN.md §1 "request their own credit report"): the
    last three years up to today. Asked again the same day, it is the same check (a reprint, not a new serial)."""
    account = getattr(user, "enterprise_account", None)
    if account is None:
        raise ApplicationError("只有经营主体账户可以下载本主体的信用核查证书", code="not_enterprise")
    enterprise = Enterprise.objects.select_related("region").get(pk=account.enterprise_id)
    today = timezone.localdate()
    existing = (
        CheckLine.objects.filter(
            enterprise=enterprise,
            check_run__purpose=CreditCheck.Purpose.SELF,
            check_run__requested_by=user,
            check_run__reference_date=today,
        )
        .select_related("check_run")
        .first()
    )
    if existing is not None:
        return existing
    start = redlist.years_before(today, OWN_PERIOD_YEARS) + dt.timedelta(days=1)
    check = CreditCheck(
        kind=CreditCheck.Kind.SINGLE,
        purpose=CreditCheck.Purpose.SELF,
        period_start=start,
        period_end=today,
        reference_date=today,
        requested_by=user,
        region_code=enterprise.region_id,
    )
    check.full_clean()
    check.save()
    line = CheckLine(
        check_run=check,
        position=1,
        raw_value=enterprise.uscc,
        uscc=enterprise.uscc,
        enterprise=enterprise,
        outcome=CheckLine.Outcome.NO_RECORD,
    )
    _check_lines(check, [line])
    line.save()
    check.status = CreditCheck.Status.DONE
    check.counts = _counts([line])
    check.save(update_fields=["status", "counts", "updated_at"])
    audit_log(actor=user, action="credit.check_own", obj=check, after={"uscc": enterprise.uscc})
    return line
