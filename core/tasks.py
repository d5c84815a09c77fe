"""Celery tasks of core: thin wrappers over services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from core.notifications import outbox_deliver_pending

logger = logging.getLogger(__name__)


@shared_task(name="core.tasks.outbox_deliver")
def outbox_deliver() -> int:
    return outbox_deliver_pending()


@shared_task(name="core.tasks.heartbeat")
def heartbeat() -> str:
    """Proves the worker and beat are alive: the admin shows the last beat time."""
    now = timezone.now().isoformat()
    cache.set("portal:worker-heartbeat", now, timeout=None)
    logger.info("worker heartbeat %s", now)
    return now


@shared_task(name="core.tasks.ping")
def ping(value: str) -> str:
    """Echo, used by tests and the health check to prove a worker consumes the queue."""
    return value
