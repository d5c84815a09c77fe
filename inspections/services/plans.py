"""Plans: their scope over the registry (the object directory, 一单两库), validation before a draw, the preview."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from core.errors import ApplicationError, NotPermitted
from core.models import User
from enterprises.models import Enterprise
from inspections import algorithm
from inspections.models import Plan, Task

# Entities that can be visited: registered and not closed (a 歇业 entity can still be checked at its address).
INSPECTABLE_STATUSES = (Enterprise.Status.OPERATING, Enterprise.Status.SUSPENDED)
MIN_YEARLY_COVERAGE = 0.03  # the plan must reach at least 3 % of the entities in scope per year (DESIGN.md §3.6)


def check_plan_scope(actor: User | None, plan: Plan) -> None:
    """Only regulators act on plans, a county regulator on its own county's plans only."""
    if actor is None or not actor.pk or actor.is_superuser:
        return
    if actor.role not in (User.Role.CITY_REGULATOR, User.Role.COUNTY_REGULATOR):
        raise NotPermitted("只有市、县市场监管部门的监管人员可以管理抽查计划和抽取。", code="not_a_regulator")
    if not actor.is_city_wide and actor.region_code != plan.region_id:
        raise NotPermitted("您只能管理本辖区的抽查计划。", code="out_of_scope")


def scope_queryset(plan: Plan) -> QuerySet[Enterprise]:
    """The entities in the plan's scope, before the frequency cap: the organising county for a county plan,
    narrowed by the plan's regions, industries (section or division), key areas and entity types."""
    qs = Enterprise.objects.filter(status__in=INSPECTABLE_STATUSES)
    if plan.region.level == "county":
        qs = qs.filter(region_id=plan.region_id)
    regions = [r.pk for r in plan.scope_regions.all()]
    if regions:
        qs = qs.filter(region_id__in=regions)
    industries = list(plan.scope_industries.all())
    if industries:
        sections = [i.pk for i in industries if i.section_id is None]
        divisions = [i.pk for i in industries if i.section_id is not None]
        qs = qs.filter(Q(industry_id__in=divisions) | Q(industry__section_id__in=sections))
    key_areas = [k.pk for k in plan.scope_key_areas.all()]
    if key_areas:
        through = Enterprise.key_areas.through
        qs = qs.filter(Exists(through.objects.filter(enterprise_id=OuterRef("pk"), keyarea_id__in=key_areas)))
    if plan.scope_entity_types:
        qs = qs.filter(entity_type__in=plan.scope_entity_types)
    return qs


def capped_out(plan: Plan) -> QuerySet[Task]:
    """Entity ids that already reached the plan's per-year cap in the year's other plans (active tasks)."""
    return (
        Task.objects.active()
        .filter(plan__year=plan.year)
        .exclude(plan_id=plan.pk)
        .values("enterprise_id")
        .annotate(n=Count("id"))
        .filter(n__gte=plan.frequency_cap)
        .values("enterprise_id")
    )


def population_queryset(plan: Plan) -> QuerySet[Enterprise]:
    """The population a draw samples from: the scope minus the entities at the yearly cap."""
    return scope_queryset(plan).exclude(pk__in=capped_out(plan))


def plan_validate(plan: Plan) -> None:
    """The plan can be drawn: items present and in force, ratios inside 0–100 %, dates ordered."""
    plan.full_clean()
    if not plan.pk or not plan.items.exists():
        raise ApplicationError("抽查计划没有抽查事项，请至少选择一项。", code="plan_without_items")
    inactive = list(plan.items.filter(active=False).values_list("code", flat=True))
    if inactive:
        raise ApplicationError(f"抽查事项已停用：{'、'.join(inactive)}。", code="item_inactive")
    for cls in algorithm.STRATA:
        ratio = plan.ratio_for(cls)
        if not 0 <= ratio <= 100:
            raise ApplicationError(f"{cls or '未分类'}类抽查比例 {ratio}% 超出 0%–100%。", code="ratio_out_of_range")


@dataclass
class PlanPreview:
    """What a draw of the plan would yield today, per class, and the year's coverage in scope."""

    scope_total: int = 0
    population_total: int = 0
    by_class: dict[str, dict[str, object]] = field(default_factory=dict)
    expected_total: int = 0
    already_covered: int = 0
    coverage: float = 0.0
    warnings: list[str] = field(default_factory=list)


def plan_preview(*, plan: Plan) -> PlanPreview:
    """Counts per class (one grouped query), expected draws by the documented rounding rule, coverage warning."""
    plan_validate(plan)
    preview = PlanPreview()
    counts = dict(
        population_queryset(plan).values_list("risk_class").annotate(n=Count("id")).values_list("risk_class", "n")
    )
    preview.scope_total = scope_queryset(plan).count()
    for cls in algorithm.STRATA:
        n = counts.get(cls, 0)
        k = algorithm.stratum_size(n, plan.ratio_for(cls))
        preview.by_class[cls] = {"population": n, "ratio": plan.ratio_for(cls), "expected": k}
        preview.population_total += n
        preview.expected_total += k
    if not preview.scope_total:
        preview.warnings.append("计划范围内没有可抽查的经营主体。")
        return preview
    # Already covered this year: entities in scope with an active task of another plan of the same year.
    preview.already_covered = (
        Task.objects.active()
        .filter(plan__year=plan.year, enterprise__in=scope_queryset(plan).values("pk"))
        .exclude(plan_id=plan.pk)
        .values("enterprise_id")
        .distinct()
        .count()
    )
    preview.coverage = (preview.already_covered + preview.expected_total) / preview.scope_total
    if preview.coverage < MIN_YEARLY_COVERAGE:
        preview.warnings.append(
            f"按当前比例，本年度计划范围内的抽查覆盖率约为 {preview.coverage:.1%}，低于 3% 的要求；请提高抽查比例。"
        )
    return preview
