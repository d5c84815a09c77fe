"""The draw: exact ratios per class, determinism, verification, the all-or-nothing shortfall, immutability."""

from __future__ import annotations

import datetime as dt
import zlib
from collections import Counter
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.errors import ApplicationError, ConflictError
from core.models import AuditEvent
from inspections import algorithm
from inspections.models import Draw, DrawSnapshot, InspectorConflict, Plan, Task, TaskAssignment
from inspections.services.draws import draw_commit, draw_execute, draw_verify, plan_publish
from inspections.services.plans import plan_preview
from tests.inspections.factories import InspectorFactory, ItemFactory, make_plan, make_population

pytestmark = pytest.mark.django_db


def _draw(plan, actor=None):
    return draw_execute(actor=actor, draw=draw_commit(actor=actor, plan=plan))


def test_it_rounds_half_up_exactly():
    assert algorithm.stratum_size(250, Decimal("1")) == 3  # 2.5 → 3
    assert algorithm.stratum_size(249, Decimal("1")) == 2  # 2.49 → 2
    assert algorithm.stratum_size(1000, Decimal("2.5")) == 25
    assert algorithm.stratum_size(7, Decimal("30")) == 2  # 2.1 → 2
    assert algorithm.stratum_size(5, Decimal("30")) == 2  # 1.5 → 2
    assert algorithm.stratum_size(10, Decimal("100")) == 10
    assert algorithm.stratum_size(10, Decimal("0")) == 0


def test_it_honours_the_ratio_of_every_class(item, roster, city_regulator):
    make_population({"A": 250, "B": 400, "C": 75, "D": 15, "": 49})
    plan = make_plan(items=[item])
    preview = plan_preview(plan=plan)
    assert {c: preview.by_class[c]["expected"] for c in "ABCD"} == {"A": 3, "B": 8, "C": 8, "D": 5}
    assert preview.by_class[""]["expected"] == 1  # 2 % of 49 = 0.98
    draw = _draw(plan, city_regulator)
    drawn = Counter(Task.objects.filter(draw=draw).values_list("risk_class", flat=True))
    assert drawn == {"A": 3, "B": 8, "C": 8, "D": 5, "": 1}
    assert draw.strata["D"] == {"population": 15, "drawn": 5}
    # ≥ 2 inspectors per entity, load spread evenly (25 tasks × 2 over 6 inspectors: 8 or 9 each)
    per_task = Counter(TaskAssignment.objects.filter(task__draw=draw).values_list("task_id", flat=True))
    assert set(per_task.values()) == {2}
    loads = Counter(TaskAssignment.objects.filter(task__draw=draw).values_list("inspector_id", flat=True))
    assert max(loads.values()) - min(loads.values()) <= 1
    assert AuditEvent.objects.filter(action="inspections.draw.execute", object_id=str(draw.pk)).exists()


def test_it_warns_when_the_years_coverage_stays_under_3_percent(item, roster):
    make_population({"B": 300})
    plan = make_plan(items=[item])  # 2 % of B → 6 of 300
    preview = plan_preview(plan=plan)
    assert preview.coverage == pytest.approx(0.02)
    assert any("低于 3%" in w for w in preview.warnings)
    plan.ratio_b = Decimal("3")
    assert not plan_preview(plan=plan).warnings


def _population(n=2000):
    rows = []
    for i in range(1, n + 1):
        rows.append((i, "ABCD"[i % 4]))
    return rows


def test_same_seed_and_snapshot_give_the_same_draw_and_another_seed_another():
    kwargs = {
        "population": _population(),
        "ratios": {"A": Decimal(1), "B": Decimal(2), "C": Decimal(10), "D": Decimal(30), "": Decimal(2)},
        "departments": {1: [10, 11, 12, 13], 2: [20, 21, 22]},
        "conflicts": {(10, 4), (20, 8)},
    }
    seed = "ab" * 32
    first = algorithm.run(seed=seed, **kwargs)
    again = algorithm.run(seed=seed, **kwargs)
    other = algorithm.run(seed="cd" * 32, **kwargs)
    assert first.tasks == again.tasks
    assert [t[0] for t in first.tasks] != [t[0] for t in other.tasks]
    assert all(len([p for p in pairs if p[0] == d]) == 2 for _e, _c, pairs in first.tasks for d in (1, 2))


def test_it_refuses_a_plan_without_items_or_with_an_empty_scope(item, roster):
    plan = make_plan(items=[])
    with pytest.raises(ApplicationError, match="没有抽查事项"):
        draw_commit(actor=None, plan=plan)
    plan = make_plan(items=[item], name="空范围")
    draw = draw_commit(actor=None, plan=plan)
    with pytest.raises(ApplicationError, match="没有可抽查的经营主体"):
        draw_execute(actor=None, draw=draw)


@pytest.mark.parametrize("value", [Decimal("-1"), Decimal("100.01"), Decimal("250")])
def test_it_refuses_a_ratio_outside_0_to_100(item, value):
    plan = make_plan(items=[item])
    plan.ratio_c = value
    with pytest.raises(ValidationError):
        plan.full_clean()


def test_a_shortfall_of_inspectors_names_it_and_draws_nothing(item):
    make_population({"D": 20})
    InspectorFactory(items=[item])
    InspectorFactory(items=[item], warrant_expires_on=dt.date(2026, 6, 30))  # expired: never drawn
    plan = make_plan(items=[item])
    draw = draw_commit(actor=None, plan=plan)
    with pytest.raises(ApplicationError) as exc:
        draw_execute(actor=None, draw=draw)
    assert "只有 1 名" in exc.value.message and "缺 1 名" in exc.value.message
    assert exc.value.code == "inspector_shortfall"
    assert not Task.objects.exists() and not DrawSnapshot.objects.exists()
    draw.refresh_from_db()
    assert draw.status == Draw.Status.COMMITTED and draw.drawn_at is None


def test_joint_plans_draw_inspectors_per_department(item, roster):
    other = ItemFactory(department__code="health", department__name="市卫生健康委员会")
    health = [InspectorFactory(items=[other], department=other.department) for _ in range(3)]
    make_population({"C": 30})
    plan = make_plan(items=[item, other])
    draw = _draw(plan)
    for task in Task.objects.filter(draw=draw):
        depts = Counter(task.assignments.values_list("department_id", flat=True))
        assert depts == {item.department_id: 2, other.department_id: 2}
    assert set(TaskAssignment.objects.filter(department=other.department).values_list("inspector", flat=True)) <= {
        i.pk for i in health
    }


def test_verification_confirms_and_detects_a_changed_snapshot_or_a_tampered_draw(item, roster):
    make_population({"B": 200, "C": 40, "D": 10})
    plan = make_plan(items=[item])
    draw = _draw(plan)
    assert draw_verify(draw=draw).ok

    # A changed snapshot: another entity list under the same hash.
    snap = DrawSnapshot.objects.get(draw=draw)
    original = bytes(snap.population)
    lines = zlib.decompress(original).decode().splitlines()
    DrawSnapshot.objects.filter(pk=snap.pk).update(population=zlib.compress("\n".join(lines[1:]).encode() + b"\n"))
    report = draw_verify(draw=draw)
    assert not report.ok
    assert any(name == "snapshot" and not passed for name, passed, _ in report.checks)
    DrawSnapshot.objects.filter(pk=snap.pk).update(population=original)
    assert draw_verify(draw=draw).ok

    # A tampered stored draw: one drawn entity swapped for another.
    task = Task.objects.filter(draw=draw).first()
    outsider = make_population({"B": 1}, start=9000)[0]
    Task.objects.filter(pk=task.pk).update(enterprise=outsider)
    report = draw_verify(draw=draw)
    assert not report.ok
    assert any(name == "tasks" and not passed for name, passed, _ in report.checks)
    Task.objects.filter(pk=task.pk).update(enterprise=task.enterprise)

    # A tampered assignment and a tampered seed are caught as well.
    assignment = TaskAssignment.objects.filter(task__draw=draw).first()
    spare = InspectorFactory(items=[item])
    TaskAssignment.objects.filter(pk=assignment.pk).update(inspector=spare)
    assert not draw_verify(draw=draw).ok
    TaskAssignment.objects.filter(pk=assignment.pk).update(inspector=assignment.inspector)
    Draw.objects.filter(pk=draw.pk).update(seed="00" * 32)
    report = draw_verify(draw=draw)
    assert not report.ok and any(name == "commitment" and not passed for name, passed, _ in report.checks)


def test_a_draw_is_immutable_and_a_redraw_is_audited_with_a_reason(item, roster, city_regulator):
    make_population({"C": 50})
    plan = make_plan(items=[item])
    draw = _draw(plan, city_regulator)
    draw.seed = "ff" * 32
    with pytest.raises(ValidationError, match="不可更改"):
        draw.save()
    with pytest.raises(ValidationError):
        Draw.objects.get(pk=draw.pk).delete()
    with pytest.raises(ApplicationError, match="理由"):
        draw_commit(actor=city_regulator, plan=plan)
    redraw = draw_commit(actor=city_regulator, plan=plan, redraw_reason="抽中的检查人员集体回避")
    with pytest.raises(ConflictError):
        draw_commit(actor=city_regulator, plan=plan, redraw_reason="again")
    redraw = draw_execute(actor=city_regulator, draw=redraw)
    draw.refresh_from_db()
    assert draw.status == Draw.Status.SUPERSEDED and redraw.redraw_of_id == draw.pk
    assert not Task.objects.filter(draw=draw).exclude(status=Task.Status.CANCELLED).exists()
    assert AuditEvent.objects.filter(action="inspections.draw.supersede", note="抽中的检查人员集体回避").exists()
    assert draw_verify(draw=draw).ok and draw_verify(draw=redraw).ok


def test_the_commitment_is_public_before_and_the_seed_after(item, roster):
    make_population({"C": 20})
    plan = make_plan(items=[item])
    draw = draw_commit(actor=None, plan=plan)
    assert draw.public_seed == "" and draw.commitment == algorithm.commitment_of(draw.seed)
    draw = draw_execute(actor=None, draw=draw)
    assert draw.public_seed == draw.seed
    plan = plan_publish(actor=None, plan=plan)
    assert plan.status == Plan.Status.PUBLISHED


def test_conflicted_inspectors_are_skipped(item):
    ents = make_population({"D": 10})
    inspectors = [InspectorFactory(items=[item]) for _ in range(3)]
    for e in ents:
        InspectorConflict.objects.create(inspector=inspectors[0], enterprise=e, reason="亲属")
    plan = make_plan(items=[item], ratio_d=Decimal("100"))
    draw = _draw(plan)
    assert not TaskAssignment.objects.filter(task__draw=draw, inspector=inspectors[0]).exists()
    assert Task.objects.filter(draw=draw).count() == 10


@pytest.mark.parametrize(("ratio", "message"), [("-1", "抽查比例不能小于 0%。"), ("100.5", "抽查比例不能大于 100%。")])
def test_a_ratio_outside_0_to_100_percent_is_a_message_not_a_crash(item, ratio, message):
    plan = make_plan(items=[item])
    plan.ratio_c = Decimal(ratio)
    with pytest.raises(ValidationError) as refused:
        plan.full_clean()
    assert refused.value.message_dict["ratio_c"] == [message]
