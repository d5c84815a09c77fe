"""One FilterSet per listable inspections model: the API lists use these (and the admin could)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Department
from enterprises import identity
from enterprises.models import Region
from inspections.models import AbnormalProposal, CaseLead, InspectionItem, Inspector, Plan, Result, Task


class InspectionItemFilter(django_filters.FilterSet):
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), field_name="department", to_field_name="code", label=_("department (code)")
    )

    class Meta:
        model = InspectionItem
        fields = ["department", "kind", "active"]


class InspectorFilter(django_filters.FilterSet):
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), to_field_name="code", label=_("department (code)")
    )
    region = django_filters.ModelChoiceFilter(queryset=Region.objects.all(), label=_("region (code)"))
    item = django_filters.ModelChoiceFilter(
        field_name="qualifications", queryset=InspectionItem.objects.all(), to_field_name="code",
        label=_("qualified for the item (code)"),
    )  # fmt: skip
    warrant_valid = django_filters.BooleanFilter(method="filter_warrant_valid", label=_("warrant valid today"))

    class Meta:
        model = Inspector
        fields = ["department", "region", "item", "active", "warrant_valid"]

    def filter_warrant_valid(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        today = timezone.localdate()
        return (
            queryset.filter(warrant_expires_on__gte=today) if value else queryset.filter(warrant_expires_on__lt=today)
        )


class EnterpriseUsccFilterSet(django_filters.FilterSet):
    """?uscc=: the rows of one entity, the code normalised as everywhere (core identity)."""

    uscc = django_filters.CharFilter(method="filter_uscc", label=_("unified social credit code"))

    def filter_uscc(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(enterprise__uscc=identity.normalize(value)) if value else queryset


class PlanFilter(django_filters.FilterSet):
    region = django_filters.ModelChoiceFilter(queryset=Region.objects.all(), label=_("organising office (code)"))

    class Meta:
        model = Plan
        fields = ["year", "status", "region"]


class TaskFilter(EnterpriseUsccFilterSet):
    class Meta:
        model = Task
        fields = ["plan", "status", "uscc"]


class ResultFilter(EnterpriseUsccFilterSet):
    published = django_filters.BooleanFilter(field_name="published_on", lookup_expr="isnull", exclude=True)
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("publication overdue"))
    inspected_on = django_filters.DateFromToRangeFilter(label=_("inspected on (after/before, inclusive)"))

    class Meta:
        model = Result
        fields = ["plan", "outcome", "uscc", "published", "overdue", "inspected_on"]

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        overdue = queryset.overdue()
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))


class CaseLeadFilter(EnterpriseUsccFilterSet):
    plan = django_filters.NumberFilter(field_name="result__plan", label=_("plan"))

    class Meta:
        model = CaseLead
        fields = ["status", "plan", "uscc"]


class AbnormalProposalFilter(EnterpriseUsccFilterSet):
    plan = django_filters.NumberFilter(field_name="result__plan", label=_("plan"))

    class Meta:
        model = AbnormalProposal
        fields = ["status", "plan", "uscc"]
