"""Header mapping: English or Chinese column names → our fields, and which kind of table a header describes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from enterprises.importing.result import KIND_ANNUAL_REPORTS, KIND_ENTERPRISES


@dataclass(frozen=True)
class Column:
    """A field of an import table and the header texts that name it."""

    key: str
    label: str  # Chinese name used in messages
    aliases: tuple[str, ...]
    required: bool = True


ENTERPRISE_COLUMNS: tuple[Column, ...] = (
    Column("uscc", "统一社会信用代码", ("uscc", "统一社会信用代码", "社会信用代码")),
    Column("name", "名称", ("name", "名称", "企业名称", "主体名称")),
    Column(
        "legal_representative",
        "法定代表人",
        ("legal_representative", "法定代表人", "法定代表人（负责人）", "法定代表人/负责人", "负责人", "经营者"),
    ),
    Column("address", "住所", ("address", "住所", "地址", "经营场所", "住所（经营场所）", "住所/经营场所")),
    Column(
        "region_code",
        "所属区域",
        ("region_code", "region", "登记机关区划", "行政区划代码", "区划代码", "所属区域"),
    ),
    Column("industry_code", "行业代码", ("industry_code", "行业代码", "国民经济行业代码")),
    Column(
        "registered_capital",
        "注册资本（万元）",
        ("registered_capital", "注册资本", "注册资本（万元）", "资金数额", "资金数额（万元）"),
    ),
    Column("registration_date", "成立日期", ("registration_date", "成立日期", "注册日期")),
    Column("status", "登记状态", ("status", "登记状态", "状态")),
    Column("entity_type", "主体类型", ("entity_type", "主体类型", "类型"), required=False),
    Column("former_names", "曾用名", ("former_names", "曾用名"), required=False),
    Column("registration_number", "注册号", ("registration_number", "注册号"), required=False),
    Column("contact_phone", "联系电话", ("contact_phone", "联系电话"), required=False),
    Column("contact_email", "电子邮箱", ("contact_email", "电子邮箱", "邮箱"), required=False),
    Column(
        "legal_representative_id_number",
        "法定代表人证件号码",
        ("legal_representative_id_number", "法定代表人证件号码", "法定代表人身份证号码", "法定代表人身份证号"),
        required=False,
    ),
)

ANNUAL_REPORT_COLUMNS: tuple[Column, ...] = (
    Column("uscc", "统一社会信用代码", ("uscc", "统一社会信用代码", "社会信用代码")),
    Column("year", "年报年度", ("year", "年报年度", "年度")),
    Column("filed_on", "报送日期", ("filed_on", "报送日期", "填报日期")),
)

COLUMNS_BY_KIND = {KIND_ENTERPRISES: ENTERPRISE_COLUMNS, KIND_ANNUAL_REPORTS: ANNUAL_REPORT_COLUMNS}
KIND_LABELS = {KIND_ENTERPRISES: "经营主体", KIND_ANNUAL_REPORTS: "年报"}

_IGNORED_IN_KEYS = re.compile(r"[\s_\-]+")


def header_key(text: str) -> str:
    """What two header texts must share to name the same column: case, width (（ vs (), spaces and _ ignored."""
    return _IGNORED_IN_KEYS.sub("", unicodedata.normalize("NFKC", text).lower())


def _alias_index(columns: tuple[Column, ...]) -> dict[str, Column]:
    return {header_key(alias): column for column in columns for alias in column.aliases}


_ALIASES = {kind: _alias_index(columns) for kind, columns in COLUMNS_BY_KIND.items()}
_SHARED = {"uscc"}


class HeaderError(Exception):
    """The header row cannot be used; each message names the offending columns."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class HeaderMap:
    """Where each field of `kind` is in the table (0-based), and the header text the file used for it."""

    kind: str
    index: dict[str, int]
    names: dict[str, str]
    width: int  # number of header cells (trailing empty ones dropped)

    def name(self, key: str) -> str:
        return self.names.get(key, key)


def detect_kind(header: list[str]) -> str | None:
    """The kind whose own columns (beyond the shared USCC) the header names most; None when it names none."""
    keys = [header_key(h) for h in header if h]
    scores = {
        kind: sum(1 for k in keys if k in aliases and aliases[k].key not in _SHARED)
        for kind, aliases in _ALIASES.items()
    }
    best = max(scores.values())
    if best == 0:
        return None
    winners = [kind for kind, score in scores.items() if score == best]
    return winners[0] if len(winners) == 1 else None


def match_columns(
    header: list[str], *, aliases: dict[str, Column], columns: Iterable[Column], label: str
) -> tuple[dict[str, int], dict[str, str]]:
    """Position and header text of each known column; HeaderError lists unknown, duplicate and missing columns (all
    of them, at once). `aliases` maps header_key(alias) to its column; `label` names the table in messages. The
    registry's header rules, shared by every import (enterprises, annual reports, inspection rosters and items)."""
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    unknown: list[str] = []
    duplicate: list[str] = []
    for position, text in enumerate(header):
        if not text:
            continue
        column = aliases.get(header_key(text))
        if column is None:
            unknown.append(text)
        elif column.key in index:
            duplicate.append(f"{names[column.key]} 与 {text}")
        else:
            index[column.key] = position
            names[column.key] = text
    messages = []
    if unknown:
        messages.append(f"未知的列：{'、'.join(unknown)}（{label}不接受这些列，请删除或更正列名）")
    if duplicate:
        messages.append(f"重复的列：{'；'.join(duplicate)}")
    missing = [c for c in columns if c.required and c.key not in index]
    if missing:
        listed = "、".join(f"{c.key}（{c.label}）" for c in missing)
        messages.append(f"缺少必需的列：{listed}")
    if messages:
        raise HeaderError(messages)
    return index, names


def map_header(header: list[str], *, kind: str | None = None) -> HeaderMap:
    """Map a header row; HeaderError lists unknown, duplicate and missing columns (all of them, at once)."""
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    header = header[:width]
    if not any(header):
        raise HeaderError(["第 1 行应为表头，但为空"])
    if kind is None:
        kind = detect_kind(header)
        if kind is None:
            expected = "、".join(c.key for c in ENTERPRISE_COLUMNS if c.required)
            raise HeaderError(
                [
                    "无法从表头识别表格类型：经营主体表应有列 "
                    f"{expected}；年报表应有列 uscc、year、filed_on（也可使用中文列名）"
                ]
            )
    index, names = match_columns(
        header, aliases=_ALIASES[kind], columns=COLUMNS_BY_KIND[kind], label=f"{KIND_LABELS[kind]}表"
    )
    return HeaderMap(kind=kind, index=index, names=names, width=width)
