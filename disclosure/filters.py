"""The FilterSets of disclosure's lists: one per list, used by the API, the admin's exports and the county
reports' detail exports (credit.reports), so a download holds exactly the rows of the screen it comes from."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from disclosure.models import AbnormalListing, Penalty, SeriousListing
from enterprises import identity
from enterprises.models import Region


class PenaltyFilter(django_filters.FilterSet):
    """Filters of the penalty list (API)."""

    uscc = django_filters.CharFilter(method="filter_uscc", label=_("unified social credit code"))
    decision_number = django_filters.CharFilter(label=_("decision number"))
    decision_date = django_filters.DateFromToRangeFilter(label=_("decision date (after/before, inclusive)"))
    status = django_filters.ChoiceFilter(choices=Penalty.Status.choices, label=_("status"))
    disclosed = django_filters.BooleanFilter(label=_("disclosed"))

    class Meta:
        model = Penalty
        fields = ["uscc", "decision_number", "decision_date", "status", "disclosed"]

    def filter_uscc(self, queryset: QuerySet[Penalty], name: str, value: str) -> QuerySet[Penalty]:
        return queryset.filter(enterprise__uscc=identity.normalize(value)) if value else queryset


class _ListingFilterBase(django_filters.FilterSet):
    uscc = django_filters.CharFilter(method="filter_uscc", label=_("unified social credit code"))
    region = django_filters.ModelChoiceFilter(
        field_name="enterprise__region", queryset=Region.objects.all(), label=_("supervising region (code)")
    )
    decided_on = django_filters.DateFromToRangeFilter(label=_("decided on (after/before, inclusive)"))

    def filter_uscc(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(enterprise__uscc=identity.normalize(value)) if value else queryset


class AbnormalListingFilter(_ListingFilterBase):
    """Filters of the abnormal list (API and admin)."""

    class Meta:
        model = AbnormalListing
        fields = ["status", "reason", "is_mark", "year", "uscc", "region", "decided_on"]


class SeriousListingFilter(_ListingFilterBase):
    """Filters of the serious list (API and admin)."""

    class Meta:
        model = SeriousListing
        fields = ["stage", "ground", "hidden_from_public", "uscc", "region", "decided_on"]
