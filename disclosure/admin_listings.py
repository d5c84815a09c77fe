"""Admin of the abnormal list, objections, the serious list, restrictions and document numbers.

Scoped to the user's county (ScopedAdmin: another county's record is a 404), never deleted, and every write goes
through disclosure.services.listings: the add forms call the service when they validate (a refusal is a form error
and nothing is written), and removal, objection handling and serious-list decisions are changelist actions with a
small form of their own. Records are read-only on their change pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin_utils import EstimatedCountPaginator, ScopedAdmin
from core.errors import ApplicationError
from disclosure.models import AbnormalListing, DocumentSequence, Objection, Penalty, Restriction, SeriousListing
from disclosure.services import listings
from enterprises.models import Enterprise, Region

ACTION_TEMPLATE = "disclosure/admin/listing_action_form.html"


def _not_in_future(value):
    if value is not None and value > timezone.localdate():
        raise forms.ValidationError("日期不能晚于今天。")
    return value


class CountyFilter(admin.SimpleListFilter):
    """The entity's county; a county regulator is offered only its own."""

    title = _("supervising region")
    parameter_name = "county"

    def lookups(self, request, model_admin):
        counties = Region.objects.filter(level=Region.Level.COUNTY)
        if not request.user.is_city_wide:
            counties = counties.filter(code=request.user.region_code)
        return [(r.code, r.name) for r in counties]

    def queryset(self, request, queryset):
        return queryset.filter(enterprise__region_id=self.value()) if self.value() else queryset


# --- forms ----------------------------------------------------------------------------------------------------------
class ServiceModelForm(forms.ModelForm):
    """An add form whose validation ends by calling a service: its refusal becomes a form error (nothing written),
    its result becomes the form's instance, which the admin then only displays."""

    actor: Any = None

    def call_service(self, data: dict[str, Any]):  # pragma: no cover - overridden
        raise NotImplementedError

    def _post_clean(self) -> None:
        if self.errors:
            return
        try:
            self.instance = self.call_service(self.cleaned_data)
        except ApplicationError as exc:
            self.add_error(None, exc.message)


class AbnormalListingAddForm(ServiceModelForm):
    decided_on = forms.DateField(
        label=_("decided on"), required=False, validators=[_not_in_future], help_text=_("Empty: today.")
    )
    year = forms.IntegerField(
        label=_("report year"), required=False, min_value=0, help_text=_("Only for a missing annual report.")
    )
    cause_date = forms.DateField(
        label=_("date of the cause"),
        required=False,
        validators=[_not_in_future],
        help_text=_("Not needed for a missing annual report (30 June of the next year)."),
    )
    tolerance = forms.BooleanField(
        label=_("Hold back: force majeure, reachable otherwise"),
        required=False,
        help_text=_("Seed 000 §7: an entity reachable by other means may be held back from listing."),
    )
    correctable_slip = forms.BooleanField(
        label=_("Only a one-time correctable slip in a report"),
        required=False,
        help_text=_("Seed 000 §7: obvious slips may be corrected once without listing."),
    )

    class Meta:
        model = AbnormalListing
        fields = ["enterprise", "reason", "year", "cause_date", "decided_on", "facts"]

    def call_service(self, data: dict[str, Any]) -> AbnormalListing:
        listing = listings.abnormal_list(
            actor=self.actor,
            enterprise=data["enterprise"],
            reason=data["reason"],
            year=data.get("year") or 0,
            cause_date=data.get("cause_date"),
            facts=data.get("facts") or "",
            decided_on=data.get("decided_on"),
            tolerance=data.get("tolerance", False),
            correctable_slip=data.get("correctable_slip", False),
        )
        self.deadline_warning = getattr(listing, "deadline_warning", "")
        return listing


class ObjectionAddForm(ServiceModelForm):
    filed_on = forms.DateField(label=_("filed on"), validators=[_not_in_future])

    class Meta:
        model = Objection
        fields = ["listing", "filed_on", "statement"]

    def call_service(self, data: dict[str, Any]) -> Objection:
        return listings.objection_file(
            actor=self.actor, listing=data["listing"], filed_on=data["filed_on"], statement=data["statement"]
        )


class SeriousNoticeForm(ServiceModelForm):
    noticed_on = forms.DateField(
        label=_("notice served on"), required=False, validators=[_not_in_future], help_text=_("Empty: today.")
    )
    heavy_fine = forms.BooleanField(
        label=_("The fine is at the heavy end of the scale"),
        required=False,
        help_text=_("For a penalty that is only a fine: the officer's judgement that it is a heavier penalty."),
    )

    class Meta:
        model = SeriousListing
        fields = ["enterprise", "ground", "source_penalty", "source_abnormal", "heavy_fine", "facts", "noticed_on"]

    def call_service(self, data: dict[str, Any]) -> SeriousListing:
        return listings.serious_notice(
            actor=self.actor,
            enterprise=data["enterprise"],
            ground=data["ground"],
            source_penalty=data.get("source_penalty"),
            source_abnormal=data.get("source_abnormal"),
            facts=data.get("facts") or "",
            noticed_on=data.get("noticed_on"),
            heavy_fine=data.get("heavy_fine", False),
        )


class AbnormalRemoveForm(forms.Form):
    reason = forms.ChoiceField(label=_("removal reason"), choices=AbnormalListing.RemovalReason.choices)
    on = forms.DateField(label=_("removed on"), required=False, validators=[_not_in_future])
    note = forms.CharField(label=_("removal note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class DateReasonForm(forms.Form):
    on = forms.DateField(label=_("date"), required=False, validators=[_not_in_future], help_text=_("Empty: today."))
    reason = forms.CharField(label=_("reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class SeriousStatementForm(forms.Form):
    statement = forms.CharField(label=_("statement of the party"), required=False, widget=forms.Textarea)
    hearing_requested = forms.BooleanField(label=_("hearing requested"), required=False)


class SeriousDecideForm(forms.Form):
    list_it = forms.TypedChoiceField(
        label=_("decision"),
        choices=[("1", _("List for three years")), ("0", _("Do not list"))],
        coerce=lambda v: v == "1",
    )
    decided_on = forms.DateField(
        label=_("decided on"), required=False, validators=[_not_in_future], help_text=_("Empty: today.")
    )
    reason = forms.CharField(label=_("reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class SeriousRemoveForm(forms.Form):
    kind = forms.ChoiceField(label=_("removal kind"), choices=SeriousListing.RemovalKind.choices)
    on = forms.DateField(label=_("removed on"), required=False, validators=[_not_in_future])
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


# --- shared admin behaviour -----------------------------------------------------------------------------------------
class ListingAdminBase(ScopedAdmin):
    """Read-only change pages, add through a service form, actions with a form, scoped foreign-key choices."""

    add_form: type[ServiceModelForm] | None = None
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50

    def has_add_permission(self, request) -> bool:
        return self.add_form is not None and super().has_add_permission(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None and self.add_form is not None:
            form = type(self.add_form.__name__, (self.add_form,), {"actor": request.user})
            kwargs["form"] = form
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None and self.add_form is not None:
            form = self.get_form(request, None)
            return [(None, {"fields": list(form.base_fields)})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [f.name for f in self.model._meta.concrete_fields if f.name != "id"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only choices the user may see: a county regulator cannot even name another county's record.
        related = {Enterprise: Enterprise.objects, AbnormalListing: AbnormalListing.objects, Penalty: Penalty.objects}
        manager = related.get(db_field.related_model)
        if manager is not None:
            kwargs["queryset"] = manager.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        """The service already saved the record (add); change pages are read-only."""

    def save_related(self, request, form, formsets, change) -> None:
        """Nothing related is edited here."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def run_action_form(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        *,
        form_class: type[forms.Form],
        action: str,
        title: str,
        apply: Callable[[Any, dict[str, Any]], object],
        initial: dict[str, Any] | None = None,
    ) -> HttpResponse | None:
        """Show `form_class` for the selected records; on submit call `apply(record, cleaned_data)` for each, report
        successes and refusals, and return to the changelist."""
        form = form_class(request.POST if "apply" in request.POST else None, initial=initial)
        if "apply" in request.POST and form.is_valid():
            done, refused = 0, []
            for record in queryset:
                try:
                    apply(record, form.cleaned_data)
                    done += 1
                except ApplicationError as exc:
                    refused.append(f"{record}：{exc.message}")
            if done:
                self.message_user(request, f"已办理 {done} 条。", messages.SUCCESS)
            for line in refused:
                self.message_user(request, line, messages.ERROR)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "queryset": queryset,
            "form": form,
            "action": action,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, ACTION_TEMPLATE, context)


# --- abnormal list --------------------------------------------------------------------------------------------------
class ObjectionInline(admin.TabularInline):
    model = Objection
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["filed_on", "status", "acceptance_due", "verification_due", "decided_on", "decision_reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AbnormalListing)
class AbnormalListingAdmin(ListingAdminBase):
    add_form = AbnormalListingAddForm
    list_display = [
        "decision_number", "enterprise", "reason", "year", "is_mark", "decided_on", "status", "removed_on",
    ]  # fmt: skip
    list_filter = [CountyFilter, "status", "reason", "is_mark"]
    list_select_related = ["enterprise"]
    search_fields = ["=enterprise__uscc", "=decision_number", "=removal_decision_number"]
    search_help_text = _("USCC or decision number")
    ordering = ["-decided_on", "-id"]
    raw_id_fields = ["enterprise"]
    inlines = [ObjectionInline]
    actions = ["remove_action"]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def response_add(self, request, obj, post_url_continue=None):
        warning = getattr(obj, "deadline_warning", "")
        if warning:
            self.message_user(request, warning, messages.WARNING)
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description=_("Remove the selected entries…"), permissions=["change"])
    def remove_action(self, request, queryset):
        removed_by_group: set[int] = set()

        def apply(listing: AbnormalListing, data: dict[str, Any]) -> None:
            if listing.pk in removed_by_group:
                return  # removed together with another entry of the same entity (all annual reports filed)
            result = listings.abnormal_remove(
                actor=request.user, listing=listing, reason=data["reason"], on=data["on"], note=data["note"]
            )
            removed_by_group.update(
                AbnormalListing.objects.filter(
                    enterprise_id=result.enterprise_id, removal_decision_number=result.removal_decision_number
                ).values_list("pk", flat=True)
            )

        return self.run_action_form(
            request,
            queryset.order_by("pk"),
            form_class=AbnormalRemoveForm,
            action="remove_action",
            title=_("Remove from the abnormal list"),
            apply=apply,
        )


@admin.register(Objection)
class ObjectionAdmin(ListingAdminBase):
    add_form = ObjectionAddForm
    list_display = ["listing", "filed_on", "status", "acceptance_due", "verification_due", "decided_on"]
    list_filter = ["status"]
    list_select_related = ["listing"]
    search_fields = ["=listing__enterprise__uscc", "=listing__decision_number"]
    ordering = ["-filed_on", "-id"]
    raw_id_fields = ["listing"]
    actions = ["accept_action", "refuse_action", "uphold_action", "dismiss_action"]

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs.filter(listing__enterprise__in=Enterprise.objects.visible_to(request.user).values("pk"))

    def _objection_action(self, request, queryset, *, action: str, title, call) -> HttpResponse | None:
        return self.run_action_form(
            request,
            queryset,
            form_class=DateReasonForm,
            action=action,
            title=title,
            apply=lambda objection, data: call(objection, data["on"], data["reason"] or ""),
        )

    @admin.action(description=_("Accept for verification…"), permissions=["change"])
    def accept_action(self, request, queryset):
        return self._objection_action(
            request,
            queryset,
            action="accept_action",
            title=_("Accept objections"),
            call=lambda o, on, reason: listings.objection_accept(actor=request.user, objection=o, on=on),
        )

    @admin.action(description=_("Do not accept (with a reason)…"), permissions=["change"])
    def refuse_action(self, request, queryset):
        return self._objection_action(
            request,
            queryset,
            action="refuse_action",
            title=_("Do not accept objections"),
            call=lambda o, on, reason: listings.objection_refuse(actor=request.user, objection=o, reason=reason, on=on),
        )

    @admin.action(description=_("Uphold: remove the entry…"), permissions=["change"])
    def uphold_action(self, request, queryset):
        return self._objection_action(
            request,
            queryset,
            action="uphold_action",
            title=_("Uphold objections"),
            call=lambda o, on, reason: listings.objection_decide(
                actor=request.user, objection=o, upheld=True, reason=reason, on=on
            ),
        )

    @admin.action(description=_("Dismiss: the entry stands…"), permissions=["change"])
    def dismiss_action(self, request, queryset):
        return self._objection_action(
            request,
            queryset,
            action="dismiss_action",
            title=_("Dismiss objections"),
            call=lambda o, on, reason: listings.objection_decide(
                actor=request.user, objection=o, upheld=False, reason=reason, on=on
            ),
        )


# --- serious list ---------------------------------------------------------------------------------------------------
class RestrictionInline(admin.TabularInline):
    model = Restriction
    extra = 0
    can_delete = False
    fields = ["kind", "person_name", "person_id_number", "starts_on", "ends_on", "ended_on"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SeriousListing)
class SeriousListingAdmin(ListingAdminBase):
    add_form = SeriousNoticeForm
    list_display = [
        "notice_number", "enterprise", "ground", "stage", "noticed_on", "statement_due", "decision_number",
        "listed_until", "hidden_from_public",
    ]  # fmt: skip
    list_filter = [CountyFilter, "stage", "ground", "hidden_from_public"]
    list_select_related = ["enterprise"]
    search_fields = ["=enterprise__uscc", "=notice_number", "=decision_number"]
    search_help_text = _("USCC, notice or decision number")
    ordering = ["-noticed_on", "-id"]
    raw_id_fields = ["enterprise", "source_penalty", "source_abnormal"]
    inlines = [RestrictionInline]
    actions = ["statement_action", "decide_action", "remove_action"]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.action(description=_("Record the statement or hearing request…"), permissions=["change"])
    def statement_action(self, request, queryset):
        return self.run_action_form(
            request,
            queryset,
            form_class=SeriousStatementForm,
            action="statement_action",
            title=_("Record the party's statement"),
            apply=lambda listing, data: listings.serious_record_statement(
                actor=request.user,
                listing=listing,
                statement=data["statement"],
                hearing_requested=data["hearing_requested"],
            ),
        )

    @admin.action(description=_("Decide: list or not…"), permissions=["change"])
    def decide_action(self, request, queryset):
        return self.run_action_form(
            request,
            queryset,
            form_class=SeriousDecideForm,
            action="decide_action",
            title=_("Decide on the serious list"),
            apply=lambda listing, data: listings.serious_decide(
                actor=request.user,
                listing=listing,
                list_it=data["list_it"],
                decided_on=data["decided_on"],
                reason=data["reason"],
            ),
        )

    @admin.action(description=_("Remove from the serious list…"), permissions=["change"])
    def remove_action(self, request, queryset):
        return self.run_action_form(
            request,
            queryset,
            form_class=SeriousRemoveForm,
            action="remove_action",
            title=_("Remove from the serious list"),
            apply=lambda listing, data: listings.serious_remove(
                actor=request.user, listing=listing, kind=data["kind"], on=data["on"], note=data["note"]
            ),
        )


@admin.register(Restriction)
class RestrictionAdmin(ListingAdminBase):
    list_display = ["kind", "enterprise", "person_name", "starts_on", "ends_on", "ended_on", "serious_listing"]
    list_filter = [CountyFilter, "kind"]
    list_select_related = ["enterprise", "serious_listing"]
    search_fields = ["=enterprise__uscc", "=person_id_number", "person_name"]
    ordering = ["-starts_on", "-id"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DocumentSequence)
class DocumentSequenceAdmin(ScopedAdmin):
    """The running numbers of decision documents per office: read-only (numbers are allocated by the services)."""

    list_display = ["office", "doc_type", "year", "last_number"]
    list_filter = ["doc_type", "year"]
    ordering = ["office", "doc_type", "year"]

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request).select_related("office")
        if request.user.is_city_wide:
            return qs
        return qs.filter(office_id=request.user.region_code)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
