"""The nightly-job frame: chunks commit one by one, a failure is recorded, two runs never overlap."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from core.models import JobRun, WorkingDayOverride
from core.nightly import advisory_lock, run_job

AS_OF = dt.date(2026, 11, 22)


def make_rows(n: int) -> None:
    for i in range(n):
        WorkingDayOverride.objects.create(
            date=dt.date(2030, 1, 1) + dt.timedelta(days=i), is_working_day=True, reason="todo"
        )


def mark_two(as_of: dt.date) -> dict[str, int] | None:
    """A step: mark up to two rows done; None when none is left."""
    ids = list(WorkingDayOverride.objects.filter(reason="todo").order_by("id").values_list("id", flat=True)[:2])
    if not ids:
        return None
    return {"marked": WorkingDayOverride.objects.filter(id__in=ids).update(reason="done")}


@pytest.mark.django_db(transaction=True)
def test_it_runs_chunks_until_nothing_is_left_and_records_the_run():
    make_rows(5)
    run = run_job("test-mark", mark_two, as_of=AS_OF)
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.chunks_done == 3
    assert run.counts == {"marked": 5}
    assert run_job("test-mark", mark_two, as_of=AS_OF).counts == {}


@pytest.mark.django_db(transaction=True)
def test_a_killed_run_keeps_its_committed_chunks_and_a_rerun_finishes():
    make_rows(7)
    partial = run_job("test-mark", mark_two, as_of=AS_OF, max_chunks=2)
    assert partial.counts == {"marked": 4}
    assert WorkingDayOverride.objects.filter(reason="done").count() == 4
    rest = run_job("test-mark", mark_two, as_of=AS_OF)
    assert rest.counts == {"marked": 3}
    assert not WorkingDayOverride.objects.filter(reason="todo").exists()


@pytest.mark.django_db(transaction=True)
def test_a_failing_chunk_rolls_back_alone_and_the_run_is_marked_failed():
    make_rows(4)
    calls = {"n": 0}

    def flaky(as_of):
        calls["n"] += 1
        if calls["n"] == 2:
            WorkingDayOverride.objects.filter(reason="todo").update(reason="half-done")
            raise RuntimeError("worker lost")
        return mark_two(as_of)

    with pytest.raises(RuntimeError):
        run_job("test-flaky", flaky, as_of=AS_OF)
    run = JobRun.objects.get(name="test-flaky")
    assert run.status == JobRun.Status.FAILED
    assert "worker lost" in run.error
    assert WorkingDayOverride.objects.filter(reason="done").count() == 2  # chunk 1 committed
    assert not WorkingDayOverride.objects.filter(reason="half-done").exists()  # chunk 2 rolled back


@pytest.mark.django_db(transaction=True)
def test_a_second_run_is_skipped_while_the_first_holds_the_lock():
    make_rows(3)
    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with advisory_lock("test-mark"):
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10)
    try:
        skipped = run_job("test-mark", mark_two, as_of=AS_OF)
    finally:
        release.set()
        thread.join()
    assert skipped.status == JobRun.Status.SKIPPED
    assert WorkingDayOverride.objects.filter(reason="todo").count() == 3
    assert run_job("test-mark", mark_two, as_of=AS_OF).status == JobRun.Status.SUCCEEDED


@pytest.mark.django_db
def test_it_refuses_to_run_inside_a_transaction():
    assert connection.in_atomic_block
    with pytest.raises(RuntimeError):
        run_job("test-mark", mark_two, as_of=AS_OF)
