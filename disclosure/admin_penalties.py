"""Admin of penalties and disclosure policies: scoped to the user's county, every write through
disclosure.services.penalties, disclosure fields read-only, no deletes.

Extra pages of a penalty (object tools on its change form): withdraw (撤回, with a reason), upload the redacted
decision document, download it. The document is private: it is served only by the download view, which checks the
same scope as the change form (an out-of-scope id is a 404).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_utils import EstimatedCountPaginator, ScopedAdmin
from core.errors import ApplicationError
from disclosure.forms_penalties import (
    DECISION_FIELDS,
    DisclosurePolicyForm,
    PenaltyAddForm,
    PenaltyCorrectForm,
    PenaltyDocumentForm,
    PenaltyWithdrawForm,
    ServiceForm,
)
from disclosure.models import DisclosurePolicy, Penalty
from disclosure.services.penalties import penalty_attach_document, penalty_withdraw
from enterprises.models import Enterprise

DISCLOSURE_FIELDS = [
    "policy", "tier", "disclosed", "not_disclosed_reason", "disclosed_from", "disclosed_until", "disclosure_due_by",
    "repair_possible_from", "policies_reviewed_on", "disclosure_ended_on", "disclosure_end_reason",
]  # fmt: skip
RECORD_FIELDS = [
    "department", "status", "withdrawn_at", "withdrawn_by", "withdrawal_reason", "document_link", "content_hash",
    "created_at", "updated_at",
]  # fmt: skip


class ServiceFormAdminMixin:
    """The form's clean() already called the service; the admin only takes its result (no second save)."""

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        form.request = request  # a fresh class per call (modelform_factory): safe to hang the request on it
        return form

    def save_form(self, request: HttpRequest, form: ServiceForm, change: bool) -> Any:
        return form.result if form.result is not None else form.instance

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        return

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return


@admin.register(Penalty)
class PenaltyAdmin(ServiceFormAdminMixin, ScopedAdmin):
    list_display = [
        "decision_number", "enterprise", "department", "decision_date", "procedure", "status", "disclosed", "tier",
        "disclosed_until", "policy",
    ]  # fmt: skip
    list_filter = ["status", "disclosed", "tier", "domain", "procedure", "policy"]
    list_select_related = ["enterprise", "department", "policy"]
    search_fields = ["=decision_number", "=enterprise__uscc"]
    search_help_text = _("Decision number or USCC (exact)")
    autocomplete_fields = ["enterprise"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    ordering = ["-decision_date", "-id"]
    change_form_template = "disclosure/admin/penalty_change_form.html"

    # --- forms -------------------------------------------------------------------------------------------------
    def get_form(self, request: HttpRequest, obj: Penalty | None = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = PenaltyCorrectForm if obj is not None else PenaltyAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Penalty | None = None) -> list:
        decision = (_("Decision"), {"fields": DECISION_FIELDS})
        if obj is None:
            extra = ["disclosed_from", "upload"]
            if request.user.department_id is None:
                extra.insert(0, "department")  # the city bureau's regulators record for a chosen department
            return [decision, (_("Recording"), {"fields": extra})]
        fieldsets = [decision]
        if self.has_change_permission(request, obj):
            fieldsets.append((_("Correction"), {"fields": ["correction_reason"]}))
        return [
            *fieldsets,
            (_("Disclosure"), {"fields": DISCLOSURE_FIELDS}),
            (_("Record"), {"fields": RECORD_FIELDS}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Penalty | None = None) -> list[str]:
        if obj is None:
            return []
        return [*DISCLOSURE_FIELDS, *RECORD_FIELDS]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "enterprise":
            # The autocomplete asks EnterpriseAdmin (scoped); the posted id is checked against the same scope.
            kwargs["queryset"] = Enterprise.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Penalty | None = None) -> bool:
        # A withdrawn penalty is history: it is viewed, not corrected.
        if obj is not None and obj.status == Penalty.Status.WITHDRAWN:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description=_("redacted decision document"))
    def document_link(self, obj: Penalty) -> str:
        if not obj.pk or not obj.document:
            return "—"
        url = reverse("admin:disclosure_penalty_document", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    # --- extra pages -------------------------------------------------------------------------------------------
    def get_urls(self) -> list:
        custom = [
            path(
                "<path:object_id>/withdraw/",
                self.admin_site.admin_view(self.withdraw_view),
                name="disclosure_penalty_withdraw",
            ),
            path(
                "<path:object_id>/document/upload/",
                self.admin_site.admin_view(self.upload_view),
                name="disclosure_penalty_upload",
            ),
            path(
                "<path:object_id>/document/",
                self.admin_site.admin_view(self.document_view),
                name="disclosure_penalty_document",
            ),
        ]
        return custom + super().get_urls()

    def _scoped_object(self, request: HttpRequest, object_id: str) -> Penalty:
        obj = self.get_object(request, object_id)  # through get_queryset: out of scope is None
        if obj is None:
            raise Http404
        return obj

    def _page(self, request: HttpRequest, obj: Penalty, form: Any, title: str, template: str) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "form": form,
            "title": title,
            "has_view_permission": self.has_view_permission(request, obj),
        }
        return TemplateResponse(request, template, context)

    def withdraw_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """撤回: a reason form; the service ends the disclosure at once and keeps the record."""
        obj = self._scoped_object(request, object_id)
        if not super().has_change_permission(request, obj):
            raise PermissionDenied
        change_url = reverse("admin:disclosure_penalty_change", args=[obj.pk])
        if obj.status == Penalty.Status.WITHDRAWN:
            messages.error(request, "该行政处罚已撤回，不能重复撤回。")
            return redirect(change_url)
        form = PenaltyWithdrawForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                penalty_withdraw(actor=request.user, penalty=obj, reason=form.cleaned_data["reason"])
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"已撤回行政处罚“{obj.decision_number}”，公示已即时停止。")
                return redirect(change_url)
        return self._page(
            request, obj, form, f"撤回行政处罚 {obj.decision_number}", "disclosure/admin/penalty_form.html"
        )

    def upload_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Upload the redacted decision document (PDF, ≤ 10 MB) through penalty_attach_document."""
        obj = self._scoped_object(request, object_id)
        if not super().has_change_permission(request, obj):
            raise PermissionDenied
        form = PenaltyDocumentForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                penalty_attach_document(actor=request.user, penalty=obj, uploaded_file=form.cleaned_data["file"])
            except ApplicationError as exc:
                form.add_error("file", exc.message)
            else:
                messages.success(request, "决定书已上传。")
                return redirect(reverse("admin:disclosure_penalty_change", args=[obj.pk]))
        return self._page(request, obj, form, f"上传决定书 {obj.decision_number}", "disclosure/admin/penalty_form.html")

    def document_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The stored PDF, for staff whose scope covers the penalty; never linked from a public page."""
        obj = self._scoped_object(request, object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        if not obj.document:
            raise Http404
        response = FileResponse(obj.document.open("rb"), content_type="application/pdf", as_attachment=True,
                                filename=f"{obj.pk}.pdf")  # fmt: skip
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        obj = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "can_manage": obj is not None and super().has_change_permission(request, obj),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Penalty]:
        return super().get_queryset(request).select_related("enterprise", "department", "policy")


@admin.register(DisclosurePolicy)
class DisclosurePolicyAdmin(ServiceFormAdminMixin, admin.ModelAdmin):
    """The periods of DESIGN.md §3.2 as data: the city bureau edits them (audited); everyone else reads them."""

    form = DisclosurePolicyForm
    list_display = [
        "code", "name", "scheme", "effective_from", "retroactive_if_lenient", "minor_months", "general_months",
        "serious_months", "disclosure_deadline_working_days",
    ]  # fmt: skip
    ordering = ["effective_from"]

    def get_readonly_fields(self, request: HttpRequest, obj: DisclosurePolicy | None = None) -> list[str]:
        # The code names the row everywhere and the scheme decides the classification code: fixed once created.
        return ["code", "scheme"] if obj is not None else []

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_city_wide and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: DisclosurePolicy | None = None) -> bool:
        return request.user.is_city_wide and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: DisclosurePolicy | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
