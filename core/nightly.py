"""The frame every nightly job runs in: one run at a time (PostgreSQL advisory lock), work in chunks that each
commit on their own (a killed worker loses at most the chunk in flight, and a rerun finishes the job), and a
JobRun row with counts and errors.

A job is a function `step(as_of) -> dict[str, int] | None`: each call does one chunk in its own transaction and
returns the counts of that chunk, or None when nothing is left. Steps select their work with the same predicate
that the change removes ("disclosed and not ended and last day < as_of"), so running a finished job again finds
nothing: idempotent by construction, not by bookkeeping.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

from core.middleware import use_source
from core.models import JobRun

logger = logging.getLogger(__name__)

Step = Callable[[dt.date], "dict[str, int] | None"]


class JobLocked(Exception):
    """Another run of the same job holds the lock."""


def _lock_key(name: str) -> int:
    # A stable signed 64-bit key per job name (hash() is salted per process).
    return int.from_bytes(hashlib.sha256(f"nightly:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def advisory_lock(name: str) -> Iterator[None]:
    """Hold a session-level advisory lock for `name` or raise JobLocked at once (never wait: the other run is doing
    the same work). On SQLite (single-process demo) this is a no-op."""
    if connection.vendor != "postgresql":
        yield
        return
    key = _lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        (acquired,) = cursor.fetchone()
    if not acquired:
        raise JobLocked(name)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def run_job(name: str, step: Step, *, as_of: dt.date, source: str = "command", max_chunks: int | None = None) -> JobRun:
    """Run `step` until it reports no more work, under the job's lock, recording a JobRun.

    `max_chunks` stops early (tests use it to simulate a worker killed between chunks).
    """
    if connection.in_atomic_block:
        raise RuntimeError("run_job() commits chunk by chunk: do not call it inside a transaction")
    try:
        with advisory_lock(name), use_source(source):
            run = JobRun.objects.create(name=name, as_of=as_of, source=source)
            totals: Counter[str] = Counter()
            try:
                while max_chunks is None or run.chunks_done < max_chunks:
                    with transaction.atomic():
                        counts = step(as_of)
                    if counts is None:
                        break
                    totals.update(counts)
                    run.chunks_done += 1
                    JobRun.objects.filter(pk=run.pk).update(chunks_done=run.chunks_done, counts=dict(totals))
            except Exception as exc:
                logger.exception("nightly job %s failed", name)
                JobRun.objects.filter(pk=run.pk).update(
                    status=JobRun.Status.FAILED,
                    finished_at=timezone.now(),
                    error=repr(exc)[:4000],
                    counts=dict(totals),
                )
                raise
            JobRun.objects.filter(pk=run.pk).update(
                status=JobRun.Status.SUCCEEDED, finished_at=timezone.now(), counts=dict(totals)
            )
            run.refresh_from_db()
            return run
    except JobLocked:
        logger.warning("nightly job %s skipped: another run holds the lock", name)
        return JobRun.objects.create(
            name=name, as_of=as_of, source=source, status=JobRun.Status.SKIPPED, finished_at=timezone.now()
        )
