"""The indicator "double-random inspection findings" (inspection_problems) on hand-made entities (DESIGN.md §3.5:
inspection findings are supervision facts of the risk model), and the 2026.2 default model that adds it."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from credit import services
from credit.defaults import DEFAULT_CODE, DEFAULT_SPEC, INITIAL_CODE, INITIAL_SPEC
from credit.models import ModelVersion, RiskResult
from credit.rules import validate_spec
from credit.selectors import explanation_of
from enterprises.models import Enterprise
from inspections.models import Draw, Result, Task
from tests.credit.helpers import AS_OF, DAY, clean_entity, features, live_version
from tests.inspections.factories import InspectorFactory, ItemFactory, make_plan

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def inspection_result(
    enterprise: Enterprise,
    *,
    outcome: str = Result.Outcome.PROBLEM,
    inspected_on: dt.date = dt.date(2026, 5, 10),
    published_on: dt.date | None = dt.date(2026, 5, 20),
    stopped_on: dt.date | None = None,
) -> Result:
    """One result of a drawn task on `enterprise`, written as the inspections services leave it."""
    n = next(_numbers)
    item = ItemFactory()
    year = inspected_on.year
    plan = make_plan(
        items=[item],
        name=f"抽查计划{n}",
        year=year,
        planned_start=dt.date(year, 1, 1),
        planned_end=dt.date(year, 12, 31),
    )
    draw = Draw.objects.create(plan=plan, number=1, commitment="c" * 64, seed="s" * 64, status=Draw.Status.DRAWN)
    task = Task.objects.create(draw=draw, plan=plan, enterprise=enterprise, position=0, status=Task.Status.DONE)
    return Result.objects.create(
        task=task,
        plan=plan,
        enterprise=enterprise,
        inspected_on=inspected_on,
        outcome=outcome,
        recorded_by=InspectorFactory(items=[item]),
        publication_due=inspected_on + dt.timedelta(days=28),
        published_on=published_on,
        publication_stopped_on=stopped_on,
    )


def test_a_published_problem_result_counts():
    enterprise = clean_entity()
    inspection_result(enterprise)
    assert features(enterprise)["inspection_problems"] == 1


def test_every_problem_counts_and_the_points_stop_at_the_cap_of_two():
    enterprise = clean_entity()
    for day in (dt.date(2024, 6, 1), dt.date(2025, 6, 1), dt.date(2026, 6, 1)):
        inspection_result(enterprise, inspected_on=day, published_on=day + 10 * DAY)
    row = features(enterprise)
    assert row["inspection_problems"] == 3
    model = validate_spec(DEFAULT_SPEC)
    _cls, _score, contributions, _rule = model.classify(row)
    assert contributions["inspection_problems"] == [3, 60]  # 3 counted, points for at most 2 × 30


@pytest.mark.parametrize(
    "outcome",
    [Result.Outcome.NO_PROBLEM, Result.Outcome.NOT_REACHABLE, Result.Outcome.REFUSED, Result.Outcome.CLOSED],
)
def test_other_outcomes_do_not_count(outcome):
    enterprise = clean_entity()
    inspection_result(enterprise, outcome=outcome)
    assert features(enterprise)["inspection_problems"] == 0


def test_an_unpublished_result_or_one_published_after_the_run_day_does_not_count():
    enterprise = clean_entity()
    inspection_result(enterprise, published_on=None)
    inspection_result(enterprise, inspected_on=AS_OF - 3 * DAY, published_on=AS_OF + DAY)
    assert features(enterprise)["inspection_problems"] == 0
    assert features(enterprise, as_of=AS_OF + DAY)["inspection_problems"] == 1


def test_a_result_whose_publication_was_stopped_by_a_repair_does_not_count_from_that_day():
    enterprise = clean_entity()
    inspection_result(enterprise, stopped_on=AS_OF - 5 * DAY)
    assert features(enterprise)["inspection_problems"] == 0
    # Before the stop it was on the public record and counted.
    assert features(enterprise, as_of=AS_OF - 6 * DAY)["inspection_problems"] == 1


def test_a_problem_older_than_three_years_does_not_count():
    enterprise = clean_entity()
    inspection_result(enterprise, inspected_on=dt.date(2023, 11, 22), published_on=dt.date(2023, 12, 1))
    assert features(enterprise)["inspection_problems"] == 0
    inspection_result(enterprise, inspected_on=dt.date(2023, 11, 23), published_on=dt.date(2023, 12, 1))
    assert features(enterprise)["inspection_problems"] == 1


def test_the_explanation_names_the_finding_and_its_points_add_up_to_the_score():
    enterprise = clean_entity()
    inspection_result(enterprise)
    services.reclassify(as_of=AS_OF)
    result = RiskResult.objects.get(enterprise=enterprise)
    assert result.contributions["inspection_problems"] == [1, 30]
    assert (result.risk_class, result.score) == ("B", 0)  # A (−30) moved to B by one finding
    explanation = explanation_of(result)
    assert "近 3 年双随机抽查发现问题 1 次 +30" in explanation.text
    assert sum(line.points for line in explanation.lines) == result.score


def test_the_default_model_2026_2_is_live_and_supersedes_2026_1():
    live = live_version()
    assert (live.code, live.spec) == (DEFAULT_CODE, DEFAULT_SPEC)
    initial = ModelVersion.objects.get(code=INITIAL_CODE)
    assert (initial.status, live.supersedes_id) == (ModelVersion.Status.SUPERSEDED, initial.pk)
    assert initial.spec == INITIAL_SPEC
    added = {i["code"] for i in DEFAULT_SPEC["indicators"]} - {i["code"] for i in INITIAL_SPEC["indicators"]}
    assert added == {"inspection_problems"}
