"""Writes of 一单两库 and of plan settings: items, inspectors (qualifications, conflicts), plans. Each is audited.

A plan's settings (items, scope, ratios, cap, dates) can be changed only while it is a draft: once the seed's
commitment is public, changing what the draw samples would let the operator steer the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from core.audit import audit_log, diff, snapshot
from core.errors import ApplicationError, ConflictError, NotPermitted
from core.models import User
from enterprises.models import Enterprise
from inspections.models import InspectionItem, Inspector, InspectorConflict, Plan
from inspections.services.plans import check_plan_scope

ITEM_FIELDS = ["code", "name", "department_id", "legal_basis", "kind", "active"]
INSPECTOR_FIELDS = ["name", "department_id", "region_id", "warrant_number", "warrant_expires_on", "active", "user_id"]
PLAN_FIELDS = [
    "name", "year", "region_id", "scope_entity_types", "ratio_a", "ratio_b", "ratio_c", "ratio_d",
    "ratio_unclassified", "frequency_cap", "planned_start", "planned_end",
]  # fmt: skip
PLAN_M2M = ("items", "scope_regions", "scope_industries", "scope_key_areas")


def _stored(instance, fields: list[str]) -> dict[str, Any]:
    if instance.pk is None:
        return {}
    return snapshot(type(instance).objects.get(pk=instance.pk), fields)


def _check_regulator(actor: User | None) -> None:
    if actor is None or not actor.pk or actor.is_superuser:
        return
    if actor.role not in (User.Role.CITY_REGULATOR, User.Role.COUNTY_REGULATOR):
        raise NotPermitted("只有市、县市场监管部门的监管人员可以维护抽查事项清单。", code="not_a_regulator")


def _check_roster_scope(actor: User | None, region_id: str | None) -> None:
    if actor is None or not actor.pk or actor.is_superuser or actor.is_city_wide:
        return
    if actor.role != User.Role.COUNTY_REGULATOR:
        raise NotPermitted("只有市、县市场监管部门的监管人员可以维护检查人员名录。", code="not_a_regulator")
    if region_id != actor.region_code:
        raise NotPermitted("您只能维护本辖区的检查人员。", code="out_of_scope")


@transaction.atomic
def item_save(*, actor: User | None, item: InspectionItem) -> InspectionItem:
    """Create or update an item of the list (the item list is city-wide: any regulator keeps it)."""
    _check_regulator(actor)
    before = _stored(item, ITEM_FIELDS)
    created = item.pk is None
    item.full_clean()
    item.save()
    old, new = diff(before, snapshot(item, ITEM_FIELDS))
    if created or old or new:
        action = "inspections.item.create" if created else "inspections.item.update"
        audit_log(actor=actor, action=action, obj=item, before=old, after=new)
    return item


@transaction.atomic
def inspector_save(
    *, actor: User | None, inspector: Inspector, qualifications: Iterable[InspectionItem] | None = None
) -> Inspector:
    """Create or update an inspector of the roster (a county regulator: its own county's inspectors only)."""
    if inspector.pk is not None:
        stored_region = Inspector.objects.filter(pk=inspector.pk).values_list("region_id", flat=True).first()
        _check_roster_scope(actor, stored_region)
    _check_roster_scope(actor, inspector.region_id)
    before = _stored(inspector, INSPECTOR_FIELDS)
    before_items = sorted(inspector.qualifications.values_list("code", flat=True)) if inspector.pk else []
    created = inspector.pk is None
    inspector.full_clean()
    inspector.save()
    if qualifications is not None:
        inspector.qualifications.set(list(qualifications))
    after_items = sorted(inspector.qualifications.values_list("code", flat=True))
    old, new = diff(before, snapshot(inspector, INSPECTOR_FIELDS))
    if before_items != after_items:
        old["qualifications"], new["qualifications"] = before_items, after_items
    if created or old or new:
        action = "inspections.inspector.create" if created else "inspections.inspector.update"
        audit_log(actor=actor, action=action, obj=inspector, before=old, after=new)
    return inspector


@transaction.atomic
def conflict_declare(
    *, actor: User | None, inspector: Inspector, enterprise: Enterprise, reason: str
) -> InspectorConflict:
    """Record a conflict of interest (回避) the inspector declared with a named entity: by the inspector themself
    or by a regulator of the inspector's county."""
    if actor is None or not actor.pk or inspector.user_id != actor.pk:
        _check_roster_scope(actor, inspector.region_id)
    if not reason.strip():
        raise ApplicationError("申报回避须说明理由。", code="reason_required")
    if InspectorConflict.objects.filter(inspector=inspector, enterprise=enterprise).exists():
        raise ConflictError(f"{inspector} 与 {enterprise.name} 的回避关系已申报。", code="conflict_exists")
    conflict = InspectorConflict(inspector=inspector, enterprise=enterprise, reason=reason.strip())
    conflict.full_clean()
    conflict.save()
    audit_log(
        actor=actor,
        action="inspections.conflict.declare",
        obj=conflict,
        after={"inspector_id": inspector.pk, "enterprise_id": enterprise.pk, "reason": conflict.reason},
    )
    return conflict


def _m2m_state(plan: Plan) -> dict[str, list[Any]]:
    if plan.pk is None:
        return {name: [] for name in PLAN_M2M}
    return {name: sorted(getattr(plan, name).values_list("pk", flat=True)) for name in PLAN_M2M}


@transaction.atomic
def plan_save(*, actor: User | None, plan: Plan, relations: dict[str, Iterable[Any]] | None = None) -> Plan:
    """Create or update a draft plan; `relations` sets items and the scope (regions, industries, key areas).

    Refused once the seed is committed (the public commitment covers what the draw samples).
    """
    created = plan.pk is None
    if not created:
        stored = Plan.objects.select_for_update().get(pk=plan.pk)
        check_plan_scope(actor, stored)
        if stored.status != Plan.Status.DRAFT:
            raise ConflictError(
                "随机种子承诺值已公布，计划的事项、范围、比例和日期不能再修改；如需调整，请新建计划。",
                code="plan_not_draft",
            )
    check_plan_scope(actor, plan)
    if created and actor is not None and actor.pk and plan.created_by_id is None:
        plan.created_by = actor
    before = {**_stored(plan, PLAN_FIELDS), **_m2m_state(plan)} if not created else {}
    plan.full_clean()
    plan.save()
    for name, values in (relations or {}).items():
        if name not in PLAN_M2M:
            raise ValueError(f"unknown plan relation {name!r}")
        getattr(plan, name).set(list(values))
    old, new = diff(before, {**snapshot(plan, PLAN_FIELDS), **_m2m_state(plan)})
    if created or old or new:
        action = "inspections.plan.create" if created else "inspections.plan.update"
        audit_log(actor=actor, action=action, obj=plan, before=old, after=new)
    return plan
