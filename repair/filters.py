"""The one FilterSet of repair applications: the API list and the review queue filter alike."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises import identity
from enterprises.models import Region
from repair.models import RepairApplication


class RepairApplicationFilter(django_filters.FilterSet):
    uscc = django_filters.CharFilter(method="filter_uscc", label=_("unified social credit code"))
    office = django_filters.ModelChoiceFilter(
        field_name="responsible_office", queryset=Region.objects.all(), label=_("responsible office (code)")
    )
    open = django_filters.BooleanFilter(method="filter_open", label=_("still being handled"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("overdue"))
    filed_on = django_filters.DateFromToRangeFilter(label=_("filed on (after/before, inclusive)"))

    class Meta:
        model = RepairApplication
        fields = ["status", "kind", "channel", "uscc", "office", "open", "overdue", "filed_on"]

    def filter_uscc(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(enterprise__uscc=identity.normalize(value)) if value else queryset

    def filter_open(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        statuses = RepairApplication.OPEN_STATUSES
        return queryset.filter(status__in=statuses) if value else queryset.exclude(status__in=statuses)

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        overdue = {"status__in": RepairApplication.OPEN_STATUSES, "due_on__lt": timezone.localdate()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)
