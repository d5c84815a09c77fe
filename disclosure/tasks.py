"""Celery tasks of disclosure: thin wrappers that run the nightly jobs (disclosure.jobs) for today.

The schedule lives in config/celery.py (one nightly entry for `disclosure.tasks.nightly`); each job also has its own
task, so staff or operations can start one job on its own.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from core.models import JobRun
from disclosure import jobs


def _run(name: str) -> dict[str, object]:
    run = jobs.run(name, as_of=timezone.localdate(), source="beat")
    return {"job": name, "status": run.status, "counts": run.counts}


@shared_task(name="disclosure.tasks.nightly", acks_late=True)
def nightly() -> dict[str, object]:
    """Every disclosure job in order for today; a failed job is recorded on its run row and the others still run."""
    outcomes = jobs.run_nightly(as_of=timezone.localdate(), source="beat")
    return {o.name: (o.run.status if o.run is not None else f"{JobRun.Status.FAILED}: {o.error}") for o in outcomes}


@shared_task(name="disclosure.tasks.review_disclosure_policies", acks_late=True)
def review_disclosure_policies() -> dict[str, object]:
    return _run("review_disclosure_policies")


@shared_task(name="disclosure.tasks.expire_disclosures", acks_late=True)
def expire_disclosures() -> dict[str, object]:
    return _run("expire_disclosures")


@shared_task(name="disclosure.tasks.list_missing_annual_reports", acks_late=True)
def list_missing_annual_reports() -> dict[str, object]:
    return _run("list_missing_annual_reports")


@shared_task(name="disclosure.tasks.abnormal_three_year_reminders", acks_late=True)
def abnormal_three_year_reminders() -> dict[str, object]:
    return _run("abnormal_three_year_reminders")


@shared_task(name="disclosure.tasks.abnormal_escalation", acks_late=True)
def abnormal_escalation() -> dict[str, object]:
    return _run("abnormal_escalation")


@shared_task(name="disclosure.tasks.expire_serious_listings", acks_late=True)
def expire_serious_listings() -> dict[str, object]:
    return _run("expire_serious_listings")


@shared_task(name="disclosure.tasks.expire_restrictions", acks_late=True)
def expire_restrictions() -> dict[str, object]:
    return _run("expire_restrictions")
