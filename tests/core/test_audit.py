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


@pytest.mark.django_db
def test_copy_rows_loads_nulls_booleans_and_unicode():
    from core.bulk import copy_rows
    from core.models import WorkingDayOverride

    n = copy_rows(
        "core_workingdayoverride",
        ["date", "is_working_day", "reason", "created_at", "updated_at"],
        (
            (f"2030-01-{d:02d}", d % 2 == 0, f'节假日 "{d}",逗号', "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
            for d in range(1, 11)
        ),
        buffer_rows=3,
    )
    assert n == 10
    assert WorkingDayOverride.objects.count() == 10
    assert WorkingDayOverride.objects.get(date="2030-01-02").is_working_day is True
    assert WorkingDayOverride.objects.get(date="2030-01-03").reason == '节假日 "3",逗号'


@pytest.mark.django_db
@pytest.mark.parametrize("buffer_rows", [None, 2])
def test_copy_rows_keeps_a_literal_backslash_n_as_text(buffer_rows):
    """COPY's NULL marker is \\N: a text value that is literally \\N is quoted, so it stays text (not NULL)."""
    from core.bulk import copy_rows
    from core.models import WorkingDayOverride

    stamp = "2026-01-01T00:00:00Z"
    n = copy_rows(
        "core_workingdayoverride",
        ["date", "is_working_day", "reason", "created_at", "updated_at"],
        [
            ("2030-02-01", True, r"\N", stamp, stamp),
            ("2030-02-02", False, r'\N, "quoted"', stamp, stamp),
            ("2030-02-03", False, "", stamp, stamp),
        ],
        buffer_rows=buffer_rows,
    )
    assert n == 3
    reasons = dict(WorkingDayOverride.objects.filter(date__year=2030).values_list("date", "reason"))
    assert [reasons[d] for d in sorted(reasons)] == [r"\N", r'\N, "quoted"', ""]


def test_copy_stream_formats_rows_as_the_server_reads_them():
    from core.bulk import CopyStream, csv_block

    rows = [(1, None, True, r"\N", "a,b"), (2, "x", False, "", 'q"')]
    stream = CopyStream(iter(rows))
    text = "".join(iter(lambda: stream.read(7), ""))
    assert stream.count == 2
    assert text == '1,\\N,t,"\\N","a,b"\n2,x,f,,"q"""\n'
    assert csv_block(rows) == (text, 2)
