"""Reading and validating the file in a second thread, in blocks, while the caller loads the previous block.

The producer thread reads rows, validates them and encodes each row for the loader as soon as it is validated (for
PostgreSQL: a line of the COPY data of the staging rows), so a block in memory is its encoded text, never 50,000
records of Python objects (which also kept the cyclic garbage collector busy: ~40 % of the validation time). It
never touches the database. The caller's thread takes the blocks in order, records their errors and hands them to
the loader, whose database work (COPY, the upsert of the block, index maintenance, foreign-key checks) runs on the
server while psycopg2 has released the GIL — so Python's validation of block k + 1 overlaps PostgreSQL's loading
of block k. The hand-off holds one block: at most one block is being written, one waits and one is being
validated, whatever the size of the file — memory stays flat.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from enterprises.importing import readers
from enterprises.importing.columns import HeaderError, HeaderMap, map_header
from enterprises.importing.result import KIND_ENTERPRISES
from enterprises.importing.validate import AnnualReportRows, EnterpriseRows, ReferenceData

BLOCK_ROWS = 50_000
QUEUED_BLOCKS = 1  # one block ahead of the writer: enough to overlap, and the bound on memory
_DONE = object()


@dataclass
class TableStart:
    """A table (worksheet) begins: its header map, or None with the reasons it cannot be read."""

    index: int
    name: str
    header: HeaderMap | None
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row, message)


@dataclass
class Block:
    """Up to BLOCK_ROWS consecutive data rows of one table, validated and encoded by the loader."""

    kind: str
    sheet: int
    rows: int
    payload: Any
    errors: list[tuple[int, str, str]]  # (row, column, message)


class BlockEncoder(Protocol):
    """Collects the validated rows of one block in the loader's form (see Loader.encoder)."""

    def add(self, row_no: int, record: tuple | None, key: Any) -> None: ...

    def take(self) -> Any: ...


Encoder = Callable[[str, int], BlockEncoder]  # (kind, sheet) → a fresh encoder for one block


def _header(table: readers.Table, kind: str | None) -> TableStart:
    start = TableStart(index=table.index, name=table.name, header=None)
    if not any(table.header):
        if next(table.rows, None) is not None:
            start.errors.append((1, "第 1 行应为表头，但为空"))
        return start
    try:
        start.header = map_header(table.header, kind=kind)
    except HeaderError as exc:
        start.errors.extend((1, message) for message in exc.messages)
    return start


def _produce(
    info: readers.FileInfo,
    kind: str | None,
    ref: ReferenceData,
    encoder: Encoder,
    block_rows: int,
    put: Callable[[Any], None],
) -> None:
    with readers.open_tables(info) as tables:
        for table in tables:
            start = _header(table, kind)
            put(start)
            header = start.header
            if header is None:
                continue
            validator = (EnterpriseRows if header.kind == KIND_ENTERPRISES else AnnualReportRows)(header, ref)
            block = encoder(header.kind, table.index)
            errors: list[tuple[int, str, str]] = []
            count = 0
            for row_no, cells in table.rows:
                record, row_errors, key = validator(row_no, cells)
                if row_errors:
                    errors.extend((row_no, column, message) for column, message in row_errors)
                block.add(row_no, record, key)
                count += 1
                if count == block_rows:
                    put(Block(header.kind, table.index, count, block.take(), errors))
                    block, errors, count = encoder(header.kind, table.index), [], 0
            if count:
                put(Block(header.kind, table.index, count, block.take(), errors))


def blocks(
    info: readers.FileInfo,
    *,
    kind: str | None,
    ref: ReferenceData,
    encoder: Encoder,
    block_rows: int | None = None,
    queued: int = QUEUED_BLOCKS,
) -> Iterator[TableStart | Block]:
    """The file's tables and blocks in file order, produced by a second thread. An exception of the reader
    (FileRejected: not the format it claims, a broken CSV …) is raised here, in the caller's thread; if the caller
    stops early, the producer stops too."""
    block_rows = block_rows or BLOCK_ROWS  # read here, not bound at definition: tests use small blocks
    handoff: queue.Queue = queue.Queue(maxsize=queued)
    stop = threading.Event()

    def put(item: Any) -> None:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.2)
                return
            except queue.Full:
                continue
        raise _Stopped

    def work() -> None:
        try:
            _produce(info, kind, ref, encoder, block_rows, put)
            put(_DONE)
        except _Stopped:
            pass
        except BaseException as exc:  # handed to the caller's thread, raised there
            with contextlib.suppress(_Stopped):
                put(_Failed(exc))

    thread = threading.Thread(target=work, name="import-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join()


class _Stopped(Exception):
    pass


@dataclass
class _Failed:
    exc: BaseException
