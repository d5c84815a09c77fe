"""Registry API (read-only in this issue): entities, annual reports and the reference data."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets
from rest_framework.request import Request
from rest_framework.views import APIView

from core.roles import BUREAU_ROLES
from enterprises import identity
from enterprises.filters import AnnualReportFilter, EnterpriseFilter
from enterprises.models import AnnualReport, Enterprise, Industry, Region
from enterprises.selectors import annual_reports_visible_to
from enterprises.serializers import (
    AnnualReportSerializer,
    EnterpriseSerializer,
    IndustrySerializer,
    RegionSerializer,
)

# Bureau staff and other departments' systems (which read the registry to push their data, matched on the USCC).
REGISTRY_READER_ROLES = BUREAU_ROLES | {"api_client"}


class CanReadRegistry(permissions.BasePermission):
    """Staff roles and department API clients; enterprise users have their own portal, not the registry."""

    message = "该账户无权查询企业登记库。"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_superuser or user.role in REGISTRY_READER_ROLES))


USCC_PATH = OpenApiParameter(
    "uscc", str, OpenApiParameter.PATH, description="Unified social credit code (18 characters, case-insensitive)."
)


@extend_schema_view(
    list=extend_schema(
        summary="List market entities",
        description=(
            "The entities the caller may see (a county regulator: its county only), ordered by USCC. With `search`, "
            "the best matches first (exact name, then shorter names); a name fragment ranks at most 200 matches, "
            "so narrow it down rather than paging through a common word."
        ),
    ),
    retrieve=extend_schema(
        summary="One market entity by USCC", parameters=[USCC_PATH], description="404 outside the caller's scope."
    ),
)
class EnterpriseViewSet(viewsets.ReadOnlyModelViewSet):
    """Market entities, scoped with Enterprise.objects.visible_to(user)."""

    serializer_class = EnterpriseSerializer
    filterset_class = EnterpriseFilter
    permission_classes = [permissions.IsAuthenticated, CanReadRegistry]
    lookup_field = "uscc"

    def get_queryset(self) -> QuerySet[Enterprise]:
        if getattr(self, "swagger_fake_view", False):
            return Enterprise.objects.none()
        # One query for the page, one for the key areas of all its rows, whatever the page size.
        return (
            Enterprise.objects.visible_to(self.request.user)
            .select_related("region", "industry")
            .prefetch_related("key_areas")
        )

    def get_object(self) -> Enterprise:
        self.kwargs[self.lookup_field] = identity.normalize(self.kwargs[self.lookup_field])
        return super().get_object()


@extend_schema_view(
    list=extend_schema(summary="List annual reports", description="Annual reports of the entities the caller may see."),
    retrieve=extend_schema(summary="One annual report"),
)
class AnnualReportViewSet(viewsets.ReadOnlyModelViewSet):
    """Annual reports (年报), scoped through their entity's region."""

    serializer_class = AnnualReportSerializer
    filterset_class = AnnualReportFilter
    permission_classes = [permissions.IsAuthenticated, CanReadRegistry]

    def get_queryset(self) -> QuerySet[AnnualReport]:
        if getattr(self, "swagger_fake_view", False):
            return AnnualReport.objects.none()
        return annual_reports_visible_to(self.request.user).select_related("enterprise")


@extend_schema_view(
    list=extend_schema(summary="List administrative divisions (GB/T 2260)"),
    retrieve=extend_schema(summary="One administrative division"),
)
class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """Reference data: the city, its counties and their parents. Any authenticated user."""

    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    lookup_field = "code"
    filterset_fields = ["level", "parent"]


@extend_schema_view(
    list=extend_schema(summary="List industry sections (GB/T 4754-2017) with their divisions"),
    retrieve=extend_schema(summary="One section (with its divisions) or one division, by code (C or 14)"),
)
class IndustryViewSet(viewsets.ReadOnlyModelViewSet):
    """Reference data: GB/T 4754-2017 sections and divisions. Any authenticated user."""

    queryset = Industry.objects.all()
    serializer_class = IndustrySerializer
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Industry]:
        queryset = Industry.objects.prefetch_related("divisions")
        if self.action == "list":
            queryset = queryset.filter(section__isnull=True)
        return queryset
