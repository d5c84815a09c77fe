"""Audit events are written inside the change's transaction and can never be changed or deleted."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from core.audit import audit_log
from core.models import AuditEvent


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_write_outside_a_transaction(enterprise):
    with pytest.raises(RuntimeError):
        audit_log(actor=None, action="test.write", obj=enterprise)
    assert not AuditEvent.objects.exists()
    with transaction.atomic():
        event = audit_log(actor=None, action="test.write", obj=enterprise, after={"x": 1})
    assert event.actor_label == "system"
    assert event.object_type == "enterprises.enterprise"


@pytest.mark.django_db
def test_it_is_append_only_in_python_and_in_the_database(enterprise):
    with transaction.atomic():
        event = audit_log(actor=None, action="test.write", obj=enterprise)
    event.note = "changed"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET note = 'x' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).note == ""
