"""Registry admin: scoped to the user's county, writes through enterprises.services, never deletes."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from core.admin_utils import EstimatedCountPaginator, ScopedAdmin
from core.errors import ApplicationError
from enterprises.exports import ADMIN_TO_FILTER, enterprise_export_start, filters_from_admin_params
from enterprises.models import (
    AnnualReport,
    Commitment,
    Complaint,
    Enterprise,
    Honour,
    Industry,
    KeyArea,
    Licence,
    Region,
    RegistrationChange,
)
from enterprises.services import enterprise_create, enterprise_update

# Read-only panels that later apps add to the entity page (credit: the internal risk class), so that this app never
# imports them (dependencies run one way, DESIGN.md §2).
ENTERPRISE_PANELS: list[type[admin.options.InlineModelAdmin]] = []


class CountyFilter(admin.SimpleListFilter):
    """Counties the user may see (a county regulator: only its own), without a DISTINCT over 10^6 rows."""

    title = _("supervising region")
    parameter_name = "region__code__exact"

    def lookups(self, request, model_admin):
        counties = Region.objects.filter(level=Region.Level.COUNTY)
        if not request.user.is_city_wide:
            counties = counties.filter(code=request.user.region_code)
        return [(r.code, r.name) for r in counties]

    def queryset(self, request, queryset):
        return queryset.filter(region_id=self.value()) if self.value() else queryset


class EntityTypeFilter(admin.SimpleListFilter):
    """The entity type as a range of the USCC order (EnterpriseQuerySet.of_type), not a filter over all of it."""

    title = _("entity type")
    parameter_name = "entity_type__exact"

    def lookups(self, request, model_admin):
        return Enterprise.EntityType.choices

    def queryset(self, request, queryset):
        return queryset.of_type(self.value()) if self.value() else queryset


class EnterpriseForm(forms.ModelForm):
    class Meta:
        model = Enterprise
        # risk_class is written only by the credit app: never a form field.
        fields = [
            "uscc", "name", "former_names", "registration_number", "status", "legal_representative",
            "legal_representative_id_number", "address", "region", "industry", "industry_code",
            "registered_capital", "registration_date", "key_areas", "contact_phone", "contact_email",
        ]  # fmt: skip


class ChildInline(admin.TabularInline):
    extra = 0
    show_change_link = False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AnnualReportInline(ChildInline):
    model = AnnualReport
    fields = ["year", "filed_on", "on_time"]
    readonly_fields = ["on_time"]


class RegistrationChangeInline(ChildInline):
    model = RegistrationChange
    fields = ["changed_on", "field", "old_value", "new_value"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class LicenceInline(ChildInline):
    model = Licence
    fields = ["name", "number", "authority", "valid_from", "valid_until", "status"]


class HonourInline(ChildInline):
    model = Honour
    fields = ["title", "awarded_by", "awarded_on", "valid_until"]


class CommitmentInline(ChildInline):
    model = Commitment
    fields = ["kind", "made_on", "status", "verified_on"]


class ComplaintInline(ChildInline):
    model = Complaint
    fields = ["received_on", "channel", "summary", "substantiated"]


@admin.register(Enterprise)
class EnterpriseAdmin(ScopedAdmin):
    form = EnterpriseForm
    list_display = ["uscc", "name", "entity_type", "region", "industry_code", "status", "registration_date"]
    list_filter = [CountyFilter, EntityTypeFilter, "status", "key_areas"]
    list_select_related = ["region"]
    search_fields = ["=uscc", "=registration_number", "search_text"]
    search_help_text = _("USCC, legacy registration number, or at least two characters of the name or a former name")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    ordering = ["uscc"]
    autocomplete_fields: list[str] = []
    filter_horizontal = ["key_areas"]
    readonly_fields = ["entity_type", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["uscc", "entity_type", "name", "former_names", "registration_number", "status"]}),
        (
            _("Registration"),
            {
                "fields": [
                    "legal_representative",
                    "legal_representative_id_number",
                    "address",
                    "region",
                    "industry",
                    "industry_code",
                    "registered_capital",
                    "registration_date",
                ]
            },
        ),
        (_("Supervision"), {"fields": ["key_areas", "contact_phone", "contact_email"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [
        AnnualReportInline,
        RegistrationChangeInline,
        LicenceInline,
        CommitmentInline,
        HonourInline,
        ComplaintInline,
    ]
    change_list_template = "enterprises/admin/enterprise_change_list.html"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "uscc"] if obj is not None else fields

    def get_inlines(self, request, obj):
        # The panels are read-only displays: shown on the page, not part of what a save posts and validates.
        if obj is not None and request.method in ("GET", "HEAD"):
            return [*self.inlines, *ENTERPRISE_PANELS]
        return self.inlines

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            counties = Region.objects.filter(level=Region.Level.COUNTY)
            if not request.user.is_city_wide:
                counties = counties.filter(code=request.user.region_code)
            kwargs["queryset"] = counties
        if db_field.name == "industry":
            kwargs["queryset"] = Industry.objects.filter(section__isnull=False)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        from enterprises import selectors

        search = getattr(selectors, "enterprise_search_queryset", None)
        if search is not None:
            try:
                return search(query=term, queryset=queryset), False
            except ApplicationError as exc:
                messages.warning(request, exc.message)
                return queryset.none(), False
        return super().get_search_results(request, queryset, term)

    def save_model(self, request, obj, form, change) -> None:
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        try:
            if change:
                enterprise_update(actor=request.user, enterprise=obj, data=data)
            else:
                fields = {f: form.cleaned_data[f] for f in form.cleaned_data if f != "key_areas"}
                created = enterprise_create(actor=request.user, **fields)
                obj.pk = created.pk
                obj._state.adding = False
        except ApplicationError as exc:
            raise ValidationError(exc.message) from exc

    def save_related(self, request, form, formsets, change) -> None:
        # Key areas are saved by the service (audited); inline children by the admin.
        obj = form.instance
        if "key_areas" in form.changed_data:
            obj.key_areas.set(form.cleaned_data["key_areas"])
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def get_urls(self):
        from enterprises.admin_import import import_view

        custom = [
            path(
                "import/",
                self.admin_site.admin_view(lambda request: import_view(request, self)),
                name="enterprises_enterprise_import",
            ),
            path("export/", self.admin_site.admin_view(self.export_view), name="enterprises_enterprise_export"),
        ]
        return custom + super().get_urls()

    def export_view(self, request):
        """Export exactly the filtered changelist to Excel, as a background job; then show its progress."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        params = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
        job = enterprise_export_start(actor=request.user, filters=filters_from_admin_params(params))
        return redirect("core:job-detail", pk=job.pk)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "import_url": reverse("admin:enterprises_enterprise_import"),
            "export_url": reverse("admin:enterprises_enterprise_export"),
            "export_params": {k: v for k, v in request.GET.items() if k in ADMIN_TO_FILTER},
        }
        return super().changelist_view(request, extra_context)


class ScopedChildAdmin(ScopedAdmin):
    """Admin of records hanging off an enterprise: scoped through the enterprise's county."""

    list_select_related = ["enterprise"]
    raw_id_fields = ["enterprise"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs.filter(enterprise__in=Enterprise.objects.visible_to(request.user))


@admin.register(AnnualReport)
class AnnualReportAdmin(ScopedChildAdmin):
    list_display = ["enterprise", "year", "filed_on", "on_time"]
    list_filter = ["year", "on_time"]
    search_fields = ["=enterprise__uscc"]


@admin.register(Licence)
class LicenceAdmin(ScopedChildAdmin):
    list_display = ["number", "name", "enterprise", "authority", "valid_until", "status"]
    list_filter = ["status"]
    search_fields = ["=number", "=enterprise__uscc"]


@admin.register(Commitment)
class CommitmentAdmin(ScopedChildAdmin):
    list_display = ["enterprise", "kind", "made_on", "status"]
    list_filter = ["status"]
    search_fields = ["=enterprise__uscc"]


@admin.register(Honour)
class HonourAdmin(ScopedChildAdmin):
    list_display = ["title", "enterprise", "awarded_by", "awarded_on"]
    search_fields = ["title", "=enterprise__uscc"]


@admin.register(Complaint)
class ComplaintAdmin(ScopedChildAdmin):
    list_display = ["enterprise", "received_on", "channel", "substantiated"]
    list_filter = ["channel", "substantiated"]
    search_fields = ["=enterprise__uscc"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "section"]
    list_filter = ["section"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(KeyArea)
class KeyAreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
