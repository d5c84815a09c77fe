"""The nightly jobs of disclosure (DESIGN.md §3.2–3.4): each one a step for core.nightly.run_job.

A step does ONE chunk of work in the transaction run_job opens and returns its counts, or None when nothing is
left. It selects its chunk with the very predicate its change removes ("disclosed, not ended, last day before the
run date"), ordered by id, with `FOR UPDATE SKIP LOCKED` on PostgreSQL: a rerun after a killed worker finds exactly
what is left, and running a finished job again finds nothing (idempotent by construction). Each step object also
remembers the last id it handled (keyset), only so that one run never rescans what it already passed. Where an
anti-join decides the work (missing reports, entries without a procedure), the exclusions are computed per chunk
over the chunk's own ids, so no chunk costs more than the first at 10^6 rows (docs/SCALING.md).

Writes are set-based: one UPDATE (or INSERT … SELECT) per chunk and its audit events in one INSERT, never a Python
loop of save() calls. The only Python per row is where a rule must be computed in Python (the policy review, the
document numbers); the rows are still written in one statement per chunk. On PostgreSQL the array-based
statements (`unnest`) are used; elsewhere (the SQLite demo) the same writes go through bulk_update/bulk_create.

The jobs, in the order the nightly task runs them:

1. review_disclosure_policies — 从旧兼从轻: a newer, more lenient policy shortens disclosures still running.
2. expire_disclosures — a disclosure whose last day has passed ends (reason "expired").
3. list_missing_annual_reports — after 30 June: enterprises and cooperatives without last year's report are
   listed on the abnormal list, individual businesses are marked (DESIGN.md §3.3).
4. abnormal_three_year_reminders — 60 days before a listing turns 3 years: a public reminder and a message.
5. abnormal_escalation — 3 years on the abnormal list: notice of intended serious listing; once the statement
   window has passed without a statement or hearing request: the serious-list decision with its restrictions.
6. expire_serious_listings — 3 years on the serious list: removed automatically, restrictions end.
7. expire_restrictions — a restriction whose last day has passed ends.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.calendar import CalendarUnavailable, WorkingCalendar
from core.middleware import current_request_context
from core.models import AuditEvent, JobRun, OutboxMessage
from core.nightly import run_job
from disclosure import numbering, texts
from disclosure.models import AbnormalListing, DisclosurePolicy, Penalty, Restriction, SeriousListing
from disclosure.policies import PenaltyFacts, add_months, decide
from disclosure.services.listings import (
    ABNORMAL_AUDIT_FIELDS,
    ENTITY_RESTRICTIONS,
    SERIOUS_AUDIT_FIELDS,
    listing_deadline_warning,
)
from enterprises.models import AnnualReport, Enterprise, Region

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 5000

# The PostgreSQL statements (unnest, UPDATE … RETURNING, INSERT … SELECT). Tests switch this off to run the
# portable path (what the SQLite demo uses) against PostgreSQL and compare the two.
USE_POSTGRES_SQL = True

# The decisions read as the single-record services in disclosure.services.listings write them: the same texts
# (disclosure.texts), offices, document types, audit actions and snapshots. Where a job differs, it says why.
SERIOUS_LISTING_MONTHS = 36
ABNORMAL_ESCALATION_MONTHS = 36
REMINDER_DAYS_BEFORE = 60

# ==============================================================================================================
# Dates and small helpers
# ==============================================================================================================


def last_start_day(as_of: dt.date, *, months: int, days_before: int = 0) -> dt.date:
    """The latest start day d with add_months(d, months) − days_before ≤ as_of.

    "Decided 3 years ago" is d + 3 years ≤ as_of; inverting it is not `as_of − 3 years` when 29 February is
    involved (29 Feb 2024 + 3 years = 28 Feb 2027), so the cut-off is searched around the naive answer.
    """
    target = as_of + dt.timedelta(days=days_before)
    day = add_months(target, -months)
    while add_months(day, months) > target:
        day -= dt.timedelta(days=1)
    while add_months(day + dt.timedelta(days=1), months) <= target:
        day += dt.timedelta(days=1)
    return day


def report_year_due(as_of: dt.date) -> int | None:
    """The report year whose deadline (30 June) has passed in `as_of`'s year, or None before 1 July."""
    return as_of.year - 1 if as_of > dt.date(as_of.year, 6, 30) else None


def _lock(qs: QuerySet) -> QuerySet:
    """Lock the chunk's rows and skip rows another transaction holds (PostgreSQL); a no-op on SQLite."""
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs


def _postgres() -> bool:
    return USE_POSTGRES_SQL and connection.vendor == "postgresql"


def _audit_source() -> str:
    """Audit events of a job say "command" when run from the command line, "task" otherwise (beat, worker)."""
    ctx = current_request_context()
    return "command" if ctx is not None and ctx.source == "command" else "task"


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _sql_type(field: models.Field) -> str:
    """The type to cast a parameter array to (a foreign key takes its target's type; serial keys are integers)."""
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    if isinstance(target, models.BigAutoField):
        return "bigint"
    if isinstance(target, models.SmallAutoField):
        return "smallint"
    if isinstance(target, models.AutoField):
        return "integer"
    return target.db_type(connection)


def _converter(field: models.Field) -> Callable[[Any], Any]:
    """How a value of `field` goes into a parameter array: the plain values the jobs hold (int, str, date, bool,
    None) go as they are (psycopg2 adapts them; Django's per-value get_db_prep_save costs ~10 µs a value, seconds
    per run at 10^6); a TextChoices member as its string; JSON as its text."""
    if isinstance(field, models.JSONField):
        return lambda value: None if value is None else json.dumps(value, ensure_ascii=False)
    return lambda value: str(value) if isinstance(value, str) and type(value) is not str else value


def _array(field: models.Field, values: Iterable[Any]) -> list[Any]:
    convert = _converter(field)
    return [convert(value) for value in values]


def update_rows(model: type[models.Model], rows: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> int:
    """Write per-row values of `fields` (each row a mapping with "id") in one statement; touches updated_at."""
    if not rows:
        return 0
    now = timezone.now()
    meta = model._meta
    if _postgres():
        columns = [meta.get_field(name) for name in fields]
        arrays = [[row["id"] for row in rows]] + [
            _array(f, (row[name] for row in rows)) for name, f in zip(fields, columns, strict=True)
        ]
        types = ["bigint"] + [_sql_type(f) for f in columns]
        names = ["id"] + [f.column for f in columns]
        assignments = ", ".join(f"{_quote(f.column)} = v.{_quote(f.column)}" for f in columns)
        unnest = ", ".join(f"%s::{t}[]" for t in types)
        sql = (
            f"UPDATE {_quote(meta.db_table)} AS t SET {assignments}, {_quote('updated_at')} = %s "
            f"FROM unnest({unnest}) AS v({', '.join(_quote(n) for n in names)}) WHERE t.id = v.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [now, *arrays])  # SET comes before FROM unnest(…)
            return cursor.rowcount
    objects = []
    for row in rows:
        obj = model(pk=row["id"])
        for name in fields:
            setattr(obj, name, row[name])
        obj.updated_at = now
        objects.append(obj)
    return model.objects.bulk_update(objects, [*fields, "updated_at"], batch_size=500)


@dataclass(frozen=True)
class CreationAudit:
    """The audit event of each row insert_rows creates: `after` is the snapshot of `fields` (the services' audit
    fields), the object named by `repr_field`."""

    action: str
    fields: Sequence[str]
    repr_field: str
    note: str


def _jsonb_snapshot(model: type[models.Model], fields: Sequence[str], alias: str) -> str:
    """jsonb_build_object(…) of `fields` of a row, as core.audit.snapshot writes them (dates as YYYY-MM-DD)."""
    parts = []
    for name in fields:
        field = model._meta.get_field(name)
        column = f"{alias}.{_quote(field.column)}"
        if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
            column = f"to_char({column}, 'YYYY-MM-DD')"
        parts.append(f"'{name}', {column}")
    return f"jsonb_build_object({', '.join(parts)})"


def insert_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    ignore_conflicts: bool = False,
    audit: CreationAudit | None = None,
) -> list[int]:
    """INSERT … SELECT FROM unnest(…) RETURNING id on PostgreSQL (one statement per chunk), bulk_create elsewhere.

    Columns a row does not give take the model default, so a field added later (with a default) needs no change
    here. With `ignore_conflicts`, rows violating a unique constraint are skipped (ON CONFLICT DO NOTHING) and only
    the ids of inserted rows are returned. With `audit`, each new row gets its creation event — on PostgreSQL in
    the same statement (INSERT … RETURNING feeding INSERT … SELECT jsonb_build_object(…)), so the snapshot is
    built by the server from the row itself.
    """
    if not rows:
        return []
    meta = model._meta
    given = list(rows[0].keys())
    if not _postgres():
        objects = [model(**row) for row in rows]
        created = model.objects.bulk_create(objects, batch_size=500, ignore_conflicts=ignore_conflicts)
        if ignore_conflicts:  # bulk_create does not return ids then; nothing downstream needs them
            return []
        if audit is not None:
            audit_many(
                action=audit.action,
                object_type=meta.label_lower,
                events=(
                    (obj.pk, str(getattr(obj, audit.repr_field)), None, {f: getattr(obj, f) for f in audit.fields})
                    for obj in created
                ),
                note=audit.note,
            )
        return [obj.pk for obj in created]
    now = timezone.now()
    fields = [meta.get_field(name) for name in given]
    rest = [f for f in meta.concrete_fields if f.name not in given and f.attname not in given and not f.primary_key]
    select = [f"v.{_quote(f.column)}" for f in fields]
    arrays = [_array(f, (row[name] for row in rows)) for name, f in zip(given, fields, strict=True)]
    constants: list[Any] = []
    for f in rest:
        value = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        select.append(f"%s::{_sql_type(f)}")
        constants.append(_array(f, [value])[0])
    unnest = ", ".join(f"%s::{_sql_type(f)}[]" for f in fields)
    columns = ", ".join(_quote(f.column) for f in [*fields, *rest])
    sql = (
        f"INSERT INTO {_quote(meta.db_table)} ({columns}) "
        f"SELECT {', '.join(select)} FROM unnest({unnest}) AS v({', '.join(_quote(f.column) for f in fields)}) "
        + ("ON CONFLICT DO NOTHING " if ignore_conflicts else "")
    )
    # Parameters in statement order: the constants of the SELECT list come before the arrays of unnest(…).
    params = [*constants, *arrays]
    if audit is None:
        sql += "RETURNING id"
    else:
        repr_column = _quote(meta.get_field(audit.repr_field).column)
        sql = (
            f"WITH created AS ({sql} RETURNING *), audited AS ("
            "INSERT INTO core_auditevent (created_at, actor_id, actor_label, action, object_type, object_id, "
            "object_repr, before, after, source_ip, source, note) "
            f"SELECT %s, NULL, 'system', %s, %s, created.id::text, left(created.{repr_column}::text, 255), NULL, "
            f"{_jsonb_snapshot(model, audit.fields, 'created')}, NULL, %s, %s FROM created) "
            "SELECT id FROM created"
        )
        params += [now, audit.action, meta.label_lower, _audit_source(), audit.note]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _json_ready(value: Any) -> Any:
    """Audit payload values as core.audit writes them: dates as ISO strings, TextChoices as strings, containers
    recursively. (The common case, a flat snapshot, is converted without a call per value: ~10^5 events a run.)"""
    if type(value) is dict:
        return {
            key: item
            if item is None or type(item) in (str, int, bool)
            else item.isoformat()
            if isinstance(item, dt.date)
            else _json_ready(item)
            for key, item in value.items()
        }
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, str) and type(value) is not str:
        return str(value)  # a TextChoices member
    return value


_AUDIT_SQL = """
INSERT INTO core_auditevent
       (created_at, actor_id, actor_label, action, object_type, object_id, object_repr, before, after, source_ip,
        source, note)
SELECT %s, NULL, 'system', %s, %s, v.object_id, v.object_repr, v.before::jsonb, v.after::jsonb, NULL, %s, v.note
  FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) AS v(object_id, object_repr, before, after,
                                                                             note)
"""


def audit_many(
    *,
    action: str,
    object_type: str,
    events: Iterable[tuple[Any, ...]],
    note: str = "",
) -> int:
    """Append one audit event per (object id, repr, before, after[, note]) in one INSERT (the job's transaction),
    as core.audit.audit_log writes one: no actor ("system"), the source of the run (command or task)."""
    now = timezone.now()
    source = _audit_source()
    rows = [
        (
            str(object_id),
            (repr_ or "")[:255],
            None if before is None else _json_ready(before),
            None if after is None else _json_ready(after),
            own_note[0] if own_note else note,
        )
        for object_id, repr_, before, after, *own_note in events
    ]
    if not rows:
        return 0
    if _postgres():
        # Straight to the table (the payloads serialised once here): bulk_create's per-field preparation of
        # two JSON columns cost more than the statement itself.
        def text(value: Any) -> str | None:
            return None if value is None else json.dumps(value, ensure_ascii=False)

        with connection.cursor() as cursor:
            cursor.execute(
                _AUDIT_SQL,
                [
                    now,
                    action,
                    object_type,
                    source,
                    [r[0] for r in rows],
                    [r[1] for r in rows],
                    [text(r[2]) for r in rows],
                    [text(r[3]) for r in rows],
                    [r[4] for r in rows],
                ],
            )
        return len(rows)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                created_at=now,
                actor_label="system",
                action=action,
                object_type=object_type,
                object_id=object_id,
                object_repr=repr_,
                before=before,
                after=after,
                source=source,
                note=event_note,
            )
            for object_id, repr_, before, after, event_note in rows
        ],
        batch_size=1000,
    )
    return len(rows)


@dataclass(frozen=True)
class Office:
    """A deciding office (a county bureau, or the city bureau) and how its decisions sign and end."""

    region: Region
    authority_name: str
    remedies: str


def offices() -> dict[str, Office]:
    """Every region as a deciding office (disclosure.texts): 榆次区 → 晋中市榆次区市场监督管理局."""
    return {
        region.code: Office(region=region, authority_name=texts.authority_name(region), remedies=texts.remedies(region))
        for region in Region.objects.select_related("parent")
    }


def snapshot_of(row: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """core.audit.snapshot for a row fetched with values(): the audit fields of the services, in their order."""
    return {name: row[name] for name in fields}


def allocate_numbers(keys: Sequence[tuple[str, str]], *, year: int, office_by_code: Mapping[str, Office]) -> list[str]:
    """One document number per (office code, doc type) in `keys`, in order: one block per distinct pair, so each
    office's numbers in a chunk are consecutive, all allocated in one statement (numbering.allocate_blocks)."""
    wanted: Counter[tuple[str, str]] = Counter(keys)
    blocks = numbering.allocate_blocks(
        {(office_by_code[office].region, doc_type): count for (office, doc_type), count in wanted.items()}, year=year
    )
    queues = {key: list(reversed(numbers)) for key, numbers in blocks.items()}
    return [queues[key].pop() for key in keys]


class ChunkStep:
    """A step with a chunk size and a keyset position (the last id it handled in this run)."""

    name = ""

    def __init__(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self.chunk_size = chunk_size
        self.after_id = 0

    def __call__(self, as_of: dt.date) -> dict[str, int] | None:
        raise NotImplementedError

    def note(self, as_of: dt.date) -> str:
        return f"nightly job {self.name}, as of {as_of.isoformat()}"


# ==============================================================================================================
# 1. review_disclosure_policies (从旧兼从轻)
# ==============================================================================================================


class ReviewDisclosurePolicies(ChunkStep):
    """Weigh every running disclosure against the policies in force: a newer, more lenient policy that applies to
    earlier decisions shortens it (DESIGN.md §3.2).

    Python per row (disclosure.policies.decide is the rule), but only when there is work: a disclosure is reviewed
    once per policy change (policies_reviewed_on), so on an ordinary night the chunk query finds nothing.
    """

    name = "review_disclosure_policies"

    def __call__(self, as_of: dt.date) -> dict[str, int] | None:
        policies = list(DisclosurePolicy.objects.all())
        in_force = [p.effective_from for p in policies if p.effective_from <= as_of]
        if not in_force:
            return None
        newest = max(in_force)
        due = Penalty.objects.filter(
            Q(policies_reviewed_on__isnull=True) | Q(policies_reviewed_on__lt=newest),
            disclosed=True,
            disclosure_ended_on__isnull=True,
            status=Penalty.Status.IN_FORCE,
            id__gt=self.after_id,
        ).order_by("id")
        ids = list(_lock(due).values_list("id", flat=True)[: self.chunk_size])
        if not ids:
            return None
        self.after_id = ids[-1]
        penalties = Penalty.objects.filter(id__in=ids).select_related("enterprise").order_by("id")
        changes: list[dict[str, Any]] = []
        events = []
        for penalty in penalties:
            outcome = decide(
                PenaltyFacts.of(penalty),
                disclosed_from=penalty.disclosed_from,
                policies=policies,
                considered_on=as_of,
            )
            if not outcome.disclosed or outcome.disclosed_until >= penalty.disclosed_until:
                continue
            assert outcome.policy is not None
            before = {
                "disclosed_until": penalty.disclosed_until,
                "policy_id": penalty.policy_id,
                "tier": penalty.tier,
                "repair_possible_from": penalty.repair_possible_from,
            }
            after = {
                "disclosed_until": outcome.disclosed_until,
                "policy_id": outcome.policy.pk,
                "tier": outcome.tier,
                "repair_possible_from": outcome.repair_possible_from,
            }
            changes.append({"id": penalty.pk, **after, "policies_reviewed_on": as_of})
            events.append((penalty.pk, penalty.decision_number, before, after))
        update_rows(
            Penalty, changes, ["disclosed_until", "policy_id", "tier", "repair_possible_from", "policies_reviewed_on"]
        )
        shortened = {c["id"] for c in changes}
        unchanged = [pk for pk in ids if pk not in shortened]
        if unchanged:
            Penalty.objects.filter(id__in=unchanged).update(policies_reviewed_on=as_of, updated_at=timezone.now())
        audit_many(
            action="penalty.disclosure_shortened",
            object_type="disclosure.penalty",
            events=events,
            note=f"从旧兼从轻：按 {newest.isoformat()} 起施行的公示规定重新核定公示期限（{self.note(as_of)}）",
        )
        return {"reviewed": len(ids), "shortened": len(changes)}


# ==============================================================================================================
# 2. expire_disclosures
# ==============================================================================================================

_EXPIRE_DISCLOSURES_SQL = """
WITH ended AS (
    UPDATE disclosure_penalty AS p
       SET disclosure_ended_on = p.disclosed_until + 1, disclosure_end_reason = %(reason)s, updated_at = %(now)s
     WHERE p.id = ANY(%(ids)s)
       AND p.disclosed AND p.disclosure_ended_on IS NULL AND p.status = %(in_force)s AND p.disclosed_until < %(as_of)s
 RETURNING p.id, p.decision_number, p.disclosure_ended_on
), audited AS (
    INSERT INTO core_auditevent
           (created_at, actor_id, actor_label, action, object_type, object_id, object_repr, before, after,
            source_ip, source, note)
    SELECT %(now)s, NULL, 'system', 'penalty.disclosure_expired', 'disclosure.penalty', ended.id::text,
           left(ended.decision_number, 255),
           jsonb_build_object('disclosure_ended_on', NULL, 'disclosure_end_reason', ''),
           jsonb_build_object('disclosure_ended_on', to_char(ended.disclosure_ended_on, 'YYYY-MM-DD'),
                              'disclosure_end_reason', %(reason)s),
           NULL, %(source)s, %(note)s
      FROM ended
)
SELECT count(*) FROM ended
"""


class ExpireDisclosures(ChunkStep):
    """End every disclosure whose last day is before the run date: ended on the day after its last day."""

    name = "expire_disclosures"

    def __call__(self, as_of: dt.date) -> dict[str, int] | None:
        due = Penalty.objects.filter(
            disclosed=True,
            disclosure_ended_on__isnull=True,
            status=Penalty.Status.IN_FORCE,
            disclosed_until__lt=as_of,
            id__gt=self.after_id,
        ).order_by("id")
        ids = list(_lock(due).values_list("id", flat=True)[: self.chunk_size])
        if not ids:
            return None
        self.after_id = ids[-1]
        note = f"公示期满，停止公示（{self.note(as_of)}）"
        if _postgres():
            # One UPDATE … RETURNING and the chunk's audit events as one INSERT … SELECT: one round trip.
            with connection.cursor() as cursor:
                cursor.execute(
                    _EXPIRE_DISCLOSURES_SQL,
                    {
                        "ids": ids,
                        "as_of": as_of,
                        "now": timezone.now(),
                        "reason": Penalty.EndReason.EXPIRED.value,
                        "in_force": Penalty.Status.IN_FORCE.value,
                        "source": _audit_source(),
                        "note": note,
                    },
                )
                (expired,) = cursor.fetchone()
            return {"expired": expired}
        rows = list(Penalty.objects.filter(id__in=ids).values("id", "decision_number", "disclosed_until"))
        changes = [
            {
                "id": r["id"],
                "disclosure_ended_on": r["disclosed_until"] + dt.timedelta(days=1),
                "disclosure_end_reason": Penalty.EndReason.EXPIRED.value,
            }
            for r in rows
        ]
        update_rows(Penalty, changes, ["disclosure_ended_on", "disclosure_end_reason"])
        audit_many(
            action="penalty.disclosure_expired",
            object_type="disclosure.penalty",
            events=(
                (
                    r["id"],
                    r["decision_number"],
                    {"disclosure_ended_on": None, "disclosure_end_reason": ""},
                    {"disclosure_ended_on": c["disclosure_ended_on"], "disclosure_end_reason": "expired"},
                )
                for r, c in zip(rows, changes, strict=True)
            ),
            note=note,
        )
        return {"expired": len(rows)}


# ==============================================================================================================
# 3. list_missing_annual_reports
# ==============================================================================================================


def missing_annual_report_facts(year: int, *, is_mark: bool) -> str:
    if is_mark:
        return f"该个体工商户未按规定于{year + 1}年6月30日前报送{year}年度年度报告，标记为经营异常状态。"
    return f"该主体未按规定于{year + 1}年6月30日前报送并公示{year}年度年度报告。"


class ListMissingAnnualReports(ChunkStep):
    """After 30 June: list every enterprise and cooperative that owes last year's annual report and has not filed
    it; mark individual businesses instead (DESIGN.md §3.1, §3.3). As services.listings.abnormal_list decides one.

    Owes a report: operating or suspended (歇业 filers must still file), registered by 31 December of the report
    year. Never twice for the same reason and year: an entity with any listing (open or removed) for that year is
    not listed again, and the partial unique index backs the rule for open listings. Before 1 July nothing is due.
    """

    name = "list_missing_annual_reports"

    # Entities scanned per window. A window's candidates are the set difference (EXCEPT) of three index range
    # scans over the same id range — owing entities, the year's reports, the year's listings — so every chunk
    # costs the same at 10^6 entities. (As NOT EXISTS anti-joins over the whole tables the planner chose a merge
    # join that rescans the report index from its start on every chunk, or a nested loop over the listings the
    # run inserts, planned on stale estimates: quadratic.)
    WINDOW_PER_CHUNK = 10
    OWING_SQL = """
        SELECT e.id, e.region_id, e.entity_type FROM {enterprise} e
         WHERE e.id IN (
               SELECT id FROM {enterprise}
                WHERE id > %s AND id <= %s AND status IN (%s, %s) AND registration_date <= %s
               EXCEPT
               SELECT enterprise_id FROM {report} WHERE enterprise_id > %s AND enterprise_id <= %s AND year = %s
               EXCEPT
               SELECT enterprise_id FROM {listing}
                WHERE enterprise_id > %s AND enterprise_id <= %s AND reason = %s AND year = %s)
         ORDER BY e.id
         LIMIT %s
    """

    def __init__(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        super().__init__(chunk_size)
        self.max_id: int | None = None

    @staticmethod
    def _filed_or_listed(year: int, where: Q) -> set[int]:
        """Entities (`where` on enterprise_id) with the year's report, or any annual-report listing for the year."""
        reports = AnnualReport.objects.filter(where, year=year).values_list("enterprise_id", flat=True)
        listings = AbnormalListing.objects.filter(
            where, reason=AbnormalListing.Reason.ANNUAL_REPORT, year=year
        ).values_list("enterprise_id", flat=True)
        return {*reports, *listings}

    def _lock_and_recheck(self, ids: list[int], year: int) -> tuple[set[int], set[int]]:
        """(the ids locked, still owing; the ids filed or listed meanwhile): two statements with array parameters
        on PostgreSQL (an IN list of 5,000 parameters costs more to parse than to run)."""
        owing = [Enterprise.Status.OPERATING.value, Enterprise.Status.SUSPENDED.value]
        if not _postgres():
            still_owing = Enterprise.objects.filter(id__in=ids, status__in=owing)
            return set(still_owing.values_list("id", flat=True)), self._filed_or_listed(year, Q(enterprise_id__in=ids))
        tables = {
            "enterprise": _quote(Enterprise._meta.db_table),
            "report": _quote(AnnualReport._meta.db_table),
            "listing": _quote(AbnormalListing._meta.db_table),
        }
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM {enterprise} WHERE id = ANY(%s) AND status = ANY(%s) "
                "ORDER BY id FOR UPDATE SKIP LOCKED".format(**tables),
                [ids, owing],
            )
            locked = {row[0] for row in cursor.fetchall()}
            recheck = (
                "SELECT enterprise_id FROM {report} WHERE enterprise_id = ANY(%s) AND year = %s UNION ALL "
                "SELECT enterprise_id FROM {listing} WHERE enterprise_id = ANY(%s) AND reason = %s AND year = %s"
            )
            cursor.execute(recheck.format(**tables), [ids, year, ids, AbnormalListing.Reason.ANNUAL_REPORT.value, year])
            done = {row[0] for row in cursor.fetchall()}
        return locked, done

    def _candidates(self, year: int) -> list[tuple[int, str, str]]:
        """The next owing, unfiled, unlisted entities (id, region, type), at most a chunk, locked (SKIP LOCKED);
        [] when the population is exhausted."""
        if self.max_id is None:
            self.max_id = Enterprise.objects.order_by("-id").values_list("id", flat=True).first() or 0
        window = self.chunk_size * self.WINDOW_PER_CHUNK
        sql = self.OWING_SQL.format(
            enterprise=_quote(Enterprise._meta.db_table),
            report=_quote(AnnualReport._meta.db_table),
            listing=_quote(AbnormalListing._meta.db_table),
        )
        while self.after_id < self.max_id:
            low, upper = self.after_id, min(self.after_id + window, self.max_id)
            with connection.cursor() as cursor:
                cursor.execute(
                    sql,
                    [
                        *(low, upper, Enterprise.Status.OPERATING.value, Enterprise.Status.SUSPENDED.value),
                        dt.date(year, 12, 31),
                        *(low, upper, year),
                        *(low, upper, AbnormalListing.Reason.ANNUAL_REPORT.value, year),
                        self.chunk_size,
                    ],
                )
                candidates = [tuple(row) for row in cursor.fetchall()]
            self.after_id = candidates[-1][0] if len(candidates) == self.chunk_size else upper
            if not candidates:
                continue
            # Lock, then look again: a report filed (or a listing made) before the lock is seen now; one filed
            # after waits for this chunk's commit (its foreign key needs the entity row).
            locked, done = self._lock_and_recheck([row[0] for row in candidates], year)
            rows = [row for row in candidates if row[0] in locked and row[0] not in done]
            if rows:
                return rows
        return []

    def __call__(self, as_of: dt.date) -> dict[str, int] | None:
        year = report_year_due(as_of)
        if year is None:
            return None  # the filing window of the current cycle is still open
        rows = self._candidates(year)
        if not rows:
            return None
        office_by_code = offices()
        keys = [
            (region, numbering.ABNORMAL_MARK if kind == Enterprise.EntityType.INDIVIDUAL else numbering.ABNORMAL_IN)
            for _id, region, kind in rows
        ]
        numbers = allocate_numbers(keys, year=as_of.year, office_by_code=office_by_code)
        cause_date = dt.date(as_of.year, 6, 30)  # the report for `year` was due on 30 June of the next year
        listings = []
        for (enterprise_id, region, kind), number in zip(rows, numbers, strict=True):
            is_mark = kind == Enterprise.EntityType.INDIVIDUAL
            office = office_by_code[region]
            listings.append(
                {
                    "enterprise_id": enterprise_id,
                    "reason": AbnormalListing.Reason.ANNUAL_REPORT.value,
                    "year": year,
                    "is_mark": is_mark,
                    "cause_date": cause_date,
                    "decided_on": as_of,
                    "decision_number": number,
                    "office_id": region,
                    "authority_name": office.authority_name,
                    "legal_basis": texts.abnormal_legal_basis(kind, AbnormalListing.Reason.ANNUAL_REPORT),
                    "remedies": office.remedies,
                    "facts": missing_annual_report_facts(year, is_mark=is_mark),
                    "status": AbnormalListing.Status.LISTED.value,
                    "removed_on": None,
                    "removal_decision_number": "",
                    "removal_reason": "",
                    "removal_note": "",
                    "reminder_published_on": None,
                }
            )
        # A decision later than 10 working days after 30 June stands, but says so (as abnormal_list does).
        warning = listing_deadline_warning(cause_date, as_of)
        note = "；".join(filter(None, [f"未按时报送{year}年度年度报告（{self.note(as_of)}）", warning]))
        insert_rows(
            AbnormalListing,
            listings,
            audit=CreationAudit("abnormal.list", ABNORMAL_AUDIT_FIELDS, "decision_number", note),
        )
        marked = sum(1 for row in listings if row["is_mark"])
        return {"listed": len(listings) - marked, "marked": marked}


# ==============================================================================================================
# 4. abnormal_three_year_reminders
# ==============================================================================================================

LISTING_ROW = (*ABNORMAL_AUDIT_FIELDS, "id", "enterprise__name", "enterprise__uscc", "enterprise__entity_type",
               "enterprise__contact_phone", "enterprise__contact_email")  # fmt: skip


class AbnormalThreeYearReminders(ChunkStep):
    """60 days before a listing turns 3 years: publish the reminder (reminder_published_on) and tell the entity by
    SMS and/or e-mail through the outbox, once per listing and channel (the dedupe key of
    services.listings.abnormal_publish_reminder, so the job and the service never send twice). Marks of
    individual businesses do not escalate to the serious list, so they get no reminder."""

    name = "abnormal_three_year_reminders"

    def __call__(self, as_of: dt.date) -> dict[str, int] | None:
        cutoff = last_start_day(as_of, months=ABNORMAL_ESCALATION_MONTHS, days_before=REMINDER_DAYS_BEFORE)
        due = AbnormalListing.objects.filter(
            status=AbnormalListing.Status.LISTED,
            is_mark=False,
            reminder_published_on__isnull=True,
            decided_on__lte=cutoff,
            id__gt=self.after_id,
        ).order_by("id")
        rows = list(_lock(due).values(*LISTING_ROW)[: self.chunk_size])
        if not rows:
            return None
        self.after_id = rows[-1]["id"]
        update_rows(AbnormalListing, [{"id": r["id"], "reminder_published_on": as_of} for r in rows],
                    ["reminder_published_on"])  # fmt: skip
        messages = []
        events = []
        counts: Counter[str] = Counter(reminded=len(rows))
        for row in rows:
            escalation_day = add_months(row["decided_on"], ABNORMAL_ESCALATION_MONTHS)
            channels = []
            if row["enterprise__contact_phone"]:
                channels.append((OutboxMessage.Channel.SMS.value, row["enterprise__contact_phone"]))
            if row["enterprise__contact_email"]:
                channels.append((OutboxMessage.Channel.EMAIL.value, row["enterprise__contact_email"]))
            if not channels:
                counts["no_contact"] += 1
            body = texts.ABNORMAL_REMINDER_BODY.format(
                name=row["enterprise__name"],
                uscc=row["enterprise__uscc"],
                decided_on=row["decided_on"],
                reason=texts.abnormal_reason_text(row["enterprise__entity_type"], row["reason"]),
                decision_number=row["decision_number"],
                escalation_due=escalation_day,
                authority=row["authority_name"],
            )
            for channel, recipient in channels:
                counts[channel] += 1
                messages.append(
                    {
                        "channel": channel,
                        "recipient": recipient,
                        "subject": texts.ABNORMAL_REMINDER_SUBJECT,
                        "body": body,
                        "dedupe_key": f"abnormal-3y-reminder:{row['id']}:{channel}",
                        "related_type": AbnormalListing._meta.label_lower,
                        "related_id": str(row["id"]),
                    }
                )
            before = snapshot_of(row, ABNORMAL_AUDIT_FIELDS)
            events.append(
                (
                    row["id"],
                    row["decision_number"],
                    before,
                    {**before, "reminder_published_on": as_of},
                    f"届满三年日：{escalation_day:%Y-%m-%d}；通知渠道：{','.join(c for c, _ in channels) or '无'}",
                )
            )
        # The dedupe key makes a message once per listing and channel, whatever reruns happen (core.notifications).
        insert_rows(OutboxMessage, messages, ignore_conflicts=True)
        audit_many(action="abnormal.reminder", object_type="disclosure.abnormallisting", events=events)
        return dict(counts)


# ==============================================================================================================
# 5. abnormal_escalation
# ==============================================================================================================


def three_years_facts(decided_on: dt.date, number: str) -> str:
    return f"该主体于{decided_on:%Y年%m月%d日}被列入经营异常名录（{number}），届满三年仍未履行相关义务。"


SERIOUS_ROW = (*SERIOUS_AUDIT_FIELDS, "id", "enterprise__status", "enterprise__legal_representative",
               "enterprise__legal_representative_id_number", "source_abnormal__status")  # fmt: skip


class AbnormalEscalation(ChunkStep):
    """Three years on the abnormal list (DESIGN.md §3.3–3.4), as services.listings.serious_notice and
    serious_decide decide one entry:

    1. a notice of intended serious listing (office: the entity's county), with its statement window of
       settings.SERIOUS_LIST_STATEMENT_WORKING_DAYS working days;
    2. for notices on this ground whose window has passed (statement_due < run date) with no statement and no
       hearing request: the listing decision, 3 years, with the entity restrictions and the legal
       representative's; the source entry leaves the abnormal list (removal reason "escalated").
       A notice whose source entry was removed meanwhile (the obligations were fulfilled) or whose entity was
       deregistered cannot be listed (serious_decide refuses): the job decides "not listed" with that reason, so
       the open procedure does not block the entity for ever.

    A notice made tonight is never decided tonight (its window ends in the future). One open procedure per entity
    and ground: a second 3-year entry of an entity with an open procedure waits for it.
    """

    name = "abnormal_escalation"

    def __init__(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        super().__init__(chunk_size)
        self.phase = "notice"

    def __call__(self, as_of: dt.date) -> dict[str, int] | None:
        if self.phase == "notice":
            counts = self._notice_chunk(as_of)
            if counts is not None:
                return counts
            self.phase, self.after_id = "decide", 0
        return self._decide_chunk(as_of)

    # --- phase 1: notices ---------------------------------------------------------------------------------
    def _notice_candidates(self, as_of: dt.date) -> list[dict[str, Any]]:
        """The next open entries at three years with no procedure of their own and none open for their entity.

        The exclusions are looked up for the chunk's ids (index probes) and applied in Python: as NOT EXISTS in
        one statement they were planned against the serious list's size when the run started (stale estimates),
        which goes quadratic as the run inserts notices."""
        cutoff = last_start_day(as_of, months=ABNORMAL_ESCALATION_MONTHS)
        fields = ("id", "enterprise_id", "enterprise__region_id", "decision_number", "decided_on")
        while True:
            due = (
                AbnormalListing.objects.filter(
                    status=AbnormalListing.Status.LISTED,
                    is_mark=False,
                    decided_on__lte=cutoff,
                    id__gt=self.after_id,
                )
                .exclude(enterprise__status=Enterprise.Status.DEREGISTERED)  # serious_notice refuses them
                .order_by("id")
            )
            rows = list(_lock(due).values(*fields)[: self.chunk_size])
            if not rows:
                return []
            self.after_id = rows[-1]["id"]
            has_procedure = set(
                SeriousListing.objects.filter(source_abnormal_id__in=[r["id"] for r in rows]).values_list(
                    "source_abnormal_id", flat=True
                )
            )
            busy = set(
                SeriousListing.objects.filter(
                    enterprise_id__in={r["enterprise_id"] for r in rows},
                    ground=SeriousListing.Ground.ABNORMAL_THREE_YEARS,
                    stage__in=[SeriousListing.Stage.NOTICE, SeriousListing.Stage.LISTED],
                ).values_list("enterprise_id", flat=True)
            )
            rows = [r for r in rows if r["id"] not in has_procedure and r["enterprise_id"] not in busy]
            if rows:
                return rows

    def _notice_chunk(self, as_of: dt.date) -> dict[str, int] | None:
        rows = self._notice_candidates(as_of)
        if not rows:
            return None
        try:
            statement_due = WorkingCalendar.load().add_working_days(as_of, settings.SERIOUS_LIST_STATEMENT_WORKING_DAYS)
        except CalendarUnavailable as exc:
            # The statement window is a real deadline: never guessed. The entries wait (the predicate still finds
            # them) until staff confirm the year's calendar; the count shows on the run row.
            logger.warning("abnormal_escalation: no notices as of %s: %s", as_of, exc)
            return {"calendar_unavailable": len(rows)}
        # One procedure per entity: of several 3-year entries of one entity in a chunk, the oldest goes first.
        first: dict[int, dict[str, Any]] = {}
        for row in rows:
            first.setdefault(row["enterprise_id"], row)
        chosen = list(first.values())
        office_by_code = offices()
        regions = [row["enterprise__region_id"] for row in chosen]
        numbers = allocate_numbers(
            [(code, numbering.SERIOUS_NOTICE) for code in regions], year=as_of.year, office_by_code=office_by_code
        )
        ground = SeriousListing.Ground.ABNORMAL_THREE_YEARS.value
        notices = [
            {
                "enterprise_id": row["enterprise_id"],
                "ground": ground,
                "source_penalty_id": None,
                "source_abnormal_id": row["id"],
                "office_id": code,
                "authority_name": office_by_code[code].authority_name,
                "legal_basis": texts.SERIOUS_LEGAL_BASIS[ground],
                "facts": three_years_facts(row["decided_on"], row["decision_number"]),
                "stage": SeriousListing.Stage.NOTICE.value,
                "notice_number": number,
                "noticed_on": as_of,
                "statement_due": statement_due,
                "hearing_requested": False,
                "decision_number": "",
                "decided_on": None,
                "listed_until": None,
                "removed_on": None,
                "removal_kind": "",
                "removal_decision_number": "",
                "hidden_from_public": False,
            }
            for row, code, number in zip(chosen, regions, numbers, strict=True)
        ]
        note = f"列入经营异常名录届满三年，告知拟列入严重违法失信名单（{self.note(as_of)}）"
        insert_rows(
            SeriousListing, notices, audit=CreationAudit("serious.notice", SERIOUS_AUDIT_FIELDS, "notice_number", note)
        )
        counts = {"noticed": len(notices)}
        if len(chosen) < len(rows):
            counts["waiting_for_open_procedure"] = len(rows) - len(chosen)
        return counts

    # --- phase 2: decisions -------------------------------------------------------------------------------
    def _decide_chunk(self, as_of: dt.date) -> dict[str, int] | None:
        due = SeriousListing.objects.filter(
            stage=SeriousListing.Stage.NOTICE,
            ground=SeriousListing.Ground.ABNORMAL_THREE_YEARS,
            statement_due__lt=as_of,
            statement="",
            hearing_requested=False,
            id__gt=self.after_id,
        ).order_by("id")
        rows = list(_lock(due).values(*SERIOUS_ROW)[: self.chunk_size])
        if not rows:
            return None
        self.after_id = rows[-1]["id"]
        listable = [
            r
            for r in rows
            if r["source_abnormal__status"] == AbnormalListing.Status.LISTED
            and r["enterprise__status"] != Enterprise.Status.DEREGISTERED
        ]
        counts = Counter(decided=len(listable))
        if listable:
            counts.update(self._list(as_of, listable))
        refused = [r for r in rows if r not in listable]
        if refused:
            counts["not_listed"] = self._not_list(as_of, refused)
        return dict(counts)

    def _list(self, as_of: dt.date, rows: list[dict[str, Any]]) -> dict[str, int]:
        office_by_code = offices()
        numbers = allocate_numbers(
            [(r["office_id"], numbering.SERIOUS_IN) for r in rows], year=as_of.year, office_by_code=office_by_code
        )
        listed_until = add_months(as_of, SERIOUS_LISTING_MONTHS) - dt.timedelta(days=1)
        changes = [
            {
                "id": r["id"],
                "stage": SeriousListing.Stage.LISTED.value,
                "decision_number": number,
                "decided_on": as_of,
                "listed_until": listed_until,
            }
            for r, number in zip(rows, numbers, strict=True)
        ]
        update_rows(SeriousListing, changes, ["stage", "decision_number", "decided_on", "listed_until"])
        kinds = [*(k.value for k in ENTITY_RESTRICTIONS), Restriction.Kind.NO_LEGAL_REPRESENTATIVE.value]
        restrictions = []
        for r in rows:
            for kind in kinds:
                personal = kind == Restriction.Kind.NO_LEGAL_REPRESENTATIVE
                # 企业信息公示暂行条例 第十七条: the legal representative may not be one of another entity for 3 years.
                restrictions.append(
                    {
                        "enterprise_id": r["enterprise_id"],
                        "serious_listing_id": r["id"],
                        "kind": kind,
                        "person_name": r["enterprise__legal_representative"] if personal else "",
                        "person_id_number": r["enterprise__legal_representative_id_number"] if personal else "",
                        "starts_on": as_of,
                        "ends_on": listed_until,
                        "ended_on": None,
                    }
                )
        insert_rows(Restriction, restrictions)
        audit_many(
            action="serious.decide",
            object_type="disclosure.seriouslisting",
            events=(
                (
                    r["id"],
                    c["decision_number"],
                    snapshot_of(r, SERIOUS_AUDIT_FIELDS),
                    {**snapshot_of(r, SERIOUS_AUDIT_FIELDS), **c, "restrictions": kinds},
                )
                for r, c in zip(rows, changes, strict=True)
            ),
            note=f"陈述申辩期满未陈述申辩、未申请听证，决定列入严重违法失信名单（{self.note(as_of)}）",
        )
        # The source entry leaves the abnormal list, escalated (as serious_decide → abnormal_remove does).
        sources = {r["source_abnormal_id"]: c["decision_number"] for r, c in zip(rows, changes, strict=True)}
        entries = list(
            AbnormalListing.objects.filter(id__in=sources).order_by("id").values("id", *ABNORMAL_AUDIT_FIELDS)
        )
        removal_numbers = allocate_numbers(
            [(e["office_id"], numbering.ABNORMAL_OUT) for e in entries], year=as_of.year, office_by_code=office_by_code
        )
        removals = [
            {
                "id": e["id"],
                "status": AbnormalListing.Status.REMOVED.value,
                "removed_on": as_of,
                "removal_reason": AbnormalListing.RemovalReason.ESCALATED.value,
                "removal_decision_number": number,
                "removal_note": f"已列入严重违法失信名单（{sources[e['id']]}）",
            }
            for e, number in zip(entries, removal_numbers, strict=True)
        ]
        update_rows(
            AbnormalListing,
            removals,
            ["status", "removed_on", "removal_reason", "removal_decision_number", "removal_note"],
        )
        audit_many(
            action="abnormal.remove",
            object_type="disclosure.abnormallisting",
            events=(
                (
                    e["id"],
                    e["decision_number"],
                    snapshot_of(e, ABNORMAL_AUDIT_FIELDS),
                    {**snapshot_of(e, ABNORMAL_AUDIT_FIELDS), **{k: v for k, v in c.items() if k != "id"}},
                    c["removal_note"],
                )
                for e, c in zip(entries, removals, strict=True)
            ),
        )
        return {"restrictions": len(restrictions), "abnormal_removed": len(removals)}

    def _not_list(self, as_of: dt.date, rows: list[dict[str, Any]]) -> int:
        changes = [{"id": r["id"], "stage": SeriousListing.Stage.NOT_LISTED.value, "decided_on": as_of} for r in rows]
        update_rows(SeriousListing, changes, ["stage", "decided_on"])
        events = []
        for r, c in zip(rows, changes, strict=True):
            why = (
                "经营主体已注销，不予列入严重违法失信名单"
                if r["enterprise__status"] == Enterprise.Status.DEREGISTERED
                else "据以列入的经营异常名录记录已移出（相关义务已履行），不予列入严重违法失信名单"
            )
            before = snapshot_of(r, SERIOUS_AUDIT_FIELDS)
            events.append(
                (r["id"], r["notice_number"], before, {**before, "stage": c["stage"], "decided_on": as_of}, why)
            )
        audit_many(action="serious.decide", object_type="disclosure.seriouslisting", events=events)
        return len(rows)


# ==============================================================================================================
# 6. expire_serious_listings
# ==============================================================================================================


class ExpireSeriousListings(ChunkStep):
    """Three years on the serious list are over: removed automatically, as services.listings.serious_remove does
    with kind "expired" (a numbered removal decision; the open restrictions of the listing end the same day), on
    the day after the last listed day."""

    name = "expire_serious_listings"

    def __call__(self, as_of: dt.date) -> dict[str, int] | None:
        due = SeriousListing.objects.filter(
            stage=SeriousListing.Stage.LISTED, listed_until__lt=as_of, id__gt=self.after_id
        ).order_by("id")
        rows = list(_lock(due).values("id", *SERIOUS_AUDIT_FIELDS)[: self.chunk_size])
        if not rows:
            return None
        self.after_id = rows[-1]["id"]
        numbers = allocate_numbers(
            [(r["office_id"], numbering.SERIOUS_OUT) for r in rows], year=as_of.year, office_by_code=offices()
        )
        changes = [
            {
                "id": r["id"],
                "stage": SeriousListing.Stage.REMOVED.value,
                "removed_on": r["listed_until"] + dt.timedelta(days=1),
                "removal_kind": SeriousListing.RemovalKind.EXPIRED.value,
                "removal_decision_number": number,
                "hidden_from_public": False,  # an expiry stays on the public history (only early removals hide)
            }
            for r, number in zip(rows, numbers, strict=True)
        ]
        update_rows(
            SeriousListing, changes, ["stage", "removed_on", "removal_kind", "removal_decision_number",
                                      "hidden_from_public"]
        )  # fmt: skip
        removed_on = {c["id"]: c["removed_on"] for c in changes}
        open_restrictions = list(
            Restriction.objects.filter(serious_listing_id__in=removed_on, ended_on__isnull=True)
            .order_by("id")
            .values_list("id", "serious_listing_id")
        )
        update_rows(
            Restriction,
            [{"id": pk, "ended_on": removed_on[listing]} for pk, listing in open_restrictions],
            ["ended_on"],
        )
        ended = Counter(listing for _pk, listing in open_restrictions)
        audit_many(
            action="serious.remove",
            object_type="disclosure.seriouslisting",
            events=(
                (
                    r["id"],
                    r["decision_number"],
                    snapshot_of(r, SERIOUS_AUDIT_FIELDS),
                    {
                        **snapshot_of(r, SERIOUS_AUDIT_FIELDS),
                        **{k: v for k, v in c.items() if k != "id"},
                        "restrictions_ended": ended[r["id"]],
                    },
                )
                for r, c in zip(rows, changes, strict=True)
            ),
            note=texts.SERIOUS_REMOVAL_TEXT[SeriousListing.RemovalKind.EXPIRED],
        )
        return {"removed": len(rows), "restrictions_ended": len(open_restrictions)}


def restriction_repr(row: Mapping[str, Any]) -> str:
    return f"{row['kind']} {row['person_name'] or row['enterprise_id']}"


# ==============================================================================================================
# 7. expire_restrictions
# ==============================================================================================================

_EXPIRE_RESTRICTIONS_SQL = """
WITH ended AS (
    UPDATE disclosure_restriction AS r
       SET ended_on = r.ends_on + 1, updated_at = %(now)s
     WHERE r.id = ANY(%(ids)s) AND r.ended_on IS NULL AND r.ends_on < %(as_of)s
 RETURNING r.id, r.kind, r.person_name, r.enterprise_id, r.ended_on
), audited AS (
    INSERT INTO core_auditevent
           (created_at, actor_id, actor_label, action, object_type, object_id, object_repr, before, after,
            source_ip, source, note)
    SELECT %(now)s, NULL, 'system', 'restriction.end', 'disclosure.restriction', ended.id::text,
           left(ended.kind || ' ' || CASE WHEN ended.person_name <> '' THEN ended.person_name
                                          ELSE ended.enterprise_id::text END, 255),
           jsonb_build_object('ended_on', NULL),
           jsonb_build_object('ended_on', to_char(ended.ended_on, 'YYYY-MM-DD')),
           NULL, %(source)s, %(note)s
      FROM ended
)
SELECT count(*) FROM ended
"""


class ExpireRestrictions(ChunkStep):
    """End every restriction whose last day is before the run date (ended on the day after its last day)."""

    name = "expire_restrictions"

    def __call__(self, as_of: dt.date) -> dict[str, int] | None:
        due = Restriction.objects.filter(ended_on__isnull=True, ends_on__lt=as_of, id__gt=self.after_id).order_by("id")
        ids = list(_lock(due).values_list("id", flat=True)[: self.chunk_size])
        if not ids:
            return None
        self.after_id = ids[-1]
        note = f"限制期满（{self.note(as_of)}）"
        if _postgres():
            with connection.cursor() as cursor:
                cursor.execute(
                    _EXPIRE_RESTRICTIONS_SQL,
                    {"ids": ids, "as_of": as_of, "now": timezone.now(), "source": _audit_source(), "note": note},
                )
                (count,) = cursor.fetchone()
            return {"ended": count}
        rows = list(
            Restriction.objects.filter(id__in=ids).values("id", "ends_on", "kind", "person_name", "enterprise_id")
        )
        changes = [{"id": r["id"], "ended_on": r["ends_on"] + dt.timedelta(days=1)} for r in rows]
        update_rows(Restriction, changes, ["ended_on"])
        audit_many(
            action="restriction.end",
            object_type="disclosure.restriction",
            events=(
                (r["id"], restriction_repr(r), {"ended_on": None}, {"ended_on": c["ended_on"]})
                for r, c in zip(rows, changes, strict=True)
            ),
            note=note,
        )
        return {"ended": len(rows)}


# ==============================================================================================================
# Registry and running
# ==============================================================================================================


@dataclass(frozen=True)
class Job:
    name: str
    title: str  # Chinese, for the command output and the admin
    step: Callable[[int], ChunkStep]


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("review_disclosure_policies", "按从旧兼从轻原则复核公示期限", ReviewDisclosurePolicies),
        Job("expire_disclosures", "停止公示期满的行政处罚信息", ExpireDisclosures),
        Job(
            "list_missing_annual_reports",
            "未按时报送年报的列入经营异常名录（个体工商户标记）",
            ListMissingAnnualReports,
        ),
        Job("abnormal_three_year_reminders", "经营异常名录届满三年前 60 日提醒", AbnormalThreeYearReminders),
        Job("abnormal_escalation", "经营异常名录届满三年：告知并列入严重违法失信名单", AbnormalEscalation),
        Job("expire_serious_listings", "严重违法失信名单满三年自动移出", ExpireSeriousListings),
        Job("expire_restrictions", "限制措施期满解除", ExpireRestrictions),
    )
}
NIGHTLY_ORDER = tuple(JOBS)


def run(
    name: str,
    *,
    as_of: dt.date,
    source: str = "command",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_chunks: int | None = None,
) -> JobRun:
    """Run one job under its lock with a JobRun row (core.nightly.run_job)."""
    job = JOBS[name]
    return run_job(name, job.step(chunk_size), as_of=as_of, source=source, max_chunks=max_chunks)


@dataclass(frozen=True)
class NightlyOutcome:
    name: str
    run: JobRun | None
    error: str = ""


def run_nightly(*, as_of: dt.date, source: str = "beat", chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[NightlyOutcome]:
    """Every job in order; a failure of one is recorded (its JobRun says failed) and the others still run."""
    outcomes = []
    for name in NIGHTLY_ORDER:
        try:
            outcomes.append(NightlyOutcome(name, run(name, as_of=as_of, source=source, chunk_size=chunk_size)))
        except Exception as exc:  # run_job has recorded the failure on the JobRun row already
            logger.exception("nightly job %s failed; continuing with the next one", name)
            outcomes.append(NightlyOutcome(name, None, error=repr(exc)[:500]))
    return outcomes
