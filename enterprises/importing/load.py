"""Loading validated rows: staging, whole-file checks (duplicates, references, scope), then the upsert.

PostgreSQL (production, 10^6 rows): the file arrives in blocks (enterprises.importing.stream validates the next
block in another thread meanwhile). Each block of entities is COPYed into a TEMP table and, as long as no error has
been seen, written at once: the diff against the registry is computed in SQL (a set-based probe of the uscc index,
never a look-up per row); changed rows are audited with one INSERT … SELECT (jsonb_build of the changed fields
only) and written with INSERT … ON CONFLICT (uscc) DO UPDATE … WHERE something changed; new rows with one
INSERT … SELECT under a table lock; the foreign keys of the block are checked at the end of its statement and the
search indexes' pending entries merged per block, so that server work overlaps with Python's validation of the
next block. Whole-file checks (duplicates, missing references, scope) run once over the staged keys at the end;
an error anywhere — found while streaming or at the end — rolls the whole caller's transaction back, so the
database is as it was. Memory does not grow with the file.

Elsewhere (SQLite, the demo default; small files): the same checks and the same results with the ORM.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from core.audit import audit_log, diff, snapshot
from core.bulk import copy_rows
from core.middleware import current_request_context
from core.models import Job, User
from enterprises.importing.columns import HeaderMap
from enterprises.importing.result import KIND_ANNUAL_REPORTS, KIND_ENTERPRISES
from enterprises.importing.sinks import ErrorSink, MemoryErrorSink, PostgresErrorSink
from enterprises.importing.stream import BlockEncoder
from enterprises.importing.validate import ANNUAL_REPORT_RECORD, ENTERPRISE_RECORD, OPTIONAL_FIELDS, ReferenceData
from enterprises.models import AnnualReport, Enterprise, RegistrationChange, search_fields
from enterprises.services import TRACKED_CHANGES

# The registry fields an import writes and audits (before/after of the changed ones only).
AUDITED = (
    "entity_type", "name", "former_names", "registration_number", "legal_representative",
    "legal_representative_id_number", "address", "region_id", "industry_id", "industry_code", "registered_capital",
    "registration_date", "status", "contact_phone", "contact_email",
)  # fmt: skip
REPORT_AUDITED = ("filed_on", "on_time")
ACTION_ENTERPRISE_UPDATE = "enterprise.import_update"
ACTION_REPORT_UPDATE = "annual_report.import_update"

Staged = tuple[int, tuple | None, Any]  # (row number, record or None when the row is invalid, duplicate key)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass(frozen=True)
class Context:
    """What whole-file checks and messages need: the tables' header maps and names, the reference data."""

    headers: dict[int, HeaderMap]
    sheet_names: list[str]
    ref: ReferenceData

    def column(self, sheet: int, key: str) -> str:
        header = self.headers.get(sheet)
        return header.name(key) if header is not None else key

    def where(self, sheet: int, row: int, this_sheet: int) -> str:
        if sheet != this_sheet and len(self.sheet_names) > 1:
            return f"工作表「{self.sheet_names[sheet]}」第 {row} 行"
        return f"第 {row} 行"


def duplicate_uscc_message(first: str) -> str:
    return f"统一社会信用代码重复：与{first}相同（同一文件中每个主体只能出现一次）"


def duplicate_report_message(first: str) -> str:
    return f"同一主体同一年度的年报重复：与{first}相同"


MISSING_ENTERPRISE = "登记库中没有该统一社会信用代码的经营主体，本次导入的文件中也没有"


def out_of_scope_message(ref: ReferenceData, region_id: str) -> str:
    own = ref.county_names.get(ref.allowed_region or "", ref.allowed_region)
    other = ref.county_names.get(region_id, region_id)
    return f"该主体属于{other}，不在您的辖区（{own}），不能通过导入修改"


def merge_former_names(existing: list[str], staged: list[str], old_name: str, new_name: str) -> list[str]:
    """Former names after an import: the registry's, then the file's, then the old name if the name changed
    (nothing is ever dropped). Mirrors the SQL in PostgresLoader exactly."""
    if old_name == new_name and set(staged) <= set(existing):
        return existing
    extra = [old_name] if old_name != new_name else []
    return list(dict.fromkeys([*existing, *staged, *extra]))


def _actor_fields(actor: User | None) -> tuple[int | None, str]:
    if actor is not None and actor.pk:
        return actor.pk, actor.get_username()
    return None, "system"


class Loader:
    """The interface of both loaders."""

    sink: ErrorSink

    def prepare(self) -> None:
        raise NotImplementedError

    def begin(self, *, actor: User | None, job: Job, allowed_region: str | None) -> None:
        """Who writes, under which job: before the first block (a loader may write blocks as they come)."""

    def encoder(self, kind: str, sheet: int) -> BlockEncoder:
        """A fresh encoder collecting one block of validated rows, row by row, in the form `stage` takes; pure
        Python, used in the reader thread."""
        raise NotImplementedError

    def stage(self, kind: str, sheet: int, payload: Any, *, clean: bool) -> None:
        """Stage an encoded block; `clean`: no error so far (the loader may then write the block already)."""
        raise NotImplementedError

    def check(self, ctx: Context) -> None:
        raise NotImplementedError

    def apply(self, *, ctx: Context, actor: User | None, job: Job) -> dict[str, Counts]:
        raise NotImplementedError

    def cleanup(self) -> None:
        """Drop what the import left in the session (nothing to do outside PostgreSQL)."""


# --- PostgreSQL ---------------------------------------------------------------------------------------------------
_ENT_STAGE_DDL = """
CREATE TEMP TABLE imp_ent (
    sheet int NOT NULL, row_no int NOT NULL, valid boolean NOT NULL, uscc varchar(18) NOT NULL,
    entity_type varchar(12), name varchar(200), former_names jsonb, registration_number varchar(15),
    legal_representative varchar(100), legal_representative_id_number varchar(18), address varchar(255),
    region_id varchar(6), industry_id varchar(2), industry_code varchar(5), registered_capital numeric(16, 4),
    registration_date date, status varchar(14), contact_phone varchar(30), contact_email varchar(254),
    search_text text, name_grams jsonb
) ON COMMIT DROP
"""
_AR_STAGE_DDL = """
CREATE TEMP TABLE imp_ar (
    sheet int NOT NULL, row_no int NOT NULL, valid boolean NOT NULL, uscc varchar(18) NOT NULL, year int NOT NULL,
    filed_on date, on_time boolean
) ON COMMIT DROP
"""
# From this many staged rows on, the load is treated as bulk (GIN maintenance deferred, see below).
_BULK_ROWS = 20_000
_TEMP_TABLES = ("imp_ent", "imp_ar", "imp_ent_plan", "imp_ar_plan", "imp_fix", "imp_ar_new")
_TEMP_TABLES = (*_TEMP_TABLES, "imp_blk")
# Transaction-local planner and memory settings of a bulk load, reset when the import's work is done.
_BULK_SETTINGS = ("enable_nestloop", "gin_pending_list_limit", "work_mem", "maintenance_work_mem", "jit")
_PROBE_SETTINGS = ("enable_hashjoin", "enable_mergejoin", "enable_seqscan")


def registry_references() -> list[tuple[str, str, str]]:
    """(column, referenced table, referenced column) of each foreign key of the registry (region, industry)."""
    return [
        (f.column, f.related_model._meta.db_table, f.target_field.column)
        for f in Enterprise._meta.concrete_fields
        if f.is_relation
    ]


_STAGE_COLUMNS = {
    KIND_ENTERPRISES: ["sheet", "row_no", "valid", *ENTERPRISE_RECORD],
    KIND_ANNUAL_REPORTS: ["sheet", "row_no", "valid", *ANNUAL_REPORT_RECORD],
}

# Former names merged in SQL exactly as merge_former_names() does in Python.
_MERGED_FORMER = """
CASE
    WHEN e.id IS NULL THEN s.former_names
    WHEN e.name = s.name AND s.former_names <@ e.former_names THEN e.former_names
    ELSE (
        SELECT coalesce(jsonb_agg(u.x ORDER BY u.o), '[]'::jsonb) FROM (
            SELECT x, min(o) AS o FROM (
                SELECT x, o FROM jsonb_array_elements_text(e.former_names) WITH ORDINALITY a(x, o)
                UNION ALL
                SELECT x, 1000000 + o FROM jsonb_array_elements_text(s.former_names) WITH ORDINALITY b(x, o)
                UNION ALL
                SELECT e.name, 2000000 WHERE e.name <> s.name
            ) m GROUP BY x
        ) u
    )
END
"""


_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')


def _json_value(column: str, prefix: str) -> str:
    """The SQL for one field as audit JSON, formatted as core.audit's snapshot() does (numbers as strings)."""
    if column == "registered_capital":
        return f"to_jsonb({prefix}{column}::text)"
    if column == "former_names":
        return f"{prefix}{column}"
    return f"to_jsonb({prefix}{column})"


_COPY_OPTIONS = r"WITH (FORMAT csv, NULL '\N')"
_COPY_READ = 1 << 20
# The 17 staging columns after the USCC of a row that is invalid but has a valid USCC: all NULL.
_INVALID_REST = ",\\N" * (len(ENTERPRISE_RECORD) - 1)


def _copy_bytes(table: str, columns: list[str], data: bytes) -> None:
    """COPY UTF-8 CSV bytes (made by the block encoders below) into a staging table: a BytesIO over the bytes
    shares their buffer, where a StringIO over text would copy it at 4 bytes a character."""
    with connection.cursor() as cursor:
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN {_COPY_OPTIONS}"
        cursor.cursor.copy_expert(sql, io.BytesIO(data), size=_COPY_READ)  # psycopg2


def _quoted(text: str) -> str:
    """A text field of COPY CSV, always quoted: commas, quotes and line breaks need no test, a quoted empty
    string stays an empty string, and a quoted \\N is that text, never NULL."""
    return '"' + text.replace('"', '""') + '"'


def _quoted_json(items: list[str], plain: bool) -> str:
    if not items:
        return "[]"
    if plain:  # '["a","b"]' quoted for CSV, without building the JSON first
        return '"[""' + '"",""'.join(items) + '""]"'
    return _quoted(json.dumps(items, ensure_ascii=False))


class EnterpriseCopyBlock:
    """One block of enterprise rows as the COPY data of imp_blk (UTF-8 CSV), a line per row as it is validated:
    the block holds text, not records. ~5 µs a row, a quarter of csv.writer over converted values."""

    def __init__(self, sheet: int) -> None:
        self.prefix = f"{sheet},"
        self.lines: list[str] = []
        self.count = 0

    def add(self, row_no: int, record: tuple | None, uscc: Any) -> None:
        if record is not None:
            (
                uscc, entity_type, name, former, registration_number, legal_representative, id_number, address,
                region_id, industry_id, industry_code, capital, registration_date, status, phone, email,
                search_text, grams,
            ) = record  # fmt: skip
            # search_text holds every name: if it needs no JSON escaping, neither do names and bigrams.
            plain = _JSON_ESCAPED.search(search_text) is None
            self.lines.append(
                ",".join(
                    (
                        f"{self.prefix}{row_no},t,{uscc},{entity_type}",
                        _quoted(name),
                        _quoted_json(former, plain),
                        r"\N" if registration_number is None else _quoted(registration_number),
                        _quoted(legal_representative),
                        r"\N" if id_number is None else _quoted(id_number),
                        _quoted(address),
                        f"{region_id},{industry_id},{industry_code}",
                        r"\N" if capital is None else str(capital),
                        f"{registration_date.isoformat()},{status}",
                        r"\N" if phone is None else _quoted(phone),
                        r"\N" if email is None else _quoted(email),
                        _quoted(search_text),
                        _quoted_json(grams, plain),
                    )
                )
                + "\n"
            )
        elif uscc is not None:
            # An invalid row with a valid USCC is still staged: a later duplicate of it must be reported.
            self.lines.append(f"{self.prefix}{row_no},f,{uscc}{_INVALID_REST}\n")
        else:
            return
        self.count += 1

    def take(self) -> tuple[bytes, int]:
        return "".join(self.lines).encode(), self.count


class ReportCopyBlock:
    """One block of annual-report rows as the COPY data of imp_ar."""

    def __init__(self, sheet: int) -> None:
        self.prefix = f"{sheet},"
        self.lines: list[str] = []

    def add(self, row_no: int, record: tuple | None, key: Any) -> None:
        if record is not None:
            uscc, year, filed_on, on_time = record
            flag = "t" if on_time else "f"
            self.lines.append(f"{self.prefix}{row_no},t,{uscc},{year},{filed_on.isoformat()},{flag}\n")
        elif key is not None:
            self.lines.append(f"{self.prefix}{row_no},f,{key[0]},{key[1]},\\N,\\N\n")

    def take(self) -> tuple[bytes, int]:
        return "".join(self.lines).encode(), len(self.lines)


class ListBlock:
    """One block as a list of (row number, record, key): the ORM loader's form."""

    def __init__(self) -> None:
        self.items: list[Staged] = []

    def add(self, row_no: int, record: tuple | None, key: Any) -> None:
        self.items.append((row_no, record, key))

    def take(self) -> list[Staged]:
        return self.items


class PostgresLoader(Loader):
    """Staging tables, set-based checks and a set-based upsert; memory does not grow with the file."""

    def __init__(self, *, cap: int) -> None:
        self.sink = PostgresErrorSink(cap=cap)
        self.staged = {KIND_ENTERPRISES: 0, KIND_ANNUAL_REPORTS: 0}
        self.audit: dict[str, Any] | None = None
        self.allowed_region: str | None = None
        self.writing = True  # blocks are written as they come until an error (or a doubt) stops it
        self.enterprises = Counts()
        self.blocks = {"written": 0, "staged_only": 0}
        self.block_seconds = 0.0  # time spent on the blocks in this thread (COPY, write, checks)
        self._started = False
        self._fk_names: list[str] = []
        # Whether the blocks' references are checked set-based instead of by the foreign keys' row triggers.
        self._bulk_references = False

    def _execute(self, sql: str, params: Any = None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    def _fetchall(self, sql: str, params: Any = None) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _stream(self, sql: str, params: Any = None) -> Iterator[tuple]:
        with connection.chunked_cursor() as cursor:  # a server-side cursor: results are fetched in chunks
            cursor.execute(sql, params)
            yield from cursor

    def prepare(self) -> None:
        self.cleanup()
        self._execute(_ENT_STAGE_DDL)
        self._execute(_AR_STAGE_DDL)
        self._execute("CREATE TEMP TABLE imp_blk (LIKE imp_ent) ON COMMIT DROP")
        self.sink.create_table()

    def cleanup(self) -> None:
        self._execute(f"DROP TABLE IF EXISTS {', '.join(_TEMP_TABLES)}")
        for setting in (*_BULK_SETTINGS, *_PROBE_SETTINGS):
            self._execute(f"SET LOCAL {setting} TO DEFAULT")
        if self._fk_names:
            self._execute(f"SET CONSTRAINTS {', '.join(self._fk_names)} DEFERRED")
            self._fk_names = []
        if self._bulk_references:
            self._execute("SET LOCAL session_replication_role TO DEFAULT")
            self._bulk_references = False

    def begin(self, *, actor: User | None, job: Job, allowed_region: str | None) -> None:
        request = current_request_context()
        actor_id, actor_label = _actor_fields(actor)
        self.audit = {
            "now": timezone.now(),
            "actor": actor_id,
            "label": actor_label,
            "ip": request.ip if request else None,
            "source": request.source if request else "system",
            "note": f"导入任务 #{job.pk}",
        }
        self.allowed_region = allowed_region
        # No JIT for the import's statements: the probes' disabled scans cost 10^10 on paper, which makes the
        # planner JIT-compile every block's statements — 3.8 s of compilation for a 0.9 s join (10^5 rows).
        self._execute("SET LOCAL jit = off")

    # Staging ----------------------------------------------------------------------------------------------------
    def encoder(self, kind: str, sheet: int) -> BlockEncoder:
        return EnterpriseCopyBlock(sheet) if kind == KIND_ENTERPRISES else ReportCopyBlock(sheet)

    def stage(self, kind: str, sheet: int, payload: tuple[bytes, int], *, clean: bool) -> None:
        data, count = payload
        if not count:
            return
        clock = time.perf_counter()
        if kind == KIND_ANNUAL_REPORTS:
            _copy_bytes("imp_ar", _STAGE_COLUMNS[kind], data)
        else:
            _copy_bytes("imp_blk", _STAGE_COLUMNS[kind], data)
            if clean and self.writing and self.audit is not None:
                self.writing = self._write_block()
            self.blocks["written" if self.writing else "staged_only"] += 1
            # The whole-file checks need the keys only.
            self._execute(
                "INSERT INTO imp_ent (sheet, row_no, valid, uscc) SELECT sheet, row_no, valid, uscc FROM imp_blk"
            )
            self._execute("TRUNCATE imp_blk")
        self.staged[kind] += count
        self.block_seconds += time.perf_counter() - clock

    # Whole-file checks ------------------------------------------------------------------------------------------
    def check(self, ctx: Context) -> None:
        # Statistics of the join keys only: sampling the text and jsonb columns costs more than it tells.
        self._execute("ANALYZE imp_ent (uscc)")
        self._execute("ANALYZE imp_ar (uscc, year)")
        if sum(self.staged.values()) >= _BULK_ROWS:
            # Joins of 10^4–10^6 staged rows with the registry should hash; a nested loop chosen on stale
            # statistics of the registry (e.g. just after a mass delete) would scan it once per staged row.
            self._execute("SET LOCAL enable_nestloop = off")
        sink = self.sink
        for sheet, row, first_sheet, first_row in self._stream(
            """
            WITH d AS (SELECT uscc FROM imp_ent GROUP BY uscc HAVING count(*) > 1)
            SELECT sheet, row_no, f_sheet, f_row FROM (
                SELECT sheet, row_no, first_value(sheet) OVER w AS f_sheet, first_value(row_no) OVER w AS f_row,
                       row_number() OVER w AS n
                FROM imp_ent WHERE uscc IN (SELECT uscc FROM d)
                WINDOW w AS (PARTITION BY uscc ORDER BY sheet, row_no)
            ) x WHERE n > 1 ORDER BY sheet, row_no
            """
        ):
            first = ctx.where(first_sheet, first_row, sheet)
            sink.add(sheet, row, ctx.column(sheet, "uscc"), duplicate_uscc_message(first))
        for sheet, row, first_sheet, first_row in self._stream(
            """
            WITH d AS (SELECT uscc, year FROM imp_ar GROUP BY uscc, year HAVING count(*) > 1)
            SELECT sheet, row_no, f_sheet, f_row FROM (
                SELECT sheet, row_no, first_value(sheet) OVER w AS f_sheet, first_value(row_no) OVER w AS f_row,
                       row_number() OVER w AS n
                FROM imp_ar WHERE (uscc, year) IN (SELECT uscc, year FROM d)
                WINDOW w AS (PARTITION BY uscc, year ORDER BY sheet, row_no)
            ) x WHERE n > 1 ORDER BY sheet, row_no
            """
        ):
            first = ctx.where(first_sheet, first_row, sheet)
            sink.add(sheet, row, ctx.column(sheet, "year"), duplicate_report_message(first))
        for sheet, row in self._stream(
            """
            SELECT a.sheet, a.row_no FROM imp_ar a
            WHERE a.valid
              AND NOT EXISTS (SELECT 1 FROM enterprises_enterprise e WHERE e.uscc = a.uscc)
              AND NOT EXISTS (SELECT 1 FROM imp_ent s WHERE s.uscc = a.uscc)
            ORDER BY a.sheet, a.row_no
            """
        ):
            sink.add(sheet, row, ctx.column(sheet, "uscc"), MISSING_ENTERPRISE)
        if ctx.ref.allowed_region is not None:
            for table in ("imp_ent", "imp_ar"):
                for sheet, row, region_id in self._stream(
                    f"""
                    SELECT s.sheet, s.row_no, e.region_id FROM {table} s
                    JOIN enterprises_enterprise e ON e.uscc = s.uscc
                    WHERE e.region_id <> %s ORDER BY s.sheet, s.row_no
                    """,
                    [ctx.ref.allowed_region],
                ):
                    sink.add(sheet, row, ctx.column(sheet, "uscc"), out_of_scope_message(ctx.ref, region_id))

    # Writing ----------------------------------------------------------------------------------------------------
    def apply(self, *, ctx: Context, actor: User | None, job: Job) -> dict[str, Counts]:
        counts: dict[str, Counts] = {}
        assert self.audit is not None, "begin() comes before the blocks"
        if self.staged[KIND_ENTERPRISES]:
            if self.blocks["staged_only"]:
                # Only an error stops the writing of blocks, and an import with errors is never applied.
                raise RuntimeError("import: blocks were staged without being written, yet no error was found")
            counts[KIND_ENTERPRISES] = Counts(
                created=self.enterprises.created,
                updated=self.enterprises.updated,
                unchanged=self.staged[KIND_ENTERPRISES] - self.enterprises.created - self.enterprises.updated,
            )
        if self.staged[KIND_ANNUAL_REPORTS]:
            counts[KIND_ANNUAL_REPORTS] = self._apply_reports(self.audit)
        return counts

    def _start_writing(self) -> None:
        # Serialise against other imports and registry edits while the diff is computed and written, so the
        # audited "before" is what was really overwritten and "new" rows cannot appear meanwhile. Readers are
        # not blocked. Held until the import's transaction ends.
        self._execute("LOCK TABLE enterprises_enterprise IN SHARE ROW EXCLUSIVE MODE")
        # The registry's foreign keys (region, industry) are deferred to commit by default: checked at the end
        # of each block's INSERT instead, their work overlaps with the validation of the next block rather than
        # piling up at commit (~28 s for 10^6 rows, with nothing to overlap).
        self._fk_names = [
            name
            for (name,) in self._fetchall(
                "SELECT quote_ident(conname) FROM pg_constraint WHERE conrelid = 'enterprises_enterprise'::regclass "
                "AND contype = 'f' AND condeferrable ORDER BY conname"
            )
        ]
        if self._fk_names:
            self._execute(f"SET CONSTRAINTS {', '.join(self._fk_names)} IMMEDIATE")
        self._bulk_references = self._can_check_references_in_bulk()
        if self._bulk_references:
            # The referenced rows (counties, industries) cannot change or disappear until the import commits, so
            # what _check_references finds in a block stays true: the row triggers would add nothing.
            tables = sorted({table for _column, table, _target in registry_references()})
            self._execute(f"LOCK TABLE {', '.join(tables)} IN SHARE MODE")
        self._defer_gin_maintenance()
        self._started = True

    def _can_check_references_in_bulk(self) -> bool:
        """Whether the blocks' foreign keys can be checked by one anti-join per block instead of one trigger
        query per row and key (2 × 10^6 look-ups for 10^6 rows: ~8 s of the import). Only when every foreign key
        of the table is one Django knows (so _check_references covers all of them), the table has no trigger of
        its own (replica mode would skip it too) and the session may set session_replication_role (a superuser:
        the portal's own database owner in docker-compose; otherwise the triggers check, as before)."""
        ((superuser, own_triggers, fk_columns),) = self._fetchall(
            """
            SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
                   (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'enterprises_enterprise'::regclass
                                                       AND NOT tgisinternal),
                   ARRAY(SELECT a.attname::text FROM pg_constraint c
                           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
                          WHERE c.conrelid = 'enterprises_enterprise'::regclass AND c.contype = 'f'
                          ORDER BY 1)
            """
        )
        known = sorted(column for column, _table, _target in registry_references())
        return bool(superuser) and own_triggers == 0 and sorted(fk_columns) == known

    def _check_references(self) -> None:
        """What the foreign keys' triggers would check for the block's rows, as one anti-join per key: a value
        that is not NULL must exist. Validation (ReferenceData) refuses unknown codes before anything is staged,
        so a miss here is a bug, not bad input: the import fails and its transaction is rolled back."""
        for column, table, target in registry_references():
            missing = self._fetchall(
                f"SELECT p.sheet, p.row_no, p.{column} FROM imp_ent_plan p WHERE p.{column} IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {table} r WHERE r.{target} = p.{column}) LIMIT 1"
            )
            if missing:
                sheet, row, value = missing[0]
                raise RuntimeError(f"import: row {row} of sheet {sheet} refers to a missing {table}: {value!r}")

    def _probe(self, on: bool) -> None:
        """Statements joining a block (≤ 50,000 rows) with the registry (10^6 and growing) probe the uscc index:
        never a hash of the whole registry per block, and never — on statistics gone stale as blocks arrive —
        a nested loop over a scan of it."""
        for setting in _PROBE_SETTINGS:
            self._execute(f"SET LOCAL {setting} TO {'off' if on else 'DEFAULT'}")

    def _block_is_writable(self) -> bool:
        """Whether the block can be written without an error the whole-file checks will report anyway: a
        USCC twice in the block (the upsert would fail on it) or, for a county clerk, an entity of another
        county (whose registry row must stay as it is for the check to find it)."""
        if self._fetchall("SELECT 1 FROM imp_blk GROUP BY uscc HAVING count(*) > 1 LIMIT 1"):
            return False
        if self.allowed_region is not None:
            self._probe(True)
            outside = self._fetchall(
                "SELECT 1 FROM imp_blk s JOIN enterprises_enterprise e ON e.uscc = s.uscc "
                "WHERE e.region_id <> %s LIMIT 1",
                [self.allowed_region],
            )
            self._probe(False)
            if outside:
                return False
        return True

    def _write_block(self) -> bool:
        """Write the staged block (imp_blk) into the registry; False if it cannot be (see _block_is_writable)."""
        assert self.audit is not None
        audit = self.audit
        # The join key only: ANALYZE of every column (names, search text, bigrams) took 3 s a block (10^5 rows,
        # loaded machine), more than the block's COPY.
        self._execute("ANALYZE imp_blk (uscc)")
        if not self._block_is_writable():
            return False
        if not self._started:
            self._start_writing()
        self._execute("DROP TABLE IF EXISTS imp_ent_plan, imp_fix")
        optional = set(OPTIONAL_FIELDS)
        final = []
        for column in AUDITED:
            if column == "former_names":
                final.append(f"{_MERGED_FORMER} AS former_names")
            elif column in optional:
                # Absent column (NULL in staging): keep the registry's value.
                final.append(f"coalesce(s.{column}, e.{column}, '') AS {column}")
            else:
                final.append(f"s.{column}")
        old = [f"e.{c} AS old_{c}" for c in AUDITED]
        new_row = ", ".join(f"q.{c}" for c in AUDITED)
        old_row = ", ".join(f"q.old_{c}" for c in AUDITED)
        # One probe of the uscc index per staged row decides both what is new and what changes, before anything
        # is inserted (an INSERT whose NOT EXISTS reads the table it is filling can degrade to rescanning its own
        # growing output: seen with stale statistics, 40 min). Only new rows and rows that change an existing
        # entity are materialised: a re-import of 10^6 unchanged rows builds an empty plan and writes nothing.
        self._probe(True)
        self._execute(
            f"""
            CREATE TEMP TABLE imp_ent_plan ON COMMIT DROP AS
            SELECT q.* FROM (
                SELECT s.sheet, s.row_no, s.uscc, e.id AS existing_id, {", ".join(final)},
                       s.search_text, s.name_grams, s.former_names AS staged_former, {", ".join(old)}
                FROM imp_blk s LEFT JOIN enterprises_enterprise e ON e.uscc = s.uscc
            ) q
            WHERE q.existing_id IS NULL OR ROW({new_row}) IS DISTINCT FROM ROW({old_row})
            """
        )
        self._probe(False)
        self._refresh_search_fields()

        pairs = ", ".join(f"('{c}', {_json_value(c, 'p.old_')}, {_json_value(c, 'p.')})" for c in AUDITED)
        self._execute(
            f"""
            INSERT INTO core_auditevent (created_at, actor_id, actor_label, action, object_type, object_id,
                                         object_repr, before, after, source_ip, source, note)
            SELECT %(now)s, %(actor)s, %(label)s, %(action)s, 'enterprises.enterprise', p.existing_id::text,
                   left(p.name || '（' || p.uscc || '）', 255), d.before, d.after, %(ip)s, %(source)s, %(note)s
            FROM imp_ent_plan p CROSS JOIN LATERAL (
                SELECT jsonb_object_agg(v.k, v.b) AS before, jsonb_object_agg(v.k, v.a) AS after
                FROM (VALUES {pairs}) v(k, b, a) WHERE v.b IS DISTINCT FROM v.a
            ) d
            WHERE p.existing_id IS NOT NULL
            ORDER BY p.sheet, p.row_no
            """,
            {**audit, "action": ACTION_ENTERPRISE_UPDATE},
        )
        # The fields whose change is a registered change (变更登记), recorded as enterprises.services does.
        tracked = ", ".join(
            f"('{field}', p.old_{c}{'::text' if c == 'registered_capital' else ''}, "
            f"p.{c}{'::text' if c == 'registered_capital' else ''})"
            for c, field in TRACKED_CHANGES.items()
        )
        self._execute(
            f"""
            INSERT INTO enterprises_registrationchange (created_at, updated_at, enterprise_id, field, old_value,
                                                        new_value, changed_on)
            SELECT %(now)s, %(now)s, p.existing_id, v.f, left(coalesce(v.o, ''), 255), left(coalesce(v.n, ''), 255),
                   %(today)s
            FROM imp_ent_plan p CROSS JOIN LATERAL (VALUES {tracked}) v(f, o, n)
            WHERE p.existing_id IS NOT NULL AND v.o IS DISTINCT FROM v.n
            ORDER BY p.sheet, p.row_no
            """,
            {"now": audit["now"], "today": timezone.localdate()},
        )
        columns = [*AUDITED, "search_text", "name_grams"]
        if self._bulk_references:
            self._check_references()
            # The two writes without the foreign keys' row triggers (checked above, the referenced rows locked);
            # constraints, unique indexes and every other check still apply. Transaction-local, and a rollback
            # (of the import or a savepoint) undoes it with the rest.
            self._execute("SET LOCAL session_replication_role = replica")
        updated = self._rowcount(
            f"""
            INSERT INTO enterprises_enterprise AS e (created_at, updated_at, uscc, {", ".join(columns)},
                                                    risk_class, risk_classified_at)
            SELECT %(now)s, %(now)s, p.uscc, {", ".join(f"p.{c}" for c in columns)}, '', NULL
            FROM imp_ent_plan p WHERE p.existing_id IS NOT NULL ORDER BY p.sheet, p.row_no
            ON CONFLICT (uscc) DO UPDATE SET updated_at = EXCLUDED.updated_at,
                {", ".join(f"{c} = EXCLUDED.{c}" for c in columns)}
            WHERE ROW({", ".join(f"e.{c}" for c in AUDITED)}) IS DISTINCT FROM
                  ROW({", ".join(f"EXCLUDED.{c}" for c in AUDITED)})
            """,
            {"now": audit["now"]},
        )
        # New entities: a plain INSERT (the table lock guarantees no one else inserts the same USCC meanwhile).
        created = self._rowcount(
            f"""
            INSERT INTO enterprises_enterprise (created_at, updated_at, uscc, {", ".join(columns)},
                                                risk_class, risk_classified_at)
            SELECT %(now)s, %(now)s, p.uscc, {", ".join(f"p.{c}" for c in columns)}, '', NULL
            FROM imp_ent_plan p WHERE p.existing_id IS NULL
            """,
            {"now": audit["now"]},
        )
        if self._bulk_references:
            self._execute("SET LOCAL session_replication_role = origin")
        self._merge_gin_pending("enterprises_enterprise")
        self.enterprises.created += created
        self.enterprises.updated += updated
        return True

    def _defer_gin_maintenance(self) -> None:
        """Let GIN entries (the trigram and bigram search indexes) pile up in their pending lists during a
        block instead of being merged 4 MB at a time: merged once per block, in bulk, they cost about half as
        much (measured at 10^6 rows: 87 s → 63 s). Transaction-local settings: nobody else is affected."""
        self._execute("SET LOCAL gin_pending_list_limit = '2000MB'")
        self._execute("SET LOCAL work_mem = '256MB'")
        self._execute("SET LOCAL maintenance_work_mem = '512MB'")

    def _merge_gin_pending(self, table: str) -> None:
        """Merge the pending lists after each block, so searches never scan 10^6 pending entries. Allowed to
        the index owner only (like VACUUM); otherwise autovacuum merges them soon after."""
        for (index,) in self._fetchall(
            """
            SELECT c.oid::regclass::text FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
            WHERE i.indrelid = %s::regclass AND a.amname = 'gin' AND pg_has_role(c.relowner, 'USAGE')
            """,
            [table],
        ):
            self._fetchall("SELECT gin_clean_pending_list(%s::regclass)", [index])

    def _rowcount(self, sql: str, params: Any = None) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def _refresh_search_fields(self) -> None:
        """Search columns were computed while streaming from the file's names; where merging kept former names
        the file did not list, recompute them with the model's own function (changed rows only, streamed)."""
        self._execute(
            "CREATE TEMP TABLE imp_fix (sheet int, row_no int, search_text text, name_grams jsonb) ON COMMIT DROP"
        )

        def fixed() -> Iterator[tuple]:
            for sheet, row, name, former in self._stream(
                "SELECT sheet, row_no, name, former_names FROM imp_ent_plan "
                "WHERE former_names IS DISTINCT FROM staged_former"
            ):
                if isinstance(former, str):  # Django's psycopg2 setup returns jsonb as text
                    former = json.loads(former)
                text, grams = search_fields(name, former)
                yield sheet, row, text, json.dumps(grams, ensure_ascii=False)

        if copy_rows("imp_fix", ["sheet", "row_no", "search_text", "name_grams"], fixed(), buffer_rows=20_000):
            self._execute(
                "UPDATE imp_ent_plan p SET search_text = f.search_text, name_grams = f.name_grams "
                "FROM imp_fix f WHERE p.sheet = f.sheet AND p.row_no = f.row_no"
            )

    def _apply_reports(self, audit: dict[str, Any]) -> Counts:
        self._execute("LOCK TABLE enterprises_annualreport IN SHARE ROW EXCLUSIVE MODE")
        self._execute(
            """
            CREATE TEMP TABLE imp_ar_plan ON COMMIT DROP AS
            SELECT a.sheet, a.row_no, a.year, a.filed_on, a.on_time, e.id AS enterprise_id, r.id AS existing_id,
                   r.filed_on AS old_filed_on, r.on_time AS old_on_time
            FROM imp_ar a
            JOIN enterprises_enterprise e ON e.uscc = a.uscc
            JOIN enterprises_annualreport r ON r.enterprise_id = e.id AND r.year = a.year
            WHERE (r.filed_on, r.on_time) IS DISTINCT FROM (a.filed_on, a.on_time)
            """
        )
        pairs = ", ".join(f"('{c}', to_jsonb(p.old_{c}), to_jsonb(p.{c}))" for c in REPORT_AUDITED)
        self._execute(
            f"""
            INSERT INTO core_auditevent (created_at, actor_id, actor_label, action, object_type, object_id,
                                         object_repr, before, after, source_ip, source, note)
            SELECT %(now)s, %(actor)s, %(label)s, %(action)s, 'enterprises.annualreport', p.existing_id::text,
                   p.enterprise_id || ' ' || p.year, d.before, d.after, %(ip)s, %(source)s, %(note)s
            FROM imp_ar_plan p CROSS JOIN LATERAL (
                SELECT jsonb_object_agg(v.k, v.b) AS before, jsonb_object_agg(v.k, v.a) AS after
                FROM (VALUES {pairs}) v(k, b, a) WHERE v.b IS DISTINCT FROM v.a
            ) d
            ORDER BY p.sheet, p.row_no
            """,
            {**audit, "action": ACTION_REPORT_UPDATE},
        )
        updated = self._rowcount(
            """
            INSERT INTO enterprises_annualreport AS r (created_at, updated_at, enterprise_id, year, filed_on, on_time)
            SELECT %(now)s, %(now)s, p.enterprise_id, p.year, p.filed_on, p.on_time
            FROM imp_ar_plan p ORDER BY p.sheet, p.row_no
            ON CONFLICT (enterprise_id, year) DO UPDATE
                SET updated_at = EXCLUDED.updated_at, filed_on = EXCLUDED.filed_on, on_time = EXCLUDED.on_time
            WHERE (r.filed_on, r.on_time) IS DISTINCT FROM (EXCLUDED.filed_on, EXCLUDED.on_time)
            """,
            {"now": audit["now"]},
        )
        self._execute(
            """
            CREATE TEMP TABLE imp_ar_new ON COMMIT DROP AS
            SELECT e.id AS enterprise_id, a.year, a.filed_on, a.on_time
            FROM imp_ar a JOIN enterprises_enterprise e ON e.uscc = a.uscc
            WHERE NOT EXISTS (
                SELECT 1 FROM enterprises_annualreport r WHERE r.enterprise_id = e.id AND r.year = a.year
            )
            """
        )
        created = self._rowcount(
            """
            INSERT INTO enterprises_annualreport (created_at, updated_at, enterprise_id, year, filed_on, on_time)
            SELECT %(now)s, %(now)s, n.enterprise_id, n.year, n.filed_on, n.on_time FROM imp_ar_new n
            """,
            {"now": audit["now"]},
        )
        total = self.staged[KIND_ANNUAL_REPORTS]
        return Counts(created=created, updated=updated, unchanged=total - created - updated)


# --- Portable (ORM) -----------------------------------------------------------------------------------------------
_CHUNK = 500


class OrmLoader(Loader):
    """The same checks and results through the ORM, for SQLite (the demo) and small files: rows are kept in
    memory, so use PostgreSQL for large imports."""

    def __init__(self, *, cap: int) -> None:
        self.sink = MemoryErrorSink(cap=cap)
        # (sheet, row, record or None, key)
        self.enterprises: list[tuple[int, int, tuple | None, Any]] = []
        self.reports: list[tuple[int, int, tuple | None, Any]] = []

    def prepare(self) -> None:
        pass

    def encoder(self, kind: str, sheet: int) -> BlockEncoder:
        return ListBlock()

    def stage(self, kind: str, sheet: int, payload: list[Staged], *, clean: bool) -> None:
        target = self.enterprises if kind == KIND_ENTERPRISES else self.reports
        target.extend((sheet, row_no, record, key) for row_no, record, key in payload if key is not None)

    def check(self, ctx: Context) -> None:
        sink = self.sink
        first_seen: dict[Any, tuple[int, int]] = {}
        for sheet, row, _record, uscc in sorted(self.enterprises, key=lambda item: item[:2]):
            if uscc in first_seen:
                first = ctx.where(*first_seen[uscc], sheet)
                sink.add(sheet, row, ctx.column(sheet, "uscc"), duplicate_uscc_message(first))
            else:
                first_seen[uscc] = (sheet, row)
        in_file = set(first_seen)
        first_seen = {}
        for sheet, row, _record, key in sorted(self.reports, key=lambda item: item[:2]):
            if key in first_seen:
                first = ctx.where(*first_seen[key], sheet)
                sink.add(sheet, row, ctx.column(sheet, "year"), duplicate_report_message(first))
            else:
                first_seen[key] = (sheet, row)
        codes = {key[0] for key in first_seen} | in_file
        regions = self._regions(codes)
        for sheet, row, record, key in self.reports:
            if record is not None and key[0] not in regions and key[0] not in in_file:
                sink.add(sheet, row, ctx.column(sheet, "uscc"), MISSING_ENTERPRISE)
        allowed = ctx.ref.allowed_region
        if allowed is not None:
            for sheet, row, _record, key in [*self.enterprises, *self.reports]:
                uscc = key if isinstance(key, str) else key[0]
                region_id = regions.get(uscc)
                if region_id is not None and region_id != allowed:
                    sink.add(sheet, row, ctx.column(sheet, "uscc"), out_of_scope_message(ctx.ref, region_id))

    @staticmethod
    def _regions(codes: set[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        ordered = sorted(codes)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            found.update(Enterprise.objects.filter(uscc__in=chunk).values_list("uscc", "region_id"))
        return found

    def apply(self, *, ctx: Context, actor: User | None, job: Job) -> dict[str, Counts]:
        counts: dict[str, Counts] = {}
        note = f"导入任务 #{job.pk}"
        if self.enterprises:
            counts[KIND_ENTERPRISES] = self._apply_enterprises(actor, note)
        if self.reports:
            counts[KIND_ANNUAL_REPORTS] = self._apply_reports(actor, note)
        return counts

    def _apply_enterprises(self, actor: User | None, note: str) -> Counts:
        counts = Counts()
        rows = sorted(self.enterprises, key=lambda item: item[:2])
        today = timezone.localdate()
        for start in range(0, len(rows), _CHUNK):
            chunk = [dict(zip(ENTERPRISE_RECORD, item[2], strict=True)) for item in rows[start : start + _CHUNK]]
            existing = Enterprise.objects.select_for_update().in_bulk([r["uscc"] for r in chunk], field_name="uscc")
            new: list[Enterprise] = []
            for record in chunk:
                current = existing.get(record["uscc"])
                if current is None:
                    new.append(self._new_enterprise(record))
                    continue
                before = snapshot(current, AUDITED)
                old_name = current.name
                for column in AUDITED:
                    value = record[column]
                    if column == "former_names":
                        value = merge_former_names(current.former_names, value, old_name, record["name"])
                    elif column in OPTIONAL_FIELDS and value is None:
                        continue
                    setattr(current, column, value)
                old, changed = diff(before, snapshot(current, AUDITED))
                if not changed:
                    counts.unchanged += 1
                    continue
                current.save()  # recomputes search_text and name_grams
                RegistrationChange.objects.bulk_create(
                    RegistrationChange(
                        enterprise=current,
                        field=field,
                        old_value=str(old[name] or "")[:255],
                        new_value=str(changed[name] or "")[:255],
                        changed_on=today,
                    )
                    for name, field in TRACKED_CHANGES.items()
                    if name in changed
                )
                audit_log(
                    actor=actor, action=ACTION_ENTERPRISE_UPDATE, obj=current, before=old, after=changed, note=note
                )
                counts.updated += 1
            Enterprise.objects.bulk_create(new)
            counts.created += len(new)
        return counts

    @staticmethod
    def _new_enterprise(record: dict[str, Any]) -> Enterprise:
        fields = {k: v for k, v in record.items() if k not in ("search_text", "name_grams")}
        for column in OPTIONAL_FIELDS:
            if fields[column] is None:
                fields[column] = ""
        enterprise = Enterprise(**fields)
        # bulk_create skips save(): fill the search columns the way save() would.
        enterprise.search_text, enterprise.name_grams = search_fields(enterprise.name, enterprise.former_names)
        return enterprise

    def _apply_reports(self, actor: User | None, note: str) -> Counts:
        counts = Counts()
        rows = sorted(self.reports, key=lambda item: item[:2])
        for start in range(0, len(rows), _CHUNK):
            chunk = [dict(zip(ANNUAL_REPORT_RECORD, item[2], strict=True)) for item in rows[start : start + _CHUNK]]
            ids = dict(Enterprise.objects.filter(uscc__in={r["uscc"] for r in chunk}).values_list("uscc", "id"))
            existing = {
                (r.enterprise_id, r.year): r
                for r in AnnualReport.objects.select_for_update().filter(enterprise_id__in=ids.values())
            }
            new: list[AnnualReport] = []
            for record in chunk:
                enterprise_id = ids[record["uscc"]]
                current = existing.get((enterprise_id, record["year"]))
                if current is None:
                    new.append(
                        AnnualReport(
                            enterprise_id=enterprise_id,
                            year=record["year"],
                            filed_on=record["filed_on"],
                            on_time=record["on_time"],
                        )
                    )
                    continue
                before = snapshot(current, REPORT_AUDITED)
                current.filed_on = record["filed_on"]
                current.on_time = record["on_time"]
                old, changed = diff(before, snapshot(current, REPORT_AUDITED))
                if not changed:
                    counts.unchanged += 1
                    continue
                current.save()
                audit_log(actor=actor, action=ACTION_REPORT_UPDATE, obj=current, before=old, after=changed, note=note)
                counts.updated += 1
            AnnualReport.objects.bulk_create(new)
            counts.created += len(new)
        return counts


def loader_for_connection(*, cap: int) -> Loader:
    """The set-based loader on PostgreSQL, the portable one elsewhere."""
    if connection.vendor == "postgresql":
        return PostgresLoader(cap=cap)
    return OrmLoader(cap=cap)
