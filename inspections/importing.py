"""Importing the inspector roster and the inspection item list (一单两库) from Excel (.xlsx) or CSV.

The registry's rules (enterprises.importing): the same reader (format by content, encoding, streaming, formula cells
kept as text and refused), the same header matching (English or Chinese names, case/width/space-insensitive), the
same error report (row as in the file, column as in the file, reason in Chinese) and the same all-or-nothing load:
every row is validated first; any bad row → nothing written and every bad row reported. A valid file is an upsert
(items by code, inspectors by warrant number) through the catalogue services, one audit event per changed record;
the same file again changes nothing. Rosters are small (≤ a few thousand rows), so rows are held in memory.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from core.models import Department, User
from enterprises import identity
from enterprises.importing.columns import Column, HeaderError, header_key, match_columns
from enterprises.importing.readers import Cell, inspect, open_tables
from enterprises.importing.result import FileRejected, ImportResult, RowError
from enterprises.importing.validate import CellError, cell_text, parse_date, single_line
from enterprises.models import Enterprise, Region
from inspections.models import InspectionItem, Inspector, InspectorConflict
from inspections.services import catalogue

KIND_ROSTER = "roster"
KIND_ITEMS = "items"
KINDS = (KIND_ROSTER, KIND_ITEMS)
KIND_LABELS = {KIND_ROSTER: "检查人员名录", KIND_ITEMS: "抽查事项清单"}

ITEM_COLUMNS: tuple[Column, ...] = (
    Column("code", "事项编码", ("code", "item_code", "事项编码", "抽查事项编码", "编码")),
    Column("name", "抽查事项", ("name", "item", "抽查事项", "事项名称", "抽查事项名称")),
    Column("department", "实施部门", ("department", "department_code", "实施部门", "部门", "实施主体")),
    Column("legal_basis", "法律依据", ("legal_basis", "法律依据", "抽查依据", "依据")),
    Column("kind", "事项类别", ("kind", "type", "事项类别", "类别", "一般/重点"), required=False),
    Column("active", "是否有效", ("active", "in_force", "是否有效", "有效"), required=False),
)
ROSTER_COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", ("name", "姓名")),
    Column("department", "所属部门", ("department", "department_code", "所属部门", "部门", "执法部门")),
    Column("region_code", "所属区域", ("region_code", "region", "所属区域", "区划代码", "行政区划代码")),
    Column("warrant_number", "执法证号", ("warrant_number", "执法证号", "执法证件号码", "执法证编号")),
    Column(
        "warrant_expires_on",
        "执法证有效期至",
        ("warrant_expires_on", "warrant_expiry", "执法证有效期至", "有效期至", "执法证有效期"),
    ),
    Column("qualifications", "可检查事项", ("qualifications", "items", "可检查事项", "检查事项", "抽查事项编码")),
    Column("conflicts", "回避对象", ("conflicts", "declared_conflicts", "回避对象", "申报回避的主体"), required=False),
    Column("active", "是否在册", ("active", "on_roster", "是否在册", "在册"), required=False),
)
COLUMNS = {KIND_ROSTER: ROSTER_COLUMNS, KIND_ITEMS: ITEM_COLUMNS}

_LIST_SEPARATORS = re.compile(r"[;；,，、\s]+")
_YES = {"是", "y", "yes", "true", "1", "有效", "在册"}
_NO = {"否", "n", "no", "false", "0", "无效", "停用", "不在册"}
_KINDS = {
    "一般": "general",
    "一般事项": "general",
    "general": "general",
    "重点": "key",
    "重点事项": "key",
    "key": "key",
}
_FAR_FUTURE = dt.date(9999, 12, 31)
IMPORT_CONFLICT_REASON = "名录导入时申报"


class InspectionImportResult(ImportResult):
    def summary(self) -> str:
        if self.ok and not self.dry_run and not self.changed_anything:
            return f"导入成功：{self.imported} 行，数据与名录一致，未作任何修改"
        return super().summary()


@dataclass
class _HeaderMap:
    index: dict[str, int]
    names: dict[str, str]

    def name(self, key: str) -> str:
        return self.names.get(key, key)


def map_header(header: list[str], kind: str) -> _HeaderMap:
    """The registry's header rules (header_key) over this kind's columns; every problem listed at once."""
    columns = COLUMNS[kind]
    aliases = {header_key(alias): column for column in columns for alias in column.aliases}
    if not any(header):
        raise HeaderError(["第 1 行应为表头，但为空"])
    index, names = match_columns(header, aliases=aliases, columns=columns, label=KIND_LABELS[kind])
    return _HeaderMap(index=index, names=names)


# --- cells ----------------------------------------------------------------------------------------------------------
def _bool(value: Cell, *, label: str) -> bool:
    text = cell_text(value).lower()
    if not text:
        return True
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellError(f"{label}“{text}”无法识别，应为“是”或“否”")


def _list(value: Cell) -> list[str]:
    return [part for part in _LIST_SEPARATORS.split(cell_text(value)) if part]


class _Lookups:
    """Reference data loaded once per import (departments, regions, items, entities named as conflicts)."""

    def __init__(self) -> None:
        self.departments: dict[str, Department] = {}
        for dept in Department.objects.all():
            self.departments[dept.code.lower()] = dept
            self.departments.setdefault(dept.name, dept)
        self.regions = {r.code: r for r in Region.objects.filter(level__in=["city", "county"])}
        self.region_names = {r.name: r for r in self.regions.values()}
        self.items = {i.code: i for i in InspectionItem.objects.all()}

    def department(self, value: Cell, label: str) -> Department:
        text = single_line(value, label=label, max_length=100, required=True)
        dept = self.departments.get(text.lower()) or self.departments.get(text)
        if dept is None:
            raise CellError(f"{label}“{text}”不存在（应为部门代码或名称）")
        return dept

    def region(self, value: Cell, label: str) -> Region:
        text = single_line(value, label=label, max_length=50, required=True)
        region = self.regions.get(text) or self.region_names.get(text)
        if region is None:
            raise CellError(f"{label}“{text}”不是晋中市的区县代码或名称")
        return region


@dataclass
class _Row:
    row_no: int
    values: dict[str, Any]


RowErrors = list[tuple[str, str]]  # (column key, message)


def _validate_item(cells: list[Cell], header: _HeaderMap, ref: _Lookups) -> tuple[dict[str, Any], RowErrors]:
    values: dict[str, Any] = {}
    errors: RowErrors = []

    def cell(key: str) -> Cell:
        i = header.index.get(key)
        return cells[i] if i is not None and i < len(cells) else ""

    checks = {
        "code": lambda: single_line(cell("code"), label="事项编码", max_length=40, required=True),
        "name": lambda: single_line(cell("name"), label="抽查事项", max_length=200, required=True),
        "department": lambda: ref.department(cell("department"), "实施部门"),
        "legal_basis": lambda: single_line(cell("legal_basis"), label="法律依据", max_length=5000, required=True),
        "kind": lambda: _item_kind(cell("kind")),
        "active": lambda: _bool(cell("active"), label="是否有效"),
    }
    for key, check in checks.items():
        try:
            values[key] = check()
        except CellError as exc:
            errors.append((key, str(exc)))
    return values, errors


def _item_kind(value: Cell) -> str:
    text = cell_text(value)
    if not text:
        return InspectionItem.Kind.GENERAL
    kind = _KINDS.get(text.lower()) or _KINDS.get(text)
    if kind is None:
        raise CellError(f"事项类别“{text}”无法识别，应为“一般”或“重点”")
    return kind


def _validate_inspector(
    cells: list[Cell], header: _HeaderMap, ref: _Lookups, *, actor: User | None, today: dt.date
) -> tuple[dict[str, Any], RowErrors]:
    values: dict[str, Any] = {}
    errors: RowErrors = []

    def cell(key: str) -> Cell:
        i = header.index.get(key)
        return cells[i] if i is not None and i < len(cells) else ""

    def region() -> Region:
        found = ref.region(cell("region_code"), "所属区域")
        if actor is not None and actor.pk and not actor.is_city_wide and found.code != actor.region_code:
            raise CellError(f"所属区域 {found.name} 不在您的辖区，只能导入本辖区的检查人员")
        return found

    def items() -> list[InspectionItem]:
        codes = _list(cell("qualifications"))
        if not codes:
            raise CellError("可检查事项不能为空（填写事项编码，多个以分号分隔）")
        unknown = [c for c in codes if c not in ref.items]
        if unknown:
            raise CellError(f"抽查事项编码不存在：{'、'.join(unknown)}")
        return [ref.items[c] for c in dict.fromkeys(codes)]

    def conflicts() -> list[str]:
        codes = []
        for text in _list(cell("conflicts")):
            try:
                codes.append(identity.validate(text))
            except identity.InvalidUSCC as exc:
                raise CellError(f"回避对象“{text}”：{exc}") from exc
        return list(dict.fromkeys(codes))

    checks = {
        "name": lambda: single_line(cell("name"), label="姓名", max_length=50, required=True),
        "department": lambda: ref.department(cell("department"), "所属部门"),
        "region_code": region,
        "warrant_number": lambda: single_line(cell("warrant_number"), label="执法证号", max_length=40, required=True),
        "warrant_expires_on": lambda: parse_date(cell("warrant_expires_on"), label="执法证有效期至", today=_FAR_FUTURE),
        "qualifications": items,
        "conflicts": conflicts,
        "active": lambda: _bool(cell("active"), label="是否在册"),
    }
    for key, check in checks.items():
        try:
            values[key] = check()
        except CellError as exc:
            errors.append((key, str(exc)))
    expires, active = values.get("warrant_expires_on"), values.get("active")
    if isinstance(expires, dt.date) and active and expires < today:
        errors.append(
            (
                "warrant_expires_on",
                f"执法证已于 {expires.isoformat()} 过期，不能作为在册人员导入（如需保留记录，“是否在册”请填“否”）",
            )
        )
    return values, errors


# --- the import ---------------------------------------------------------------------------------------------------
def import_file(
    *, kind: str, path: Path | str, actor: User | None, file_name: str | None = None, dry_run: bool = False
) -> ImportResult:
    """Import the roster (`roster`) or the item list (`items`): all rows or none, every bad row reported."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    path = Path(path)
    result = InspectionImportResult(kind=kind, file_name=file_name or path.name, dry_run=dry_run)
    try:
        if actor is not None and actor.pk and not actor.is_city_wide and not actor.region_code:
            raise FileRejected("您的账号未分配辖区，不能导入")
        info = inspect(path, name=result.file_name)
        result.sha256 = info.sha256
        rows = _read(info, kind=kind, actor=actor, result=result)
    except FileRejected as exc:
        result.errors = [RowError(row=exc.row, column="", message=exc.message, sheet=exc.sheet)]
        result.error_count = 1
        return result
    if not result.ok:
        return result
    _load(kind=kind, rows=rows, actor=actor, result=result, dry_run=dry_run)
    return result


def _read(info, *, kind: str, actor: User | None, result: ImportResult) -> list[_Row]:
    ref = _Lookups()
    today = timezone.localdate()
    rows: list[_Row] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    key_field = "code" if kind == KIND_ITEMS else "warrant_number"
    with open_tables(info) as tables:
        table = next(tables, None)
        if table is None:
            raise FileRejected("文件中没有可见的工作表")
        try:
            header = map_header(table.header, kind)
        except HeaderError as exc:
            raise FileRejected("；".join(exc.messages), row=1) from exc
        for row_no, cells in table.rows:
            if kind == KIND_ITEMS:
                values, row_errors = _validate_item(cells, header, ref)
            else:
                values, row_errors = _validate_inspector(cells, header, ref, actor=actor, today=today)
            key = values.get(key_field)
            if key and not row_errors:
                if key in seen:
                    row_errors.append((key_field, f"与第 {seen[key]} 行重复（{key}）"))
                else:
                    seen[key] = row_no
            for column, message in row_errors:
                errors.append(RowError(row=row_no, column=header.name(column), message=message))
            result.rows += 1
            rows.append(_Row(row_no, values))
    if not result.rows and not errors:
        errors.append(RowError(row=None, column="", message="文件只有表头，没有数据行"))
    if kind == KIND_ROSTER and not errors:
        errors += _check_roster_links(rows, header, actor)
    result.errors = sorted(errors)
    result.error_count = len(errors)
    return rows


def _check_roster_links(rows: list[_Row], header: _HeaderMap, actor: User | None) -> list[RowError]:
    """Conflicts must name entities of the registry; an existing warrant of another county is not the actor's."""
    errors: list[RowError] = []
    codes = {c for row in rows for c in row.values["conflicts"]}
    known = set(Enterprise.objects.filter(uscc__in=codes).values_list("uscc", flat=True)) if codes else set()
    existing = dict(
        Inspector.objects.filter(warrant_number__in=[r.values["warrant_number"] for r in rows]).values_list(
            "warrant_number", "region_id"
        )
    )
    for row in rows:
        missing = [c for c in row.values["conflicts"] if c not in known]
        if missing:
            message = f"回避对象不在经营主体登记库中：{'、'.join(missing)}"
            errors.append(RowError(row=row.row_no, column=header.name("conflicts"), message=message))
        region = existing.get(row.values["warrant_number"])
        if region and actor is not None and actor.pk and not actor.is_city_wide and region != actor.region_code:
            message = f"执法证号 {row.values['warrant_number']} 属于其他区县的检查人员，不能修改"
            errors.append(RowError(row=row.row_no, column=header.name("warrant_number"), message=message))
    return errors


class _Rollback(Exception):
    pass


def _load(*, kind: str, rows: list[_Row], actor: User | None, result: ImportResult, dry_run: bool) -> None:
    try:
        with transaction.atomic():
            for row in rows:
                outcome = (
                    _upsert_item(actor, row.values) if kind == KIND_ITEMS else _upsert_inspector(actor, row.values)
                )
                setattr(result, outcome, getattr(result, outcome) + 1)
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass


def _upsert_item(actor: User | None, values: dict[str, Any]) -> str:
    item = InspectionItem.objects.filter(code=values["code"]).first()
    fields = {k: values[k] for k in ("code", "name", "legal_basis", "kind", "active")}
    fields["department_id"] = values["department"].pk
    if item is not None and all(getattr(item, k) == v for k, v in fields.items()):
        return "unchanged"
    created = item is None
    item = item or InspectionItem()
    for k, v in fields.items():
        setattr(item, k, v)
    catalogue.item_save(actor=actor, item=item)
    return "created" if created else "updated"


def _upsert_inspector(actor: User | None, values: dict[str, Any]) -> str:
    inspector = Inspector.objects.filter(warrant_number=values["warrant_number"]).first()
    fields = {
        "name": values["name"],
        "department_id": values["department"].pk,
        "region_id": values["region_code"].code,
        "warrant_number": values["warrant_number"],
        "warrant_expires_on": values["warrant_expires_on"],
        "active": values["active"],
    }
    items = values["qualifications"]
    created = inspector is None
    same = (
        not created
        and all(getattr(inspector, k) == v for k, v in fields.items())
        and set(inspector.qualifications.values_list("pk", flat=True)) == {i.pk for i in items}
    )
    if not same:
        inspector = inspector or Inspector()
        for k, v in fields.items():
            setattr(inspector, k, v)
        catalogue.inspector_save(actor=actor, inspector=inspector, qualifications=items)
    # Conflicts are only ever added (a declaration is history); one already declared is left as it is.
    declared = set(InspectorConflict.objects.filter(inspector=inspector).values_list("enterprise__uscc", flat=True))
    added = False
    for enterprise in Enterprise.objects.filter(uscc__in=[c for c in values["conflicts"] if c not in declared]):
        catalogue.conflict_declare(
            actor=actor, inspector=inspector, enterprise=enterprise, reason=IMPORT_CONFLICT_REASON
        )
        added = True
    if created:
        return "created"
    return "updated" if (added or not same) else "unchanged"


# --- uploads ------------------------------------------------------------------------------------------------------
@dataclass
class SavedUpload:
    path: Path
    remove: bool

    def cleanup(self) -> None:
        if self.remove:
            self.path.unlink(missing_ok=True)


def saved_upload(upload: UploadedFile) -> SavedUpload:
    """A path to the uploaded bytes: Django's own temporary file when it has one, else a copy deleted after."""
    temporary_path = getattr(upload, "temporary_file_path", None)
    if temporary_path is not None:
        return SavedUpload(Path(temporary_path()), False)
    fd, name = tempfile.mkstemp(prefix="inspections-import-", suffix=".upload")
    with os.fdopen(fd, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return SavedUpload(Path(name), True)


__all__ = ["COLUMNS", "KINDS", "KIND_ITEMS", "KIND_ROSTER", "import_file", "saved_upload"]
