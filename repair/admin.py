"""Admin of credit repair: the review queue of the responsible office (谁认定、谁修复) sorted by due date with
overdue cases flagged, the review actions (accept, 容缺 accept, refuse, request material, approve, reject), paper
applications entered on an entity's behalf, access codes for enterprise accounts, and the repair policies.

Every write goes through repair.services; an application's page is read-only and offers its actions as buttons,
each with a small form. Another office's application is a 404 (ScopedAdmin over RepairApplication.visible_to).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_utils import ScopedAdmin
from core.audit import audit_log, diff, snapshot
from core.errors import ApplicationError
from enterprises import identity
from enterprises.models import Enterprise
from repair import selectors
from repair.forms import ACCEPT, FILE_HELP, OptionalReasonForm, ReasonForm, RequestMaterialsForm, SupplyForm
from repair.models import (
    AccessCode,
    ApplicationStep,
    CountyRepairSetting,
    EnterpriseAccount,
    Material,
    RepairApplication,
    RepairDocument,
    RepairNotice,
    RepairPolicy,
)
from repair.services import accounts as account_services
from repair.services import applications as application_services
from repair.services.applications import Upload

ACTION_TEMPLATE = "repair/admin/action_form.html"


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("today", _("Due today")), ("undated", _("No due date"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        open_ = queryset.filter(status__in=RepairApplication.OPEN_STATUSES)
        if self.value() == "overdue":
            return open_.filter(due_on__lt=today)
        if self.value() == "today":
            return open_.filter(due_on=today)
        if self.value() == "undated":
            return open_.filter(due_on__isnull=True)
        return queryset


class OpenFilter(admin.SimpleListFilter):
    """The queue shows open applications by default; closed ones are a click away."""

    title = _("open or closed")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("all", _("All")), ("closed", _("Closed"))]

    def choices(self, changelist):
        choices = list(super().choices(changelist))
        choices[0]["display"] = _("Open")  # no parameter: the open applications, not "all"
        yield from choices

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        if self.value() == "closed":
            return queryset.exclude(status__in=RepairApplication.OPEN_STATUSES)
        return queryset.filter(status__in=RepairApplication.OPEN_STATUSES)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class StepInline(ReadOnlyInline):
    model = ApplicationStep
    fields = ["kind", "at", "actor_label", "note", "next_due"]
    readonly_fields = fields
    ordering = ["at", "id"]


class MaterialInline(ReadOnlyInline):
    model = Material
    fields = ["kind", "download", "content_type", "size", "sha256", "supplied_later", "created_at"]
    readonly_fields = fields

    @admin.display(description=_("file"))
    def download(self, obj: Material) -> str:
        url = reverse("repair:material", args=[obj.application_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.original_name)


class DocumentInline(ReadOnlyInline):
    model = RepairDocument
    fields = ["doc_type", "number", "issued_on", "download", "sha256"]
    readonly_fields = fields

    @admin.display(description=_("file"))
    def download(self, obj: RepairDocument) -> str:
        url = reverse("repair:document", args=[obj.application_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download PDF"))


class PaperApplicationForm(forms.Form):
    """A paper application entered by staff on the entity's behalf (scanned materials attached)."""

    uscc = forms.CharField(label=_("unified social credit code"), max_length=18)
    target = forms.ChoiceField(
        label=_("record repaired"),
        required=False,
        help_text=_("Enter the USCC and press Continue to list the entity's records."),
    )
    statement = forms.CharField(
        label=_("statement of the applicant"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    contact_name = forms.CharField(label=_("contact person"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("contact phone"), max_length=30, required=False)
    application_form = forms.FileField(
        label=Material.Kind.APPLICATION_FORM.label,
        required=False,
        help_text=FILE_HELP,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    credit_commitment = forms.FileField(
        label=Material.Kind.CREDIT_COMMITMENT.label,
        required=False,
        help_text=FILE_HELP,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    proof_of_fulfilment = forms.FileField(
        label=Material.Kind.PROOF_OF_FULFILMENT.label,
        required=False,
        help_text=FILE_HELP,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    tolerance = forms.BooleanField(label=_("Accept with the proof of fulfilment to follow (容缺受理)"), required=False)
    submission_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4())
        self.enterprise: Enterprise | None = None
        uscc = (self.data.get("uscc") or "").strip().upper() if self.is_bound else ""
        choices = [("", "—")]
        if uscc:
            try:
                code = identity.validate(uscc)
            except identity.InvalidUSCC:
                code = ""
            self.enterprise = Enterprise.objects.visible_to(user).filter(uscc=code).first() if code else None
            if self.enterprise is not None:
                for item in selectors.repairable_records(self.enterprise):
                    label = f"{item.label} — {item.eligibility.summary}"
                    choices.append((f"{item.target_type}:{item.record.pk}", label))
        self.fields["target"].choices = choices

    def clean_uscc(self) -> str:
        try:
            code = identity.validate(self.cleaned_data["uscc"])
        except identity.InvalidUSCC as exc:
            raise forms.ValidationError(str(exc)) from exc
        if self.enterprise is None:
            raise forms.ValidationError("未找到该经营主体，或不在您的辖区。")
        return code


@admin.register(RepairApplication)
class RepairApplicationAdmin(ScopedAdmin):
    list_display = [
        "number", "enterprise", "kind", "status", "due_flag", "filed_on", "responsible_office", "channel", "tolerance",
    ]  # fmt: skip
    list_filter = [OpenFilter, OverdueFilter, "status", "kind", "channel", "responsible_office"]
    list_select_related = ["enterprise", "responsible_office"]
    search_fields = ["=number", "=enterprise__uscc"]
    search_help_text = _("Application number or USCC")
    ordering = ["due_on", "id"]
    list_per_page = 50
    show_full_result_count = False
    inlines = [StepInline, MaterialInline, DocumentInline]
    change_form_template = "repair/admin/application_change_form.html"
    change_list_template = "repair/admin/application_change_list.html"

    @admin.display(description=_("due"), ordering="due_on")
    def due_flag(self, obj: RepairApplication) -> str:
        if not obj.is_open:
            return "—"
        if obj.due_on is None:
            label = (
                _("waiting for the applicant")
                if obj.status == RepairApplication.Status.MATERIALS_REQUESTED
                else (obj.due_note or "—")
            )
            return format_html('<span title="{}">{}</span>', obj.due_note, label)
        today = timezone.localdate()
        if obj.due_on < today:
            return format_html('<strong style="color:#ba2121">{} ⚠ {}</strong>', obj.due_on, _("overdue"))
        if obj.due_on == today:
            return format_html('<strong style="color:#b36b00">{} {}</strong>', obj.due_on, _("due today"))
        return str(obj.due_on)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields if f.name not in ("id", "submission_key")]

    def get_search_results(self, request, queryset, search_term):
        """An application number or a USCC, each matched exactly. The entity is looked up first, so the filter is
        on the application's own indexed columns (a join filter on the USCC left the planner walking the queue
        index in due order past 10^5 rows)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        entity_ids = list(Enterprise.objects.filter(uscc=identity.normalize(term)).values_list("pk", flat=True)[:1])
        return queryset.filter(Q(number=term) | Q(enterprise_id__in=entity_ids)), False

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "actions_allowed": self.has_change_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        """Applications are written by the services only."""

    def save_related(self, request, form, formsets, change) -> None:
        """Nothing related is edited here."""

    # --- per-application actions ---------------------------------------------------------------------------
    def get_urls(self):
        actions = [
            ("accept", self.accept_view),
            ("refuse", self.refuse_view),
            ("request-materials", self.request_materials_view),
            ("supply", self.supply_view),
            ("approve", self.approve_view),
            ("reject", self.reject_view),
        ]
        custom = [
            path(
                f"<int:pk>/{name}/",
                self.admin_site.admin_view(view),
                name=f"repair_repairapplication_{name.replace('-', '_')}",
            )
            for name, view in actions
        ]
        custom.append(
            path("paper/", self.admin_site.admin_view(self.paper_view), name="repair_repairapplication_paper")
        )
        return custom + super().get_urls()

    def _object(self, request: HttpRequest, pk: int) -> RepairApplication:
        obj = self.get_queryset(request).filter(pk=pk).first()
        if obj is None or not self.has_change_permission(request, obj):
            raise Http404
        return obj

    def _act(
        self,
        request: HttpRequest,
        pk: int,
        *,
        title: str,
        form_class: type[forms.Form],
        apply: Callable[[RepairApplication, dict[str, Any]], object],
        done: str,
        files: bool = False,
    ) -> HttpResponse:
        application = self._object(request, pk)
        bound = request.method == "POST"
        form = form_class(request.POST if bound else None, request.FILES if bound and files else None)
        if bound and form.is_valid():
            try:
                apply(application, form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:repair_repairapplication_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "original": application,
            "form": form,
            "multipart": files,
        }
        return TemplateResponse(request, ACTION_TEMPLATE, context)

    def accept_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def apply(app: RepairApplication, data: dict[str, Any]) -> object:
            return application_services.application_accept(actor=request.user, application=app, note=data["reason"])

        title = str(_("Accept the application"))
        return self._act(request, pk, title=title, form_class=OptionalReasonForm, done="已受理。", apply=apply)

    def refuse_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def apply(app: RepairApplication, data: dict[str, Any]) -> object:
            return application_services.application_refuse(actor=request.user, application=app, reason=data["reason"])

        title = str(_("Do not accept the application"))
        return self._act(request, pk, title=title, form_class=ReasonForm, done="已作出不予受理决定。", apply=apply)

    def request_materials_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def apply(app: RepairApplication, data: dict[str, Any]) -> object:
            return application_services.application_request_materials(
                actor=request.user, application=app, requested=data["requested"]
            )

        title = str(_("Request more material"))
        done = "已通知申请人补正材料。"
        return self._act(request, pk, title=title, form_class=RequestMaterialsForm, done=done, apply=apply)

    def supply_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def apply(app: RepairApplication, data: dict[str, Any]) -> object:
            return application_services.application_supply_materials(
                actor=request.user, application=app, uploads=[Upload(data["kind"], data["file"])], note=data["note"]
            )

        title = str(_("Add material received on paper"))
        return self._act(request, pk, title=title, form_class=SupplyForm, done="材料已登记。", apply=apply, files=True)

    def approve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def apply(app: RepairApplication, data: dict[str, Any]) -> object:
            return application_services.application_approve(actor=request.user, application=app, reason=data["reason"])

        title = str(_("Approve the repair"))
        done = "已准予信用修复，公示信息已同步更新。"
        return self._act(request, pk, title=title, form_class=OptionalReasonForm, done=done, apply=apply)

    def reject_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def apply(app: RepairApplication, data: dict[str, Any]) -> object:
            return application_services.application_reject(actor=request.user, application=app, reason=data["reason"])

        title = str(_("Refuse the repair"))
        return self._act(request, pk, title=title, form_class=ReasonForm, done="已作出不予修复决定。", apply=apply)

    def has_add_permission(self, request) -> bool:
        return False  # paper applications have their own form (paper_view), which calls the service

    def paper_view(self, request: HttpRequest) -> HttpResponse:
        if not super().has_add_permission(request):
            raise Http404
        bound = request.method == "POST"
        form = PaperApplicationForm(
            request.POST if bound else None, request.FILES if bound else None, user=request.user
        )
        if bound and "submit" in request.POST and form.is_valid():
            target = form.cleaned_data["target"]
            if not target:
                form.add_error("target", "请选择要修复的记录。")
            else:
                target_type, _sep, target_id = target.partition(":")
                uploads = [
                    Upload(kind, form.cleaned_data[kind])
                    for kind in ("application_form", "credit_commitment", "proof_of_fulfilment")
                    if form.cleaned_data.get(kind)
                ]
                try:
                    application = application_services.application_submit(
                        actor=request.user,
                        enterprise=form.enterprise,
                        target_type=target_type,
                        target_id=int(target_id),
                        statement=form.cleaned_data["statement"],
                        contact_name=form.cleaned_data["contact_name"],
                        contact_phone=form.cleaned_data["contact_phone"],
                        uploads=uploads,
                        tolerance=form.cleaned_data["tolerance"],
                        submission_key=form.cleaned_data["submission_key"],
                        channel=RepairApplication.Channel.PAPER,
                    )
                except ApplicationError as exc:
                    form.add_error(None, exc.message)
                else:
                    self.message_user(request, f"纸质申请已录入，申请编号 {application.number}。", messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:repair_repairapplication_change", args=[application.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(_("Enter a paper application")),
            "form": form,
            "multipart": True,
            "paper": True,
        }
        return TemplateResponse(request, ACTION_TEMPLATE, context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_enter_paper": super().has_add_permission(request)}
        return super().changelist_view(request, extra_context)


# --- accounts -----------------------------------------------------------------------------------------------------
class AccessCodeForm(forms.ModelForm):
    uscc = forms.CharField(label=_("unified social credit code"), max_length=18)

    class Meta:
        model = AccessCode
        fields = ["purpose"]

    actor: Any = None

    def clean_uscc(self) -> str:
        try:
            code = identity.validate(self.cleaned_data["uscc"])
        except identity.InvalidUSCC as exc:
            raise forms.ValidationError(str(exc)) from exc
        enterprise = Enterprise.objects.visible_to(self.actor).filter(uscc=code).first()
        if enterprise is None:
            raise forms.ValidationError("未找到该经营主体，或不在您的辖区。")
        self.enterprise = enterprise
        return code

    def _post_clean(self) -> None:
        if self.errors:
            return
        try:
            self.instance, plain_code = account_services.access_code_issue(
                actor=self.actor, enterprise=self.enterprise, purpose=self.cleaned_data["purpose"]
            )
            # Carried on the saved instance to the admin's message, shown once; never stored or logged.
            self.instance._plain_code = plain_code
        except ApplicationError as exc:
            self.add_error(None, exc.message)


@admin.register(AccessCode)
class AccessCodeAdmin(ScopedAdmin):
    """Issue activation and reset codes. The code is shown once, here, after issuing; only its hash is kept."""

    list_display = [
        "enterprise",
        "purpose",
        "created_at",
        "expires_at",
        "used_at",
        "revoked_at",
        "failed_attempts",
        "sent_to",
        "issued_by",
    ]
    list_filter = ["purpose"]
    list_select_related = ["enterprise", "issued_by"]
    search_fields = ["=enterprise__uscc"]
    ordering = ["-created_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = type("BoundAccessCodeForm", (AccessCodeForm,), {"actor": request.user})
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["uscc", "purpose"]})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else [f.name for f in self.model._meta.concrete_fields if f.name != "id"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        """The service already saved the code."""

    def save_related(self, request, form, formsets, change) -> None:
        """Nothing related."""

    def response_add(self, request, obj, post_url_continue=None):
        code = getattr(obj, "_plain_code", "")
        expires = timezone.localtime(obj.expires_at)
        text = f"已签发并发送至 {obj.sent_to}。验证码：{code}（仅显示这一次，{expires:%Y-%m-%d %H:%M} 前有效）"
        self.message_user(request, text, messages.WARNING)
        return HttpResponseRedirect(reverse("admin:repair_accesscode_changelist"))


@admin.register(EnterpriseAccount)
class EnterpriseAccountAdmin(ScopedAdmin):
    list_display = ["enterprise", "user", "activated_at"]
    list_select_related = ["enterprise", "user"]
    search_fields = ["=enterprise__uscc"]
    ordering = ["-activated_at"]
    readonly_fields = ["user", "enterprise", "activated_at"]

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        visible = Enterprise.objects.visible_to(request.user)
        return qs if not visible.query.where else qs.filter(enterprise__in=visible.values("pk"))

    def has_add_permission(self, request) -> bool:
        return False  # accounts are activated by the entity with an access code

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RepairNotice)
class RepairNoticeAdmin(ScopedAdmin):
    list_display = ["record_label", "enterprise", "issued_on", "repairable", "repair_from", "sent"]
    list_filter = ["repairable", "sent"]
    list_select_related = ["enterprise"]
    search_fields = ["=enterprise__uscc"]
    ordering = ["-issued_on", "-id"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields if f.name != "id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- policies -----------------------------------------------------------------------------------------------------
POLICY_FIELDS = [
    "code", "name", "basis", "effective_from", "acceptance_working_days", "decision_working_days",
    "abnormal_decision_working_days", "tolerance_working_days", "inspection_results_repairable",
    "repeat_offender_penalties", "repeat_offender_window_months", "repeat_offender_extra_months",
]  # fmt: skip


class AuditedPolicyAdmin(admin.ModelAdmin):
    """Rules are data: staff edit them here; every change is audited with before/after."""

    audit_fields: list[str] = []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        before = snapshot(self.model.objects.get(pk=obj.pk), self.audit_fields) if change else {}
        obj.full_clean()
        obj.save()
        old, new = diff(before, snapshot(obj, self.audit_fields))
        if old or new:
            label = self.model._meta.model_name
            audit_log(
                actor=request.user,
                action=f"repair.{label}.{'update' if change else 'create'}",
                obj=obj,
                before=old,
                after=new,
            )


@admin.register(RepairPolicy)
class RepairPolicyAdmin(AuditedPolicyAdmin):
    list_display = [
        "name",
        "effective_from",
        "acceptance_working_days",
        "decision_working_days",
        "abnormal_decision_working_days",
        "tolerance_working_days",
    ]
    ordering = ["effective_from"]
    audit_fields = POLICY_FIELDS


@admin.register(CountyRepairSetting)
class CountyRepairSettingAdmin(AuditedPolicyAdmin):
    list_display = ["office", "abnormal_decision_working_days", "basis"]
    audit_fields = ["office_id", "abnormal_decision_working_days", "basis"]
