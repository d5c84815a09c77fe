"""Background jobs the user waits for (exports, batch work): a Job row with status and progress, run by Celery."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.models import Job, User

logger = logging.getLogger(__name__)


def job_create(*, kind: str, created_by: User | None, params: dict[str, Any] | None = None) -> Job:
    """A queued job; the caller enqueues its task with transaction.on_commit so the worker finds the row."""
    return Job.objects.create(kind=kind, created_by=created_by, params=params or {})


def job_claim(job_id: int) -> Job | None:
    """Mark a queued job running; None if another worker already claimed it (conditional UPDATE, no race)."""
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=timezone.now()
    )
    return Job.objects.get(pk=job_id) if claimed else None


def job_progress(job: Job, *, done: int, total: int | None = None) -> None:
    fields: dict[str, Any] = {"progress_done": done}
    if total is not None:
        fields["progress_total"] = total
    Job.objects.filter(pk=job.pk).update(**fields)


def job_finish(job: Job, *, result: dict[str, Any], failed: bool = False) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.FAILED if failed else Job.Status.SUCCEEDED, result=result, finished_at=timezone.now()
    )


def job_output_path(job: Job, suffix: str) -> Path:
    """Where a job writes its output file: private media, never served directly."""
    folder = Path(settings.MEDIA_ROOT) / "jobs" / f"{job.created_at:%Y%m}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{job.kind}-{job.pk}{suffix}"


def jobs_visible_to(user: User):
    """A user sees their own jobs; superusers see all."""
    if user.is_superuser:
        return Job.objects.all()
    return Job.objects.filter(created_by=user)
