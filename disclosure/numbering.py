"""Decision-document numbers per office, type and year: 榆次市监异入〔2026〕第12号.

Numbers are allocated with one INSERT … ON CONFLICT DO UPDATE … RETURNING on a row per (office, type, year), so
concurrent allocations never collide (the row lock orders them) and the blocks of numbers for a whole nightly chunk,
every office and type at once, cost one statement.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import connection, transaction

from disclosure.models import DocumentSequence
from enterprises.models import Region

# Tests switch this off to run the portable path (what the SQLite demo uses) against PostgreSQL.
USE_POSTGRES_SQL = True

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
    if count < 1:
        if doc_type not in DOC_TYPES:
            raise ValueError(f"unknown document type {doc_type!r}")
        return []
    return allocate_blocks({(office, doc_type): count}, year=year)[(office.code, doc_type)]


_UPSERT = """
INSERT INTO {table} AS s (office_id, doc_type, year, last_number)
SELECT v.office_id, v.doc_type, %s, v.count FROM unnest(%s::varchar[], %s::varchar[], %s::integer[])
    AS v(office_id, doc_type, count)
ON CONFLICT (office_id, doc_type, year) DO UPDATE SET last_number = s.last_number + EXCLUDED.last_number
RETURNING s.office_id, s.doc_type, s.last_number
"""


def allocate_blocks(counts: Mapping[tuple[Region, str], int], *, year: int) -> dict[tuple[str, str], list[str]]:
    """For each (office, document type) a block of `count` consecutive new numbers of `year`, keyed by (office
    code, type): on PostgreSQL one INSERT … ON CONFLICT DO UPDATE … RETURNING for all of them (a nightly chunk
    numbers decisions of every county and type at once). The rows are locked in key order, so two concurrent
    allocations never deadlock; the numbers are the transaction's (see allocate)."""
    wanted = {key: count for key, count in counts.items() if count > 0}
    for (_office, doc_type), count in counts.items():
        if doc_type not in DOC_TYPES:
            raise ValueError(f"unknown document type {doc_type!r}")
        if count < 0:
            raise ValueError("count must not be negative")
    if not wanted:
        return {}
    if not connection.in_atomic_block:
        raise RuntimeError("allocate() must run inside the transaction that uses the numbers")
    keys = sorted(wanted, key=lambda key: (key[0].code, key[1]))
    offices = {office.code: office for office, _doc_type in keys}
    last: dict[tuple[str, str], int] = {}
    if USE_POSTGRES_SQL and connection.vendor == "postgresql":
        sql = _UPSERT.format(table=connection.ops.quote_name(DocumentSequence._meta.db_table))
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                [year, [o.code for o, _t in keys], [t for _o, t in keys], [wanted[key] for key in keys]],
            )
            last = {(code, doc_type): number for code, doc_type, number in cursor.fetchall()}
    else:
        with transaction.atomic():
            for office, doc_type in keys:
                DocumentSequence.objects.get_or_create(office=office, doc_type=doc_type, year=year)
                seq = DocumentSequence.objects.select_for_update().get(office=office, doc_type=doc_type, year=year)
                seq.last_number += wanted[(office, doc_type)]
                seq.save(update_fields=["last_number"])
                last[(office.code, doc_type)] = seq.last_number
    blocks = {}
    for office, doc_type in keys:
        end = last[(office.code, doc_type)]
        count = wanted[(office, doc_type)]
        blocks[(office.code, doc_type)] = [
            format_number(offices[office.code], doc_type, year, n) for n in range(end - count + 1, end + 1)
        ]
    return blocks
