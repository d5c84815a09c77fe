"""Verifiable draws (DESIGN.md §3.6): commit a seed, draw from a frozen snapshot, reveal the seed, verify, redraw.

The algorithm itself is `inspections.algorithm` (pure); this module freezes its inputs from the database, stores
them with their hashes, writes the tasks set-based and re-runs the algorithm from the stored inputs to verify.
"""

from __future__ import annotations

import datetime as dt
import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from core.audit import audit_log
from core.bulk import copy_rows
from core.errors import ApplicationError, ConflictError
from core.models import Department, User
from enterprises.models import Enterprise
from inspections import algorithm
from inspections.models import Draw, DrawSnapshot, Inspector, InspectorConflict, Plan, Result, Task, TaskAssignment
from inspections.services.plans import check_plan_scope, plan_validate, population_queryset

DRAW_AUDIT_FIELDS = [
    "plan_id", "number", "status", "commitment", "algorithm", "snapshot_hash", "snapshot_size", "roster_hash",
    "result_hash", "drawn_at", "operator_id", "redraw_of_id", "redraw_reason", "revealed_at", "superseded_at",
]  # fmt: skip


SNAPSHOT_COMPRESSION = 1  # zlib level of the stored population snapshot


def _draw_state(draw: Draw) -> dict:
    from core.audit import snapshot

    return snapshot(draw, DRAW_AUDIT_FIELDS)


def _locked_plan(plan: Plan) -> Plan:
    return Plan.objects.select_for_update().select_related("region").get(pk=plan.pk)


# --- commitment ---------------------------------------------------------------------------------------------------
@transaction.atomic
def draw_commit(*, actor: User | None, plan: Plan, redraw_reason: str = "") -> Draw:
    """Generate a seed and publish its SHA-256 commitment (the plan's public page shows it before the draw).

    With a draw already in force this starts a redraw, which needs a reason and is refused once a result exists.
    """
    plan = _locked_plan(plan)
    check_plan_scope(actor, plan)
    plan_validate(plan)
    if plan.draws.filter(status=Draw.Status.COMMITTED).exists():
        raise ConflictError("该计划已有已承诺、待抽取的种子，请先完成抽取。", code="seed_already_committed")
    in_force = plan.draws.filter(status=Draw.Status.DRAWN).first()
    redraw_reason = redraw_reason.strip()
    if in_force is not None:
        if not redraw_reason:
            raise ApplicationError("该计划已完成抽取；重新抽取必须说明理由。", code="redraw_reason_required")
        if Result.objects.filter(task__draw=in_force).exists():
            raise ConflictError("已有检查结果录入，不能重新抽取。", code="results_exist")
    elif redraw_reason:
        raise ApplicationError("该计划尚未抽取，无需说明重抽理由。", code="not_a_redraw")
    seed = algorithm.new_seed()
    number = (plan.draws.aggregate(n=Max("number"))["n"] or 0) + 1
    draw = Draw(
        plan=plan,
        number=number,
        commitment=algorithm.commitment_of(seed),
        seed=seed,
        redraw_of=in_force,
        redraw_reason=redraw_reason,
        operator=actor if actor is not None and actor.pk else None,
    )
    draw.full_clean(validate_constraints=False)
    draw.save()
    if plan.status == Plan.Status.DRAFT:
        plan.status = Plan.Status.COMMITTED
        plan.save(update_fields=["status", "updated_at"])
    audit_log(actor=actor, action="inspections.draw.commit", obj=draw, after=_draw_state(draw), note=redraw_reason)
    return draw


# --- snapshot -----------------------------------------------------------------------------------------------------
def _eligible_roster(plan: Plan) -> tuple[dict[int, list[int]], set[tuple[int, int]], dict[int, str]]:
    """Per department of the plan's items: the inspectors qualified for all its items, warrant valid through the
    plan's end (and today), on the roster, of the organising county for a county plan; plus their conflicts."""
    items_by_dept: dict[int, set[int]] = {}
    for item_id, dept_id in plan.items.values_list("id", "department_id"):
        items_by_dept.setdefault(dept_id, set()).add(item_id)
    valid_through = max(plan.planned_end, timezone.localdate())
    departments: dict[int, list[int]] = {}
    for dept_id, items in items_by_dept.items():
        pool = Inspector.objects.with_valid_warrant(valid_through).filter(department_id=dept_id)
        if plan.region.level == "county":
            pool = pool.filter(region_id=plan.region_id)
        qualified: dict[int, set[int]] = {}
        through = Inspector.qualifications.through
        for insp_id, item_id in through.objects.filter(
            inspector_id__in=pool.values("pk"), inspectionitem_id__in=items
        ).values_list("inspector_id", "inspectionitem_id"):
            qualified.setdefault(insp_id, set()).add(item_id)
        departments[dept_id] = sorted(i for i, q in qualified.items() if q >= items)
    eligible = [i for pool in departments.values() for i in pool]
    conflicts = set(
        InspectorConflict.objects.filter(inspector_id__in=eligible).values_list("inspector_id", "enterprise_id")
    )
    names = dict(Department.objects.filter(pk__in=list(departments)).values_list("pk", "name"))
    return departments, conflicts, names


def _population(plan: Plan) -> bytes:
    """The population snapshot's canonical bytes (`algorithm.population_bytes`: "{id},{class}\\n" by id).

    On PostgreSQL the server writes them itself: COPY (the population query) TO STDOUT in text format with a comma
    as delimiter prints exactly those lines for integer ids and escape-free classes, about twice as fast as
    fetching the rows into Python and formatting them (measured at 10^5). COPY text escapes with a backslash; a
    class that needed one (never a valid class) falls back to the row-by-row path, so the bytes are always the
    canonical ones.
    """
    qs = population_queryset(plan).order_by("pk").values_list("pk", "risk_class")
    if connection.vendor == "postgresql":
        sql, params = qs.query.sql_with_params()
        buffer = io.BytesIO()
        with connection.cursor() as cursor:
            query = cursor.cursor.mogrify(sql, params).decode()
            # A sort of 10^6 rows in the default 4 MB spills to disk; this transaction's own setting only.
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT text, DELIMITER ',')", buffer)
            cursor.execute("RESET work_mem")
        data = buffer.getvalue()
        if b"\\" not in data:
            return data
    return algorithm.population_bytes(qs.iterator(chunk_size=20_000))


# --- the draw -----------------------------------------------------------------------------------------------------
@transaction.atomic
def draw_execute(*, actor: User | None, draw: Draw, reveal: bool = True) -> Draw:
    """Freeze the population and roster, run `jz-draw/1`, write tasks and assignments, then reveal the seed.

    All or nothing: a shortfall of inspectors raises before any row is written. A redraw supersedes the draw it
    replaces (its tasks are cancelled) in the same transaction.
    """
    draw = Draw.objects.select_for_update().select_related("plan__region").get(pk=draw.pk)
    plan = _locked_plan(draw.plan)
    check_plan_scope(actor, plan)
    if draw.status != Draw.Status.COMMITTED:
        raise ConflictError("该抽取已执行或已作废。", code="draw_not_committed")
    plan_validate(plan)
    pop_bytes = _population(plan)
    # The algorithm runs on the very bytes that are hashed and stored, as verification will.
    strata, size = algorithm.snapshot_strata(pop_bytes)
    if not size:
        raise ApplicationError(
            "计划范围内没有可抽查的经营主体（范围为空或均已达到本年度抽查次数上限）。", code="empty_scope"
        )
    departments, conflicts, names = _eligible_roster(plan)
    ratios = {cls: plan.ratio_for(cls) for cls in algorithm.STRATA}
    try:
        outcome = algorithm.run(
            strata=strata,
            ratios=ratios,
            departments=departments,
            conflicts=conflicts,
            seed=draw.seed,
            department_names=names,
        )
    except algorithm.DrawShortfall as exc:
        raise ApplicationError(exc.message, code="inspector_shortfall", extra={"department": exc.department}) from exc
    del strata
    roster = algorithm.roster_bytes(departments, conflicts)
    draw.snapshot_hash = algorithm.sha256_hex(pop_bytes)
    draw.snapshot_size = size
    draw.roster_hash = algorithm.sha256_hex(roster)
    draw.result_hash = algorithm.result_hash(
        snapshot_hash=draw.snapshot_hash,
        roster_hash=draw.roster_hash,
        seed=draw.seed,
        lines=algorithm.result_lines(outcome.tasks),
    )
    draw.algorithm = algorithm.ALGORITHM
    draw.strata = outcome.strata
    # Level 1: 5× faster than 6 at 10^6 lines for ~12 % more bytes; what is hashed is the uncompressed text.
    DrawSnapshot.objects.create(
        draw=draw, population=zlib.compress(pop_bytes, SNAPSHOT_COMPRESSION), roster=zlib.compress(roster, 6)
    )

    now = timezone.now()
    previous = draw.redraw_of
    if previous is not None:
        Draw.objects.filter(pk=previous.pk).update(status=Draw.Status.SUPERSEDED, superseded_at=now)
        Task.objects.filter(draw_id=previous.pk).update(status=Task.Status.CANCELLED, updated_at=now)
        audit_log(
            actor=actor,
            action="inspections.draw.supersede",
            obj=previous,
            after={"status": Draw.Status.SUPERSEDED, "superseded_by": draw.number},
            note=draw.redraw_reason,
        )
    draw.status = Draw.Status.DRAWN
    draw.drawn_at = now
    draw.operator = actor if actor is not None and actor.pk else draw.operator
    if reveal:
        draw.revealed_at = now
    # The row was loaded with drawn_at empty, so the immutability check of save() lets this first write through.
    draw.save()
    _check_references(outcome)
    _write_tasks(draw, outcome, now)
    plan.status = Plan.Status.DRAWN
    plan.save(update_fields=["status", "updated_at"])
    audit_log(actor=actor, action="inspections.draw.execute", obj=draw, after=_draw_state(draw))
    return draw


def _int_array(values: Iterable[int]) -> str:
    """A PostgreSQL array literal of integers ('{1,2,3}'): array_in parses it far faster than ARRAY[…] SQL."""
    return "{" + ",".join(map(str, values)) + "}"


def _check_references(outcome: algorithm.DrawOutcome) -> None:
    """Every entity, inspector and department the draw is about to reference exists.

    The tasks and assignments carry no database FK constraints (migration 0004: the per-row deferred triggers took
    3.8 s of a 9.5 s draw at 10^6 entities); this is the same check, set-based, one query per table,
    naming what is missing. Inspectors and departments are locked as an FK check locks them (FOR KEY SHARE: no one
    deletes them before this transaction ends; a few thousand rows at most). The drawn entities come from the
    population this transaction has just read and are never deleted (status changes only, PROTECT everywhere):
    checked, not locked (locking ~4·10^4 rows costs a good part of what the FK checks did). The draw and the plan
    are locked FOR UPDATE by draw_execute; the tasks are this transaction's own.
    """
    wanted = {
        Enterprise: ({eid for eid, _cls, _pairs in outcome.tasks}, ""),
        Inspector: ({insp for _eid, _cls, pairs in outcome.tasks for _dept, insp in pairs}, " FOR KEY SHARE OF t"),
        Department: ({dept for _eid, _cls, pairs in outcome.tasks for dept, _insp in pairs}, " FOR KEY SHARE OF t"),
    }
    labels = {Enterprise: "经营主体", Inspector: "检查人员", Department: "部门"}
    for model, (ids, lock) in wanted.items():
        if not ids:
            continue
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(model._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT t.id FROM {table} t JOIN unnest(%s::bigint[]) AS u(id) ON t.id = u.id{lock}",
                    [_int_array(ids)],
                )
                found = {row[0] for row in cursor.fetchall()}
        else:
            found = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
        missing = sorted(ids - found)
        if missing:
            shown = "、".join(map(str, missing[:10])) + ("……" if len(missing) > 10 else "")
            raise ApplicationError(
                f"抽取引用的{labels[model]}不存在（编号 {shown}，共 {len(missing)} 个）；未进行抽取。",
                code="draw_reference_missing",
                extra={"model": model._meta.label, "missing": missing[:100]},
            )


_WRITE_SQL = """
WITH new_task AS (
    INSERT INTO {task} (id, created_at, updated_at, draw_id, plan_id, enterprise_id, risk_class, position, status)
    SELECT u.id, %(now)s, %(now)s, %(draw)s, %(plan)s, u.enterprise_id, u.risk_class, u.ord - 1, %(status)s
    FROM unnest(%(ids)s::bigint[], %(enterprises)s::bigint[], %(classes)s::text[]) WITH ORDINALITY
        AS u(id, enterprise_id, risk_class, ord)
    RETURNING 1
), new_assignment AS (
    INSERT INTO {assignment} (task_id, inspector_id, department_id)
    SELECT a.task_id, a.inspector_id, a.department_id
    FROM unnest(%(a_tasks)s::bigint[], %(a_inspectors)s::bigint[], %(a_departments)s::bigint[])
        AS a(task_id, inspector_id, department_id)
    RETURNING 1
)
SELECT (SELECT count(*) FROM new_task), (SELECT count(*) FROM new_assignment)
"""


def _write_tasks(draw: Draw, outcome: algorithm.DrawOutcome, now: dt.datetime) -> None:
    """Tasks and assignments (after `_check_references`). On PostgreSQL: the task ids are taken from the table's
    sequence first, then one statement inserts both from arrays (INSERT … SELECT FROM unnest: no COPY text to
    format, no reading the task ids back, no join). The counts written are checked against the outcome."""
    tasks = outcome.tasks
    expected_assignments = sum(len(pairs) for _eid, _cls, pairs in tasks)
    if connection.vendor == "postgresql":
        task_table = connection.ops.quote_name(Task._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Task._meta.db_table, len(tasks)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            pairs_flat = [
                (task_id, dept, insp)
                for task_id, (_e, _c, pairs) in zip(ids, tasks, strict=True)
                for dept, insp in pairs
            ]
            params = {
                "now": now,
                "draw": draw.pk,
                "plan": draw.plan_id,
                "status": Task.Status.ASSIGNED,
                "ids": _int_array(ids),
                "enterprises": _int_array(eid for eid, _cls, _pairs in tasks),
                # Classes are stratum names (A–D or ""), quoted so that "" is an empty element.
                "classes": "{" + ",".join(f'"{cls}"' for _eid, cls, _pairs in tasks) + "}",
                "a_tasks": _int_array(task_id for task_id, _dept, _insp in pairs_flat),
                "a_inspectors": _int_array(insp for _task, _dept, insp in pairs_flat),
                "a_departments": _int_array(dept for _task, dept, _insp in pairs_flat),
            }
            sql = _WRITE_SQL.format(
                task=task_table, assignment=connection.ops.quote_name(TaskAssignment._meta.db_table)
            )
            cursor.execute(sql, params)
            written = cursor.fetchone()
    else:
        n_tasks = copy_rows(
            Task._meta.db_table,
            ["created_at", "updated_at", "draw_id", "plan_id", "enterprise_id", "risk_class", "position", "status"],
            (
                (now, now, draw.pk, draw.plan_id, eid, cls, pos, Task.Status.ASSIGNED)
                for pos, (eid, cls, _pairs) in enumerate(tasks)
            ),
        )
        task_ids = dict(Task.objects.filter(draw=draw).values_list("enterprise_id", "pk"))
        n_assignments = copy_rows(
            TaskAssignment._meta.db_table,
            ["task_id", "inspector_id", "department_id"],
            ((task_ids[eid], insp, dept) for eid, _cls, pairs in tasks for dept, insp in pairs),
        )
        written = (n_tasks, n_assignments)
    if tuple(written) != (len(tasks), expected_assignments):
        raise ApplicationError(
            f"写入的检查对象/检查人员（{written[0]}/{written[1]}）与抽取结果（{len(tasks)}/{expected_assignments}）"
            "不一致；未进行抽取。",
            code="draw_write_mismatch",
        )


@transaction.atomic
def draw_reveal(*, actor: User | None, draw: Draw) -> Draw:
    """Reveal the seed of a draw made without revealing (the commitment is then checkable by anyone)."""
    draw = Draw.objects.select_for_update().get(pk=draw.pk)
    check_plan_scope(actor, draw.plan)
    if draw.status != Draw.Status.DRAWN:
        raise ConflictError("只有已完成的抽取才能公开种子。", code="draw_not_drawn")
    if draw.revealed_at is None:
        # Not a frozen field: revealing is the one change a made draw allows.
        Draw.objects.filter(pk=draw.pk).update(revealed_at=timezone.now())
        draw.refresh_from_db()
        audit_log(actor=actor, action="inspections.draw.reveal", obj=draw, after={"revealed_at": draw.revealed_at})
    return draw


@transaction.atomic
def plan_publish(*, actor: User | None, plan: Plan, on: dt.date | None = None) -> Plan:
    """Publish the drawn entities of the plan's draw in force on its public page."""
    plan = _locked_plan(plan)
    check_plan_scope(actor, plan)
    draw = plan.draws.filter(status=Draw.Status.DRAWN).first()
    if draw is None:
        raise ApplicationError("该计划尚未抽取，不能公示抽取结果。", code="plan_not_drawn")
    if draw.revealed_at is None:
        raise ApplicationError("请先公开随机种子，再公示抽取结果。", code="seed_not_revealed")
    plan.status = Plan.Status.PUBLISHED
    plan.published_on = on or timezone.localdate()
    plan.save(update_fields=["status", "published_on", "updated_at"])
    audit_log(actor=actor, action="inspections.plan.publish", obj=plan, after={"published_on": plan.published_on})
    return plan


# --- verification -------------------------------------------------------------------------------------------------
@dataclass
class Verification:
    """The outcome of re-running a draw: every check with its result; `ok` only when all passed."""

    draw: Draw
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(passed for _name, passed, _detail in self.checks)

    def add(self, name: str, passed: bool, detail: str = "") -> bool:
        self.checks.append((name, passed, detail))
        return passed


def _stored_tasks(draw: Draw) -> list[tuple[int, str, list[tuple[int, int]]]]:
    pairs: dict[int, list[tuple[int, int]]] = {}
    for task_id, dept, insp in TaskAssignment.objects.filter(task__draw=draw).values_list(
        "task_id", "department_id", "inspector_id"
    ):
        pairs.setdefault(task_id, []).append((dept, insp))
    return [
        (eid, cls, pairs.get(task_id, []))
        for task_id, eid, cls in Task.objects.filter(draw=draw)
        .order_by("position")
        .values_list("pk", "enterprise_id", "risk_class")
    ]


_STORED_LINES_SQL = """
SELECT coalesce(string_agg(line, '' ORDER BY position), '') FROM (
    SELECT t.position, concat_ws(
        ',', t.position, t.enterprise_id, t.risk_class,
        coalesce(string_agg(a.department_id || ':' || a.inspector_id, ';' ORDER BY a.department_id, a.inspector_id), '')
    ) || E'\\n' AS line
    FROM {task} t LEFT JOIN {assignment} a ON a.task_id = t.id
    WHERE t.draw_id = %s
    GROUP BY t.id
) lines
"""


def _stored_lines(draw: Draw) -> bytes | None:
    """The stored tasks and assignments as result lines (`algorithm.result_lines`), formatted by PostgreSQL in one
    query (reading 10^5 assignment rows into Python is the slow part of a verification); None elsewhere."""
    if connection.vendor != "postgresql":
        return None
    sql = _STORED_LINES_SQL.format(
        task=connection.ops.quote_name(Task._meta.db_table),
        assignment=connection.ops.quote_name(TaskAssignment._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [draw.pk])
        return cursor.fetchone()[0].encode()


def draw_verify(*, draw: Draw) -> Verification:
    """Re-run the draw from its stored snapshot, seed and algorithm version and compare everything stored.

    Checks: the seed matches the commitment; the algorithm version is known; the stored snapshots match their
    hashes; the re-run gives the stored result hash; the stored tasks and assignments are exactly the re-run.
    """
    draw = Draw.objects.select_related("plan").get(pk=draw.pk)
    report = Verification(draw=draw)
    if draw.status not in (Draw.Status.DRAWN, Draw.Status.SUPERSEDED) or not draw.drawn_at:
        report.add("drawn", False, "该抽取尚未执行，无法验证。")
        return report
    if not draw.revealed_at:
        report.add("seed_revealed", False, "随机种子尚未公开，无法验证。")
        return report
    report.add(
        "commitment",
        algorithm.commitment_of(draw.seed) == draw.commitment,
        "公开的随机种子与抽取前公布的承诺值（SHA-256）一致"
        if algorithm.commitment_of(draw.seed) == draw.commitment
        else "公开的随机种子与抽取前公布的承诺值不一致！",
    )
    if not report.add("algorithm", draw.algorithm == algorithm.ALGORITHM, f"算法版本 {draw.algorithm}"):
        return report
    try:
        snap = DrawSnapshot.objects.get(draw=draw)
        pop_bytes = zlib.decompress(bytes(snap.population))
        roster_bytes = zlib.decompress(bytes(snap.roster))
    except (DrawSnapshot.DoesNotExist, zlib.error):
        report.add("snapshot", False, "抽取快照缺失或已损坏！")
        return report
    snap_ok = algorithm.sha256_hex(pop_bytes) == draw.snapshot_hash
    report.add("snapshot", snap_ok, "对象快照哈希一致" if snap_ok else "对象快照与公布的快照哈希不一致（快照被改动）！")
    roster_ok = algorithm.sha256_hex(roster_bytes) == draw.roster_hash
    report.add("roster", roster_ok, "人员快照哈希一致" if roster_ok else "人员快照与公布的哈希不一致（快照被改动）！")
    strata, size = algorithm.snapshot_strata(pop_bytes)
    report.add("snapshot_size", size == draw.snapshot_size, f"快照共 {size} 户")
    departments, conflicts = algorithm.parse_roster(roster_bytes)
    plan = draw.plan
    try:
        outcome = algorithm.run(
            strata=strata,
            ratios={cls: plan.ratio_for(cls) for cls in algorithm.STRATA},
            departments=departments,
            conflicts=conflicts,
            seed=draw.seed,
        )
    except algorithm.DrawShortfall as exc:
        report.add("rerun", False, f"重新运行失败：{exc.message}")
        return report
    rerun_lines = algorithm.result_lines(outcome.tasks)
    rerun_hash = algorithm.result_hash(
        snapshot_hash=draw.snapshot_hash, roster_hash=draw.roster_hash, seed=draw.seed, lines=rerun_lines
    )
    report.add(
        "result_hash",
        rerun_hash == draw.result_hash,
        "重新运行的结果哈希与存储的一致"
        if rerun_hash == draw.result_hash
        else "重新运行的结果与存储的结果哈希不一致！",
    )
    stored_lines = _stored_lines(draw)
    if stored_lines is not None and stored_lines == rerun_lines:  # the usual case, decided in one query
        differing, n_stored = 0, len(outcome.tasks)
    else:  # compared row by row, to say how many differ (and where the database cannot format the lines)
        stored = _stored_tasks(draw)
        rerun = [(eid, cls, sorted(pairs)) for eid, cls, pairs in outcome.tasks]
        stored_sorted = [(eid, cls, sorted(pairs)) for eid, cls, pairs in stored]
        n_stored = len(stored)
        differing = sum(1 for a, b in zip(stored_sorted, rerun, strict=False) if a != b) + abs(len(stored) - len(rerun))
        if stored_lines is not None:
            differing = max(differing, 1)  # the lines differ (e.g. in the stored positions) though the rows agree
    same = differing == 0
    if same:
        detail = f"存储的 {n_stored} 个检查对象及检查人员与重新运行的结果完全一致"
    else:
        detail = f"存储的抽取结果与重新运行的结果不一致（{differing} 处不同），抽取记录可能被篡改！"
    report.add("tasks", same, detail)
    return report
