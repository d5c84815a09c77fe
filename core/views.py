"""Plain views of core: health check and background-job pages."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render

from core.jobs import jobs_visible_to
from core.models import Job


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for load balancers and `make run`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


@staff_member_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Status and progress of one of the user's jobs (JSON with ?format=json, for the progress bar)."""
    job = get_object_or_404(jobs_visible_to(request.user), pk=pk)
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "status": job.status,
                "done": job.progress_done,
                "total": job.progress_total,
                "finished": job.status in {Job.Status.SUCCEEDED, Job.Status.FAILED},
                "result": {k: v for k, v in job.result.items() if k != "path"},
            }
        )
    return render(request, "core/job_detail.html", {"job": job, "title": str(job)})


@staff_member_required
def job_download(request: HttpRequest, pk: int) -> FileResponse:
    job = get_object_or_404(jobs_visible_to(request.user), pk=pk, status=Job.Status.SUCCEEDED)
    path = Path(job.result.get("path", ""))
    media = Path(settings.MEDIA_ROOT).resolve()
    if not job.result.get("path") or not path.resolve().is_relative_to(media) or not path.exists():
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename=job.result.get("filename", path.name))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused POST without a valid CSRF token (a stale page, a form from another site): nothing was done."""
    return render(request, "403_csrf.html", {"title": "请求已失效"}, status=403)
