"""The admin page that imports enterprises and annual reports from an uploaded .xlsx or .csv file.

Wired by EnterpriseAdmin.get_urls() at admin/enterprises/enterprise/import/ (name enterprises_enterprise_import);
it holds no rule: it saves the upload to a temporary file and calls enterprises.importing.import_file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from enterprises.importing import KIND_ANNUAL_REPORTS, KIND_ENTERPRISES, ImportResult, import_file
from enterprises.importing.background import import_file_start

PERMISSION = "enterprises.add_enterprise"
# From this size on an upload is imported by a Celery worker (10^6 rows take about a minute, too long for a request).
BACKGROUND_BYTES = getattr(settings, "IMPORT_BACKGROUND_BYTES", 5 * 1048576)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("Excel (.xlsx) or CSV (UTF-8 or GB18030). The first row is the header, in English or Chinese."),
    )
    kind = forms.ChoiceField(
        label=_("Contents"),
        required=False,
        choices=[
            ("", _("Detect from the headers")),
            (KIND_ENTERPRISES, _("Market entities")),
            (KIND_ANNUAL_REPORTS, _("Annual reports")),
        ],
    )
    dry_run = forms.BooleanField(label=_("Only check, do not import"), required=False)
    background = forms.BooleanField(
        label=_("Run in the background"),
        required=False,
        help_text=_("Files larger than %(mb)s MB always run in the background; a progress page follows the import.")
        % {"mb": BACKGROUND_BYTES // 1048576},
    )

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_BYTES
        if upload.size > limit:
            # Refused before the upload is copied anywhere; the importer checks again on the saved file.
            raise forms.ValidationError(
                f"文件大小 {upload.size / 1048576:.1f} MB 超过导入上限 {limit / 1048576:.1f} MB，请拆分后分批导入"
            )
        return upload


def _saved_upload(upload: UploadedFile) -> tuple[Path, bool]:
    """A path to the uploaded bytes: Django's own temporary file when it has one, else a copy we delete."""
    temporary_path = getattr(upload, "temporary_file_path", None)
    if temporary_path is not None:
        return Path(temporary_path()), False
    fd, name = tempfile.mkstemp(prefix="import-", suffix=".upload")
    with os.fdopen(fd, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return Path(name), True


def import_view(request: HttpRequest, model_admin: ModelAdmin) -> HttpResponse:
    """Upload form; on POST run the import and show either the counts or the table of every bad row."""
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    result: ImportResult | None = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            path, remove = _saved_upload(upload)
            if form.cleaned_data["background"] or upload.size >= BACKGROUND_BYTES:
                try:
                    job = import_file_start(
                        actor=request.user,
                        path=path,
                        file_name=upload.name,
                        dry_run=form.cleaned_data["dry_run"],
                        kind=form.cleaned_data["kind"] or None,
                    )
                finally:
                    if remove:
                        path.unlink(missing_ok=True)
                messages.info(request, f"文件「{upload.name}」已在后台导入，完成后本页显示结果")
                return redirect("core:job-detail", pk=job.pk)
            try:
                result = import_file(
                    path=path,
                    actor=request.user,
                    file_name=upload.name,
                    dry_run=form.cleaned_data["dry_run"],
                    kind=form.cleaned_data["kind"] or None,
                )
            finally:
                if remove:  # Django deletes its own temporary upload files at the end of the request
                    path.unlink(missing_ok=True)
            if result.ok:
                messages.success(request, result.summary())
                # Post/redirect/get: reloading the page must not import the file again.
                return redirect(request.path)
    else:
        form = ImportForm()
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Import market entities and annual reports"),
        "opts": opts,
        "app_label": opts.app_label,
        "form": form,
        "result": result,
        "has_view_permission": model_admin.has_view_permission(request),
        "max_megabytes": settings.IMPORT_MAX_BYTES // 1048576,
    }
    return TemplateResponse(request, "enterprises/admin/import.html", context)
