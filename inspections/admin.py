"""Admin of double-random inspections (DESIGN.md §3.6): 一单两库 (the item list, the inspector roster, the object
directory over the registry), plans with their preview and the draw buttons (commit, draw, reveal, publish, redraw
with a reason), the inspector's own tasks with the result form, results, abnormal-list proposals, case leads and the
statistics page.

Every write goes through inspections.services: a model form runs the service in `_post_clean` (a refusal becomes
the form's error, nothing half-written), an action page calls one service and shows its refusal as a Chinese admin
message. Rows are `visible_to(request.user)`; anything else is a 404 (ScopedAdmin).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_utils import ScopedAdmin
from core.errors import ApplicationError
from core.models import User
from enterprises.filters import EnterpriseFilter
from enterprises.models import Enterprise, Region
from inspections import importing
from inspections.forms import (
    ConfirmForm,
    ImportForm,
    ReasonForm,
    ResultForm,
    StatisticsForm,
    counties_for,
    ratio_field,
)
from inspections.models import (
    AbnormalProposal,
    CaseLead,
    Draw,
    Evidence,
    InspectionItem,
    Inspector,
    InspectorConflict,
    Plan,
    Result,
    Task,
    TaskAssignment,
)
from inspections.selectors import inspection_statistics
from inspections.services import catalogue, draws, plans, results

ACTION_TEMPLATE = "inspections/admin/action_form.html"


def _actor_form(form_class: type[forms.ModelForm], request: HttpRequest) -> type[forms.ModelForm]:
    return type(f"Bound{form_class.__name__}", (form_class,), {"actor": request.user})


class ServiceModelForm(forms.ModelForm):
    """A model form whose save is a service call, made once the form's own validation passed."""

    actor: Any = None

    def call_service(self, instance):  # pragma: no cover - overridden
        raise NotImplementedError

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        try:
            self.instance = self.call_service(self.instance)
        except ApplicationError as exc:
            self.add_error(None, exc.message)
        except forms.ValidationError as exc:
            self.add_error(None, exc)


class ServiceSavedAdmin(ScopedAdmin):
    """The service in the form has saved the object and its relations already."""

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # the read-only history of an existing record only

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return _actor_form(form, request)

    def save_model(self, request, obj, form, change) -> None:
        """Saved by the form's service call."""

    def save_related(self, request, form, formsets, change) -> None:
        """Saved by the form's service call."""


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    max_num = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class RecordAdmin(ScopedAdmin):
    """Records written by services only (tasks, results, proposals, case leads): the page shows, never saves."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields if f.name != "id"]

    def has_add_permission(self, request) -> bool:
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        """Written by the services only."""

    def save_related(self, request, form, formsets, change) -> None:
        """Nothing related is edited here."""


class ImportMixin:
    """An upload page (admin/<model>/import/) that imports the roster or the item list all-or-nothing."""

    import_kind = ""
    import_title: Any = ""

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise Http404
        result = None
        if request.method == "POST":
            form = ImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                saved = importing.saved_upload(upload)
                try:
                    result = importing.import_file(
                        kind=self.import_kind,
                        path=saved.path,
                        actor=request.user,
                        file_name=upload.name,
                        dry_run=form.cleaned_data["dry_run"],
                    )
                finally:
                    saved.cleanup()
                if result.ok:
                    self.message_user(request, result.summary(), messages.SUCCESS)
                    return HttpResponseRedirect(request.path)
        else:
            form = ImportForm()
        context = {
            **self.admin_site.each_context(request),
            "title": self.import_title,
            "opts": self.model._meta,
            "form": form,
            "result": result,
            "columns": importing.COLUMNS[self.import_kind],
        }
        return TemplateResponse(request, "inspections/admin/import.html", context)

    def import_urls(self):
        name = f"inspections_{self.model._meta.model_name}_import"
        return [path("import/", self.admin_site.admin_view(self.import_view), name=name)]


# --- 一单两库: items ---------------------------------------------------------------------------------------------
class ItemForm(ServiceModelForm):
    class Meta:
        model = InspectionItem
        fields = ["code", "name", "department", "legal_basis", "kind", "active"]

    def call_service(self, instance):
        return catalogue.item_save(actor=self.actor, item=instance)


@admin.register(InspectionItem)
class InspectionItemAdmin(ImportMixin, ServiceSavedAdmin):
    form = ItemForm
    list_display = ["code", "name", "department", "kind", "short_basis", "active"]
    list_filter = ["department", "kind", "active"]
    list_select_related = ["department"]
    search_fields = ["code", "name"]
    change_list_template = "inspections/admin/import_change_list.html"
    import_kind = importing.KIND_ITEMS
    import_title = _("Import the inspection item list")

    @admin.display(description=_("legal basis"))
    def short_basis(self, obj: InspectionItem) -> str:
        return obj.legal_basis if len(obj.legal_basis) <= 40 else obj.legal_basis[:40] + "…"

    def get_urls(self):
        return self.import_urls() + super().get_urls()


# --- 一单两库: the roster ----------------------------------------------------------------------------------------
class InspectorForm(ServiceModelForm):
    class Meta:
        model = Inspector
        fields = [
            "name", "department", "region", "qualifications", "warrant_number", "warrant_expires_on", "active", "user",
        ]  # fmt: skip

    def call_service(self, instance):
        return catalogue.inspector_save(
            actor=self.actor, inspector=instance, qualifications=self.cleaned_data.get("qualifications")
        )


class ConflictInline(ReadOnlyInline):
    model = InspectorConflict
    fields = ["enterprise", "reason", "declared_on"]
    readonly_fields = fields


class WarrantFilter(admin.SimpleListFilter):
    title = _("warrant")
    parameter_name = "warrant"

    def lookups(self, request, model_admin):
        return [("valid", _("Valid")), ("expired", _("Expired"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "valid":
            return queryset.filter(warrant_expires_on__gte=today)
        if self.value() == "expired":
            return queryset.filter(warrant_expires_on__lt=today)
        return queryset


def _limit_region(request: HttpRequest, db_field, kwargs: dict) -> None:
    """A county regulator picks only its own county (the service refuses any other anyway)."""
    if db_field.name in ("region",) and not request.user.is_city_wide:
        kwargs["queryset"] = Region.objects.filter(code=request.user.region_code)


@admin.register(Inspector)
class InspectorAdmin(ImportMixin, ServiceSavedAdmin):
    form = InspectorForm
    list_display = ["name", "warrant_number", "department", "region", "warrant", "n_items", "n_conflicts", "active"]
    list_filter = [WarrantFilter, "department", "region", "active"]
    list_select_related = ["department", "region"]
    search_fields = ["name", "=warrant_number"]
    filter_horizontal = ["qualifications"]
    raw_id_fields = ["user"]
    inlines = [ConflictInline]
    change_list_template = "inspections/admin/import_change_list.html"
    import_kind = importing.KIND_ROSTER
    import_title = _("Import the inspector roster")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                item_count=Count("qualifications", distinct=True),
                conflict_count=Count("inspectorconflict", distinct=True),
            )
        )

    @admin.display(description=_("warrant valid until"), ordering="warrant_expires_on")
    def warrant(self, obj: Inspector) -> str:
        if obj.warrant_expires_on < timezone.localdate():
            return format_html('<strong style="color:#ba2121">{} ⚠ {}</strong>', obj.warrant_expires_on, _("expired"))
        return str(obj.warrant_expires_on)

    @admin.display(description=_("qualified items"))
    def n_items(self, obj: Inspector) -> int:
        return obj.item_count

    @admin.display(description=_("declared conflicts"))
    def n_conflicts(self, obj: Inspector) -> int:
        return obj.conflict_count

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        _limit_region(request, db_field, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_urls(self):
        return self.import_urls() + super().get_urls()


class ConflictForm(ServiceModelForm):
    class Meta:
        model = InspectorConflict
        fields = ["inspector", "enterprise", "reason"]

    def validate_unique(self) -> None:
        """The service refuses a second declaration with a message naming both."""

    def call_service(self, instance):
        return catalogue.conflict_declare(
            actor=self.actor, inspector=instance.inspector, enterprise=instance.enterprise, reason=instance.reason
        )


@admin.register(InspectorConflict)
class InspectorConflictAdmin(ServiceSavedAdmin):
    """Declared conflicts (回避): declared here, never edited or deleted (the history of who avoided whom)."""

    form = ConflictForm
    list_display = ["inspector", "enterprise", "reason", "declared_on"]
    list_select_related = ["inspector", "enterprise"]
    raw_id_fields = ["enterprise"]
    search_fields = ["inspector__name", "=inspector__warrant_number", "=enterprise__uscc"]

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs.filter(inspector__in=Inspector.objects.visible_to(request.user).values("pk"))

    @staticmethod
    def _own_inspector(request) -> Inspector | None:
        """The roster entry of an inspector's account (None for anyone else)."""
        user = request.user
        if not user.is_authenticated or user.role != User.Role.INSPECTOR:
            return None
        return Inspector.objects.filter(user=user).first()

    def has_add_permission(self, request) -> bool:
        # Regulators through their role's "add" permission. The inspector role has view/change only (core.roles),
        # yet an inspector of the roster declares their own conflicts (回避 is the inspector's duty to declare):
        # the form offers only themselves and conflict_declare refuses a declaration made for a colleague.
        return super().has_add_permission(request) or self._own_inspector(request) is not None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "inspector":
            queryset = Inspector.objects.visible_to(request.user)
            if not super().has_add_permission(request):
                own = self._own_inspector(request)
                queryset = queryset.filter(pk=own.pk if own is not None else None)
                kwargs["initial"] = own
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)


# --- plans --------------------------------------------------------------------------------------------------------
class PlanForm(ServiceModelForm):
    scope_entity_types = forms.MultipleChoiceField(
        label=_("scope: entity types"),
        choices=Enterprise.EntityType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None selected: every entity type."),
    )
    ratio_a = ratio_field("ratio_a")
    ratio_b = ratio_field("ratio_b")
    ratio_c = ratio_field("ratio_c")
    ratio_d = ratio_field("ratio_d")
    ratio_unclassified = ratio_field("ratio_unclassified")

    class Meta:
        model = Plan
        fields = [
            "name", "year", "region", "items", "scope_regions", "scope_industries", "scope_key_areas",
            "scope_entity_types", "ratio_a", "ratio_b", "ratio_c", "ratio_d", "ratio_unclassified", "frequency_cap",
            "planned_start", "planned_end",
        ]  # fmt: skip

    def call_service(self, instance):
        relations = {name: self.cleaned_data.get(name) or [] for name in catalogue.PLAN_M2M}
        return catalogue.plan_save(actor=self.actor, plan=instance, relations=relations)


class DrawInline(ReadOnlyInline):
    model = Draw
    fields = ["number", "status", "commitment", "public_seed", "snapshot_size", "drawn_at", "operator", "redraw_reason"]
    readonly_fields = fields
    ordering = ["-number"]

    @admin.display(description=_("seed (once revealed)"))
    def public_seed(self, obj: Draw) -> str:
        return obj.public_seed or "—"


PLAN_ACTIONS = ("commit", "draw", "reveal", "publish", "redraw", "close")


@admin.register(Plan)
class PlanAdmin(ServiceSavedAdmin):
    form = PlanForm
    list_display = ["name", "year", "region", "status", "planned_start", "planned_end", "joint", "published_on"]
    list_filter = ["status", "year", "region"]
    list_select_related = ["region"]
    search_fields = ["name"]
    filter_horizontal = ["items", "scope_regions", "scope_industries", "scope_key_areas"]
    inlines = [DrawInline]
    change_form_template = "inspections/admin/plan_change_form.html"
    change_list_template = "inspections/admin/plan_change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_departments=Count("items__department", distinct=True))

    @admin.display(description=_("joint plan"), boolean=True)
    def joint(self, obj: Plan) -> bool:
        return getattr(obj, "n_departments", 0) > 1

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != Plan.Status.DRAFT:
            return [*PlanForm.Meta.fields, "status", "published_on"]
        return ["status", "published_on"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            regions = Region.objects.filter(level__in=["city", "county"])
            if not request.user.is_city_wide:
                regions = regions.filter(code=request.user.region_code)
            kwargs["queryset"] = regions
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        plan = self.get_queryset(request).filter(pk=object_id).first() if str(object_id).isdigit() else None
        if plan is None:
            raise Http404
        preview, preview_error = None, ""
        if plan.status == Plan.Status.DRAFT or plan.status == Plan.Status.COMMITTED:
            try:
                preview = plans.plan_preview(plan=plan)
            except ApplicationError as exc:
                preview_error = exc.message
            except forms.ValidationError as exc:
                preview_error = "；".join(exc.messages)
        draws_ = list(plan.draws.order_by("-number"))
        extra_context = {
            **(extra_context or {}),
            "preview": preview,
            "preview_rows": _preview_rows(preview) if preview else [],
            "preview_error": preview_error,
            "plan_actions": _available_actions(plan, draws_),
            "public_url": _public_url(plan),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    # --- the draw buttons ---------------------------------------------------------------------------------
    def get_urls(self):
        custom = [
            path(f"<int:pk>/{name}/", self.admin_site.admin_view(self.action_view), {"action": name},
                 name=f"inspections_plan_{name}")
            for name in PLAN_ACTIONS
        ]  # fmt: skip
        custom += [
            path("statistics/", self.admin_site.admin_view(self.statistics_view), name="inspections_plan_statistics"),
            path("directory/", self.admin_site.admin_view(self.directory_view), name="inspections_plan_directory"),
        ]
        return custom + super().get_urls()

    def _plan(self, request: HttpRequest, pk: int) -> Plan:
        plan = self.get_queryset(request).filter(pk=pk).first()
        if plan is None or not self.has_change_permission(request, plan):
            raise Http404
        return plan

    def action_view(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        plan = self._plan(request, pk)
        spec = _plan_action_spec(request, action)
        form = spec["form"](request.POST if request.method == "POST" else None)
        change_url = reverse("admin:inspections_plan_change", args=[plan.pk])
        if request.method == "POST" and form.is_valid():
            try:
                done = spec["apply"](plan, form.cleaned_data)
            except ApplicationError as exc:
                # A refusal changes nothing (each service is one transaction); the message says why.
                self.message_user(request, exc.message, messages.ERROR)
                if not isinstance(form, ReasonForm):
                    return HttpResponseRedirect(change_url)
                form.add_error(None, exc.message)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": spec["title"],
            "description": spec["description"],
            "original": plan,
            "form": form,
        }
        return TemplateResponse(request, ACTION_TEMPLATE, context)

    # --- statistics ---------------------------------------------------------------------------------------
    def statistics_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise Http404
        form = StatisticsForm(request.GET or None)
        start = end = None
        if form.is_bound and form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        elif not form.is_bound:
            start, end = form.fields["start"].initial, form.fields["end"].initial
        rows, total, plan_rows = [], None, []
        if start and end:
            for county in counties_for(request.user):
                rows.append((county, inspection_statistics(regions=[county], start=start, end=end)))
            if request.user.is_city_wide:
                total = inspection_statistics(regions=None, start=start, end=end)
            plan_rows = _plan_figures(self.get_queryset(request), start, end)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Inspection statistics"),
            "form": form,
            "rows": rows,
            "total": total,
            "plan_rows": plan_rows,
            "classes": ["A", "B", "C", "D", ""],
        }
        return TemplateResponse(request, "inspections/admin/statistics.html", context)

    # --- the object directory -----------------------------------------------------------------------------
    def directory_view(self, request: HttpRequest) -> HttpResponse:
        """The object directory (检查对象名录库): the registry the user may see, filtered like a plan's scope."""
        if not self.has_view_permission(request):
            raise Http404
        base = Enterprise.objects.visible_to(request.user).filter(status__in=plans.INSPECTABLE_STATUSES)
        filterset = EnterpriseFilter(request.GET or None, queryset=base)
        qs = filterset.qs if filterset.is_bound and filterset.is_valid() else base
        by_class = dict(qs.order_by().values_list("risk_class").annotate(n=Count("id")).values_list("risk_class", "n"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Object directory"),
            "filterset": filterset,
            "by_class": [(cls or "—", by_class.get(cls, 0)) for cls in ("A", "B", "C", "D", "")],
            "total": sum(by_class.values()),
            "entities": qs.select_related("region").order_by("pk")[:100],
        }
        return TemplateResponse(request, "inspections/admin/directory.html", context)


def _public_url(plan: Plan) -> str:
    try:
        return reverse("inspections:plan-detail", args=[plan.pk]) if plan.status != Plan.Status.DRAFT else ""
    except Exception:  # the public pages may be mounted under another name
        return ""


def _preview_rows(preview: plans.PlanPreview) -> list[dict[str, Any]]:
    return [{"label": cls or str(_("not yet classified")), **figures} for cls, figures in preview.by_class.items()]


def _available_actions(plan: Plan, plan_draws: list[Draw]) -> list[tuple[str, Any]]:
    committed = any(d.status == Draw.Status.COMMITTED for d in plan_draws)
    in_force = next((d for d in plan_draws if d.status == Draw.Status.DRAWN), None)
    actions: list[tuple[str, Any]] = []
    if not committed and in_force is None:
        actions.append(("commit", _("Commit the seed (publish its SHA-256)")))
    if committed:
        actions.append(("draw", _("Draw now")))
    if in_force is not None and in_force.revealed_at is None:
        actions.append(("reveal", _("Reveal the seed")))
    if in_force is not None and plan.status == Plan.Status.DRAWN:
        actions.append(("publish", _("Publish the drawn entities")))
    if in_force is not None and not committed and plan.status != Plan.Status.CLOSED:
        actions.append(("redraw", _("Redraw (with a reason)")))
    if in_force is not None and plan.status in (Plan.Status.DRAWN, Plan.Status.PUBLISHED):
        actions.append(("close", _("Close the plan")))
    return actions


def _committed_draw(plan: Plan) -> Draw:
    draw = plan.draws.filter(status=Draw.Status.COMMITTED).first()
    if draw is None:
        raise ApplicationError("该计划没有待抽取的种子承诺，请先公布承诺值。", code="no_committed_draw")
    return draw


def _draw_in_force(plan: Plan) -> Draw:
    draw = plan.draws.filter(status=Draw.Status.DRAWN).first()
    if draw is None:
        raise ApplicationError("该计划尚未抽取。", code="plan_not_drawn")
    return draw


def _plan_action_spec(request: HttpRequest, action: str) -> dict[str, Any]:
    actor = request.user

    def commit(plan: Plan, data: dict) -> str:
        draw = draws.draw_commit(actor=actor, plan=plan)
        return f"随机种子的承诺值已公布：{draw.commitment}"

    def draw(plan: Plan, data: dict) -> str:
        made = draws.draw_execute(actor=actor, draw=_committed_draw(plan))
        return f"抽取完成：共抽中 {made.tasks.count()} 户（对象快照 {made.snapshot_size} 户），随机种子已公开。"

    def reveal(plan: Plan, data: dict) -> str:
        draws.draw_reveal(actor=actor, draw=_draw_in_force(plan))
        return "随机种子已公开。"

    def publish(plan: Plan, data: dict) -> str:
        draws.plan_publish(actor=actor, plan=plan)
        return "抽取结果已向社会公示。"

    def redraw(plan: Plan, data: dict) -> str:
        draw = draws.draw_commit(actor=actor, plan=plan, redraw_reason=data["reason"])
        return f"已发起重新抽取（第 {draw.number} 次），新种子承诺值已公布；请点击“立即抽取”。"

    def close(plan: Plan, data: dict) -> str:
        results.plan_close(actor=actor, plan=plan)
        return "计划已结束。"

    specs: dict[str, dict[str, Any]] = {
        "commit": {"apply": commit, "title": _("Commit the seed"), "description": _(
            "A random seed is generated and its SHA-256 commitment published on the plan's public page. The plan's "
            "items, scope and ratios cannot be changed afterwards.")},
        "draw": {"apply": draw, "title": _("Draw"), "description": _(
            "The population is frozen, the entities are drawn by class and the inspectors assigned; then the seed "
            "is revealed. All or nothing: a shortfall of inspectors changes nothing.")},
        "reveal": {"apply": reveal, "title": _("Reveal the seed"), "description": _(
            "Anyone can then check the seed against the commitment and re-run the draw.")},
        "publish": {"apply": publish, "title": _("Publish the drawn entities"), "description": _(
            "The drawn entities appear on the plan's public page.")},
        "redraw": {"apply": redraw, "title": _("Redraw"), "description": _(
            "A new seed is committed; the next draw supersedes the one in force (its tasks are cancelled). The "
            "reason is recorded and published.")},
        "close": {"apply": close, "title": _("Close the plan"), "description": _(
            "Possible once every task has its result.")},
    }  # fmt: skip
    if action not in specs:
        raise Http404
    return {**specs[action], "form": ReasonForm if action == "redraw" else ConfirmForm}


def _plan_figures(plans_qs, start, end) -> list[Plan]:
    """Completion and findings per plan whose dates intersect the period (one grouped query)."""
    active = ~Q(tasks__status=Task.Status.CANCELLED)
    return list(
        plans_qs.filter(planned_start__lte=end, planned_end__gte=start)
        .exclude(status=Plan.Status.DRAFT)
        .annotate(
            n_tasks=Count("tasks", filter=active, distinct=True),
            n_done=Count("tasks", filter=Q(tasks__status=Task.Status.DONE), distinct=True),
            n_problems=Count("results", filter=Q(results__problem_found=True), distinct=True),
        )
        .order_by("-year", "name")[:200]
    )


# --- tasks and results --------------------------------------------------------------------------------------------
class AssignmentInline(ReadOnlyInline):
    model = TaskAssignment
    fields = ["inspector", "department"]
    readonly_fields = fields


@admin.register(Task)
class TaskAdmin(RecordAdmin):
    """Tasks: an inspector sees only the tasks assigned to them (Task.visible_to) and records the result here."""

    list_display = ["enterprise", "plan", "status", "inspector_names", "record_link"]
    list_filter = ["status", "plan__year"]
    list_select_related = ["enterprise", "plan"]
    search_fields = ["=enterprise__uscc", "enterprise__name"]
    inlines = [AssignmentInline]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("assignments__inspector")

    @admin.display(description=_("inspectors"))
    def inspector_names(self, obj: Task) -> str:
        return "、".join(a.inspector.name for a in obj.assignments.all())

    @admin.display(description=_("result"))
    def record_link(self, obj: Task) -> str:
        if obj.status == Task.Status.CANCELLED:
            return "—"
        url = reverse("admin:inspections_task_record", args=[obj.pk])
        label = _("Record the result") if obj.status == Task.Status.ASSIGNED else _("Correct the result")
        return format_html('<a href="{}">{}</a>', url, label)

    def has_add_permission(self, request) -> bool:
        return False  # tasks come from draws only

    def get_urls(self):
        view = self.admin_site.admin_view(self.record_view)
        return [path("<int:pk>/record/", view, name="inspections_task_record"), *super().get_urls()]

    def record_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        task = self.get_queryset(request).filter(pk=pk).select_related("enterprise", "plan").first()
        if task is None:
            raise Http404
        existing = Result.objects.filter(task=task).first()
        bound = request.method == "POST"
        initial = (
            {"outcome": existing.outcome, "inspected_on": existing.inspected_on, "details": existing.details}
            if existing
            else None
        )
        form = ResultForm(request.POST if bound else None, request.FILES if bound else None, initial=initial)
        if bound and form.is_valid():
            data = form.cleaned_data
            try:
                results.result_record(
                    actor=request.user,
                    task=task,
                    outcome=data["outcome"],
                    inspected_on=data["inspected_on"],
                    details=data["details"],
                    evidence=[(f, data["evidence_description"]) for f in data["evidence"]],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, "检查结果已录入，将在 20 个工作日内公示。", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:inspections_task_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Record the inspection result"),
            "description": f"{task.enterprise.name}（{task.enterprise.uscc}）· {task.plan.name}",
            "original": task,
            "form": form,
            "multipart": True,
        }
        return TemplateResponse(request, ACTION_TEMPLATE, context)


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    fields = ["file", "description", "uploaded_by", "created_at"]
    readonly_fields = fields


class PublicationFilter(admin.SimpleListFilter):
    title = _("publication")
    parameter_name = "publication"

    def lookups(self, request, model_admin):
        return [("pending", _("Not yet published")), ("overdue", _("Overdue")), ("published", _("Published"))]

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(published_on__isnull=True)
        if self.value() == "overdue":
            return queryset.overdue()
        if self.value() == "published":
            return queryset.filter(published_on__isnull=False)
        return queryset


@admin.register(Result)
class ResultAdmin(RecordAdmin):
    list_display = ["enterprise", "plan", "inspected_on", "outcome", "recorded_by", "due_flag", "published_on"]
    list_filter = [PublicationFilter, "outcome", "plan__year"]
    list_select_related = ["enterprise", "plan", "recorded_by"]
    search_fields = ["=enterprise__uscc"]
    inlines = [EvidenceInline]
    actions = ["publish_selected"]
    show_full_result_count = False

    @admin.display(description=_("publish by"), ordering="publication_due")
    def due_flag(self, obj: Result) -> str:
        if obj.is_overdue:
            return format_html('<strong style="color:#ba2121">{} ⚠ {}</strong>', obj.publication_due, _("overdue"))
        return str(obj.publication_due)

    def has_add_permission(self, request) -> bool:
        return False  # results are recorded on the task (the assigned inspector)

    @admin.action(description=_("Publish the selected results"))
    def publish_selected(self, request: HttpRequest, queryset) -> None:
        published, refused = 0, []
        for result in queryset.filter(published_on__isnull=True):
            try:
                results.result_publish(actor=request.user, result=result)
                published += 1
            except ApplicationError as exc:
                refused.append(f"{result.enterprise}：{exc.message}")
        if published:
            self.message_user(request, f"已公示 {published} 条检查结果。", messages.SUCCESS)
        for text in refused:
            self.message_user(request, text, messages.ERROR)


@admin.register(AbnormalProposal)
class AbnormalProposalAdmin(RecordAdmin):
    """Proposals from "not reachable" findings: a regulator confirms (disclosure lists the entity) or dismisses."""

    list_display = ["enterprise", "status", "inspected_on", "created_at", "decided_by", "decide_links"]
    list_filter = ["status"]
    list_select_related = ["enterprise", "result", "decided_by"]
    search_fields = ["=enterprise__uscc"]

    @admin.display(description=_("inspected on"))
    def inspected_on(self, obj: AbnormalProposal):
        return obj.result.inspected_on

    @admin.display(description=_("decision"))
    def decide_links(self, obj: AbnormalProposal) -> str:
        if obj.status != AbnormalProposal.Status.PROPOSED:
            return obj.decision_note or "—"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:inspections_abnormalproposal_confirm", args=[obj.pk]),
            _("Confirm: list"),
            reverse("admin:inspections_abnormalproposal_dismiss", args=[obj.pk]),
            _("Dismiss"),
        )

    def has_add_permission(self, request) -> bool:
        return False

    def get_urls(self):
        return [
            path("<int:pk>/confirm/", self.admin_site.admin_view(self.confirm_view),
                 name="inspections_abnormalproposal_confirm"),
            path("<int:pk>/dismiss/", self.admin_site.admin_view(self.dismiss_view),
                 name="inspections_abnormalproposal_dismiss"),
            *super().get_urls(),
        ]  # fmt: skip

    def _decide(
        self, request: HttpRequest, pk: int, *, form_class, title, apply: Callable[[AbnormalProposal, dict], str]
    ) -> HttpResponse:
        proposal = self.get_queryset(request).filter(pk=pk).first()
        if proposal is None or not self.has_change_permission(request, proposal):
            raise Http404
        form = form_class(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                done = apply(proposal, form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:inspections_abnormalproposal_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "description": f"{proposal.enterprise.name}（{proposal.enterprise.uscc}）",
            "original": proposal,
            "form": form,
        }
        return TemplateResponse(request, ACTION_TEMPLATE, context)

    def confirm_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def apply(proposal: AbnormalProposal, data: dict) -> str:
            listing = results.proposal_confirm(actor=request.user, proposal=proposal)
            return f"已列入经营异常名录（决定书 {getattr(listing, 'decision_number', '') or listing.pk}）。"

        return self._decide(request, pk, form_class=ConfirmForm, title=_("Confirm: list as abnormal"), apply=apply)

    def dismiss_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def apply(proposal: AbnormalProposal, data: dict) -> str:
            results.proposal_dismiss(actor=request.user, proposal=proposal, reason=data["reason"])
            return "已作出不予列入的决定。"

        return self._decide(request, pk, form_class=ReasonForm, title=_("Dismiss the proposal"), apply=apply)


@admin.register(CaseLead)
class CaseLeadAdmin(RecordAdmin):
    list_display = ["enterprise", "status", "short_summary", "created_at"]
    list_filter = ["status"]
    list_select_related = ["enterprise"]
    search_fields = ["=enterprise__uscc"]

    @admin.display(description=_("summary"))
    def short_summary(self, obj: CaseLead) -> str:
        return obj.summary if len(obj.summary) <= 60 else obj.summary[:60] + "…"

    def has_add_permission(self, request) -> bool:
        return False
