"""Results: who may record them, the 20-working-day publication deadline, case leads, the abnormal proposal,
county scoping, and the selector contract over real data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.errors import ApplicationError, ConflictError, NotPermitted
from disclosure.models import AbnormalListing
from inspections.models import AbnormalProposal, CaseLead, Plan, Result, Task
from inspections.selectors import inspection_statistics, published_results
from inspections.services.draws import draw_commit, draw_execute
from inspections.services.results import (
    proposal_confirm,
    proposal_dismiss,
    publication_due,
    result_publish,
    result_record,
)
from tests.inspections.factories import InspectorFactory, inspector_user, make_plan, make_population

pytestmark = pytest.mark.django_db


@pytest.fixture
def drawn(item, roster):
    make_population({"C": 20, "D": 10})
    plan = make_plan(items=[item], ratio_c=Decimal("50"), ratio_d=Decimal("50"))
    draw = draw_execute(actor=None, draw=draw_commit(actor=None, plan=plan))
    return plan, draw


def _assigned_user(task):
    return inspector_user(task.assignments.first().inspector)


def test_the_deadline_is_20_working_days_across_national_day_2025():
    # 2025-09-26 (Fri): make-up working days 09-28 and 10-11 count, 10-01…10-08 do not → 2025-10-30.
    assert publication_due(dt.date(2025, 9, 26)) == dt.date(2025, 10, 30)
    # Without the holiday it would be four weeks: 2025-10-24.
    assert publication_due(dt.date(2025, 9, 26)) != dt.date(2025, 10, 24)


def test_only_an_assigned_inspector_records_a_result(drawn):
    _plan, draw = drawn
    task = Task.objects.filter(draw=draw).first()
    assigned = {a.inspector_id for a in task.assignments.all()}
    stranger = InspectorFactory(items=list(task.plan.items.all()))
    assert stranger.pk not in assigned
    with pytest.raises(NotPermitted, match="未分派给您"):
        result_record(
            actor=inspector_user(stranger), task=task, outcome="no_problem", inspected_on=timezone.localdate()
        )
    user = _assigned_user(task)
    result = result_record(actor=user, task=task, outcome="no_problem", inspected_on=timezone.localdate())
    assert result.publication_due == publication_due(timezone.localdate())
    task.refresh_from_db()
    assert task.status == Task.Status.DONE


def test_bad_results_are_refused(drawn):
    _plan, draw = drawn
    task = Task.objects.filter(draw=draw).first()
    user = _assigned_user(task)
    today = timezone.localdate()
    with pytest.raises(ApplicationError, match="晚于今天"):
        result_record(actor=user, task=task, outcome="no_problem", inspected_on=today + dt.timedelta(days=1))
    with pytest.raises(ApplicationError, match="早于抽取日期"):
        result_record(actor=user, task=task, outcome="no_problem", inspected_on=today - dt.timedelta(days=30))
    with pytest.raises(ApplicationError, match="未知的检查结果"):
        result_record(actor=user, task=task, outcome="great", inspected_on=today)
    with pytest.raises(ApplicationError, match="情况说明"):
        result_record(actor=user, task=task, outcome="problem", inspected_on=today)


def test_a_published_result_is_frozen_and_shows_on_the_public_record(drawn, city_regulator):
    _plan, draw = drawn
    task = Task.objects.filter(draw=draw).first()
    user = _assigned_user(task)
    evidence = [(SimpleUploadedFile("photo.jpg", b"jpeg-bytes", content_type="image/jpeg"), "现场照片")]
    result = result_record(
        actor=user,
        task=task,
        outcome="problem",
        inspected_on=timezone.localdate(),
        details="未公示许可信息",
        evidence=evidence,
    )
    assert result.evidence.count() == 1
    assert CaseLead.objects.get(result=result).summary == "未公示许可信息"
    assert list(published_results()) == []
    result_publish(actor=city_regulator, result=result)
    with pytest.raises(ConflictError, match="已公示"):
        result_record(actor=user, task=task, outcome="no_problem", inspected_on=timezone.localdate())
    with pytest.raises(ConflictError):
        result_publish(actor=city_regulator, result=result)
    row = published_results(enterprise_ids=[task.enterprise_id]).get()
    assert row.problem_found and row.plan_name == task.plan.name and row.get_outcome_display()
    assert row.published_on == timezone.localdate()
    assert not published_results(start=timezone.localdate() + dt.timedelta(days=1)).exists()


def test_overdue_results_are_flagged(drawn):
    _plan, draw = drawn
    task = Task.objects.filter(draw=draw).first()
    result = result_record(
        actor=_assigned_user(task), task=task, outcome="no_problem", inspected_on=timezone.localdate()
    )
    assert not result.is_overdue and not Result.objects.overdue().exists()
    Result.objects.filter(pk=result.pk).update(publication_due=timezone.localdate() - dt.timedelta(days=1))
    result.refresh_from_db()
    assert result.is_overdue and Result.objects.overdue().get() == result


def test_not_reachable_becomes_an_abnormal_proposal_a_regulator_confirms(
    drawn, county_regulator, other_county_regulator
):
    _plan, draw = drawn
    first, second = Task.objects.filter(draw=draw)[:2]
    for task in (first, second):
        result_record(actor=_assigned_user(task), task=task, outcome="not_reachable", inspected_on=timezone.localdate())
    proposal = AbnormalProposal.objects.get(result__task=first)
    assert proposal.status == AbnormalProposal.Status.PROPOSED
    assert not AbnormalListing.objects.exists()  # a proposal, not a listing
    with pytest.raises(NotPermitted):
        proposal_confirm(actor=other_county_regulator, proposal=proposal)
    listing = proposal_confirm(actor=county_regulator, proposal=proposal)
    assert listing.reason == AbnormalListing.Reason.UNREACHABLE and listing.enterprise_id == first.enterprise_id
    assert listing.cause_date == timezone.localdate()
    proposal.refresh_from_db()
    assert proposal.status == AbnormalProposal.Status.CONFIRMED and proposal.listing == listing
    with pytest.raises(ConflictError):
        proposal_confirm(actor=county_regulator, proposal=proposal)
    other = AbnormalProposal.objects.get(result__task=second)
    with pytest.raises(ApplicationError, match="理由"):
        proposal_dismiss(actor=county_regulator, proposal=other, reason=" ")
    proposal_dismiss(actor=county_regulator, proposal=other, reason="经电话联系，已在登记住所经营")
    assert AbnormalListing.objects.count() == 1


def test_county_scoping(drawn, county_regulator, other_county_regulator, city_regulator):
    plan, draw = drawn
    assert Plan.objects.visible_to(county_regulator).filter(pk=plan.pk).exists()
    assert not Plan.objects.visible_to(other_county_regulator).exists()
    assert Task.objects.visible_to(county_regulator).count() == Task.objects.count()
    assert not Task.objects.visible_to(other_county_regulator).exists()
    assert Task.objects.visible_to(city_regulator).count() == Task.objects.count()
    task = Task.objects.filter(draw=draw).first()
    user = _assigned_user(task)
    assert set(Task.objects.visible_to(user)) == set(Task.objects.filter(assignments__inspector__user=user))
    with pytest.raises(NotPermitted):
        draw_commit(actor=other_county_regulator, plan=plan, redraw_reason="x")


def test_statistics_by_class_and_county(drawn):
    _plan, draw = drawn
    tasks = list(Task.objects.filter(draw=draw).order_by("position"))
    outcomes = ["problem", "no_problem", "no_problem", "problem"] + ["no_problem"] * (len(tasks) - 4)
    for task, outcome in zip(tasks, outcomes, strict=True):
        result_record(
            actor=_assigned_user(task), task=task, outcome=outcome, inspected_on=timezone.localdate(), details="x"
        )
    start, end = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
    stats = inspection_statistics(start=start, end=end)
    assert stats["plans"] == 1 and stats["joint_plans"] == 0 and stats["plans_completed"] == 1
    assert stats["tasks"] == stats["tasks_done"] == len(tasks) == 15
    assert stats["entities_inspected"] == 15 and stats["problems_found"] == 2
    assert stats["problem_rate"] == pytest.approx(2 / 15, abs=1e-4)
    by_class = stats["by_class"]
    assert by_class["C"]["inspected"] == 10 and by_class["D"]["inspected"] == 5
    assert by_class["C"]["problems"] + by_class["D"]["problems"] == 2
    assert inspection_statistics(regions=["140703"], start=start, end=end)["tasks"] == 0
    assert inspection_statistics(regions=["140702"], start=start, end=end)["entities_inspected"] == 15
    assert inspection_statistics(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))["plans"] == 0
