"""Every read the credit app makes of inspections, in one place (DESIGN.md §2: inspections is to the left of credit,
so credit may read it; the app is being built alongside this one).

`inspections.selectors` provides `published_results(*, enterprise_ids, start, end)` and
`inspection_statistics(*, regions, start, end)`. Until they exist in the codebase this module answers **empty
results and zeros** (AVAILABLE is False, and every page and report that shows inspection figures says "no inspection
data" rather than pretending to a zero), so certificates, reports and the dashboard work before inspections lands.
The import is lazy and resolved per call: nothing here imports inspections at module load.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from typing import Any

CLASS_KEYS = ("A", "B", "C", "D", "")

# Inspection outcomes (inspections.models.Result.Outcome codes) that are warning causes (credit.warnings).
UNREACHABLE_OUTCOMES = frozenset({"not_reachable"})
ORDER_OUTCOMES = frozenset({"problem"})


def _selectors() -> Any | None:
    try:
        module = importlib.import_module("inspections.selectors")
    except ImportError:
        return None
    return module if hasattr(module, "published_results") else None


def available() -> bool:
    """Whether the inspections app provides its published results (False: the fallback answers)."""
    return _selectors() is not None


@dataclass(frozen=True)
class InspectionFact:
    """A published inspection result as a certificate states it."""

    result_id: int
    enterprise_id: int
    inspected_on: dt.date
    outcome: str
    outcome_label: str
    problem_found: bool
    published_on: dt.date | None
    plan_name: str


def published_results(*, enterprise_ids: list[int] | None = None, start: dt.date, end: dt.date) -> list[InspectionFact]:
    """Published inspection results of these entities inspected in [start, end] (empty without inspections)."""
    module = _selectors()
    if module is None:
        return []
    rows = module.published_results(enterprise_ids=enterprise_ids, start=start, end=end)
    return [
        InspectionFact(
            result_id=row.pk,
            enterprise_id=row.enterprise_id,
            inspected_on=row.inspected_on,
            outcome=str(row.outcome),
            outcome_label=str(row.get_outcome_display()),
            problem_found=bool(row.problem_found),
            published_on=row.published_on,
            plan_name=str(row.plan_name or ""),
        )
        for row in rows
    ]


def empty_statistics() -> dict[str, Any]:
    return {
        "available": False,
        "plans": 0,
        "joint_plans": 0,
        "plans_completed": 0,
        "tasks": 0,
        "tasks_done": 0,
        "entities_inspected": 0,
        "problems_found": 0,
        "problem_rate": None,
        "by_class": {key: {"inspected": 0, "problems": 0, "rate": None} for key in CLASS_KEYS},
    }


def inspection_statistics(*, regions: list[str] | None, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Plans, joint plans, completion, entities inspected and problems found by class (zeros without inspections;
    `available` says which)."""
    module = _selectors()
    if module is None or not hasattr(module, "inspection_statistics"):
        return empty_statistics()
    stats = dict(module.inspection_statistics(regions=regions, start=start, end=end))
    base = empty_statistics()
    base.update(stats)
    by_class = base["by_class"]
    for key in CLASS_KEYS:
        by_class.setdefault(key, {"inspected": 0, "problems": 0, "rate": None})
    # inspections gives rates as fractions (0.142); the reports and the dashboard show percentages (14.2).
    base["problem_rate"] = _percent(base.get("problem_rate"))
    for key in CLASS_KEYS:
        by_class[key]["rate"] = _percent(by_class[key].get("rate")) if by_class[key].get("inspected") else None
    if not base.get("entities_inspected"):
        base["problem_rate"] = None
    base["available"] = True
    return base


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * float(value), 2)
