"""The Celery application; every periodic schedule of the portal is declared here, in one place."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# All schedules live here (Asia/Shanghai). Nightly jobs take an advisory lock, so an overlap is harmless.
app.conf.beat_schedule = {
    "outbox-deliver": {"task": "core.tasks.outbox_deliver", "schedule": 60.0},
    "heartbeat": {"task": "core.tasks.heartbeat", "schedule": crontab(minute="*/5")},
}
