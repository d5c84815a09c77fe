"""The regulators' credit API: entities' classes with their explanation, class history, distribution per county.

Only for users who may see classes (city and county regulators; county regulators their county only): department
API clients and enterprise users get 403. Never part of the public API (/api/v1/public/…).
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from credit import selectors
from credit.models import CLASSES, RiskResult
from credit.serializers import ClassChangeSerializer, RiskResultSerializer
from enterprises import identity


class CanSeeClasses(permissions.BasePermission):
    message = "该账户无权查看信用风险分类。"

    def has_permission(self, request: Request, view: APIView) -> bool:
        return selectors.can_see_classes(request.user)


class RiskResultFilter(django_filters.FilterSet):
    risk_class = django_filters.ChoiceFilter(choices=[(k, k) for k in CLASSES])
    region = django_filters.CharFilter(field_name="enterprise__region_id")
    hard_rule = django_filters.CharFilter()

    class Meta:
        model = RiskResult
        fields = ["risk_class", "region", "hard_rule"]


USCC_PATH = OpenApiParameter("uscc", str, OpenApiParameter.PATH, description="Unified social credit code.")


@extend_schema_view(
    list=extend_schema(summary="List entities' risk classes (internal)", description="Scoped to the caller's county."),
    retrieve=extend_schema(summary="One entity's risk class with its explanation", parameters=[USCC_PATH]),
)
class RiskResultViewSet(viewsets.ReadOnlyModelViewSet):
    """Current classes (A/B/C/D), scores, contributions and plain-Chinese explanations. Internal."""

    serializer_class = RiskResultSerializer
    filterset_class = RiskResultFilter
    permission_classes = [permissions.IsAuthenticated, CanSeeClasses]
    lookup_field = "enterprise__uscc"
    lookup_url_kwarg = "uscc"

    def get_queryset(self) -> QuerySet[RiskResult]:
        if getattr(self, "swagger_fake_view", False):
            return RiskResult.objects.none()
        return (
            selectors.results_visible_to(self.request.user)
            .select_related("enterprise", "model_version")
            .order_by("enterprise_id")
        )

    def get_object(self) -> RiskResult:
        self.kwargs["uscc"] = identity.normalize(self.kwargs["uscc"])
        return super().get_object()

    @extend_schema(
        summary="The entity's class history", parameters=[USCC_PATH], responses=ClassChangeSerializer(many=True)
    )
    @action(detail=True, methods=["get"])
    def history(self, request: Request, uscc: str) -> Response:
        result = self.get_object()
        changes = (
            selectors.changes_visible_to(request.user)
            .filter(enterprise_id=result.enterprise_id)
            .select_related("model_version")
        )
        return Response(ClassChangeSerializer(changes, many=True).data)


class DistributionView(APIView):
    """The classes now, per county the caller may see (a county regulator: its county)."""

    permission_classes = [permissions.IsAuthenticated, CanSeeClasses]

    @extend_schema(summary="Risk-class distribution per county (internal)", responses={200: dict})
    def get(self, request: Request) -> Response:
        counties = {c.name: c.code for c in selectors.visible_counties(request.user)}
        rows = selectors.current_distribution(request.user)
        return Response(
            [
                {"region": counties[row.label], "name": row.label, "counts": row.counts, "total": row.total}
                for row in rows
            ]
        )
