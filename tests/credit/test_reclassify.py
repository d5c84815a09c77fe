"""The reclassification runs: live writes, idempotence, history only for changes, crash safety, resume, shadow runs,
the lock, the command and the Celery fan-out."""

from __future__ import annotations

import datetime as dt
import io

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from core.models import AuditEvent
from core.nightly import _lock_key
from credit import engine, services
from credit.defaults import DEFAULT_SPEC
from credit.models import Chunk, ClassChange, ListedPerson, ModelVersion, RiskResult, Run, Snapshot
from enterprises.models import Enterprise, Region
from tests.credit.helpers import AS_OF, clean_entity, key_area, reset, state
from tests.disclosure.factories import AbnormalListingFactory, PenaltyFactory, SeriousListingFactory

pytestmark = pytest.mark.django_db


def population(n: int = 23) -> list[Enterprise]:
    """Entities of two counties with facts of every kind, so every class occurs."""
    counties = [Region.objects.get(code="140702"), Region.objects.get(code="140703")]
    entities = []
    for i in range(n):
        e = clean_entity(region=counties[i % 2], registration_date=dt.date(2010 + i % 14, 3, 1))
        if i % 3 == 1:
            PenaltyFactory(enterprise=e, decision_date=dt.date(2026, 2, 1 + i))
        if i % 4 == 2:
            AbnormalListingFactory(enterprise=e)
        if i % 5 == 3:
            key_area(e)
        if i % 7 == 6:
            SeriousListingFactory(enterprise=e)
        entities.append(e)
    return entities


def test_a_live_run_classifies_every_entity_with_history_results_and_a_snapshot():
    entities = population()
    run = services.reclassify(as_of=AS_OF, chunk_size=5)
    assert run.status == Run.Status.SUCCEEDED and run.mode == Run.Mode.LIVE
    assert run.chunks_total == run.chunks_done == 5
    assert run.counts == {"entities": 23, "class_changes": 23, "result_changes": 23}
    classes = dict(Enterprise.objects.values_list("pk", "risk_class"))
    assert set(classes.values()) == {"A", "B", "C", "D"}
    assert all(Enterprise.objects.filter(pk=e.pk, risk_classified_at__isnull=False).exists() for e in entities)
    assert RiskResult.objects.count() == ClassChange.objects.count() == 23
    assert set(ClassChange.objects.values_list("old_class", flat=True)) == {""}
    # The run's distribution is the registry's; the snapshot of the month is the run's.
    assert sum(sum(v.values()) for v in run.distribution.values()) == 23
    for code, counts in run.distribution.items():
        for k, n in counts.items():
            assert Enterprise.objects.filter(region_id=code, risk_class=k).count() == n
    snapshot = Snapshot.objects.get(month=dt.date(2026, 11, 1), region_id="140702")
    assert (snapshot.a, snapshot.b, snapshot.c, snapshot.d) == tuple(run.distribution["140702"][k] for k in "ABCD")
    assert not ListedPerson.objects.exists()  # scratch rows are gone
    assert AuditEvent.objects.filter(action="credit.run_finished", object_id=str(run.pk)).exists()


def test_a_rerun_writes_nothing_and_unchanged_entities_never_get_history():
    population()
    services.reclassify(as_of=AS_OF, chunk_size=5)
    before = state()
    stamps = dict(RiskResult.objects.values_list("pk", "updated_at"))
    again = services.reclassify(as_of=AS_OF, chunk_size=5)
    assert again.counts == {"entities": 23, "class_changes": 0, "result_changes": 0}
    assert state() == before
    assert dict(RiskResult.objects.values_list("pk", "updated_at")) == stamps


def test_a_changed_fact_changes_one_class_with_one_history_row():
    entities = population()
    services.reclassify(as_of=AS_OF)
    target = next(e for e in entities if Enterprise.objects.get(pk=e.pk).risk_class == "A")
    SeriousListingFactory(enterprise=target)
    run = services.reclassify(as_of=AS_OF)
    assert run.counts["class_changes"] == 1
    change = ClassChange.objects.get(run=run)
    assert (change.enterprise_id, change.old_class, change.new_class) == (target.pk, "A", "D")
    assert Enterprise.objects.get(pk=target.pk).risk_class == "D"


def test_a_score_change_without_a_class_change_updates_the_result_but_writes_no_history():
    e = clean_entity()
    services.reclassify(as_of=AS_OF)
    assert RiskResult.objects.get(enterprise=e).score == -30
    key_area(e)  # +10: still A
    run = services.reclassify(as_of=AS_OF)
    assert run.counts == {"entities": 1, "class_changes": 0, "result_changes": 1}
    assert RiskResult.objects.get(enterprise=e).score == -20
    assert ClassChange.objects.count() == 1


def test_a_killed_chunk_is_redone_and_the_result_equals_a_clean_run(monkeypatch):
    population()
    services.reclassify(as_of=AS_OF, chunk_size=5)
    clean = state()
    reset()

    # The coordinator is killed after two chunks …
    first = services.reclassify(as_of=AS_OF, chunk_size=5, max_chunks=2)
    assert first.status == Run.Status.RUNNING and first.chunks_done == 2
    # … a worker dies in the middle of the third, after its writes (they roll back with it) …
    real = engine.compute_chunk

    def dies(run, first_id, last_id):
        real(run, first_id, last_id)
        raise SystemExit("worker killed")

    monkeypatch.setattr(engine, "compute_chunk", dies)
    with pytest.raises(SystemExit):
        engine.process_next_chunk(first.pk)
    assert Chunk.objects.filter(run=first, status=Chunk.Status.PENDING).count() == 3
    monkeypatch.setattr(engine, "compute_chunk", real)
    # … and the next start resumes the same run, redoes the killed chunk and finishes.
    resumed = services.reclassify(as_of=AS_OF, chunk_size=5)
    assert resumed.pk == first.pk and resumed.status == Run.Status.SUCCEEDED
    assert not Chunk.objects.filter(run=first, status=Chunk.Status.PENDING).exists()
    assert state() == clean
    # Every entity once in the run's counts (the killed chunk was not counted twice).
    assert resumed.counts["entities"] == 23


def test_a_failing_run_is_recorded_and_a_new_start_finishes_the_job(monkeypatch):
    population()
    services.reclassify(as_of=AS_OF, chunk_size=5)
    clean = state()
    reset()
    calls = {"n": 0}
    real = engine.compute_chunk

    def fails_on_third(run, first_id, last_id):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("database went away")
        return real(run, first_id, last_id)

    monkeypatch.setattr(engine, "compute_chunk", fails_on_third)
    with pytest.raises(RuntimeError):
        services.reclassify(as_of=AS_OF, chunk_size=5)
    failed = Run.objects.get(status=Run.Status.FAILED)
    assert "database went away" in failed.error
    monkeypatch.setattr(engine, "compute_chunk", real)
    services.reclassify(as_of=AS_OF, chunk_size=5)
    assert state() == clean


def test_a_shadow_run_leaves_the_live_classes_untouched_and_compares():
    population()
    services.reclassify(as_of=AS_OF)
    live_state = state()
    strict = {**DEFAULT_SPEC, "bands": [
        {"class": "A", "min": None, "max": -40}, {"class": "B", "min": -40, "max": 20},
        {"class": "C", "min": 20, "max": 60}, {"class": "D", "min": 60, "max": None},
    ]}  # fmt: skip
    draft = services.model_version_create(actor=None, code="strict", name="严格版", spec=strict)
    run = services.reclassify(as_of=AS_OF, model_version=draft)
    assert run.mode == Run.Mode.SHADOW and run.status == Run.Status.SUCCEEDED
    assert state() == live_state
    assert not Snapshot.objects.filter(run=run).exists()
    assert run.counts["entities"] == 23 and run.counts["would_change"] > 0
    # The migration matrix starts from the live classes and ends in the shadow distribution.
    live = dict(Enterprise.objects.values_list("pk", "risk_class"))
    for code, rows in run.migration.items():
        before = {k: sum(n for n in row.values()) for k, row in rows.items()}
        for k, n in before.items():
            assert Enterprise.objects.filter(region_id=code, risk_class=k).count() == n
        after = {}
        for row in rows.values():
            for k, n in row.items():
                after[k] = after.get(k, 0) + n
        assert {k: v for k, v in run.distribution[code].items() if v} == after
    assert sum(run.migration["140702"].get("A", {}).values()) + sum(
        run.migration["140703"].get("A", {}).values()
    ) == list(live.values()).count("A")


def test_the_portable_path_gives_what_the_postgresql_statement_gives(monkeypatch):
    population()
    services.reclassify(as_of=AS_OF, chunk_size=7)
    by_sql = state()
    reset()
    monkeypatch.setattr(engine, "USE_POSTGRES_SQL", False)
    run = services.reclassify(as_of=AS_OF, chunk_size=7)
    assert state() == by_sql
    assert run.counts == {"entities": 23, "class_changes": 23, "result_changes": 23}
    again = services.reclassify(as_of=AS_OF, chunk_size=7)
    assert again.counts == {"entities": 23, "class_changes": 0, "result_changes": 0}


def test_history_runs_replay_earlier_days_into_snapshots_without_touching_classes():
    e = clean_entity()
    PenaltyFactory(enterprise=e, decision_date=dt.date(2026, 9, 1))
    services.reclassify(as_of=dt.date(2026, 8, 31), history=True)
    assert Enterprise.objects.get(pk=e.pk).risk_class == ""
    august = Snapshot.objects.get(month=dt.date(2026, 8, 1), region_id="140702")
    assert (august.a, august.c) == (1, 0)  # the penalty came later
    services.reclassify(as_of=AS_OF)
    november = Snapshot.objects.get(month=dt.date(2026, 11, 1), region_id="140702")
    assert (november.a, november.c) == (0, 1)


@pytest.fixture
def lock_holder():
    """A second database session holding the reclassification lock (another run in progress)."""
    settings = connection.settings_dict
    other = psycopg2.connect(
        dbname=settings["NAME"], user=settings["USER"], password=settings["PASSWORD"], host=settings["HOST"],
        port=settings["PORT"],
    )  # fmt: skip
    other.autocommit = True
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_lock_key(services.LOCK_NAME)])
    yield other
    other.close()


def test_a_second_start_while_one_runs_says_already_running(lock_holder):
    population(3)
    with pytest.raises(services.ReclassifyLocked, match="已有一次信用风险重新分类正在运行"):
        services.reclassify(as_of=AS_OF)
    assert Run.objects.get().status == Run.Status.SKIPPED
    assert not RiskResult.objects.exists()
    with pytest.raises(CommandError, match="正在运行"):
        call_command("reclassify", "--as-of", "2026-11-22", stdout=io.StringIO())


def test_the_command_runs_live_or_shadow_and_prints_the_distribution():
    population()
    out = io.StringIO()
    call_command("reclassify", "--as-of", "2026-11-22", "--chunk-size", "10", stdout=out)
    assert "现行模型" in out.getvalue() and "分布：A" in out.getvalue()
    services.model_version_create(actor=None, code="cand", name="候选", spec=DEFAULT_SPEC)
    out = io.StringIO()
    call_command("reclassify", "--as-of", "2026-11-22", "--model-version", "cand", stdout=out)
    assert "影子运行" in out.getvalue()
    for args, message in (
        (["--as-of", "22/11/2026"], "日期格式"),
        (["--model-version", "nope"], "没有代码为 nope"),
        (["--chunk-size", "0"], "至少为 1"),
        (["--no-work"], "--tasks"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("reclassify", *args, stdout=io.StringIO())


def test_a_superseded_version_cannot_run():
    version = ModelVersion.objects.get(status="live")
    version.status = ModelVersion.Status.SUPERSEDED
    version.save()
    with pytest.raises(Exception, match="已被取代"):
        services.reclassify(as_of=AS_OF, model_version=version)


@pytest.mark.django_db(transaction=True)
def test_the_chunks_fan_out_to_celery_workers(celery_worker_session):
    population(12)
    run = services.reclassify(as_of=AS_OF, chunk_size=2, tasks=2, work=False, poll_seconds=0.05)
    assert run.status == Run.Status.SUCCEEDED
    assert run.chunks_done == run.chunks_total == 6
    assert RiskResult.objects.count() == 12
