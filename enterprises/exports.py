"""Excel export of the registry list: the same FilterSet and scoping as the API and the admin screen, streamed
row by row (openpyxl write-only) so memory stays flat at 10^6 rows. Runs as a background Job."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from core.audit import audit_log
from core.jobs import job_claim, job_create, job_finish, job_output_path, job_progress
from core.models import Job, User
from enterprises.models import Enterprise

logger = logging.getLogger(__name__)

EXPORT_KIND = "export_enterprises"
COLUMNS = [
    ("uscc", "统一社会信用代码"),
    ("name", "名称"),
    ("entity_type", "主体类型"),
    ("legal_representative", "法定代表人（负责人）"),
    ("address", "住所"),
    ("region", "所属区域"),
    ("industry_code", "行业代码"),
    ("registered_capital", "注册资本（万元）"),
    ("registration_date", "成立日期"),
    ("status", "登记状态"),
]
# Admin changelist parameters → EnterpriseFilter parameters, so the file is exactly the filtered screen.
ADMIN_TO_FILTER = {
    "region__code__exact": "region",
    "entity_type__exact": "entity_type",
    "status__exact": "status",
    "key_areas__code__exact": "key_area",
    "q": "search",
}
PROGRESS_EVERY = 5000


def filters_from_admin_params(params: dict[str, str]) -> dict[str, str]:
    return {ADMIN_TO_FILTER[k]: v for k, v in params.items() if k in ADMIN_TO_FILTER and v}


def export_queryset(*, user: User, filters: dict[str, str]):
    """The rows the user would see with these filters: visible_to(user), then the registry FilterSet."""
    from enterprises.filters import EnterpriseFilter

    filterset = EnterpriseFilter(filters, queryset=Enterprise.objects.visible_to(user))
    if not filterset.is_valid():
        return None, filterset.errors
    return filterset.qs.order_by("uscc"), None


@transaction.atomic
def enterprise_export_start(*, actor: User, filters: dict[str, str]) -> Job:
    """Queue an export of the filtered registry; the worker writes the file."""
    from enterprises.tasks import export_enterprises

    job = job_create(kind=EXPORT_KIND, created_by=actor, params={"filters": filters})
    audit_log(actor=actor, action="enterprise.export", obj=job, after={"filters": filters})
    transaction.on_commit(lambda: export_enterprises.delay(job.pk))
    return job


def _cell_value(value: Any) -> Any:
    # Never hand a spreadsheet a formula: a value starting with = + - @ is written as text with a quote prefix.
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@"}:
        return "'" + value
    return value


def enterprise_export_run(job_id: int) -> None:
    """Write the export file of a queued job (idempotent: a job already claimed or finished is left alone)."""
    # The file is a Chinese document whatever language the worker process runs in.
    with translation.override("zh-hans"):
        _export(job_id)


def _export(job_id: int) -> None:
    job = job_claim(job_id)
    if job is None:
        return
    try:
        user = User.objects.get(pk=job.created_by_id)
        queryset, errors = export_queryset(user=user, filters=job.params.get("filters", {}))
        if queryset is None:
            job_finish(job, result={"error": f"筛选条件有误：{errors}"}, failed=True)
            return
        types = dict(Enterprise.EntityType.choices)
        statuses = dict(Enterprise.Status.choices)
        total = queryset.count()
        job_progress(job, done=0, total=total)
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("经营主体")
        header = []
        for _name, label in COLUMNS:
            cell = WriteOnlyCell(sheet, value=label)
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        rows = queryset.select_related("region").values_list(
            "uscc", "name", "entity_type", "legal_representative", "address", "region__name", "industry_code",
            "registered_capital", "registration_date", "status",
        )  # fmt: skip
        done = 0
        for row in rows.iterator(chunk_size=5000):
            values = list(row)
            values[2] = str(types.get(values[2], values[2]))
            values[9] = str(statuses.get(values[9], values[9]))
            sheet.append([_cell_value(v) for v in values])
            done += 1
            if done % PROGRESS_EVERY == 0:
                job_progress(job, done=done)
        path = job_output_path(job, ".xlsx")
        workbook.save(path)
        filename = f"经营主体名录-{timezone.localdate():%Y%m%d}.xlsx"
        job_progress(job, done=done)
        job_finish(job, result={"path": str(path), "filename": filename, "rows": done})
    except Exception as exc:
        logger.exception("export job %s failed", job_id)
        job_finish(job, result={"error": f"导出失败：{exc.__class__.__name__}"}, failed=True)
        raise
