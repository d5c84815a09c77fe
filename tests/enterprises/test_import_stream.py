"""The import's streaming: a bounded hand-off between the reader thread and the writer, and imports in many blocks
(written as they come) that stay all-or-nothing with every bad row reported."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import time

import pytest

from core.models import AuditEvent
from enterprises.importing import import_file, readers, stream
from enterprises.importing.load import EnterpriseCopyBlock, PostgresLoader
from enterprises.importing.validate import ReferenceData
from enterprises.models import Enterprise
from tests.enterprises.test_import import db_state, messages, row, uscc, write_csv
from tests.factories import EnterpriseFactory


def _reference() -> ReferenceData:
    return ReferenceData(
        counties={"140702": "140702"},
        county_names={"140702": "榆次区"},
        sections={"52": "F"},
        today=dt.date(2026, 12, 1),
        allowed_region=None,
    )


class _CountingBlock:
    def __init__(self, created: list[object]) -> None:
        created.append(self)
        self.rows = 0

    def add(self, row_no, record, key) -> None:
        self.rows += 1

    def take(self) -> int:
        return self.rows


def test_it_keeps_the_reader_at_most_one_block_ahead(tmp_path):
    path = write_csv(tmp_path, [row(i) for i in range(100)])
    info = readers.inspect(path, name=path.name)
    created: list[object] = []
    produced = stream.blocks(
        info, kind=None, ref=_reference(), encoder=lambda kind, sheet: _CountingBlock(created), block_rows=10
    )
    assert isinstance(next(produced), stream.TableStart)
    first = next(produced)
    assert isinstance(first, stream.Block) and first.rows == 10 and first.payload == 10
    time.sleep(0.5)  # the reader runs ahead as far as the hand-off lets it
    # Block 1 taken, block 2 waiting in the hand-off, block 3 validated and waiting to be handed over: nothing more.
    assert len(created) == 3
    rest = list(produced)
    assert [block.rows for block in rest] == [10] * 9


def test_it_stops_the_reader_when_the_caller_stops(tmp_path):
    path = write_csv(tmp_path, [row(i) for i in range(50)])
    info = readers.inspect(path, name=path.name)
    produced = stream.blocks(
        info, kind=None, ref=_reference(), encoder=lambda kind, sheet: _CountingBlock([]), block_rows=5
    )
    next(produced)
    next(produced)
    produced.close()  # joins the reader thread
    assert not any(t.name == "import-reader" for t in threading.enumerate())


def test_it_encodes_awkward_text_for_copy_exactly():
    """Commas, quotes, a literal \\N inside a value, empty optional values and absent (NULL) ones."""
    block = EnterpriseCopyBlock(0)
    record = (
        "91140702MA0000000X", "enterprise", 'A,"B"\\N', ["旧,名"], "", "李四", None, "地址\\N", "140702", "52",
        "F5211", None, dt.date(2020, 1, 2), "operating", "", None, 'A,"B"\\N 旧,名', ["A,", ',"'],
    )  # fmt: skip
    block.add(7, record, record[0])
    block.add(8, None, "91140702MA0000001X")
    block.add(9, None, None)
    data, count = block.take()
    assert count == 2
    first, second = list(csv.reader(io.StringIO(data.decode())))
    assert first == [
        "0", "7", "t", "91140702MA0000000X", "enterprise", 'A,"B"\\N', '["旧,名"]', "", "李四", "\\N", "地址\\N",
        "140702", "52", "F5211", "\\N", "2020-01-02", "operating", "", "\\N", 'A,"B"\\N 旧,名', '["A,", ",\\""]',
    ]  # fmt: skip
    assert second[:4] == ["0", "8", "f", "91140702MA0000001X"]
    assert second[4:] == ["\\N"] * 17


@pytest.mark.django_db
def test_it_imports_in_many_blocks_and_audits_every_change(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "BLOCK_ROWS", 2)
    changed = EnterpriseFactory(uscc=uscc(3), name="旧名称商贸有限公司")
    rows = [row(i) for i in range(1, 8)]
    result = import_file(path=write_csv(tmp_path, rows), actor=None)

    assert result.ok, messages(result)
    assert (result.created, result.updated, result.unchanged) == (6, 1, 0)
    changed.refresh_from_db()
    assert changed.name == "晋中测试3号商贸有限公司"
    assert changed.former_names == ["旧名称商贸有限公司"]
    assert AuditEvent.objects.filter(action="enterprise.import_update", object_id=str(changed.pk)).count() == 1
    assert Enterprise.objects.filter(name_grams__contains=["测试"]).count() == 7

    again = import_file(path=write_csv(tmp_path, rows, name="again.csv"), actor=None)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 7)


@pytest.mark.django_db
def test_it_undoes_written_blocks_when_a_later_block_has_errors(tmp_path, monkeypatch):
    """Blocks 1–2 are written before block 3 shows its bad rows: the import still writes nothing, and every bad
    row is reported — including a duplicate of a row of the first block."""
    monkeypatch.setattr(stream, "BLOCK_ROWS", 2)
    EnterpriseFactory(uscc=uscc(2), name="旧名称商贸有限公司")
    before = db_state()
    rows = [row(1), row(2), row(3), row(4), row(5, registration_date="2999-01-01"), row(1), row(7, uscc="123")]
    result = import_file(path=write_csv(tmp_path, rows), actor=None)

    assert not result.ok
    assert [(e.row, e.column) for e in result.errors] == [(6, "registration_date"), (7, "uscc"), (8, "uscc")]
    assert "与第 2 行相同" in result.errors[1].message
    assert db_state() == before


def test_it_hands_the_postgres_loader_bytes_not_text():
    block = PostgresLoader(cap=10).encoder("enterprises", 0)
    data, count = block.take()
    assert (data, count) == (b"", 0)
