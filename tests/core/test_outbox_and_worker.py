"""The outbox delivers each message once, survives backend failures, and a real Celery worker runs the tasks."""

from __future__ import annotations

import time

import pytest
from django.test import override_settings

from core.models import OutboxMessage
from core.notifications import MAX_ATTEMPTS, outbox_deliver_one, outbox_deliver_pending, outbox_enqueue


class FailingBackend:
    def send(self, message):
        raise ConnectionError("gateway down")


@pytest.mark.django_db
def test_it_queues_once_per_dedupe_key():
    first = outbox_enqueue(channel="sms", recipient="13800000000", body="年报提醒", dedupe_key="ar-2025-1")
    again = outbox_enqueue(channel="sms", recipient="13800000000", body="年报提醒", dedupe_key="ar-2025-1")
    assert first.pk == again.pk
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_an_unknown_channel():
    with pytest.raises(ValueError):
        outbox_enqueue(channel="fax", recipient="x", body="y")


@pytest.mark.django_db
def test_it_delivers_a_message_only_once():
    message = outbox_enqueue(channel="email", recipient="a@example.com", subject="s", body="b")
    assert outbox_deliver_one(message.pk) is True
    assert outbox_deliver_one(message.pk) is False  # already claimed and sent
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 1
    assert message.sent_at is not None


@pytest.mark.django_db
def test_a_failing_backend_keeps_the_message_and_gives_up_after_max_attempts():
    message = outbox_enqueue(channel="sms", recipient="13800000000", body="b")
    with override_settings(OUTBOX_BACKENDS={"sms": "tests.core.test_outbox_and_worker.FailingBackend"}):
        for _ in range(MAX_ATTEMPTS):
            assert outbox_deliver_pending() == 0
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED
    assert message.attempts == MAX_ATTEMPTS
    assert "gateway down" in message.last_error


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_consumes_the_redis_broker(celery_worker_session):
    """A task sent through Redis is executed by a real worker (not eager mode), which writes to PostgreSQL."""
    from core.tasks import outbox_deliver

    message = outbox_enqueue(channel="letter", recipient="山西省晋中市榆次区迎宾街1号", body="告知书")
    outbox_deliver.delay()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.status == OutboxMessage.Status.SENT:
            break
        time.sleep(0.1)
    assert message.status == OutboxMessage.Status.SENT


def test_the_broker_is_redis_under_test():
    from django.conf import settings

    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@pytest.mark.django_db
def test_the_database_driver_is_psycopg2_as_in_production():
    import importlib.util

    from django.db import connection

    assert connection.Database.__name__ == "psycopg2"
    # If psycopg 3 were importable, Django would silently prefer it over psycopg2 (PLATFORM.md).
    assert importlib.util.find_spec("psycopg") is None
