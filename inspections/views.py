"""Public pages of inspections: the plans, one plan (scope, items, ratios, commitment, seed, drawn entities once
published) and the verification of its draw (re-run on request)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from enterprises.views import PUBLIC_MAX_AGE, _base_context
from inspections.models import Draw, Plan, Task
from inspections.selectors import public_plans
from inspections.services.draws import draw_verify

PLANS_PER_PAGE = 50
DRAWN_ROWS_LIMIT = 2000


@require_safe
@cache_control(public=True, max_age=PUBLIC_MAX_AGE)
def plan_list(request: HttpRequest) -> HttpResponse:
    """`/inspections/`: the spot-check plans with a committed seed, newest first."""
    plans = list(public_plans()[:PLANS_PER_PAGE])
    return render(request, "inspections/public/plan_list.html", {**_base_context(), "plans": plans})


def _plan(pk: int) -> Plan:
    return get_object_or_404(public_plans(), pk=pk)


@require_safe
@cache_control(public=True, max_age=PUBLIC_MAX_AGE)
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """`/inspections/<id>/`: scope, items, ratios, every draw's commitment and (once revealed) seed, and the drawn
    entities once the plan's draw is published. Risk classes are never shown (DESIGN.md §3.5)."""
    plan = _plan(pk)
    draws = list(plan.draws.order_by("number"))
    in_force = next((d for d in draws if d.status == Draw.Status.DRAWN), None)
    drawn = []
    if plan.published_on and in_force is not None:
        drawn = list(
            Task.objects.filter(draw=in_force)
            .select_related("enterprise__region")
            .order_by("position")
            .only("position", "enterprise__name", "enterprise__uscc", "enterprise__region__name")[:DRAWN_ROWS_LIMIT]
        )
    context = {
        **_base_context(),
        "plan": plan,
        "items": list(plan.items.select_related("department")),
        "scope_regions": list(plan.scope_regions.all()),
        "scope_industries": list(plan.scope_industries.all()),
        "scope_key_areas": list(plan.scope_key_areas.all()),
        "entity_types": plan.scope_entity_types,
        "draws": draws,
        "in_force": in_force,
        "drawn": drawn,
        "drawn_total": in_force.tasks.count() if drawn else 0,
        "ratios": [
            ("A", plan.ratio_a),
            ("B", plan.ratio_b),
            ("C", plan.ratio_c),
            ("D", plan.ratio_d),
            ("", plan.ratio_unclassified),
        ],
    }
    return render(request, "inspections/public/plan_detail.html", context)


@require_safe
@cache_control(public=True, max_age=PUBLIC_MAX_AGE)
def draw_verification(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """`/inspections/<id>/draws/<n>/verify/`: re-run draw n from its stored snapshot, seed and algorithm version."""
    plan = _plan(pk)
    draw = plan.draws.filter(number=number).first()
    if draw is None:
        raise Http404
    report = draw_verify(draw=draw)
    return render(
        request,
        "inspections/public/verify.html",
        {**_base_context(), "plan": plan, "draw": draw, "report": report},
        status=200,
    )
