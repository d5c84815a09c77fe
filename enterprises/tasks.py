"""Celery tasks of the registry: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from core.middleware import use_source


@shared_task(name="enterprises.tasks.export_enterprises", acks_late=True)
def export_enterprises(job_id: int) -> None:
    from enterprises.exports import enterprise_export_run

    with use_source("task"):
        enterprise_export_run(job_id)


@shared_task(name="enterprises.tasks.import_file_job", acks_late=True)
def import_file_job(job_id: int) -> None:
    from enterprises.importing.background import import_file_run

    with use_source("task"):
        import_file_run(job_id)
