"""Celery tasks of repair: thin wrappers over repair.jobs for today (schedules in config/celery.py)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from repair import jobs


@shared_task(name="repair.tasks.revoke_broken_commitments", acks_late=True)
def revoke_broken_commitments() -> dict[str, object]:
    run = jobs.run("repair_revoke_broken_commitments", as_of=timezone.localdate(), source="beat")
    return {"status": run.status, "counts": run.counts}


@shared_task(name="repair.tasks.issue_notices", acks_late=True)
def issue_notices() -> dict[str, object]:
    """The 两书同达 sweep: starts a run (and a run row) only when some record lacks its notice."""
    today = timezone.localdate()
    if not jobs.notices_pending(today):
        return {"status": "nothing to do"}
    run = jobs.run("repair_issue_notices", as_of=today, source="beat")
    return {"status": run.status, "counts": run.counts}


@shared_task(name="repair.tasks.overdue_digest", acks_late=True)
def overdue_digest() -> dict[str, object]:
    run = jobs.run("repair_overdue_digest", as_of=timezone.localdate(), source="beat")
    return {"status": run.status, "counts": run.counts}
