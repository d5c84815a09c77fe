"""The draw's fast paths give the canonical result, and its set-based reference check (tasks and assignments carry
no database FK constraints, migration 0004) refuses loudly, all or nothing."""

from __future__ import annotations

import random
import zlib
from decimal import Decimal

import pytest
from django.db.models import ProtectedError

from core.errors import ApplicationError
from inspections import algorithm
from inspections.models import Draw, DrawSnapshot, Inspector, Task, TaskAssignment
from inspections.services import draws
from inspections.services.draws import draw_commit, draw_execute, draw_verify
from inspections.services.plans import population_queryset
from tests.inspections.factories import InspectorFactory, make_plan, make_population

pytestmark = pytest.mark.django_db

RATIOS = {"A": Decimal("1"), "B": Decimal("2"), "C": Decimal("10"), "D": Decimal("30"), "": Decimal("2")}


def _draw(plan):
    return draw_execute(actor=None, draw=draw_commit(actor=None, plan=plan))


def test_the_snapshot_strata_are_those_of_the_parsed_snapshot():
    rng = random.Random(4)
    ids = sorted(rng.sample(range(1, 50_000), 5_000))
    rows = [(i, rng.choice(["A", "B", "C", "D", ""])) for i in ids]
    data = algorithm.population_bytes(rows)
    strata, size = algorithm.snapshot_strata(data)
    assert size == len(rows)
    assert {c: [int(i) for i in v] for c, v in strata.items()} == algorithm.strata_of(rows)
    kwargs = {"ratios": RATIOS, "departments": {1: list(range(10, 30))}, "conflicts": {(10, ids[3])}, "seed": "ab" * 32}
    assert algorithm.run(strata=strata, **kwargs).tasks == algorithm.run(population=rows, **kwargs).tasks
    # A class the fast path cannot read (outside A–D, or holding a comma) takes the row-by-row path, same answer.
    for odd in ([(1, "A"), (2, "X"), (3, "")], [(1, "A"), (2, ","), (3, "D")]):
        strata, size = algorithm.snapshot_strata(algorithm.population_bytes(odd))
        assert size == 3 and {c: [int(i) for i in v] for c, v in strata.items()} == algorithm.strata_of(odd)
    assert algorithm.snapshot_strata(b"") == ({c: [] for c in algorithm.STRATA}, 0)


def test_the_population_snapshot_is_byte_identical_to_the_canonical_lines(item):
    make_population({"A": 30, "B": 20, "": 7, "D": 5})
    plan = make_plan(items=[item])
    rows = population_queryset(plan).order_by("pk").values_list("pk", "risk_class")
    assert draws._population(plan) == algorithm.population_bytes(rows)


def test_a_draw_of_the_fast_path_verifies_and_stores_what_it_hashed(item, roster):
    make_population({"A": 120, "B": 60, "C": 40, "D": 10, "": 20})
    plan = make_plan(items=[item])
    draw = _draw(plan)
    snap = DrawSnapshot.objects.get(draw=draw)
    assert algorithm.sha256_hex(zlib.decompress(bytes(snap.population))) == draw.snapshot_hash
    assert draw.snapshot_size == 250
    assert Task.objects.filter(draw=draw).count() == sum(s["drawn"] for s in draw.strata.values())
    assert list(Task.objects.filter(draw=draw).values_list("position", flat=True)) == list(range(draw.tasks.count()))
    report = draw_verify(draw=draw)
    assert report.ok, report.checks


@pytest.mark.parametrize("missing", ["inspector", "enterprise"])
def test_a_draw_referencing_a_row_that_does_not_exist_fails_loudly_and_writes_nothing(
    item, roster, monkeypatch, missing
):
    entities = make_population({"D": 10})
    plan = make_plan(items=[item], ratio_d=Decimal("100"))
    ghost = 10**9
    if missing == "inspector":
        real = draws._eligible_roster

        def roster_with_a_ghost(plan):
            departments, conflicts, names = real(plan)
            return {d: [*pool, ghost] for d, pool in departments.items()}, conflicts, names

        monkeypatch.setattr(draws, "_eligible_roster", roster_with_a_ghost)
    else:
        real_population = draws._population
        monkeypatch.setattr(draws, "_population", lambda plan: real_population(plan) + f"{ghost},D\n".encode())
    draw = draw_commit(actor=None, plan=plan)
    with pytest.raises(ApplicationError) as refused:
        draw_execute(actor=None, draw=draw)
    assert refused.value.code == "draw_reference_missing"
    assert str(ghost) in refused.value.message and "未进行抽取" in refused.value.message
    assert refused.value.extra["missing"] == [ghost]
    assert not Task.objects.exists() and not TaskAssignment.objects.exists() and not DrawSnapshot.objects.exists()
    draw.refresh_from_db()
    assert draw.status == Draw.Status.COMMITTED and draw.drawn_at is None
    assert len(entities) == 10


def test_a_written_count_that_differs_from_the_outcome_fails_loudly(item, roster, monkeypatch):
    make_population({"D": 10})
    plan = make_plan(items=[item], ratio_d=Decimal("100"))
    rows = "AS a(task_id, inspector_id, department_id)"
    assert rows in draws._WRITE_SQL
    # A statement that loses the assignments of one task: the counts written no longer match the outcome.
    lossy = f"{rows} WHERE a.task_id <> (SELECT min(x) FROM unnest(%(ids)s::bigint[]) AS x)"
    monkeypatch.setattr(draws, "_WRITE_SQL", draws._WRITE_SQL.replace(rows, lossy))
    draw = draw_commit(actor=None, plan=plan)
    with pytest.raises(ApplicationError) as refused:
        draw_execute(actor=None, draw=draw)
    assert refused.value.code == "draw_write_mismatch"
    assert "10/18" in refused.value.message and "10/20" in refused.value.message
    assert not Task.objects.exists() and not TaskAssignment.objects.exists()


def test_an_assigned_inspector_cannot_be_deleted(item, roster):
    make_population({"D": 10})
    plan = make_plan(items=[item], ratio_d=Decimal("100"))
    draw = _draw(plan)
    assigned = Inspector.objects.filter(assignments__task__draw=draw).first()
    with pytest.raises(ProtectedError):
        assigned.delete()
    unassigned = InspectorFactory(items=[item])
    unassigned.delete()  # nothing refers to it


def test_verification_detects_an_added_assignment_and_a_renumbered_task(item, roster):
    make_population({"C": 40, "D": 10})
    plan = make_plan(items=[item])
    draw = _draw(plan)
    assert draw_verify(draw=draw).ok
    task = Task.objects.filter(draw=draw).order_by("position").last()
    spare = next(i for i in roster if not task.assignments.filter(inspector=i).exists())
    extra = TaskAssignment.objects.create(task=task, inspector=spare, department=item.department)
    report = draw_verify(draw=draw)
    assert any(name == "tasks" and not passed for name, passed, _ in report.checks)
    extra.delete()
    assert draw_verify(draw=draw).ok
    Task.objects.filter(pk=task.pk).update(position=task.position + 1000)  # same order, other position
    report = draw_verify(draw=draw)
    assert not report.ok
    assert any(name == "tasks" and not passed and "1 处不同" in detail for name, passed, detail in report.checks)
