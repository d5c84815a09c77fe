"""What an import returns: the counts, or every bad row (row as in the file, column as in the file, reason)."""

from __future__ import annotations

from dataclasses import dataclass, field

KIND_ENTERPRISES = "enterprises"
KIND_ANNUAL_REPORTS = "annual_reports"
KIND_MIXED = "mixed"  # a workbook with an enterprise sheet and an annual-report sheet
KINDS = (KIND_ENTERPRISES, KIND_ANNUAL_REPORTS)


class FileRejected(Exception):
    """The file as a whole cannot be read (size, format, encoding); `message` is for the clerk (Chinese)."""

    def __init__(self, message: str, *, row: int | None = None, sheet: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.row = row
        self.sheet = sheet


@dataclass(frozen=True, order=True)
class RowError:
    """One reason a row (or the file, when `row` is None) was refused."""

    row: int | None
    column: str
    message: str
    sheet: str = ""

    def __str__(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"工作表「{self.sheet}」")
        if self.row is not None:
            parts.append(f"行 {self.row}")
        if self.column:
            parts.append(f"列 {self.column}")
        where = "，".join(parts)
        return f"{where}：{self.message}" if where else self.message


@dataclass
class ImportResult:
    """The outcome of one import: either counts of an all-or-nothing load, or the bad rows and nothing loaded."""

    kind: str
    file_name: str
    sha256: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    # When there are more errors than are kept in memory, the full list as CSV (private media, never served).
    report_path: str | None = None
    job_id: int | None = None
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def changed_anything(self) -> bool:
        return bool(self.created or self.updated)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        """One line for the clerk, in Chinese."""
        if not self.ok:
            shown = len(self.errors)
            more = f"（仅显示前 {shown} 条）" if shown < self.error_count else ""
            return f"导入失败：发现 {self.error_count} 处错误{more}，未导入任何数据。"
        counts = f"{self.imported} 行（新增 {self.created}，更新 {self.updated}，未变 {self.unchanged}）"
        if self.dry_run:
            return f"校验通过（试运行，未写入数据库）：{counts}"
        if not self.changed_anything:
            return f"导入成功：{counts}；数据与登记库一致，未作任何修改"
        return f"导入成功：{counts}"
