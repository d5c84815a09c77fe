"""Delivery backends, one per channel (settings.OUTBOX_BACKENDS). Real SMS and letter gateways plug in here."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail

from core.models import OutboxMessage

logger = logging.getLogger("core.outbox")


class LogBackend:
    """Development backend: the message stays stored in the outbox and is written to the log."""

    def send(self, message: OutboxMessage) -> None:
        logger.info("[%s → %s] %s %s", message.channel, message.recipient, message.subject, message.body)


class EmailBackend:
    """Sends e-mail through Django's configured EMAIL_BACKEND."""

    def send(self, message: OutboxMessage) -> None:
        send_mail(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.recipient])
