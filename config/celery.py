"""The Celery application; every periodic schedule of the portal is declared here, in one place."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_configure.connect
def _make_broker_folders(sender: Celery, **kwargs: object) -> None:
    """kombu's filesystem transport (the no-server default of `make run`) needs its folders to exist."""
    from django.conf import settings

    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)


# All schedules live here (Asia/Shanghai). Nightly jobs take an advisory lock, so an overlap is harmless.
app.conf.beat_schedule = {
    "outbox-deliver": {"task": "core.tasks.outbox_deliver", "schedule": 60.0},
    "heartbeat": {"task": "core.tasks.heartbeat", "schedule": crontab(minute="*/5")},
    # The disclosure jobs, in order (policy review, disclosure expiry, annual-report listing, 3-year reminders and
    # escalation, serious-list and restriction expiry); one failing job does not stop the others.
    "disclosure-nightly": {"task": "disclosure.tasks.nightly", "schedule": crontab(hour=1, minute=30)},
    # Credit repair: revoke repairs whose 容缺 material did not arrive (after the disclosure jobs), and the repair
    # notice of every new penalty and listing (两书同达) a few minutes after the decision, whatever made it.
    "repair-revoke-broken-commitments": {
        "task": "repair.tasks.revoke_broken_commitments",
        "schedule": crontab(hour=2, minute=30),
    },
    "repair-issue-notices": {"task": "repair.tasks.issue_notices", "schedule": crontab(minute="*/5")},
    "repair-overdue-digest": {"task": "repair.tasks.overdue_digest", "schedule": crontab(hour=8, minute=0)},
    # Credit-risk reclassification of every entity, after the disclosure jobs (it reads their listings).
    "credit-reclassify": {"task": "credit.tasks.reclassify_nightly", "schedule": crontab(hour=3, minute=0)},
    # Warnings (失信警示): after the disclosure jobs, before office hours; the outbox delivers them within a minute.
    "credit-warnings": {"task": "credit.tasks.warnings_daily", "schedule": crontab(hour=6, minute=30)},
}
