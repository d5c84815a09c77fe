"""The demo's inspection records (inspections.demo): rosters in every county, the 2026 plans drawn through the
services and verifiable, results with realistic outcomes, consistent record by record."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.core.management import call_command
from django.db.models import Count

from core.models import User
from inspections.models import AbnormalProposal, CaseLead, Draw, Inspector, Plan, Result, Task, TaskAssignment
from inspections.services.draws import draw_verify

TODAY = dt.date(2026, 11, 25)

pytestmark = pytest.mark.django_db


@pytest.fixture
def population(db):
    call_command(
        "seed_demo", "--enterprises", "4000", "--seed", "2026", "--today", TODAY.isoformat(),
        "--password", "demo-test-2026", stdout=open(os.devnull, "w"),  # noqa: SIM115
    )  # fmt: skip


def test_it_builds_a_roster_in_every_county_with_expired_warrants_and_the_demo_inspector(population):
    per_county = dict(Inspector.objects.values_list("region_id").annotate(n=Count("id")).values_list("region_id", "n"))
    assert len(per_county) == 11 and min(per_county.values()) >= 10
    assert Inspector.objects.filter(warrant_expires_on__lt=TODAY).count() == 11
    assert Inspector.objects.filter(user__username="inspector", region_id="140702").exists()
    # Nobody with an expired warrant, and no declared conflict, was ever assigned.
    assert not TaskAssignment.objects.filter(inspector__warrant_expires_on__lt=TODAY).exists()
    for inspector_id, enterprise_id in Inspector.conflicts.through.objects.values_list("inspector_id", "enterprise_id"):
        assert not TaskAssignment.objects.filter(inspector_id=inspector_id, task__enterprise_id=enterprise_id).exists()


def test_every_plan_is_drawn_revealed_published_and_verifiable(population):
    plans = list(Plan.objects.all())
    assert len(plans) == 12
    joint = Plan.objects.get(region__level="city")
    assert joint.items.values("department").distinct().count() == 2
    for plan in plans:
        assert plan.status == Plan.Status.PUBLISHED
        draw = plan.draws.get(status=Draw.Status.DRAWN)
        assert draw.revealed_at is not None and draw.drawn_at.date() == plan.planned_start
        assert draw.tasks.exists()
    report = draw_verify(draw=joint.draws.get())
    assert report.ok, report.checks
    # Joint plan: 2 inspectors of each department per entity.
    task = Task.objects.filter(plan=joint).first()
    assert sorted(task.assignments.values_list("department__code", flat=True)) == [
        "health", "health", "samr", "samr",
    ]  # fmt: skip


def test_results_have_realistic_outcomes_and_their_consequences(population):
    results = Result.objects.all()
    tasks = Task.objects.count()
    assert 0.7 * tasks <= results.count() < tasks
    rate = results.filter(problem_found=True).count() / results.count()
    assert 0.06 <= rate <= 0.25, rate
    assert CaseLead.objects.count() == results.filter(outcome=Result.Outcome.PROBLEM).count()
    unreachable = results.filter(outcome=Result.Outcome.NOT_REACHABLE)
    assert unreachable.exists()
    assert AbnormalProposal.objects.filter(status="proposed").count() == unreachable.count()
    for result in results.select_related("task")[:200]:
        assert result.task.status == Task.Status.DONE
        assert result.task.assignments.filter(inspector_id=result.recorded_by_id).exists()
        assert result.inspected_on < TODAY and result.inspected_on > result.task.draw.drawn_at.date()
        assert result.published_on is None or result.inspected_on < result.published_on <= result.publication_due
    assert Result.objects.overdue(TODAY).exists()
    assert results.filter(published_on__isnull=False).count() > results.count() / 2


def test_the_demo_inspector_sees_assigned_tasks(population):
    user = User.objects.get(username="inspector")
    assert Task.objects.visible_to(user).exists()
