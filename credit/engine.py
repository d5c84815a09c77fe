"""The reclassification engine: the SQL of one chunk, and the claiming of chunks by workers.

One chunk is one id range of the registry, processed in one transaction:

1. the features: one SELECT over the chunk's entities with, per fact table, one sub-query aggregating that table's
   rows of the chunk's id range (credit.indicators builds every feature as SQL);
2. the score and class: on PostgreSQL in the same statement (points, bands, hard rules as CASE/GREATEST);
   elsewhere (the SQLite demo) in Python with credit.rules, the reference the tests compare the SQL with;
3. the writes (live runs only), on PostgreSQL as data-modifying CTEs of the same statement: an upsert of the
   result rows that changed, one UPDATE … FROM of the enterprises whose class changed, a history row for each of
   those. Unchanged entities write nothing;
4. the counts by (county, old class, new class), from which the run's distribution and migration matrix are summed.

The chunk row is marked done in the same transaction: a worker killed mid-chunk leaves it pending, its writes
rolled back, and the next worker to claim it (`FOR UPDATE SKIP LOCKED`) redoes it. A chunk computed twice writes
nothing the second time (only differences are written), so any interleaving ends in the state of a clean run.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from credit.indicators import INDICATORS, SOURCES, Build
from credit.models import Chunk, ClassChange, ModelVersion, RiskResult, Run
from credit.rules import Model, validate_spec
from enterprises.models import Enterprise

# Tests switch this off to run the portable path (what SQLite uses) against PostgreSQL and compare.
USE_POSTGRES_SQL = True


def _postgres() -> bool:
    return USE_POSTGRES_SQL and connection.vendor == "postgresql"


@functools.lru_cache(maxsize=32)
def _model_cached(version_id: int, spec_json: str) -> Model:
    import json

    return validate_spec(json.loads(spec_json))


def model_of(version: ModelVersion) -> Model:
    """The validated model of a version (cached per version and specification)."""
    import json

    return _model_cached(version.pk, json.dumps(version.spec, sort_keys=True))


# ==============================================================================================================
# SQL
# ==============================================================================================================


def feature_select(model: Model, *, as_of: dt.date, run_id: int) -> tuple[str, dict[str, Any], list[str]]:
    """SELECT id, region_id, risk_class, f_<code>… for the entities with lo ≤ id ≤ hi (parameters `lo`, `hi`) that
    exist on `as_of`; its parameters; the feature codes in column order."""
    b = Build(as_of=as_of)
    codes = model.feature_codes
    columns = [f"{INDICATORS[code].build(b, model.params_of(code))} AS f_{code}" for code in codes]
    placeholders = {"as_of": "%(as_of)s", "lo": "%(lo)s", "hi": "%(hi)s", "run": "%(run)s"}
    joins = []
    for name, aggregates in b.aggregates.items():
        source = SOURCES[name]
        selected = ", ".join(f"{sql} AS {alias}" for alias, sql in aggregates)
        if source.from_sql:
            body = source.from_sql.format(**placeholders)
        else:
            where = f" AND ({source.where.format(**placeholders)})" if source.where else ""
            body = f"{source.table} s WHERE s.enterprise_id BETWEEN %(lo)s AND %(hi)s{where}"
        joins.append(
            f"LEFT JOIN (SELECT {source.key} AS eid, {selected} FROM {body} GROUP BY {source.key}) src_{name} "
            f"ON src_{name}.eid = e.id"
        )
    sql = (
        f"SELECT e.id, e.region_id, e.risk_class, {', '.join(columns)} FROM enterprises_enterprise e "
        + " ".join(joins)
        + " WHERE e.id BETWEEN %(lo)s AND %(hi)s AND e.registration_date <= %(as_of)s"
    )
    params = {**b.params, "as_of": as_of, "run": run_id}
    return sql, params, codes


def _points_sql(model: Model) -> str:
    """Each term's points as a column p_<code> (computed once per row)."""
    return ", ".join(
        f"(CASE WHEN f_{t.code} >= {t.threshold} THEN {t.weight} * LEAST(f_{t.code}, {t.cap}) ELSE 0 END) AS p_{t.code}"
        for t in model.terms
    )


def _class_sql(model: Model) -> tuple[str, str, str]:
    """(the band expression over `score`, the class with the hard rules, the applied rule over band/new_class)."""
    band = "CASE " + " ".join(f"WHEN score < {b.high} THEN '{b.risk_class}'" for b in model.bands[:-1])
    band += f" ELSE '{model.bands[-1].risk_class}' END"
    if not model.hard_rules:
        return band, "band_class", "''"
    floors = [f"CASE WHEN f_{r.indicator} >= {r.min_value} THEN '{r.min_class}' ELSE 'A' END" for r in model.hard_rules]
    # The first rule (in the model's order) that reaches the final class, as credit.rules.Model.classify says.
    applied = " ".join(
        f"WHEN f_{r.indicator} >= {r.min_value} AND '{r.min_class}' = new_class THEN '{r.indicator}'"
        for r in model.hard_rules
    )
    return (
        band,
        f"GREATEST(band_class, {', '.join(floors)})",
        f"CASE WHEN new_class = band_class THEN '' {applied} ELSE '' END",
    )


def _contributions_sql(model: Model) -> str:
    pairs = [
        f"'{t.code}', CASE WHEN p_{t.code} <> 0 THEN jsonb_build_array(f_{t.code}, p_{t.code}) END" for t in model.terms
    ]
    return f"jsonb_strip_nulls(jsonb_build_object({', '.join(pairs)}))"


def classed_cte(model: Model, *, as_of: dt.date, run_id: int) -> tuple[str, dict[str, Any]]:
    """WITH f (features), scored, banded, classed: the PostgreSQL statement's common part."""
    features, params, _codes = feature_select(model, as_of=as_of, run_id=run_id)
    band, final, applied = _class_sql(model)
    sql = (
        # MATERIALIZED: each feature and each term's points computed once per row (inlined, the planner would
        # repeat the whole score expression in every CASE that reads it: most of a chunk's time).
        f"WITH f AS MATERIALIZED ({features}), "
        f"pointed AS MATERIALIZED (SELECT f.*, {_points_sql(model)} FROM f), "
        f"scored AS MATERIALIZED (SELECT pointed.*, ({' + '.join(f'p_{t.code}' for t in model.terms)}) AS score "
        "FROM pointed), "
        f"banded AS (SELECT scored.*, {band} AS band_class FROM scored), "
        f"finals AS (SELECT banded.*, {final} AS new_class FROM banded), "
        f"classed AS (SELECT finals.*, {applied} AS hard_rule, {_signature_sql(model)} AS signature FROM finals)"
    )
    return sql, params


def _signature_sql(model: Model) -> str:
    """The feature values of the model's terms, in order, as text (credit.rules.signature): with the model
    version, they decide the contributions, so comparing it finds every changed explanation without building
    the JSON of the unchanged entities (most of them, every night)."""
    return f"concat_ws(',', {', '.join(f'f_{t.code}' for t in model.terms)})"


_LIVE_TAIL = """,
changed AS (
    SELECT c.* FROM classed c
      LEFT JOIN credit_riskresult r ON r.enterprise_id = c.id AND r.enterprise_id BETWEEN %(lo)s AND %(hi)s
     WHERE r.enterprise_id IS NULL OR r.risk_class <> c.new_class OR r.score <> c.score
        OR r.signature <> c.signature OR r.hard_rule <> c.hard_rule OR r.model_version_id <> %(version)s
), upserted AS (
    INSERT INTO credit_riskresult (enterprise_id, risk_class, score, contributions, signature, hard_rule,
                                   model_version_id, as_of, run_id, updated_at)
    SELECT id, new_class, score, {contributions}, signature, hard_rule, %(version)s, %(as_of)s, %(run)s, %(now)s
      FROM changed
    ON CONFLICT (enterprise_id) DO UPDATE SET risk_class = EXCLUDED.risk_class, score = EXCLUDED.score,
        contributions = EXCLUDED.contributions, signature = EXCLUDED.signature, hard_rule = EXCLUDED.hard_rule,
        model_version_id = EXCLUDED.model_version_id, as_of = EXCLUDED.as_of, run_id = EXCLUDED.run_id,
        updated_at = EXCLUDED.updated_at
    RETURNING 1
), moved AS (
    UPDATE enterprises_enterprise e SET risk_class = c.new_class, risk_classified_at = %(now)s
      FROM classed c
     WHERE e.id = c.id AND e.id BETWEEN %(lo)s AND %(hi)s AND e.risk_class <> c.new_class
    RETURNING e.id, c.risk_class AS old_class, c.new_class, c.score
), history AS (
    INSERT INTO credit_classchange (enterprise_id, old_class, new_class, score, model_version_id, run_id, as_of,
                                    changed_at)
    SELECT id, old_class, new_class, score, %(version)s, %(run)s, %(as_of)s, %(now)s FROM moved
    RETURNING 1
)
SELECT region_id, risk_class, new_class, count(*),
       (SELECT count(*) FROM upserted), (SELECT count(*) FROM history)
  FROM classed GROUP BY region_id, risk_class, new_class
"""

_SHADOW_TAIL = """
SELECT region_id, risk_class, new_class, count(*), 0, 0 FROM classed GROUP BY region_id, risk_class, new_class
"""


@functools.lru_cache(maxsize=16)
def _statement(version_id: int, spec_json: str, as_of: dt.date, run_id: int, live: bool) -> tuple[str, dict]:
    model = _model_cached(version_id, spec_json)
    sql, params = classed_cte(model, as_of=as_of, run_id=run_id)
    tail = _LIVE_TAIL.replace("{contributions}", _contributions_sql(model)) if live else _SHADOW_TAIL
    return sql + tail, params


def _cells(rows: Sequence[Sequence[Any]]) -> tuple[list[list[Any]], int, int]:
    cells = [[region, old or "", new, int(n)] for region, old, new, n, *_rest in rows]
    results = int(rows[0][4]) if rows else 0
    history = int(rows[0][5]) if rows else 0
    return cells, results, history


def compute_chunk(run: Run, first_id: int, last_id: int) -> dict[str, Any]:
    """Classify (and for a live run, write) the entities of [first_id, last_id]; the chunk's counts."""
    import json

    version = run.model_version
    live = run.mode == Run.Mode.LIVE
    if _postgres():
        sql, params = _statement(version.pk, json.dumps(version.spec, sort_keys=True), run.as_of, run.pk, live)
        values = {**params, "lo": first_id, "hi": last_id, "version": version.pk, "now": timezone.now()}
        with connection.cursor() as cursor:
            # Every source is aggregated over the chunk's id range and joined once: hash joins. A nested loop
            # (chosen on stale statistics, e.g. right after a bulk load) re-aggregates a source per entity. Every
            # table the statement reads or writes is restricted to the chunk's range, so no hash join scans a table.
            cursor.execute("SET LOCAL enable_nestloop = off")
            # The chunk's CTEs (10,000 rows of every feature and point) are materialised: in the default 4 MB they
            # spilled to temporary files (12 MB written and read back per chunk).
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute(sql, values)
            cells, results, history = _cells(cursor.fetchall())
    else:
        cells, results, history = _compute_portable(run, model_of(version), first_id, last_id, live=live)
    return {"cells": cells, "result_changes": results, "class_changes": history}


def features_of(model: Model, *, as_of: dt.date, run_id: int, first_id: int, last_id: int) -> list[dict[str, Any]]:
    """The feature rows of the chunk (portable SQL): id, region_id, risk_class and each feature by its code."""
    sql, params, codes = feature_select(model, as_of=as_of, run_id=run_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "lo": first_id, "hi": last_id})
        rows = cursor.fetchall()
    return [
        {
            "id": row[0],
            "region_id": row[1],
            "risk_class": row[2] or "",
            **dict(zip(codes, map(int, row[3:]), strict=True)),
        }
        for row in rows
    ]


def _compute_portable(run: Run, model: Model, first_id: int, last_id: int, *, live: bool) -> tuple[list, int, int]:
    rows = features_of(model, as_of=run.as_of, run_id=run.pk, first_id=first_id, last_id=last_id)
    cells: Counter[tuple[str, str, str]] = Counter()
    outcomes = []
    for row in rows:
        risk_class, score, contributions, hard_rule = model.classify(row)
        cells[(row["region_id"], row["risk_class"], risk_class)] += 1
        outcomes.append((row, risk_class, score, contributions, hard_rule))
    results = history = 0
    if live and outcomes:
        now = timezone.now()
        existing = {
            r.enterprise_id: r for r in RiskResult.objects.filter(enterprise_id__in=[o[0]["id"] for o in outcomes])
        }
        create, update, moved, changes = [], [], [], []
        for row, risk_class, score, contributions, hard_rule in outcomes:
            old = existing.get(row["id"])
            values = {
                "risk_class": risk_class,
                "score": score,
                "contributions": contributions,
                "signature": signature(model, row),
                "hard_rule": hard_rule,
                "model_version_id": run.model_version_id,
            }
            if old is None:
                create.append(RiskResult(enterprise_id=row["id"], as_of=run.as_of, run=run, updated_at=now, **values))
            elif any(getattr(old, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(old, k, v)
                old.as_of, old.run, old.updated_at = run.as_of, run, now
                update.append(old)
            if row["risk_class"] != risk_class:
                moved.append(Enterprise(pk=row["id"], risk_class=risk_class, risk_classified_at=now))
                changes.append(
                    ClassChange(
                        enterprise_id=row["id"],
                        old_class=row["risk_class"],
                        new_class=risk_class,
                        score=score,
                        model_version_id=run.model_version_id,
                        run=run,
                        as_of=run.as_of,
                        changed_at=now,
                    )
                )
        RiskResult.objects.bulk_create(create, batch_size=500)
        RiskResult.objects.bulk_update(
            update,
            [
                "risk_class",
                "score",
                "contributions",
                "signature",
                "hard_rule",
                "model_version",
                "as_of",
                "run",
                "updated_at",
            ],
            batch_size=500,
        )
        Enterprise.objects.bulk_update(moved, ["risk_class", "risk_classified_at"], batch_size=500)
        ClassChange.objects.bulk_create(changes, batch_size=500)
        results, history = len(create) + len(update), len(changes)
    return [[r, o, n, c] for (r, o, n), c in sorted(cells.items())], results, history


def signature(model: Model, features: dict[str, Any]) -> str:
    """What _signature_sql gives in SQL: the terms' feature values, comma-separated."""
    return ",".join(str(int(features.get(t.code) or 0)) for t in model.terms)


def bare_feature_statement(model: Model, *, as_of: dt.date, run_id: int) -> tuple[str, dict[str, Any]]:
    """One statement computing the same features over the whole registry (every feature column evaluated, one row
    returned): the floor the benchmark compares a run with (the related-party rows of `run_id` must exist)."""
    sql, params, codes = feature_select(model, as_of=as_of, run_id=run_id)
    total = " + ".join(f"q.f_{code}" for code in codes)
    return f"SELECT count(*), sum({total}) FROM ({sql}) q", params


# ==============================================================================================================
# Chunks
# ==============================================================================================================


def process_next_chunk(run_id: int) -> dict[str, Any] | None:
    """Claim one pending chunk of the run (skipping chunks other workers hold), compute it and mark it done, all in
    one transaction (a savepoint inside a caller's). None when no pending chunk is left to claim."""
    with transaction.atomic():
        qs = Chunk.objects.filter(run_id=run_id, status=Chunk.Status.PENDING).order_by("first_id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        chunk = qs.first()
        if chunk is None:
            return None
        run = Run.objects.select_related("model_version").get(pk=run_id)
        if run.status != Run.Status.RUNNING:
            return None
        counts = compute_chunk(run, chunk.first_id, chunk.last_id)
        Chunk.objects.filter(pk=chunk.pk).update(status=Chunk.Status.DONE, counts=counts, finished_at=timezone.now())
        Run.objects.filter(pk=run_id).update(chunks_done=F("chunks_done") + 1)
        return counts


def work(run_id: int, *, max_chunks: int | None = None) -> int:
    """Process pending chunks of the run until none is left (or `max_chunks`); the number processed."""
    done = 0
    while max_chunks is None or done < max_chunks:
        if process_next_chunk(run_id) is None:
            break
        done += 1
    return done
