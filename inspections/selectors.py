"""Reads of the inspections app that are more than a filter: the published results on an entity's public record,
the statistics per county and period (the credit-check/report helpers code against these two), the public plan.

Both contract functions are set-based: one aggregate query per figure group, so they answer at 10^6 entities.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from enterprises.models import Region
from inspections.models import RISK_CLASSES, Plan, Result, Task


def _region_ids(regions: Iterable[Region | str] | None) -> list[str] | None:
    if regions is None:
        return None
    return [r.pk if isinstance(r, Region) else str(r) for r in regions]


def published_results(
    *, enterprise_ids: Iterable[int] | None = None, start: dt.date | None = None, end: dt.date | None = None
) -> QuerySet[Result]:
    """The results shown on the public record (published), inspected within [start, end] when given.

    Each row has enterprise_id, inspected_on, outcome (get_outcome_display()), problem_found, published_on and
    plan_name; ordered by enterprise_id, -inspected_on.
    """
    qs = Result.objects.filter(published_on__isnull=False).annotate(plan_name=F("plan__name"))
    if enterprise_ids is not None:
        qs = qs.filter(enterprise_id__in=list(enterprise_ids))
    if start is not None:
        qs = qs.filter(inspected_on__gte=start)
    if end is not None:
        qs = qs.filter(inspected_on__lte=end)
    return qs.order_by("enterprise_id", "-inspected_on", "-id")


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def inspection_statistics(*, regions: Iterable[Region | str] | None = None, start: dt.date, end: dt.date) -> dict:
    """Plans, tasks, entities inspected and the problem-found rate by risk class (at draw) for a period.

    `regions`: None (whole city) or county Regions/codes; a plan counts for a county if the county's office runs it
    or one of its active tasks is on an entity of that county. Plans count when their planned dates intersect
    [start, end]; tasks are those of these plans (on the counties' entities); results count when inspected within
    [start, end]. Entities are counted distinct (an entity inspected twice is one entity inspected).
    """
    region_ids = _region_ids(regions)
    plans = Plan.objects.filter(planned_start__lte=end, planned_end__gte=start).exclude(status=Plan.Status.DRAFT)
    active_tasks = Task.objects.active()
    if region_ids is not None:
        active_tasks = active_tasks.filter(enterprise__region_id__in=region_ids)
        plans = plans.filter(Q(region_id__in=region_ids) | Exists(active_tasks.filter(plan_id=OuterRef("pk"))))
    open_tasks = Task.objects.filter(plan_id=OuterRef("pk"), status=Task.Status.ASSIGNED)
    any_task = Task.objects.filter(plan_id=OuterRef("pk")).exclude(status=Task.Status.CANCELLED)
    plan_figures = plans.annotate(
        n_departments=Count("items__department", distinct=True),
    ).aggregate(
        plans=Count("pk", distinct=True),
        joint_plans=Count("pk", filter=Q(n_departments__gt=1), distinct=True),
    )
    # Completed: drawn, at least one task, none still open (a second, tiny aggregate: Count over an annotated
    # aggregate cannot share the Exists filters in one SELECT on every backend).
    plans_completed = plans.filter(Exists(any_task)).exclude(Exists(open_tasks)).values("pk").distinct().count()
    task_figures = active_tasks.filter(plan__in=plans.values("pk")).aggregate(
        tasks=Count("pk"), tasks_done=Count("pk", filter=Q(status=Task.Status.DONE))
    )

    results = Result.objects.filter(inspected_on__gte=start, inspected_on__lte=end)
    if region_ids is not None:
        results = results.filter(enterprise__region_id__in=region_ids)
    rows = results.values("task__risk_class").annotate(
        inspected=Count("enterprise_id", distinct=True),
        problems=Count("enterprise_id", filter=Q(problem_found=True), distinct=True),
    )
    totals = results.aggregate(
        inspected=Count("enterprise_id", distinct=True),
        problems=Count("enterprise_id", filter=Q(problem_found=True), distinct=True),
    )
    by_class: dict[str, dict[str, Any]] = {c: {"inspected": 0, "problems": 0, "rate": 0.0} for c in RISK_CLASSES}
    for row in rows:
        cls = row["task__risk_class"] or ""
        by_class[cls] = {
            "inspected": row["inspected"],
            "problems": row["problems"],
            "rate": _rate(row["problems"], row["inspected"]),
        }
    return {
        "plans": plan_figures["plans"] or 0,
        "joint_plans": plan_figures["joint_plans"] or 0,
        "plans_completed": plans_completed,
        "tasks": task_figures["tasks"] or 0,
        "tasks_done": task_figures["tasks_done"] or 0,
        "entities_inspected": totals["inspected"] or 0,
        "problems_found": totals["problems"] or 0,
        "problem_rate": _rate(totals["problems"] or 0, totals["inspected"] or 0),
        "by_class": by_class,
    }


def public_plans() -> QuerySet[Plan]:
    """Plans the public sees: every plan once its seed is committed (the commitment must be public before the draw)."""
    return Plan.objects.public().select_related("region").prefetch_related("items__department")
