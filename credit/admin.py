"""Admin of credit-risk classification: model versions (edit drafts, run in shadow, compare, adopt, supersede), runs
with their per-county distribution and migration matrix, results and their explanation, the class history, the
dashboard, and the read-only class panel on the entity page. Everything is scoped by county; writes go through
credit.services."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from core.admin_utils import EstimatedCountPaginator, ScopedAdmin
from core.errors import ApplicationError
from credit import selectors, services
from credit.indicators import GROUPS, INDICATORS
from credit.models import ClassChange, ModelVersion, RiskResult, Run, Snapshot
from enterprises import admin as enterprise_admin

# ==============================================================================================================
# The class panel on the entity page (enterprises.admin.ENTERPRISE_PANELS)
# ==============================================================================================================


def explanation_html(result: RiskResult | None) -> str:
    if result is None or not result.pk:
        return "—"
    explanation = selectors.explanation_of(result)
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td style='text-align:right'>{}</td></tr>",
        ((line.group, line.text, line.signed) for line in explanation.lines),
    )
    rule = format_html("<p>硬性规则：{}</p>", explanation.hard_rule) if explanation.hard_rule else ""
    return format_html(
        "<table class='credit-explanation'><thead><tr><th>类别</th><th>指标</th><th>分值</th></tr></thead>"
        "<tbody>{}</tbody><tfoot><tr><th colspan='2'>合计</th><th style='text-align:right'>{}</th></tr></tfoot>"
        "</table>{}",
        rows or mark_safe("<tr><td colspan='3'>无加减分项</td></tr>"),
        explanation.score,
        rule,
    )


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return selectors.can_see_classes(request.user)


class RiskResultInline(ReadOnlyInline):
    """The entity's current class, score, explanation, model version and data date (regulators only)."""

    model = RiskResult
    fk_name = "enterprise"
    verbose_name = _("credit-risk class (internal)")
    verbose_name_plural = _("credit-risk class (internal, never public)")
    fields = ["risk_class", "score", "explanation", "model_version", "as_of", "updated_at"]
    readonly_fields = fields

    @admin.display(description=_("explanation"))
    def explanation(self, obj: RiskResult) -> str:
        return explanation_html(obj)


class ClassChangeInline(ReadOnlyInline):
    model = ClassChange
    verbose_name_plural = _("risk-class history")
    fields = ["changed_at", "old_class", "new_class", "score", "model_version", "as_of"]
    readonly_fields = fields
    ordering = ["-changed_at", "-id"]


enterprise_admin.ENTERPRISE_PANELS.extend([RiskResultInline, ClassChangeInline])


# ==============================================================================================================
# Model versions
# ==============================================================================================================


class PrettyJSONField(forms.JSONField):
    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2)


class ModelVersionForm(forms.ModelForm):
    spec = PrettyJSONField(
        label=_("specification"),
        widget=forms.Textarea(attrs={"rows": 36, "cols": 90, "style": "font-family: monospace"}),
        help_text=_("indicators (code, weight, params), hard_rules (indicator, min_value, min_class), bands"),
    )

    class Meta:
        model = ModelVersion
        fields = ["code", "name", "description", "spec"]


def catalogue_html() -> str:
    rows = format_html_join(
        "",
        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
        (
            (i.code, GROUPS[i.group], i.label, i.explain, json.dumps(dict(i.defaults), ensure_ascii=False))
            for i in INDICATORS.values()
        ),
    )
    return format_html(
        "<table><thead><tr><th>代码</th><th>类别</th><th>指标</th><th>说明</th><th>参数（默认值）</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        rows,
    )


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    form = ModelVersionForm
    list_display = ["code", "name", "status", "adopted_at", "superseded_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["code", "name"]
    change_form_template = "credit/admin/modelversion_change_form.html"
    readonly_fields = ["status", "supersedes", "created_by", "adopted_at", "adopted_by", "superseded_at", "catalogue"]

    def get_fields(self, request, obj=None):
        return ["code", "name", "description", "spec", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return ["code", "name", "description", "spec_text", *self.readonly_fields]
        return self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and not obj.is_editable:
            kwargs["fields"] = []
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fields = self.get_fields(request, obj)
        if obj is not None and not obj.is_editable:
            fields = [f if f != "spec" else "spec_text" for f in fields]
        return [(None, {"fields": fields})]

    @admin.display(description=_("specification"))
    def spec_text(self, obj: ModelVersion) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.spec, ensure_ascii=False, indent=2))

    @admin.display(description=_("indicator catalogue"))
    def catalogue(self, obj: ModelVersion | None = None) -> str:
        return catalogue_html()

    def has_change_permission(self, request, obj=None) -> bool:
        # A live or superseded version is immutable: its page is read-only (supersede it to change it).
        if obj is not None and not obj.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change) -> None:
        data = {k: form.cleaned_data[k] for k in ("code", "name", "description", "spec")}
        if change:
            services.model_version_update(actor=request.user, version=obj, data=data)
        else:
            created = services.model_version_create(actor=request.user, **data)
            obj.pk = created.pk
            obj._state.adding = False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/shadow/", wrap(self.shadow_view), name="credit_modelversion_shadow"),
            path("<int:pk>/adopt/", wrap(self.adopt_view), name="credit_modelversion_adopt"),
            path("<int:pk>/supersede/", wrap(self.supersede_view), name="credit_modelversion_supersede"),
            *super().get_urls(),
        ]

    def _post_target(self, request, pk: int) -> ModelVersion:
        if request.method != "POST":
            raise PermissionDenied
        if not request.user.has_perm("credit.change_modelversion"):
            raise PermissionDenied
        return get_object_or_404(ModelVersion, pk=pk)

    def shadow_view(self, request, pk: int):
        version = self._post_target(request, pk)
        if version.status != ModelVersion.Status.DRAFT:
            messages.error(request, "只有候选（草稿）版本可以影子运行")
            return redirect("admin:credit_modelversion_change", pk)
        from credit.tasks import shadow_run

        as_of = timezone.localdate()
        transaction.on_commit(lambda: shadow_run.delay(version.pk, as_of.isoformat(), request.user.pk))
        messages.success(
            request, f"已提交 {version.code} 的影子运行（数据截至 {as_of}），完成后可在“重新分类运行”中比较"
        )
        return redirect("admin:credit_modelversion_change", pk)

    def adopt_view(self, request, pk: int):
        version = self._post_target(request, pk)
        try:
            services.model_version_adopt(actor=request.user, version=version)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已启用 {version.code}；各主体的类别将在下一次重新分类（每晚）时按新版本更新")
        return redirect("admin:credit_modelversion_change", pk)

    def supersede_view(self, request, pk: int):
        version = self._post_target(request, pk)
        draft = services.model_version_supersede(actor=request.user, version=version)
        messages.success(request, f"已新建候选版本 {draft.code}，修改后可影子运行并启用")
        return redirect("admin:credit_modelversion_change", draft.pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, object_id)
        extra = {**(extra_context or {})}
        if version is not None:
            shadow = (
                Run.objects.filter(model_version=version, mode=Run.Mode.SHADOW, status=Run.Status.SUCCEEDED)
                .order_by("-finished_at")
                .first()
            )
            extra.update(
                version=version,
                can_edit=request.user.has_perm("credit.change_modelversion"),
                latest_shadow=shadow,
            )
        return super().change_view(request, object_id, form_url, extra)


# ==============================================================================================================
# Runs
# ==============================================================================================================


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "mode", "model_version", "as_of", "status", "progress", "summary", "source"]
    list_filter = ["mode", "status"]
    list_select_related = ["model_version"]
    ordering = ["-started_at"]

    @admin.display(description=_("chunks"))
    def progress(self, run: Run) -> str:
        return f"{run.chunks_done}/{run.chunks_total}"

    @admin.display(description=_("counts"))
    def summary(self, run: Run) -> str:
        return "，".join(f"{k} {v:,}" for k, v in sorted(run.counts.items()))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = Run.objects.select_related("model_version").filter(pk=object_id).first()
        if run is None or not self.has_view_permission(request, run):
            raise Http404
        view = selectors.run_view(run, request.user)
        can_adopt = (
            run.mode == Run.Mode.SHADOW
            and run.status == Run.Status.SUCCEEDED
            and run.model_version.status == ModelVersion.Status.DRAFT
            and request.user.has_perm("credit.change_modelversion")
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(run),
            "run": run,
            "view": view,
            "classes": ["A", "B", "C", "D"],
            "can_adopt": can_adopt,
            "compare_label": _("before the run") if run.mode == Run.Mode.LIVE else _("live"),
        }
        return TemplateResponse(request, "credit/admin/run_detail.html", context)


# ==============================================================================================================
# Results, history, dashboard
# ==============================================================================================================


class ResultCountyFilter(admin.SimpleListFilter):
    title = _("supervising region")
    parameter_name = "county"

    def lookups(self, request, model_admin):
        return [(c.code, c.name) for c in selectors.visible_counties(request.user)]

    def queryset(self, request, queryset):
        return queryset.filter(enterprise__region_id=self.value()) if self.value() else queryset


@admin.register(RiskResult)
class RiskResultAdmin(ScopedAdmin):
    list_display = ["enterprise", "risk_class", "score", "hard_rule", "model_version", "as_of"]
    list_filter = ["risk_class", ResultCountyFilter]
    list_select_related = ["enterprise", "model_version"]
    search_fields = ["=enterprise__uscc"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = ["enterprise", "risk_class", "score", "explanation", "model_version", "as_of", "run", "updated_at"]
    readonly_fields = fields

    @admin.display(description=_("explanation"))
    def explanation(self, obj: RiskResult) -> str:
        return explanation_html(obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ClassChange)
class ClassChangeAdmin(ScopedAdmin):
    list_display = ["changed_at", "enterprise", "old_class", "new_class", "score", "model_version", "as_of"]
    list_filter = ["new_class", "old_class"]
    list_select_related = ["enterprise", "model_version"]
    search_fields = ["=enterprise__uscc"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_queryset(self, request):
        return selectors.changes_visible_to(request.user).select_related("enterprise", "model_version")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Snapshot)
class DashboardAdmin(admin.ModelAdmin):
    """The risk-class dashboard: the current distribution per county and its monthly trend (the snapshots)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        counties = selectors.visible_counties(request.user)
        region = request.GET.get("county") or None
        if region and region not in {c.code for c in counties}:
            raise Http404
        rows = selectors.current_distribution(request.user)
        total = selectors.Row(_("Total"), {k: sum(r.counts[k] for r in rows) for k in "ABCD"})
        data = selectors.trend(request.user, region=region)
        live = ModelVersion.objects.filter(status=ModelVersion.Status.LIVE).first()
        last_run = selectors.last_live_run()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Risk-class dashboard"),
            "rows": rows,
            "total": total if len(rows) > 1 else None,
            "counties": counties,
            "region": region,
            "region_name": next((c.name for c in counties if c.code == region), ""),
            "trend": data,
            "trend_rows": list(zip(data.months, data.counts, strict=True)),
            "chart": mark_safe(selectors.trend_svg(data)),  # built from numbers and escaped labels
            "live": live,
            "last_run": last_run,
            "classes": ["A", "B", "C", "D"],
            "runs_url": reverse("admin:credit_run_changelist"),
        }
        return TemplateResponse(request, "credit/admin/dashboard.html", context)
