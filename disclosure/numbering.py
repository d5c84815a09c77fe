"""Decision-document numbers per office, type and year: 榆次市监异入〔2026〕第12号.

Numbers are allocated with one conditional UPDATE … RETURNING on a row per (office, type, year), so concurrent
allocations never collide and a block of numbers for a whole nightly chunk costs one statement.
"""

from __future__ import annotations

from django.db import connection, transaction

from disclosure.models import DocumentSequence
from enterprises.models import Region

# Document types (文书类型) and the abbreviation printed in the number.
ABNORMAL_IN = "异入"  # 列入经营异常名录决定书
ABNORMAL_OUT = "异出"  # 移出经营异常名录决定书
ABNORMAL_MARK = "标异"  # 个体工商户标记经营异常状态
SERIOUS_NOTICE = "严告"  # 列入严重违法失信名单告知书
SERIOUS_IN = "严入"  # 列入严重违法失信名单决定书
SERIOUS_OUT = "严出"  # 移出严重违法失信名单决定书
# Credit repair (repair app): applications and the documents decided on them.
REPAIR_APPLICATION = "修申"  # 信用修复申请（受理编号）
REPAIR_APPROVAL = "信修"  # 信用修复决定书
REPAIR_REJECTION = "不修"  # 不予信用修复决定书
REPAIR_REFUSAL = "修不受"  # 信用修复申请不予受理通知书
REPAIR_REVOCATION = "撤修"  # 撤销信用修复决定书
DOC_TYPES = (
    ABNORMAL_IN, ABNORMAL_OUT, ABNORMAL_MARK, SERIOUS_NOTICE, SERIOUS_IN, SERIOUS_OUT,
    REPAIR_APPLICATION, REPAIR_APPROVAL, REPAIR_REJECTION, REPAIR_REFUSAL, REPAIR_REVOCATION,
)  # fmt: skip


def office_prefix(region: Region) -> str:
    """The office's short name on documents: 榆次区 → 榆次市监, 祁县 → 祁县市监, 晋中市 → 晋中市监."""
    name = region.name
    short = name[:-1] if len(name) > 2 and name[-1] in "区县市" else name
    return f"{short}市监"


def format_number(region: Region, doc_type: str, year: int, number: int) -> str:
    return f"{office_prefix(region)}{doc_type}〔{year}〕第{number}号"


def allocate(*, office: Region, doc_type: str, year: int, count: int = 1) -> list[str]:
    """`count` consecutive new document numbers; must run inside the transaction that uses them (a rolled-back
    transaction gives its numbers back, so the sequence has no gaps from failures)."""
    if doc_type not in DOC_TYPES:
        raise ValueError(f"unknown document type {doc_type!r}")
    if count < 1:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("allocate() must run inside the transaction that uses the numbers")
    with transaction.atomic():
        DocumentSequence.objects.get_or_create(office=office, doc_type=doc_type, year=year)
        seq = DocumentSequence.objects.select_for_update().get(office=office, doc_type=doc_type, year=year)
        first = seq.last_number + 1
        seq.last_number += count
        seq.save(update_fields=["last_number"])
    return [format_number(office, doc_type, year, n) for n in range(first, first + count)]
