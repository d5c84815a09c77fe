"""Every write of the credit app: model versions (create, edit a draft, supersede, adopt) and reclassification runs.

A run (live or shadow) is coordinated by `reclassify`: under the advisory lock it plans the chunks, hands them to
Celery workers (a group of `credit.tasks.reclassify_chunks` tasks, each claiming chunks until none is left) and,
unless told not to, works on them itself, so a run also completes with no worker at all (the SQLite demo, tests);
then it sums the chunks into the run row (counts, distribution, migration matrix) and, for a live run, the monthly
snapshot. See credit.engine for what one chunk does.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from core.audit import audit_log, snapshot
from core.errors import ApplicationError
from core.middleware import use_source
from core.models import User
from core.nightly import JobLocked, advisory_lock
from credit import engine
from credit.models import CLASSES, Chunk, ListedPerson, ModelVersion, Run, Snapshot
from enterprises.models import Enterprise

logger = logging.getLogger(__name__)

LOCK_NAME = "credit-reclassify"
DEFAULT_CHUNK_SIZE = 10_000
VERSION_AUDIT_FIELDS = ["code", "name", "status", "spec", "supersedes_id", "adopted_at", "superseded_at"]


class ReclassifyLocked(ApplicationError):
    """Another reclassification holds the lock."""


# ==============================================================================================================
# Model versions
# ==============================================================================================================


@transaction.atomic
def model_version_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    spec: dict,
    description: str = "",
    supersedes: ModelVersion | None = None,
) -> ModelVersion:
    """A new draft version (validated: see credit.rules.validate_spec)."""
    version = ModelVersion(
        code=code, name=name, description=description, spec=spec, supersedes=supersedes, created_by=actor
    )
    version.full_clean()
    version.save()
    audit_log(
        actor=actor, action="credit.model_version_created", obj=version, after=snapshot(version, VERSION_AUDIT_FIELDS)
    )
    return version


@transaction.atomic
def model_version_update(*, actor: User | None, version: ModelVersion, data: dict[str, Any]) -> ModelVersion:
    """Edit a draft; a live or superseded version is immutable (supersede it instead)."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_editable:
        raise ApplicationError("已启用或已被取代的模型版本不能修改，请新建版本取代它")
    before = snapshot(version, VERSION_AUDIT_FIELDS)
    for field in ("name", "description", "spec", "code"):
        if field in data:
            setattr(version, field, data[field])
    version.full_clean()
    version.save()
    audit_log(
        actor=actor, action="credit.model_version_updated", obj=version, before=before,
        after=snapshot(version, VERSION_AUDIT_FIELDS),
    )  # fmt: skip
    return version


@transaction.atomic
def model_version_supersede(
    *, actor: User | None, version: ModelVersion, code: str = "", name: str = ""
) -> ModelVersion:
    """A new draft copying `version` (which stays as it is until the draft is adopted)."""
    n = ModelVersion.objects.filter(supersedes=version).count() + 1
    code = code or f"{version.code}-r{n}"[:40]
    while ModelVersion.objects.filter(code=code).exists():
        n += 1
        code = f"{version.code}-r{n}"[:40]
    return model_version_create(
        actor=actor,
        code=code,
        name=name or f"{version.name}（修订 {n}）",
        description=f"取代 {version.code} 的候选版本",
        spec=version.spec,
        supersedes=version,
    )


@transaction.atomic
def model_version_adopt(*, actor: User | None, version: ModelVersion) -> ModelVersion:
    """Make a draft live (one audited action): the live version is superseded. Classes follow at the next run.

    The draft must have a succeeded shadow run, so its distribution was compared before it goes live."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ModelVersion.Status.DRAFT:
        raise ApplicationError("只有候选（草稿）版本可以启用")
    version.full_clean()
    if not Run.objects.filter(model_version=version, mode=Run.Mode.SHADOW, status=Run.Status.SUCCEEDED).exists():
        raise ApplicationError("启用前须先完成该版本的影子运行，并与现行版本比较分布")
    now = timezone.now()
    previous = ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.LIVE).first()
    if previous is not None:
        before = snapshot(previous, VERSION_AUDIT_FIELDS)
        previous.status, previous.superseded_at = ModelVersion.Status.SUPERSEDED, now
        previous.save(update_fields=["status", "superseded_at", "updated_at"])
        audit_log(
            actor=actor, action="credit.model_version_superseded", obj=previous, before=before,
            after=snapshot(previous, VERSION_AUDIT_FIELDS), note=f"由 {version.code} 取代",
        )  # fmt: skip
    before = snapshot(version, VERSION_AUDIT_FIELDS)
    version.status, version.adopted_at, version.adopted_by = ModelVersion.Status.LIVE, now, actor
    if previous is not None and version.supersedes_id is None:
        version.supersedes = previous
    version.save(update_fields=["status", "adopted_at", "adopted_by", "supersedes", "updated_at"])
    audit_log(
        actor=actor, action="credit.model_version_adopted", obj=version, before=before,
        after=snapshot(version, VERSION_AUDIT_FIELDS),
    )  # fmt: skip
    return version


def live_version() -> ModelVersion:
    version = ModelVersion.objects.filter(status=ModelVersion.Status.LIVE).first()
    if version is None:
        raise ApplicationError("没有现行的信用风险分类模型版本")
    return version


# ==============================================================================================================
# Runs
# ==============================================================================================================


def reclassify(
    *,
    as_of: dt.date,
    model_version: ModelVersion | None = None,
    actor: User | None = None,
    source: str = "command",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    tasks: int = 0,
    work: bool = True,
    max_chunks: int | None = None,
    poll_seconds: float = 0.2,
    history: bool = False,
) -> Run:
    """Reclassify every entity as of `as_of` with `model_version` (default: the live one; a draft runs in shadow).

    `tasks` Celery tasks are dispatched to work on the chunks; with `work` this process works on them too. Raises
    ReclassifyLocked (after recording a skipped run) when another run holds the lock. `max_chunks` stops after that
    many chunks of this process, leaving the run unfinished (tests: a coordinator killed mid-run); the next call
    resumes it. `history` replays the live version on an earlier day (counts and that month's snapshot only).
    """
    version = model_version or live_version()
    if chunk_size < 1:
        raise ApplicationError("每批主体数至少为 1")
    mode = Run.Mode.LIVE if version.status == ModelVersion.Status.LIVE else Run.Mode.SHADOW
    if history:
        if mode != Run.Mode.LIVE:
            raise ApplicationError("只有现行模型版本可以回放历史分布")
        mode = Run.Mode.HISTORY
    if version.status == ModelVersion.Status.SUPERSEDED:
        raise ApplicationError("已被取代的模型版本不能再运行")
    try:
        with advisory_lock(LOCK_NAME), use_source(source):
            run = _start_or_resume(
                version=version, mode=mode, as_of=as_of, actor=actor, source=source, chunk_size=chunk_size
            )
            if tasks:
                from celery import group

                from credit.tasks import reclassify_chunks

                # The fan-out: a group of tasks, each claiming chunks until none is left (no result backend
                # needed: the chunk rows say what is done, and this process sums them when all are).
                group(reclassify_chunks.s(run.pk) for _ in range(tasks)).apply_async()
            try:
                finished = _drive(run, work=work, max_chunks=max_chunks, poll_seconds=poll_seconds)
            except Exception as exc:
                logger.exception("reclassification run %s failed", run.pk)
                Run.objects.filter(pk=run.pk).update(
                    status=Run.Status.FAILED, finished_at=timezone.now(), error=repr(exc)[:4000]
                )
                ListedPerson.objects.filter(run=run).delete()
                raise
            if finished:
                _finish(run, actor=actor)
            run.refresh_from_db()
            return run
    except JobLocked:
        Run.objects.create(
            mode=mode, model_version=version, as_of=as_of, status=Run.Status.SKIPPED, source=source,
            started_by=actor if actor is not None and actor.pk else None, finished_at=timezone.now(),
            chunk_size=chunk_size,
        )  # fmt: skip
        raise ReclassifyLocked("已有一次信用风险重新分类正在运行，本次未启动（请待其完成后再试）") from None


def _start_or_resume(
    *, version: ModelVersion, mode: str, as_of: dt.date, actor: User | None, source: str, chunk_size: int
) -> Run:
    """Under the lock: the unfinished run of the same version and day (its coordinator stopped), or a new run with
    its chunks and related-party rows. Other unfinished runs can never finish now: they are marked failed."""
    with transaction.atomic():
        unfinished = Run.objects.select_for_update().filter(status=Run.Status.RUNNING)
        resumable = None
        for run in unfinished:
            if resumable is None and run.model_version_id == version.pk and run.as_of == as_of and run.mode == mode:
                resumable = run
                continue
            Run.objects.filter(pk=run.pk).update(
                status=Run.Status.FAILED, finished_at=timezone.now(), error="运行中断且被另一次运行取代"
            )
            ListedPerson.objects.filter(run=run).delete()
        if resumable is not None:
            return resumable
        run = Run.objects.create(
            mode=mode, model_version=version, as_of=as_of, source=source, chunk_size=chunk_size,
            started_by=actor if actor is not None and actor.pk else None,
        )  # fmt: skip
        bounds = Enterprise.objects.aggregate(low=Min("id"), high=Max("id"))
        if bounds["low"] is not None:
            Chunk.objects.bulk_create(
                [
                    Chunk(run=run, first_id=low, last_id=min(low + chunk_size - 1, bounds["high"]))
                    for low in range(bounds["low"], bounds["high"] + 1, chunk_size)
                ],
                batch_size=1000,
            )
        run.chunks_total = Chunk.objects.filter(run=run).count()
        run.save(update_fields=["chunks_total", "updated_at"])
        _fill_listed_persons(run)
        audit_log(
            actor=actor, action="credit.run_started", obj=run,
            after={"mode": mode, "model_version": version.code, "as_of": as_of, "chunks": run.chunks_total},
        )  # fmt: skip
        return run


_LISTED_PERSONS_SQL = """
INSERT INTO credit_listedperson (run_id, id_number, enterprise_id)
SELECT %(run)s, e.legal_representative_id_number, e.id
  FROM enterprises_enterprise e
 WHERE e.legal_representative_id_number <> '' AND e.id IN (
       SELECT enterprise_id FROM disclosure_abnormallisting
        WHERE decided_on <= %(as_of)s AND (removed_on IS NULL OR removed_on > %(as_of)s)
        UNION
       SELECT enterprise_id FROM disclosure_seriouslisting
        WHERE decided_on IS NOT NULL AND decided_on <= %(as_of)s AND stage <> 'not_listed'
          AND (removed_on IS NULL OR removed_on > %(as_of)s))
"""


def _fill_listed_persons(run: Run) -> None:
    if "related_listed" not in engine.model_of(run.model_version).feature_codes:
        return
    with connection.cursor() as cursor:
        cursor.execute(_LISTED_PERSONS_SQL, {"run": run.pk, "as_of": run.as_of})


def _drive(run: Run, *, work: bool, max_chunks: int | None, poll_seconds: float) -> bool:
    """Work on (or wait for) the run's chunks until every one is done; False if stopped by `max_chunks`."""
    done_here = 0
    while True:
        if work and (max_chunks is None or done_here < max_chunks):
            if engine.process_next_chunk(run.pk) is not None:
                done_here += 1
                continue
        elif work:
            return False
        if not Chunk.objects.filter(run=run, status=Chunk.Status.PENDING).exists():
            return True
        # Chunks held by workers: wait for them (a chunk whose worker dies is pending again, and claimed here).
        if connection.in_atomic_block:
            return False  # inside a caller's transaction nobody else can commit a chunk we could see
        time.sleep(poll_seconds)
        Run.objects.filter(pk=run.pk, status=Run.Status.FAILED).exists() and _raise_failed(run)


def _raise_failed(run: Run) -> None:
    raise ApplicationError(f"运行 {run.pk} 已被标记为失败")


def _finish(run: Run, *, actor: User | None) -> None:
    """Sum the chunks into the run row; a live run also writes the month's snapshot. One transaction."""
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("model_version").get(pk=run.pk)
        if run.status != Run.Status.RUNNING:
            return
        distribution: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CLASSES, 0))
        migration: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
        entities = changed = results = history = 0
        for counts in Chunk.objects.filter(run=run).values_list("counts", flat=True).iterator(chunk_size=500):
            results += counts.get("result_changes", 0)
            history += counts.get("class_changes", 0)
            for region, old, new, n in counts.get("cells", []):
                distribution[region][new] += n
                row = migration[region][old or ""]
                row[new] = row.get(new, 0) + n
                entities += n
                if old != new:
                    changed += n
        run.distribution = {region: dict(v) for region, v in sorted(distribution.items())}
        run.migration = {
            region: {old: dict(v) for old, v in rows.items()} for region, rows in sorted(migration.items())
        }
        if run.mode == Run.Mode.LIVE:
            run.counts = {"entities": entities, "class_changes": history, "result_changes": results}
        else:
            run.counts = {"entities": entities, "would_change": changed}
        run.status, run.finished_at = Run.Status.SUCCEEDED, timezone.now()
        run.save(update_fields=["distribution", "migration", "counts", "status", "finished_at", "updated_at"])
        ListedPerson.objects.filter(run=run).delete()
        if run.mode in (Run.Mode.LIVE, Run.Mode.HISTORY):
            write_snapshot(run=run, distribution=run.distribution)
        audit_log(
            actor=actor, action="credit.run_finished", obj=run,
            after={"counts": run.counts, "distribution_total": distribution_totals(run.distribution)},
        )  # fmt: skip


def distribution_totals(distribution: dict[str, dict[str, int]]) -> dict[str, int]:
    totals = dict.fromkeys(CLASSES, 0)
    for row in distribution.values():
        for k in CLASSES:
            totals[k] += row.get(k, 0)
    return totals


def write_snapshot(
    *,
    run: Run | None,
    distribution: dict[str, dict[str, int]],
    month: dt.date | None = None,
    model_version: ModelVersion | None = None,
) -> int:
    """The month's distribution per county (the last live run of a month wins: end-of-month state)."""
    month = month or (run.as_of.replace(day=1) if run is not None else None)
    assert month is not None
    version = model_version or run.model_version  # type: ignore[union-attr]
    written = 0
    for region, counts in distribution.items():
        Snapshot.objects.update_or_create(
            month=month, region_id=region,
            defaults={
                "a": counts.get("A", 0), "b": counts.get("B", 0), "c": counts.get("C", 0), "d": counts.get("D", 0),
                "run": run, "model_version": version,
            },
        )  # fmt: skip
        written += 1
    return written
