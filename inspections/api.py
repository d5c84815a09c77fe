"""REST API of double-random inspections (/api/v1/inspections/): the item list and the roster (read), plans (read;
regulators create and change drafts, preview, commit, draw, reveal, publish, redraw), the inspector's own tasks and
the results (an assigned inspector records one); case leads and abnormal-list proposals (read, regulators only).
Every write goes through inspections.services with the same rules as the admin; refusals are the structured errors
of core.api.exception_handler. Another county's record is a 404.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ApplicationError, NotPermitted
from core.models import User
from enterprises.models import Industry, KeyArea, Region
from inspections.filters import (
    AbnormalProposalFilter,
    CaseLeadFilter,
    InspectionItemFilter,
    InspectorFilter,
    PlanFilter,
    ResultFilter,
    TaskFilter,
)
from inspections.forms import RATIO_FIELDS
from inspections.models import AbnormalProposal, CaseLead, Draw, InspectionItem, Inspector, Plan, Result, Task
from inspections.serializers import (
    AbnormalProposalSerializer,
    CaseLeadSerializer,
    DrawInputSerializer,
    InspectionItemSerializer,
    InspectorSerializer,
    PlanInputSerializer,
    PlanPreviewSerializer,
    PlanSerializer,
    RedrawReasonInputSerializer,
    ResultInputSerializer,
    ResultSerializer,
    TaskSerializer,
)
from inspections.services import catalogue, draws, plans, results


class CanView(permissions.BasePermission):
    """The role's model permission to view the listed model (staff roles; not entity or anonymous accounts)."""

    message = "该账户无权查询抽查数据。"

    def has_permission(self, request: Request, view: APIView) -> bool:
        model = view.get_queryset().model
        return bool(request.user and request.user.is_authenticated) and request.user.has_perm(
            f"{model._meta.app_label}.view_{model._meta.model_name}"
        )


class RegulatorCanView(CanView):
    """CanView, for regulators only (city or county; a county regulator sees its own county's records)."""

    message = "只有市、县市场监管部门的监管人员可以查询案件线索和列入经营异常名录建议。"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        regulator = bool(user and user.is_authenticated) and (
            user.is_superuser or user.role in (User.Role.CITY_REGULATOR, User.Role.COUNTY_REGULATOR)
        )
        return regulator and super().has_permission(request, view)


class InspectionItemViewSet(viewsets.ReadOnlyModelViewSet):
    """The spot-check item list (抽查事项清单), city-wide."""

    serializer_class = InspectionItemSerializer
    filterset_class = InspectionItemFilter
    permission_classes = [CanView]

    def get_queryset(self):
        return InspectionItem.objects.select_related("department").order_by("department__code", "code")


class InspectorViewSet(viewsets.ReadOnlyModelViewSet):
    """The inspector roster of the user's county (the whole city for city-wide roles)."""

    serializer_class = InspectorSerializer
    filterset_class = InspectorFilter
    permission_classes = [CanView]

    def get_queryset(self):
        return (
            Inspector.objects.visible_to(self.request.user)
            .select_related("department")
            .prefetch_related("qualifications", "conflicts")
            .order_by("department__code", "warrant_number")
        )


def _codes(model, values: list[str], label: str, field: str = "pk") -> list[Any]:
    values = list(dict.fromkeys(values))
    found = list(model.objects.filter(**{f"{field}__in": values}))
    if len(found) != len(values):
        known = {str(getattr(obj, field)) for obj in found}
        missing = [v for v in values if v not in known]
        raise ApplicationError(f"{label}不存在：{'、'.join(missing)}", code="unknown_reference")
    return found


class PlanViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Plans of the user's county; regulators manage drafts and run the draw."""

    serializer_class = PlanSerializer
    filterset_class = PlanFilter
    permission_classes = [CanView]

    def get_queryset(self):
        return (
            Plan.objects.visible_to(self.request.user)
            .prefetch_related("items", "scope_regions", "scope_industries", "scope_key_areas", "draws")
            .order_by("-year", "-planned_start", "-id")
        )

    def _answer(self, plan: Plan, code: int = status.HTTP_200_OK) -> Response:
        return Response(PlanSerializer(self.get_queryset().get(pk=plan.pk)).data, status=code)

    def _save(self, request: Request, plan: Plan, partial: bool) -> Plan:
        data = PlanInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "region" in values:
            plan.region = _codes(Region, [values["region"]], "组织机关区划")[0]
        for name in ("name", "year", "scope_entity_types", *RATIO_FIELDS, "frequency_cap", "planned_start",
                     "planned_end"):  # fmt: skip
            if name in values:
                setattr(plan, name, values[name])
        relations: dict[str, list] = {}
        if "items" in values:
            relations["items"] = _codes(InspectionItem, values["items"], "抽查事项", "code")
        if "scope_regions" in values and (values["scope_regions"] or not partial):
            relations["scope_regions"] = _codes(Region, values["scope_regions"], "范围区划")
        if "scope_industries" in values and (values["scope_industries"] or not partial):
            relations["scope_industries"] = _codes(Industry, values["scope_industries"], "范围行业")
        if "scope_key_areas" in values and (values["scope_key_areas"] or not partial):
            relations["scope_key_areas"] = _codes(KeyArea, values["scope_key_areas"], "重点领域")
        return catalogue.plan_save(actor=request.user, plan=plan, relations=relations)

    @extend_schema(request=PlanInputSerializer, responses={201: PlanSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Create a draft plan (ratios default to A 1 %, B 2 %, C 10 %, D 30 %)."""
        with transaction.atomic():
            plan = self._save(request, Plan(), partial=False)
        return self._answer(plan, status.HTTP_201_CREATED)

    @extend_schema(request=PlanInputSerializer, responses=PlanSerializer)
    def update(self, request: Request, *args, **kwargs) -> Response:
        """Change a draft plan (refused once its seed is committed)."""
        plan = self.get_object()
        with transaction.atomic():
            plan = self._save(request, plan, partial=kwargs.get("partial", False))
        return self._answer(plan)

    @extend_schema(responses=PlanPreviewSerializer)
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        """What a draw would yield today per class and the year's coverage in scope (warning under 3 %)."""
        plan = self.get_object()
        plans.check_plan_scope(request.user, plan)
        preview = plans.plan_preview(plan=plan)
        body = {
            **{k: getattr(preview, k) for k in ("scope_total", "population_total", "expected_total")},
            "already_covered": preview.already_covered,
            "coverage": round(preview.coverage, 4),
            "warnings": preview.warnings,
            "by_class": [{"risk_class": cls, **figures} for cls, figures in preview.by_class.items()],
        }
        return Response(PlanPreviewSerializer(body).data)

    @extend_schema(request=None, responses={201: PlanSerializer})
    @action(detail=True, methods=["post"])
    def commit(self, request: Request, pk: str | None = None) -> Response:
        """Generate the seed and publish its SHA-256 commitment."""
        plan = draws.draw_commit(actor=request.user, plan=self.get_object()).plan
        return self._answer(plan, status.HTTP_201_CREATED)

    @extend_schema(request=DrawInputSerializer, responses=PlanSerializer)
    @action(detail=True, methods=["post"])
    def draw(self, request: Request, pk: str | None = None) -> Response:
        """Run the committed draw (all or nothing); reveals the seed unless `reveal` is false."""
        data = DrawInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = self.get_object()
        committed = plan.draws.filter(status=Draw.Status.COMMITTED).first()
        if committed is None:
            raise ApplicationError("该计划没有待抽取的种子承诺，请先公布承诺值。", code="no_committed_draw")
        draws.draw_execute(actor=request.user, draw=committed, reveal=data.validated_data["reveal"])
        return self._answer(plan)

    @extend_schema(request=None, responses=PlanSerializer)
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        in_force = plan.draws.filter(status=Draw.Status.DRAWN).first()
        if in_force is None:
            raise ApplicationError("该计划尚未抽取。", code="plan_not_drawn")
        draws.draw_reveal(actor=request.user, draw=in_force)
        return self._answer(plan)

    @extend_schema(request=None, responses=PlanSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(draws.plan_publish(actor=request.user, plan=self.get_object()))

    @extend_schema(request=RedrawReasonInputSerializer, responses={201: PlanSerializer})
    @action(detail=True, methods=["post"])
    def redraw(self, request: Request, pk: str | None = None) -> Response:
        """Commit a new seed for a redraw, with the reason (the next `draw` supersedes the draw in force)."""
        data = RedrawReasonInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draw = draws.draw_commit(
            actor=request.user, plan=self.get_object(), redraw_reason=data.validated_data["reason"]
        )
        return self._answer(draw.plan, status.HTTP_201_CREATED)


class TaskViewSet(viewsets.ReadOnlyModelViewSet):
    """Tasks: an inspector's own; the county's for regulators."""

    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    permission_classes = [CanView]

    def get_queryset(self):
        return (
            Task.objects.visible_to(self.request.user)
            .active()
            .select_related("enterprise", "plan")
            .prefetch_related("assignments__inspector")
            .order_by("plan_id", "position")
        )


class ResultViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Results: an assigned inspector records (or, until published, corrects) the result of a task."""

    serializer_class = ResultSerializer
    filterset_class = ResultFilter
    permission_classes = [CanView]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return (
            Result.objects.visible_to(self.request.user)
            .select_related("enterprise", "recorded_by")
            .prefetch_related("evidence")
            .order_by("-inspected_on", "-id")
        )

    @extend_schema(request=ResultInputSerializer, responses={201: ResultSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        data = ResultInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        task = Task.objects.visible_to(request.user).filter(pk=values["task"]).first()
        if task is None:
            # Not visible (another county, or an inspector's task not assigned to them): refused, never confirmed.
            raise NotPermitted("该检查任务不存在或未分派给您，不能录入结果。", code="task_not_assigned")
        result = results.result_record(
            actor=request.user,
            task=task,
            outcome=values["outcome"],
            inspected_on=values["inspected_on"],
            details=values["details"],
            evidence=[(f, values["evidence_description"]) for f in values["evidence"]],
        )
        return Response(ResultSerializer(self.get_queryset().get(pk=result.pk)).data, status=status.HTTP_201_CREATED)


class CaseLeadViewSet(viewsets.ReadOnlyModelViewSet):
    """Case leads (案件线索) raised by problems found, for regulators: read-only, county-scoped by the entity."""

    serializer_class = CaseLeadSerializer
    filterset_class = CaseLeadFilter
    permission_classes = [RegulatorCanView]

    def get_queryset(self):
        return (
            CaseLead.objects.visible_to(self.request.user)
            .select_related("enterprise", "result")
            .order_by("-created_at", "-id")
        )


class AbnormalProposalViewSet(viewsets.ReadOnlyModelViewSet):
    """Abnormal-list proposals from "not reachable" findings, for regulators: read-only (decided in the admin),
    county-scoped by the entity."""

    serializer_class = AbnormalProposalSerializer
    filterset_class = AbnormalProposalFilter
    permission_classes = [RegulatorCanView]

    def get_queryset(self):
        return (
            AbnormalProposal.objects.visible_to(self.request.user)
            .select_related("enterprise", "result")
            .order_by("-created_at", "-id")
        )
