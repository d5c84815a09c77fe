"""Credit-check certificates (信用核查证书): numbering, signing, rendering (WeasyPrint), the print log, verification.

Serial: `P|B + YYYYMMDD + daily sequence (6 digits) + "-" + reprint counter`. Our reading: P (个别) for a check of
one entity, B (批量) for an entry of a batch; the date and the sequence are those of the day the entry was checked,
one sequence per prefix and day; the counter is 0 for the first print and goes up by one with every reprint, each
print logged (CertificatePrint) and audited. The printed serial is signed: an HMAC (django.core.signing.salted_hmac,
the project's SECRET_KEY) over the printed serial and the SHA-256 digest of what the certificate states, so a serial
that was made up, altered, or whose stored content was changed afterwards does not verify. The QR code carries
`/verify/<serial>.<signature>/` (segno, pure Python, already a project dependency: no native library to install).

Speed: the stylesheet is parsed once and the font configuration is shared by every render of the process
(PLATFORM.md: with libharfbuzz-subset0 a certificate renders in ~50 ms; without it fontTools subsetting takes ~1.7 s).
"""

from __future__ import annotations

import base64
import functools
import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import override

from core.audit import audit_log
from core.jobs import job_output_path
from core.models import Job, User
from credit.models import CertificatePrint, CertificateSequence, CheckLine, CreditCheck

TEMPLATE = "credit/pdf/certificate.html"
SIGNATURE_SALT = "credit.certificate.v1"
SIGNATURE_LENGTH = 22  # base64 characters: 132 bits


# ==============================================================================================================
# Serials and signatures
# ==============================================================================================================


def allocate_serials(*, prefix: str, day, count: int) -> list[str]:
    """`count` consecutive serials of the day (in the caller's transaction; the sequence row is locked)."""
    if count == 0:
        return []
    CertificateSequence.objects.get_or_create(prefix=prefix, day=day)
    sequence = CertificateSequence.objects.select_for_update().get(prefix=prefix, day=day)
    first = sequence.last_number + 1
    sequence.last_number += count
    sequence.save(update_fields=["last_number"])
    return [f"{prefix}{day:%Y%m%d}{n:06d}" for n in range(first, first + count)]


def sign(serial: str, digest: str) -> str:
    mac = salted_hmac(SIGNATURE_SALT, f"{serial}|{digest}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")[:SIGNATURE_LENGTH]


def token_of(serial: str, digest: str) -> str:
    return f"{serial}.{sign(serial, digest)}"


def verify_url(token: str) -> str:
    base = settings.PORTAL_PUBLIC_BASE_URL.rstrip("/")
    return f"{base}{reverse('credit-verify', args=[token])}"


@dataclass(frozen=True)
class Verification:
    """The answer of the public verification page: genuine or not, and if genuine what the certificate stated."""

    genuine: bool
    serial: str
    reason: str = ""
    facts: dict[str, Any] | None = None
    printed_at: Any = None
    purpose: str = ""
    check_kind: str = ""


def verify(token: str) -> Verification:
    """Whether a printed serial with its signature is one we issued with the content stored for it (never raises
    for any input: a made-up or altered token is simply not genuine)."""
    from credit.checks import digest_of

    token = (token or "").strip()[:80]
    serial, _dot, signature = token.rpartition(".")
    if not serial or not signature:
        return Verification(False, token, "证书编号或校验码不完整")
    printed = CertificatePrint.objects.select_related("line__check_run").filter(serial=serial).first()
    if printed is None:
        return Verification(False, serial, "查无此证书编号")
    line = printed.line
    digest = digest_of(line.facts, purpose=line.check_run.purpose)
    if digest != line.digest or not constant_time_compare(sign(serial, line.digest), signature):
        return Verification(False, serial, "证书编号与校验码不符，证书可能被伪造或篡改")
    return Verification(
        True,
        serial,
        facts=line.facts,
        printed_at=printed.printed_at,
        purpose=str(line.check_run.get_purpose_display()),
        check_kind=line.check_run.kind,
    )


# ==============================================================================================================
# Rendering
# ==============================================================================================================


@functools.cache
def _weasy() -> tuple[Any, Any, Any]:
    """WeasyPrint's HTML class, one shared font configuration and the certificate stylesheet parsed once."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    css = CSS(string=render_to_string("credit/pdf/certificate.css"), font_config=font_config)
    return HTML, font_config, css


def qr_svg_uri(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=3, border=1)


def certificate_context(*, line: CheckLine, serial: str, printed_at) -> dict[str, Any]:
    check = line.check_run
    token = token_of(serial, line.digest)
    url = verify_url(token)
    return {
        "facts": line.facts,
        "serial": serial,
        "verification_code": token.rpartition(".")[2],
        "verify_url": url,
        "qr": qr_svg_uri(url),
        "purpose": check.get_purpose_display(),
        "purpose_note": check.purpose_note,
        "bureau": settings.PORTAL_BUREAU_NAME,
        "printed_at": timezone.localtime(printed_at),
    }


def render_html(context: dict[str, Any]) -> str:
    with override("zh-hans"):
        return render_to_string(TEMPLATE, context)


def render_document(context: dict[str, Any]):
    HTML, font_config, css = _weasy()
    return HTML(string=render_html(context)).render(stylesheets=[css], font_config=font_config)


def render_pdf(context: dict[str, Any]) -> bytes:
    """One certificate as PDF bytes (Chinese font embedded and subset)."""
    return render_document(context).write_pdf()


def _record_print(*, line: CheckLine, actor: User | None, channel: str) -> CertificatePrint:
    """The next print of a line: counter 0 for the first, then 1, 2 … (conditional UPDATE: two clerks printing at
    the same moment get different counters)."""
    CheckLine.objects.filter(pk=line.pk).update(prints=F("prints") + 1)
    counter = CheckLine.objects.values_list("prints", flat=True).get(pk=line.pk) - 1
    printed = CertificatePrint.objects.create(
        line=line,
        counter=counter,
        serial=f"{line.serial}-{counter}",
        printed_by=actor if actor and actor.pk else None,
        channel=channel,
    )
    audit_log(
        actor=actor,
        action="credit.certificate_print" if counter == 0 else "credit.certificate_reprint",
        obj=printed,
        after={"serial": printed.serial, "channel": channel, "line": line.pk},
    )
    return printed


@transaction.atomic
def certificate_print(*, line: CheckLine, actor: User | None, channel: str = "admin") -> tuple[CertificatePrint, bytes]:
    """Print (or reprint) the certificate of a checked line: log the print, render the PDF."""
    if line.outcome not in CheckLine.CHECKED or not line.serial:
        raise ValueError("only a checked entry has a certificate")
    printed = _record_print(line=line, actor=actor, channel=channel)
    pdf = render_pdf(certificate_context(line=line, serial=printed.serial, printed_at=printed.printed_at))
    return printed, pdf


def filename_of(printed: CertificatePrint) -> str:
    return f"信用核查证书-{printed.serial}.pdf"


# ==============================================================================================================
# Batch output: the summary sheet and the certificates
# ==============================================================================================================


SUMMARY_COLUMNS = [
    ("行号", 8), ("输入", 22), ("统一社会信用代码", 22), ("名称", 36), ("核查结果", 14), ("经营异常名录", 12),
    ("严重违法失信名单", 14), ("行政处罚（公示中）", 14), ("抽查检查发现问题", 14), ("守信激励（红名单）", 14),
    ("证书编号", 22), ("说明", 50),
]  # fmt: skip


def _summary_rows(check: CreditCheck):
    labels = dict(CheckLine.Outcome.choices)
    for line in check.lines.order_by("position").iterator(chunk_size=1000):
        facts = line.facts or {}
        checked = line.outcome in CheckLine.CHECKED
        yield [
            line.position,
            line.raw_value,
            line.uscc,
            (facts.get("entity") or {}).get("name", ""),
            str(labels.get(line.outcome, line.outcome)),
            len(facts.get("abnormal", [])) if checked else "",
            len(facts.get("serious", [])) if checked else "",
            len(facts.get("penalties", [])) if checked else "",
            len(facts.get("inspections", [])) if checked else "",
            ("是" if line.red_listed else "否") if checked else "",
            f"{line.serial}-0" if checked and line.serial else "",
            line.message,
        ]


def write_summary(*, check: CreditCheck, path) -> None:
    """The batch's summary sheet: one row per entry (unknown and malformed included), then the input notes."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from credit.reports import safe_cell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("核查结果")
    for i, (_label, width) in enumerate(SUMMARY_COLUMNS):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    sheet.append(
        [f"信用核查结果汇总（{check.get_purpose_display()}；核查期间 {check.period_start} 至 {check.period_end}）"]
    )
    header = []
    for label, _w in SUMMARY_COLUMNS:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in _summary_rows(check):
        sheet.append([safe_cell(v) for v in row])
    if check.input_notes:
        notes = workbook.create_sheet("输入说明")
        notes.append(["行号", "输入", "说明"])
        for note in check.input_notes:
            notes.append([note["row"], safe_cell(note["value"]), note["message"]])
    workbook.save(path)


def _first_print(line: CheckLine, check: CreditCheck) -> CertificatePrint:
    """The batch print (counter 0) of a line, logged once whatever the number of renders (a rerun reuses it)."""
    with transaction.atomic():
        CheckLine.objects.select_for_update().filter(pk=line.pk).first()
        printed = CertificatePrint.objects.filter(line=line, counter=0).first()
        if printed is None:
            printed = _record_print(line=line, actor=check.requested_by, channel="batch")
    return printed


def _part_path(parent: Job, index: int, suffix: str) -> Path:
    return job_output_path(parent, f"-part{index:04d}{suffix}")


def _replace(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)  # atomic: a reader (the assembler) sees the old file or the whole new one


def render_batch_part(
    *, part: Job, parent: Job, check: CreditCheck, output: str, advance: Callable[[int], None]
) -> dict[str, Any]:
    """One part of a batch: its certificates as a zip of PDFs (stored: PDFs are compressed already), or — combined
    output — one PDF of all its pages. Written to a temporary file then renamed."""
    lines = {
        line.pk: line for line in CheckLine.objects.filter(pk__in=part.params["lines"]).select_related("check_run")
    }
    ordered = [lines[pk] for pk in part.params["lines"] if pk in lines]
    suffix = ".pdf" if output == "combined" else ".zip"
    final = _part_path(parent, part.params["index"], suffix)
    tmp = final.with_name(final.name + f".{os.getpid()}.tmp")
    step = 0
    if output == "combined":
        documents = []
        for line in ordered:
            printed = _first_print(line, check)
            documents.append(
                render_document(certificate_context(line=line, serial=printed.serial, printed_at=printed.printed_at))
            )
            step += 1
            if step % 10 == 0:
                advance(10)
        if documents:
            pages = [page for document in documents for page in document.pages]
            documents[0].copy(pages).write_pdf(tmp)
        else:
            tmp.write_bytes(b"")
    else:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
            for line in ordered:
                printed = _first_print(line, check)
                context = certificate_context(line=line, serial=printed.serial, printed_at=printed.printed_at)
                archive.writestr(f"{line.position:05d}-{line.uscc}-{printed.serial}.pdf", render_pdf(context))
                step += 1
                if step % 10 == 0:
                    advance(10)
    advance(step % 10)
    _replace(tmp, final)
    return {"path": str(final), "certificates": len(ordered)}


def assemble_batch(*, job: Job, check: CreditCheck, parts: list[Job], output: str) -> dict[str, Any]:
    """The batch's output from its rendered parts: a zip holding the summary sheet and one PDF per entity (copied
    from the parts' files, in row order), or the sheet and the one combined PDF. The part files are removed after."""
    summary_path = job_output_path(job, ".xlsx")
    with translation.override("zh-hans"):  # a Chinese document whatever language the worker runs in
        write_summary(check=check, path=summary_path)
    path = job_output_path(job, ".zip")
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    certificates = 0
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(summary_path, "核查结果汇总.xlsx")
        for part in parts:
            certificates += len(part.params["lines"])
            source = Path(part.result["path"])
            if output == "combined":
                if source.stat().st_size:
                    archive.write(source, "信用核查证书（合并）.pdf", compress_type=zipfile.ZIP_STORED)
                continue
            with zipfile.ZipFile(source) as piece:
                for name in piece.namelist():
                    archive.writestr(name, piece.read(name), compress_type=zipfile.ZIP_STORED)
    _replace(tmp, path)
    for part in parts:
        Path(part.result["path"]).unlink(missing_ok=True)
    return {
        "path": str(path),
        "filename": f"信用核查-{check.pk}-{timezone.localdate():%Y%m%d}.zip",
        "summary": str(summary_path),
        "certificates": certificates,
        "rows": check.lines.count(),
        "parts": len(parts),
    }


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
