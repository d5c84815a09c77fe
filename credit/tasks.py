"""Celery tasks of credit: thin wrappers over credit.services and credit.engine.

The schedule is in config/celery.py (one nightly entry, after the disclosure jobs whose listings it reads).
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from credit import engine, services


@shared_task(name="credit.tasks.reclassify_nightly", acks_late=True)
def reclassify_nightly() -> dict[str, object]:
    """Reclassify every entity with the live model as of today; a second start while one runs is skipped."""
    try:
        run = services.reclassify(
            as_of=timezone.localdate(), source="beat", tasks=getattr(settings, "CREDIT_RECLASSIFY_TASKS", 1)
        )
    except services.ReclassifyLocked as exc:
        return {"status": "skipped", "message": exc.message}
    return {"run": run.pk, "status": run.status, "counts": run.counts}


@shared_task(name="credit.tasks.reclassify_chunks", acks_late=True)
def reclassify_chunks(run_id: int) -> int:
    """Work on the run's pending chunks until none is left (one of the group a run fans out). Idempotent: a
    redelivered task finds the chunks done and stops; a chunk its killed worker held is pending again."""
    return engine.work(run_id)


@shared_task(name="credit.tasks.shadow_run", acks_late=True)
def shadow_run(version_id: int, as_of: str, user_id: int | None = None) -> dict[str, object]:
    """A shadow run of a draft version, started from the admin (the comparison page reads its run row)."""
    import datetime as dt

    from core.models import User
    from credit.models import ModelVersion

    version = ModelVersion.objects.get(pk=version_id)
    actor = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        run = services.reclassify(
            as_of=dt.date.fromisoformat(as_of),
            model_version=version,
            actor=actor,
            source="admin",
            tasks=getattr(settings, "CREDIT_RECLASSIFY_TASKS", 1),
        )
    except services.ReclassifyLocked as exc:
        return {"status": "skipped", "message": exc.message}
    return {"run": run.pk, "status": run.status, "counts": run.counts}


@shared_task(name="credit.tasks.run_check_batch", acks_late=True, bind=True)
def run_check_batch(self, job_id: int) -> None:
    """Check a queued batch and fan its certificates out to render_check_part (idempotent: a claimed job is
    skipped, unless this is a redelivery after its worker died, which goes on where it stopped)."""
    from credit.checks import check_batch_run

    check_batch_run(job_id, resume=bool((self.request.delivery_info or {}).get("redelivered")))


@shared_task(name="credit.tasks.render_check_part", acks_late=True, bind=True)
def render_check_part(self, part_id: int) -> None:
    """Render one part of a batch's certificates; the last part to finish assembles the zip and summary sheet."""
    from credit.checks import render_part

    render_part(part_id, resume=bool((self.request.delivery_info or {}).get("redelivered")))


@shared_task(name="credit.tasks.warnings_daily", acks_late=True)
def warnings_daily() -> dict[str, object]:
    """The daily warnings job (失信警示) for today; a rerun queues nothing twice."""
    from credit.warnings import run_warnings

    run = run_warnings(as_of=timezone.localdate(), source="beat")
    return {"status": run.status, "counts": run.counts}


@shared_task(name="credit.tasks.export_abnormal_detail", acks_late=True)
def export_abnormal_detail(job_id: int) -> None:
    from credit.reports import abnormal_detail_run

    abnormal_detail_run(job_id)
