"""The outbox: notifications are queued in the database (in the caller's transaction) and delivered by a task."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from core.models import OutboxMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def outbox_enqueue(
    *,
    channel: str,
    recipient: str,
    body: str,
    subject: str = "",
    dedupe_key: str | None = None,
    related: object | None = None,
) -> OutboxMessage:
    """Queue one notification; with a dedupe key, queuing it again returns the message already queued."""
    if channel not in OutboxMessage.Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    defaults = {"channel": channel, "recipient": recipient, "subject": subject, "body": body}
    if related is not None:
        defaults["related_type"] = related._meta.label_lower  # type: ignore[attr-defined]
        defaults["related_id"] = str(related.pk)  # type: ignore[attr-defined]
    if dedupe_key:
        with transaction.atomic():
            message, _created = OutboxMessage.objects.get_or_create(dedupe_key=dedupe_key, defaults=defaults)
        return message
    return OutboxMessage.objects.create(**defaults)


def get_backend(channel: str):
    return import_string(settings.OUTBOX_BACKENDS[channel])()


def outbox_deliver_one(message_id: int) -> bool:
    """Deliver one pending message. Claimed with a conditional UPDATE so two workers never send it twice."""
    claimed = OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.PENDING).update(
        status=OutboxMessage.Status.SENDING, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    message = OutboxMessage.objects.get(pk=message_id)
    try:
        get_backend(message.channel).send(message)
    except Exception as exc:
        logger.warning("outbox message %s failed: %s", message.pk, exc)
        status = OutboxMessage.Status.FAILED if message.attempts >= MAX_ATTEMPTS else OutboxMessage.Status.PENDING
        OutboxMessage.objects.filter(pk=message.pk).update(status=status, last_error=str(exc)[:2000])
        return False
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxMessage.Status.SENT, sent_at=timezone.now())
    return True


def outbox_deliver_pending(limit: int = 500) -> int:
    """Deliver up to `limit` pending messages, oldest first; returns how many were sent."""
    ids = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(outbox_deliver_one(pk) for pk in ids)
