"""The enterprise portal (/portal/): account activation, login and password reset; the entity's records with what
the rules say about each; filing an application with its materials; following it to a decision and downloading the
documents. Every object is looked up through the owner (RepairApplication.objects.visible_to): another entity's id
is a 404, exactly like a missing one. The views hold no rule: they call repair.services and repair.selectors.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ApplicationError
from repair import rules, selectors
from repair.forms import (
    ActivationForm,
    ApplicationForm,
    PortalLoginForm,
    ResetConfirmForm,
    ResetRequestForm,
    SupplyForm,
)
from repair.models import ApplicationStep, Material, RepairApplication, RepairDocument, RepairNotice
from repair.services import accounts as account_services
from repair.services import applications as application_services
from repair.services.applications import Upload

LOGIN_URL = reverse_lazy("repair:login")
FREE_OF_CHARGE = "信用修复不收取任何费用。"


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {"bureau_name": settings.PORTAL_BUREAU_NAME, "free_of_charge": FREE_OF_CHARGE, **extra}


def enterprise_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The portal's pages are for entity accounts: anonymous users log in first; staff are sent to the admin."""

    @functools.wraps(view)
    @never_cache
    @login_required(login_url=LOGIN_URL)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = getattr(request.user, "enterprise_account", None)
        if account is None:
            html = render_to_string("repair/portal/staff_only.html", _context(request), request=request)
            return HttpResponseForbidden(html)
        request.enterprise = account.enterprise  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


# --- accounts -----------------------------------------------------------------------------------------------------
class PortalLoginView(auth_views.LoginView):
    template_name = "repair/portal/login.html"
    authentication_form = PortalLoginForm
    redirect_authenticated_user = False
    next_page = reverse_lazy("repair:dashboard")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), **_context(self.request)}


class PortalPasswordChangeView(auth_views.PasswordChangeView):
    template_name = "repair/portal/password_change.html"
    success_url = reverse_lazy("repair:dashboard")

    def form_valid(self, form):
        messages.success(self.request, "密码已修改。")
        return super().form_valid(form)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), **_context(self.request)}


password_change = enterprise_required(PortalPasswordChangeView.as_view())


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth import logout

    logout(request)
    return redirect("repair:login")


@never_cache
@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest) -> HttpResponse:
    form = ActivationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.account_activate(
                uscc=form.cleaned_data["uscc"], code=form.cleaned_data["code"], password=form.cleaned_data["password1"]
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "账号已激活，请使用统一社会信用代码和新密码登录。")
            return redirect("repair:login")
    return render(request, "repair/portal/activate.html", _context(request, form=form, title="激活账号"))


@never_cache
@require_http_methods(["GET", "POST"])
def reset_request(request: HttpRequest) -> HttpResponse:
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account_services.password_reset_request(uscc=form.cleaned_data["uscc"])
        # The same answer whether or not the code has an account: the page tells nobody who is registered.
        messages.info(request, "如该统一社会信用代码已开通账号，验证码已发送至登记的联系方式，30分钟内有效。")
        return redirect("repair:reset-confirm")
    return render(request, "repair/portal/reset_request.html", _context(request, form=form, title="找回密码"))


@never_cache
@require_http_methods(["GET", "POST"])
def reset_confirm(request: HttpRequest) -> HttpResponse:
    form = ResetConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.password_reset_confirm(
                uscc=form.cleaned_data["uscc"], code=form.cleaned_data["code"], password=form.cleaned_data["password1"]
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "密码已重置，请使用新密码登录。")
            return redirect("repair:login")
    return render(request, "repair/portal/reset_confirm.html", _context(request, form=form, title="重置密码"))


# --- the entity's records and applications ------------------------------------------------------------------------
@enterprise_required
def dashboard(request: HttpRequest) -> HttpResponse:
    enterprise = request.enterprise  # type: ignore[attr-defined]
    records = selectors.repairable_records(enterprise)
    applications = (
        RepairApplication.objects.visible_to(request.user).select_related("responsible_office").order_by("-id")[:50]
    )
    notices = RepairNotice.objects.visible_to(request.user).order_by("-issued_on", "-id")[:20]
    return render(
        request,
        "repair/portal/dashboard.html",
        _context(
            request,
            title="我的信用修复",
            enterprise=enterprise,
            records=records,
            applications=applications,
            notices=notices,
        ),
    )


def _application(request: HttpRequest, pk: int) -> RepairApplication:
    application = (
        RepairApplication.objects.visible_to(request.user)
        .select_related("enterprise", "responsible_office", "policy")
        .filter(pk=pk)
        .first()
    )
    if application is None:
        raise Http404
    return application


@enterprise_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, target_type: str, pk: int) -> HttpResponse:
    enterprise = request.enterprise  # type: ignore[attr-defined]
    try:
        record = selectors.find_record(enterprise, target_type=target_type, pk=pk)
    except ApplicationError as exc:
        raise Http404 from exc
    answer = selectors.eligibility(record, on=selectors._today())
    open_app = RepairApplication.objects.filter(
        target_key=selectors.target_key(record), status__in=RepairApplication.OPEN_STATUSES
    ).first()
    kind = selectors.kind_of(record)
    secondary = rules.SECONDARY_MATERIALS[kind]
    form = ApplicationForm(
        request.POST or None,
        request.FILES or None,
        secondary=secondary,
        tolerance_allowed=answer.tolerance_allowed,
    )
    if request.method == "POST" and form.is_valid():
        try:
            application = application_services.application_submit(
                actor=request.user,
                enterprise=enterprise,
                target_type=target_type,
                target_id=pk,
                statement=form.cleaned_data["statement"],
                contact_name=form.cleaned_data["contact_name"],
                contact_phone=form.cleaned_data["contact_phone"],
                uploads=[Upload(kind, file) for kind, file in form.uploads()],
                tolerance=form.cleaned_data.get("tolerance", False),
                submission_key=form.cleaned_data["submission_key"],
            )
        except ApplicationError as exc:
            for field, errors in exc.extra.get("fields", {}).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            if not exc.extra.get("fields"):
                form.add_error(None, exc.message)
        else:
            messages.success(request, f"申请已提交，申请编号 {application.number}。")
            return redirect("repair:application", pk=application.pk)
    _office, authority = selectors.responsible_office(record)
    return render(
        request,
        "repair/portal/apply.html",
        _context(
            request,
            title="申请信用修复",
            enterprise=enterprise,
            record_label=selectors.record_label(record),
            authority=authority,
            answer=answer,
            open_application=open_app,
            form=form,
            secondary=secondary,
        ),
    )


@enterprise_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application(request, pk)
    steps = list(application.steps.order_by("at", "id"))
    return render(
        request,
        "repair/portal/application.html",
        _context(
            request,
            title=f"信用修复申请 {application.number}",
            application=application,
            steps=steps,
            materials=list(application.materials.order_by("created_at", "id")),
            documents=list(application.documents.order_by("issued_on", "id")),
            current_due=application.due_on,
            supply_form=SupplyForm() if _may_supply(application) else None,
            step_kinds=ApplicationStep.Kind,
        ),
    )


def _may_supply(application: RepairApplication) -> bool:
    pending_tolerance = application.tolerance and application.materials_completed_on is None
    return application.is_open or (application.status == RepairApplication.Status.APPROVED and pending_tolerance)


@enterprise_required
@require_POST
def supply(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application(request, pk)
    form = SupplyForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择材料类型和文件。")
        return redirect("repair:application", pk=pk)
    try:
        application_services.application_supply_materials(
            actor=request.user,
            application=application,
            uploads=[Upload(form.cleaned_data["kind"], form.cleaned_data["file"])],
            note=form.cleaned_data["note"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "材料已补交。")
    return redirect("repair:application", pk=pk)


@enterprise_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application(request, pk)
    try:
        application_services.application_withdraw(actor=request.user, application=application)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "申请已撤回。")
    return redirect("repair:application", pk=pk)


# --- files (the owner and the responsible office's staff only) ----------------------------------------------------
def _file_response(field_file, *, filename: str, content_type: str) -> FileResponse:
    try:
        handle = field_file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@login_required(login_url=LOGIN_URL)
def material_download(request: HttpRequest, pk: int, material_pk: int) -> FileResponse:
    application = selectors.applications_for(request.user).filter(pk=pk).first()
    if application is None:
        raise Http404
    material = Material.objects.filter(pk=material_pk, application=application).first()
    if material is None:
        raise Http404
    extension = material.file.name.rsplit(".", 1)[-1]
    return _file_response(
        material.file,
        filename=f"{application.number}-{material.get_kind_display()}-{material.pk}.{extension}",
        content_type=material.content_type,
    )


@never_cache
@login_required(login_url=LOGIN_URL)
def document_download(request: HttpRequest, pk: int, document_pk: int) -> FileResponse:
    application = selectors.applications_for(request.user).filter(pk=pk).first()
    if application is None:
        raise Http404
    document = RepairDocument.objects.filter(pk=document_pk, application=application).first()
    if document is None:
        raise Http404
    return _file_response(
        document.file,
        filename=f"{document.get_doc_type_display()}-{document.number}.pdf",
        content_type="application/pdf",
    )
