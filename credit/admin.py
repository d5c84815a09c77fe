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
from core.roles import has_capability
from credit import selectors, services
from credit.indicators import GROUPS, INDICATORS
from credit.models import (
    CertificatePrint,
    CheckLine,
    ClassChange,
    CreditCheck,
    CreditWarning,
    ModelVersion,
    RedListPolicy,
    RiskResult,
    Run,
    Snapshot,
)
from credit.reports import VIEW_REPORTS
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


# ==============================================================================================================
# Credit checks, certificates, warnings, red-list policy, reports, supervision dashboard (issue 7)
# ==============================================================================================================

RUN_CHECKS = "credit.run_checks"  # core.roles capability: regulators, credit-check officers, superusers


class CheckLineInline(ReadOnlyInline):
    model = CheckLine
    fk_name = "check_run"
    fields = [
        "position",
        "raw_value",
        "uscc",
        "entity",
        "outcome",
        "message",
        "red_listed",
        "serial",
        "prints",
        "certificate",
    ]
    readonly_fields = fields
    verbose_name_plural = _("entries")
    max_num = 0
    show_change_link = False

    def has_view_permission(self, request, obj=None) -> bool:
        return has_capability(request.user, RUN_CHECKS)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("enterprise")

    @admin.display(description=_("market entity"))
    def entity(self, line: CheckLine) -> str:
        """The entity, linked to its registry record for those who may open it (a credit-check officer of another
        department may not: plain text, not a link to a 403)."""
        if line.enterprise is None:
            return "—"
        if not getattr(self, "_can_open_registry", False):
            return str(line.enterprise)
        url = reverse("admin:enterprises_enterprise_change", args=[line.enterprise_id])
        return format_html('<a href="{}">{}</a>', url, line.enterprise)

    @admin.display(description=_("certificate"))
    def certificate(self, line: CheckLine) -> str:
        if line.outcome not in CheckLine.CHECKED:
            return "—"
        url = reverse("admin:credit_creditcheck_print", args=[line.check_run_id, line.pk])
        label = "打印证书" if line.prints == 0 else f"补打证书（已打印 {line.prints} 次）"
        return format_html(
            '<form method="post" action="{}" style="margin:0">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<button type="submit" class="button">{}</button></form>',
            url,
            getattr(self, "_csrf", ""),
            label,
        )

    def get_formset(self, request, obj=None, **kwargs):
        from django.middleware.csrf import get_token

        self._csrf = get_token(request)
        self._can_open_registry = request.user.has_perm("enterprises.view_enterprise")
        return super().get_formset(request, obj, **kwargs)


@admin.register(CreditCheck)
class CreditCheckAdmin(admin.ModelAdmin):
    """Credit checks: a new check (one entity, pasted codes, an uploaded list) from the add page; each check with
    its entries, the certificates to print or reprint, and a batch's job (progress, download)."""

    list_display = [
        "pk",
        "created_at",
        "kind",
        "purpose",
        "period_start",
        "period_end",
        "requested_by",
        "status",
        "summary",
    ]
    list_filter = ["kind", "purpose", "status"]
    search_fields = ["=lines__uscc"]
    change_list_template = "credit/admin/creditcheck_change_list.html"
    inlines = [CheckLineInline]
    fields = [
        "kind",
        "purpose",
        "purpose_note",
        "period_start",
        "period_end",
        "reference_date",
        "requested_by",
        "region_code",
        "status",
        "job_link",
        "notes",
        "counts",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return CreditCheck.objects.visible_to(request.user).select_related("requested_by", "job")

    def has_module_permission(self, request) -> bool:
        return has_capability(request.user, RUN_CHECKS)

    def has_view_permission(self, request, obj=None) -> bool:
        return has_capability(request.user, RUN_CHECKS)

    def has_add_permission(self, request) -> bool:
        return has_capability(request.user, RUN_CHECKS)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        return {}

    @admin.display(description=_("counts"))
    def summary(self, check: CreditCheck) -> str:
        c = check.counts or {}
        skipped = c.get("malformed", 0) + c.get("unknown", 0) + c.get("out_of_scope", 0)
        return f"共 {c.get('total', 0)}：有记录 {c.get('records', 0)}，无记录 {c.get('no_record', 0)}，未核查 {skipped}"

    @admin.display(description=_("background job"))
    def job_link(self, check: CreditCheck) -> str:
        if not check.job_id:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("core:job-detail", args=[check.job_id]), str(check.job))

    @admin.display(description=_("input notes"))
    def notes(self, check: CreditCheck) -> str:
        if not check.input_notes:
            return "—"
        return format_html_join(mark_safe("<br>"), "{}", ((n["message"],) for n in check.input_notes))

    def _object_or_404(self, request, pk) -> CreditCheck:
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "<int:pk>/lines/<int:line_pk>/print/",
                self.admin_site.admin_view(self.print_view),
                name="{}_{}_print".format(*info),
            ),
            path("reports/", self.admin_site.admin_view(self.report_view), name="credit_reports"),
            path(
                "reports/abnormal-detail/",
                self.admin_site.admin_view(self.abnormal_detail_view),
                name="credit_abnormal_detail",
            ),
            path("supervision/", self.admin_site.admin_view(self.dashboard_view), name="credit_supervision_dashboard"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        from credit import checks as check_services
        from credit.forms import CheckForm

        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CheckForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            common = {
                "actor": request.user,
                "purpose": data["purpose"],
                "purpose_note": data["purpose_note"],
                "start": data["period_start"],
                "end": data["period_end"],
            }
            try:
                if data["uscc"].strip():
                    check = check_services.check_single(uscc=data["uscc"], **common)
                    messages.success(request, "核查完成，可打印信用核查证书")
                    return redirect("admin:credit_creditcheck_change", check.pk)
                if data["upload"]:
                    upload = data["upload"]
                    parsed = check_services.parse_file(
                        name=upload.name, content=upload.read(check_services.MAX_FILE_BYTES + 1)
                    )
                else:
                    parsed = check_services.parse_text(data["codes"])
                check = check_services.check_batch_start(parsed=parsed, output=data["output"], **common)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"已提交批量核查（{len(parsed.entries)} 个代码），正在后台处理")
                return redirect("admin:credit_creditcheck_change", check.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("New credit check"),
            "form": form,
            "batch_max": check_services.batch_max(),
        }
        return TemplateResponse(request, "credit/admin/check_form.html", context)

    def print_view(self, request, pk: int, line_pk: int):
        from credit import certificates

        if request.method != "POST":
            return redirect("admin:credit_creditcheck_change", pk)
        check = self._object_or_404(request, pk)
        line = get_object_or_404(check.lines.select_related("check_run"), pk=line_pk)
        if line.outcome not in CheckLine.CHECKED:
            raise Http404
        printed, pdf = certificates.certificate_print(line=line, actor=request.user, channel="admin")
        from urllib.parse import quote

        from django.http import HttpResponse

        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(certificates.filename_of(printed))}"
        return response

    # --- reports ---------------------------------------------------------------------------------------------
    def report_view(self, request):
        from credit import reports
        from credit.forms import ReportForm

        if not has_capability(request.user, VIEW_REPORTS):
            raise PermissionDenied
        counties = selectors.visible_counties(request.user)
        form = ReportForm(request.GET or None, counties=counties, city_wide=request.user.is_city_wide)
        data = None
        if request.GET and form.is_valid():
            try:
                scope = reports.resolve_scope(
                    user=request.user,
                    region=form.cleaned_data["region"],
                    start=form.cleaned_data["start"],
                    end=form.cleaned_data["end"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                data = reports.report_data(scope)
                if request.GET.get("download"):
                    return self._workbook_response(reports, data)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("County statistics report"),
            "form": form,
            "data": data,
            "query": request.GET.urlencode(),
        }
        return TemplateResponse(request, "credit/admin/report.html", context)

    def _workbook_response(self, reports, data):
        import io
        from urllib.parse import quote

        from django.http import HttpResponse

        buffer = io.BytesIO()
        reports.report_workbook(data).save(buffer)
        response = HttpResponse(
            buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(reports.report_filename(data))}"
        return response

    def abnormal_detail_view(self, request):
        from credit import reports

        if request.method != "POST" or not has_capability(request.user, VIEW_REPORTS):
            raise PermissionDenied
        filters = {
            k: v
            for k, v in request.POST.items()
            if k in {"status", "reason", "is_mark", "year", "uscc", "region", "decided_on_after", "decided_on_before"}
            and v
        }
        try:
            job = reports.abnormal_detail_start(actor=request.user, filters=filters)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("admin:credit_reports")
        return redirect("core:job-detail", job.pk)

    # --- dashboard -------------------------------------------------------------------------------------------
    def dashboard_view(self, request):
        from credit import dashboard

        if not has_capability(request.user, VIEW_REPORTS):
            raise PermissionDenied
        counties = selectors.visible_counties(request.user)
        region = request.GET.get("county") or None
        if region and region not in {c.code for c in counties}:
            raise Http404
        try:
            board = dashboard.dashboard_for(request.user, region=region)
        except ApplicationError as exc:
            raise PermissionDenied(exc.message) from exc
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Supervision dashboard"),
            "board": board,
            "counties": counties,
            "region": region,
            "classes": ["A", "B", "C", "D"],
            # built from numbers and escaped labels (credit.dashboard.bar_svg, credit.selectors.trend_svg)
            "trend_chart": mark_safe(board.trend_chart),
            "listings_chart": mark_safe(board.listings_chart),
            "repairs_chart": mark_safe(board.repairs_chart),
            "inspections_chart": mark_safe(board.inspections_chart),
        }
        return TemplateResponse(request, "credit/admin/supervision.html", context)

    def changelist_view(self, request, extra_context=None):
        links = []
        if has_capability(request.user, VIEW_REPORTS):  # not for a credit-check officer
            links = [
                (reverse("admin:credit_reports"), _("County statistics report")),
                (reverse("admin:credit_supervision_dashboard"), _("Supervision dashboard")),
            ]
        extra_context = {**(extra_context or {}), "credit_links": links}
        return super().changelist_view(request, extra_context)


@admin.register(CertificatePrint)
class CertificatePrintAdmin(admin.ModelAdmin):
    """The print log: every print and reprint of every certificate (who, when, through which channel)."""

    list_display = ["serial", "printed_at", "printed_by", "channel", "entity"]
    list_filter = ["channel"]
    search_fields = ["=serial", "=line__uscc"]
    list_select_related = ["printed_by", "line"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        visible = CreditCheck.objects.visible_to(request.user)
        return qs.filter(line__check_run__in=visible)

    @admin.display(description=_("market entity"))
    def entity(self, printed: CertificatePrint) -> str:
        return printed.line.uscc

    def has_module_permission(self, request) -> bool:
        return has_capability(request.user, RUN_CHECKS)

    def has_view_permission(self, request, obj=None) -> bool:
        return has_capability(request.user, RUN_CHECKS)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CreditWarning)
class CreditWarningAdmin(ScopedAdmin):
    """What was sent to whom: every warning with its cause, channel, recipient and the outbox message's status."""

    list_display = ["found_on", "enterprise", "cause", "cause_key", "channel", "recipient", "delivery"]
    list_filter = ["cause", "channel", "found_on"]
    search_fields = ["=enterprise__uscc"]
    list_select_related = ["enterprise", "message"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = ["found_on", "enterprise", "cause", "cause_key", "channel", "recipient", "delivery", "body"]
    readonly_fields = fields

    @admin.display(description=_("delivery"))
    def delivery(self, warning: CreditWarning) -> str:
        m = warning.message
        if m is None:
            return "—"
        when = f" {timezone.localtime(m.sent_at):%Y-%m-%d %H:%M}" if m.sent_at else ""
        return f"{m.get_status_display()}{when}"

    @admin.display(description=_("body"))
    def body(self, warning: CreditWarning) -> str:
        return warning.message.body if warning.message else ""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RedListPolicy)
class RedListPolicyAdmin(admin.ModelAdmin):
    """The red-list conditions (data, with an effective date): a change is a new row from a later date."""

    list_display = [
        "name",
        "effective_from",
        "years_free",
        "require_annual_reports",
        "require_operating",
        "include_individual",
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # A policy in force stays as it was (the red list of past days must be reproducible): add a new row.
        if obj is not None and obj.effective_from <= timezone.localdate():
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        from core.audit import audit_log, snapshot

        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_log(actor=request.user, action="credit.redlist_policy_save", obj=obj, after=snapshot(obj))
