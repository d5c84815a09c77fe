"""FilterSets of the registry: one per listable model, shared by the API, the HTML/admin lists and the exports."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from enterprises import identity
from enterprises.models import AnnualReport, Enterprise, Industry, KeyArea, Region
from enterprises.selectors import SearchKind, enterprise_search_queryset, parse_search_query

# A GB/T 4754-2017 section letter ("C"), or a division with or without its section letter ("14", "C14").
_INDUSTRY_RE = re.compile(r"^(?P<section>[A-T])?(?P<division>\d{2})?$")


class EnterpriseFilterForm(forms.Form):
    """Validates the search input up front, so a refused query is a 400 naming the `search` parameter."""

    def clean_search(self) -> str:
        value = self.cleaned_data.get("search") or ""
        parsed = parse_search_query(value)
        if parsed.kind is SearchKind.REFUSED:
            raise forms.ValidationError(parsed.message, code="invalid_search")
        return value

    def clean_industry(self) -> str:
        value = (self.cleaned_data.get("industry") or "").strip().upper()
        if value and not _INDUSTRY_RE.match(value):
            raise forms.ValidationError(
                "行业代码应为门类字母（如 C）或两位大类代码（如 14、C14）", code="invalid_industry"
            )
        return value


class EnterpriseFilter(django_filters.FilterSet):
    """Filters of the registry list (API, admin list, exports)."""

    region = django_filters.ModelChoiceFilter(
        queryset=Region.objects.all(), label=_("supervising region (GB/T 2260 code)")
    )
    entity_type = django_filters.ChoiceFilter(
        choices=Enterprise.EntityType.choices, method="filter_entity_type", label=_("entity type")
    )
    status = django_filters.ChoiceFilter(choices=Enterprise.Status.choices, label=_("status"))
    industry = django_filters.CharFilter(
        method="filter_industry", label=_("industry: section letter or division code (C, 14, C14)")
    )
    key_area = django_filters.ModelChoiceFilter(
        field_name="key_areas", queryset=KeyArea.objects.all(), label=_("key area")
    )
    registration_date = django_filters.DateFromToRangeFilter(label=_("registration date (after/before, inclusive)"))
    search = django_filters.CharFilter(
        method="filter_search", label=_("USCC, legacy registration number or a name fragment (at least 2 characters)")
    )

    class Meta:
        model = Enterprise
        fields = ["region", "entity_type", "status", "industry", "key_area", "registration_date", "search"]
        form = EnterpriseFilterForm

    def filter_queryset(self, queryset: QuerySet[Enterprise]) -> QuerySet[Enterprise]:
        # The search ranks a bounded set of candidates (enterprises.selectors): draw them from the rows the other
        # filters left, not from the whole registry, so it runs last whatever the order of the parameters.
        values = dict(self.form.cleaned_data)
        search = values.pop("search", "")
        for name, value in values.items():
            queryset = self.filters[name].filter(queryset, value)
        return self.filters["search"].filter(queryset, search)

    def filter_entity_type(self, queryset: QuerySet[Enterprise], name: str, value: str) -> QuerySet[Enterprise]:
        return queryset.of_type(value) if value else queryset

    def filter_industry(self, queryset: QuerySet[Enterprise], name: str, value: str) -> QuerySet[Enterprise]:
        match = _INDUSTRY_RE.match(value or "")
        if not value or not match:
            return queryset
        if match["division"]:
            return queryset.filter(industry_id=match["division"])
        # A subquery of the section's divisions rather than a join: the page's COUNT(*) stays on one table.
        divisions = Industry.objects.filter(section_id=match["section"]).values("code")
        return queryset.filter(industry_id__in=divisions)

    def filter_search(self, queryset: QuerySet[Enterprise], name: str, value: str) -> QuerySet[Enterprise]:
        return enterprise_search_queryset(query=value, queryset=queryset)


class AnnualReportFilter(django_filters.FilterSet):
    """Filters of the annual-report list: year, on time or late, one entity by USCC."""

    year = django_filters.NumberFilter(label=_("report year"))
    on_time = django_filters.BooleanFilter(label=_("filed on time"))
    uscc = django_filters.CharFilter(method="filter_uscc", label=_("unified social credit code"))

    class Meta:
        model = AnnualReport
        fields = ["year", "on_time", "uscc"]

    def filter_uscc(self, queryset: QuerySet[AnnualReport], name: str, value: str) -> QuerySet[AnnualReport]:
        return queryset.filter(enterprise__uscc=identity.normalize(value)) if value else queryset
