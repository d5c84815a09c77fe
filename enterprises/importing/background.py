"""Big imports as a background job: the admin saves the upload, a Celery worker runs the same `import_file`, and
the clerk follows the job's progress page (core.jobs). The result — counts, or the first bad rows — is the job's.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from django.db import transaction

from core.audit import audit_log
from core.jobs import job_claim, job_create, job_finish, job_output_path, job_progress
from core.models import Job, User
from enterprises.importing.service import import_file

logger = logging.getLogger(__name__)

BACKGROUND_KIND = "import_file"
ACTION_QUEUED = "enterprise.import_queued"
SHOWN_ERRORS = 50


@transaction.atomic
def import_file_start(
    *, actor: User, path: Path | str, file_name: str, dry_run: bool = False, kind: str | None = None
) -> Job:
    """Queue the import of the file at `path` (copied into private media, so the upload may go away)."""
    from enterprises.tasks import import_file_job

    job = job_create(
        kind=BACKGROUND_KIND,
        created_by=actor,
        params={"file_name": file_name, "dry_run": dry_run, "kind": kind},
    )
    saved = job_output_path(job, ".upload")
    shutil.copyfile(path, saved)
    job.params = {**job.params, "path": str(saved)}
    job.save(update_fields=["params", "updated_at"])
    audit_log(actor=actor, action=ACTION_QUEUED, obj=job, after={"file_name": file_name, "dry_run": dry_run})
    transaction.on_commit(lambda: import_file_job.delay(job.pk))
    return job


def import_file_run(job_id: int) -> None:
    """Run a queued import job (idempotent: a job already claimed or finished is left alone)."""
    job = job_claim(job_id)
    if job is None:
        return
    path = Path(job.params.get("path", ""))
    try:
        actor = User.objects.get(pk=job.created_by_id) if job.created_by_id else None
        result = import_file(
            path=path,
            actor=actor,
            file_name=job.params.get("file_name"),
            dry_run=bool(job.params.get("dry_run")),
            kind=job.params.get("kind"),
        )
        job_progress(job, done=result.rows, total=result.rows)
        figures = {
            "summary": result.summary(),
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "error_count": result.error_count,
            "errors": [str(error) for error in result.errors[:SHOWN_ERRORS]],
            "import_job_id": result.job_id,
        }
        if result.report_path:
            figures["report_path"] = result.report_path
        if result.ok:
            job_finish(job, result=figures)
        else:
            lines = "；".join(figures["errors"][:10])
            job_finish(job, result={**figures, "error": f"{result.summary()} {lines}"}, failed=True)
    except Exception as exc:
        logger.exception("import job %s failed", job_id)
        job_finish(job, result={"error": f"导入失败：{exc.__class__.__name__}"}, failed=True)
        raise
    finally:
        path.unlink(missing_ok=True)
