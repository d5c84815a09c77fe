"""Opening an import file: size and format checked by content (never by the name), the encoding detected, and
rows streamed one at a time (CSV with the csv module, XLSX with openpyxl's read-only mode), so memory stays flat.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from enterprises.importing.result import FileRejected

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the pre-2007 .xls format
UTF8_BOM = codecs.BOM_UTF8
# C0 control bytes other than tab, LF and CR never occur in a text file in UTF-8 or GB18030 (their multi-byte
# sequences use bytes ≥ 0x30 only): one means a binary file.
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CHUNK = 1 << 20
# A zip bomb: an XLSX whose parts expand to more than this many times the upload limit is refused unopened.
_MAX_EXPANSION = 10
XLSX_NAMES = (".xlsx", ".xlsm")

Cell = str | dt.date


@dataclass(frozen=True)
class FileInfo:
    """What inspection found out about a file before any row is parsed."""

    path: Path
    name: str
    size: int
    sha256: str
    format: str  # "xlsx" | "csv"
    encoding: str | None = None


@dataclass
class Table:
    """One worksheet (or the whole CSV): its header row and its non-empty data rows with their row numbers.

    Row numbers are as the clerk sees them in Excel: the header is row 1. Cells are str, or dt.date for XLSX
    date cells.
    """

    index: int
    name: str
    header: list[str]
    rows: Iterator[tuple[int, list[Cell]]]


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def inspect(path: Path, *, name: str) -> FileInfo:
    """Size, real format and (for CSV) encoding of the file, and its SHA-256; FileRejected with a clear reason."""
    size = path.stat().st_size
    if size == 0:
        raise FileRejected("文件为空（0 字节），没有可导入的内容")
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise FileRejected(f"文件大小 {_megabytes(size)} 超过导入上限 {_megabytes(limit)}，请拆分后分批导入")
    with path.open("rb") as fh:
        head = fh.read(8)
    claims_xlsx = name.lower().endswith(XLSX_NAMES)
    if head.startswith(ZIP_MAGIC):
        return FileInfo(path=path, name=name, size=size, sha256=_sha256(path), format="xlsx")
    if head.startswith(OLE_MAGIC):
        raise FileRejected("这是旧版 Excel（.xls）文件，不受支持：请在 Excel 中另存为 .xlsx 或 CSV（UTF-8）后再导入")
    if claims_xlsx:
        raise FileRejected("文件扩展名为 .xlsx，但内容不是 Excel 工作簿（可能是改了扩展名的其他文件）")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRejected("文件为 UTF-16 编码（Excel 的“Unicode 文本”），请另存为“CSV UTF-8（逗号分隔）”后再导入")
    sha256, encoding = _scan_text(path)
    return FileInfo(path=path, name=name, size=size, sha256=sha256, format="csv", encoding=encoding)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _scan_text(path: Path) -> tuple[str, str]:
    """One pass: hash, refuse binary content, and check the whole file decodes as UTF-8; else try GB18030,
    the encoding of Chinese Windows (Excel's plain "CSV" export there)."""
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = True
    first = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            if not first:
                first = chunk[:3]
            digest.update(chunk)
            if _CONTROL_BYTES.search(chunk):
                raise FileRejected("文件含有二进制内容，不是 CSV 文本文件（也不是 Excel 工作簿）")
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if utf8_ok:
        return digest.hexdigest(), ("utf-8-sig" if first == UTF8_BOM else "utf-8")
    gb = codecs.getincrementaldecoder("gb18030")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                gb.decode(chunk)
        gb.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise FileRejected("无法识别文件编码：请将 CSV 保存为 UTF-8 或 GB18030（GBK）编码") from exc
    return digest.hexdigest(), "gb18030"


@contextmanager
def open_tables(info: FileInfo) -> Iterator[Iterator[Table]]:
    """The tables of the file, read lazily; the file (or workbook) stays open until the block ends."""
    if info.format == "xlsx":
        with _open_workbook(info) as workbook:
            yield _xlsx_tables(workbook)
    else:
        with info.path.open(encoding=info.encoding, newline="") as fh:
            yield _csv_tables(fh)


# --- CSV --------------------------------------------------------------------------------------------------------
def _csv_tables(fh) -> Iterator[Table]:
    reader = csv.reader(fh)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise FileRejected(f"CSV 格式错误：{exc}", row=1) from exc
    if header is None:
        raise FileRejected("文件中没有内容")
    header = [_header_text(h) for h in header]
    yield Table(index=0, name="", header=header, rows=_csv_rows(reader))


def _csv_rows(reader) -> Iterator[tuple[int, list[Cell]]]:
    row_no = 1
    try:
        for cells in reader:
            row_no += 1
            # Blank lines and rows of empty cells (a spreadsheet's trailing rows) are not data.
            if cells and any(cells) and "".join(cells).strip():
                yield row_no, cells
    except csv.Error as exc:
        raise FileRejected(f"CSV 格式错误（引号不匹配或单元格过长）：{exc}", row=row_no + 1) from exc


def _header_text(value: object) -> str:
    if value is None:
        return ""
    return str(value).replace("\ufeff", "").strip()


# --- XLSX -------------------------------------------------------------------------------------------------------
@contextmanager
def _open_workbook(info: FileInfo):
    import openpyxl  # imported here: only XLSX imports pay for it

    try:
        with zipfile.ZipFile(info.path) as archive:
            names = set(archive.namelist())
            expanded = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRejected("文件不是有效的 Excel 工作簿（.xlsx）：压缩包已损坏") from exc
    if "xl/workbook.xml" not in names:
        raise FileRejected("文件是压缩包，但不是 Excel 工作簿（.xlsx），可能是 Word 文档或其他 zip 文件")
    if expanded > _MAX_EXPANSION * settings.IMPORT_MAX_BYTES:
        raise FileRejected("Excel 工作簿解压后过大，拒绝导入")
    with info.path.open("rb") as fh:  # a file object: openpyxl would refuse a path not named .xlsx (uploads)
        try:
            # data_only=False: a formula comes back as its text ("=…") and is refused as formula injection,
            # instead of silently importing whatever value Excel last cached for it.
            workbook = openpyxl.load_workbook(fh, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises many types for a malformed package
            raise FileRejected(f"文件不是有效的 Excel 工作簿（.xlsx）：{type(exc).__name__}") from exc
        try:
            yield workbook
        finally:
            workbook.close()


def _xlsx_tables(workbook) -> Iterator[Table]:
    index = 0
    for sheet in workbook.worksheets:
        # Hidden sheets hold drop-down lists and lookup tables of import templates, not data.
        if getattr(sheet, "sheet_state", "visible") != "visible":
            continue
        rows = sheet.iter_rows(values_only=True)
        first = next(rows, None)
        header = [_header_text(v) for v in first] if first is not None else []
        yield Table(index=index, name=sheet.title, header=header, rows=_xlsx_rows(rows))
        index += 1


def _xlsx_rows(rows) -> Iterator[tuple[int, list[Cell]]]:
    for row_no, values in enumerate(rows, start=2):
        cells = [_xlsx_cell(v) for v in values]
        if any(c if type(c) is not str else c.strip() for c in cells):
            yield row_no, cells


def _xlsx_cell(value: object) -> Cell:
    """A cell as text, except dates (kept as dates); numbers as Excel shows them (no trailing .0)."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    if kind is int:
        return str(value)
    if kind is float:
        if value.is_integer() and abs(value) < 1e15:  # type: ignore[attr-defined]
            return str(int(value))  # type: ignore[call-overload]
        return repr(value)
    if kind is dt.datetime:
        return value.date()  # type: ignore[attr-defined]
    if kind is dt.date:
        return value  # type: ignore[return-value]
    if kind is bool:
        return "TRUE" if value else "FALSE"
    return str(value)
