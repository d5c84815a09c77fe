"""Benchmark: the nightly credit-risk reclassification (credit.services.reclassify) on the loaded population.

Measured in one run, on the same tables:

- `bare_sql`: ONE statement computing the same features, scores and classes over the whole registry and returning
  one row (credit.engine.bare_feature_statement), plus the one-pass related-party rows it reads — the floor a
  reclassification is compared with;
- `full_run`: a full reclassification from nothing (every class, result and history row written: the first night,
  or a new model adopted), as `manage.py reclassify --tasks 2 --no-work`: the chunks fanned out to 2 Celery worker
  processes (`celery worker --concurrency 2`, prefork, on the Redis broker), the command only coordinating;
- `nightly_rerun`: the same again (every entity recomputed, only differences written: here none);
- `next_night`: the day after (every entity recomputed on the facts one day later: an ordinary night's changes);
- the worker processes' peak RSS (VmHWM) per size, to show memory flat from 10^5 to 10^6.

Target (issue 5): at 10^6 entities a full reclassification ≤ 120 s with 2 workers and within 2× of the bare
statement. The machine's 2 cores also run PostgreSQL (and other engineers' work): the load average is recorded.
Alone: `PORTAL_TESTING=1 scripts/with-services.sh .venv/bin/python -m bench.bench_credit --entities N`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import BASE_DIR, now_iso

TARGET_SECONDS = 120
TARGET_RATIO = 2.0
WORKERS = 2


def _sql(statement: str, params: Any = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class Worker:
    """A Celery worker with `concurrency` prefork processes, as a child process for the benchmark."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.process: subprocess.Popen[str] | None = None
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-credit-worker-{os.getpid()}.log"

    def __enter__(self) -> Worker:
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork",
            "--concurrency", str(self.concurrency), "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
            "--without-heartbeat",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, stdout=self.log.open("w"), stderr=subprocess.STDOUT, text=True
        )
        deadline = time.time() + 60
        while len(_children(self.process.pid)) < self.concurrency:
            if time.time() > deadline or self.process.poll() is not None:
                raise RuntimeError("the Celery worker did not start:\n" + self.log.read_text()[-3000:])
            time.sleep(0.2)
        time.sleep(1.0)
        return self

    def pool_peak_rss_mb(self) -> list[float]:
        assert self.process is not None
        return [rss for pid in _children(self.process.pid) if (rss := _peak_rss_mb(pid)) is not None]

    def __exit__(self, *exc: object) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _command(args: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    lines = [line.rstrip() for line in process.stdout if line.strip()]
    _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n" + "\n".join(lines[-30:]))
    return {
        "wall_seconds": round(time.perf_counter() - started, 2),
        "coordinator_peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "output": lines,
    }


def _last_run() -> dict[str, Any]:
    from credit.models import Run

    run = Run.objects.filter(mode=Run.Mode.LIVE).order_by("-started_at").first()
    assert run is not None and run.finished_at is not None
    return {
        "status": run.status,
        "counts": run.counts,
        "chunks": run.chunks_done,
        "chunk_size": run.chunk_size,
        "job_seconds": round((run.finished_at - run.started_at).total_seconds(), 2),
    }


def bare_statement(as_of) -> dict[str, Any]:
    """The same features over the whole registry in one statement (and the related-party pass it needs)."""
    from django.db import connection, transaction

    from credit import engine, services
    from credit.models import ListedPerson, Run
    from enterprises.models import Enterprise

    version = services.live_version()
    model = engine.model_of(version)
    bounds = Enterprise.objects.order_by("id").values_list("id", flat=True)
    low, high = bounds.first(), bounds.last()
    with transaction.atomic():
        run = Run.objects.create(mode=Run.Mode.SHADOW, model_version=version, as_of=as_of, source="benchmark")
        started = time.perf_counter()
        services._fill_listed_persons(run)
        related = time.perf_counter() - started
        sql, params = engine.bare_feature_statement(model, as_of=as_of, run_id=run.pk)
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_nestloop = off")  # as each chunk runs (credit.engine)
                cursor.execute("SET LOCAL work_mem = '64MB'")
                cursor.execute(sql, {**params, "lo": low, "hi": high})
                entities, score_sum = cursor.fetchone()
            timings.append(time.perf_counter() - started)
        ListedPerson.objects.filter(run=run).delete()
        run.status = Run.Status.SUCCEEDED
        run.save(update_fields=["status"])
    return {
        "related_party_pass_seconds": round(related, 2),
        "statement_seconds": [round(t, 2) for t in timings],
        "seconds": round(related + min(timings), 2),
        "entities": entities,
        "score_sum": int(score_sum or 0),
    }


def bench(*, as_of) -> dict[str, Any]:
    from credit.models import ClassChange, RiskResult, Run

    for table in (
        "enterprises_enterprise", "enterprises_annualreport", "enterprises_enterprise_key_areas",
        "enterprises_registrationchange", "enterprises_licence", "enterprises_commitment", "enterprises_honour",
        "enterprises_complaint", "disclosure_penalty", "disclosure_abnormallisting", "disclosure_seriouslisting",
    ):  # fmt: skip
        _sql(f"VACUUM ANALYZE {table}")
    figures: dict[str, Any] = {
        "volumes": {
            "entities": _count("enterprises_enterprise"),
            "annual_reports": _count("enterprises_annualreport"),
            "penalties": _count("disclosure_penalty"),
            "abnormal_listings": _count("disclosure_abnormallisting"),
            "serious_listings": _count("disclosure_seriouslisting"),
        },
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    print("  bare statement …", flush=True)
    figures["bare_sql"] = bare_statement(as_of)
    # From nothing: what the first night (or a newly adopted model) writes. (A scratch database: the benchmark may
    # empty the credit tables, which the portal itself never does.)
    _sql("TRUNCATE credit_classchange, credit_riskresult, credit_snapshot")
    _sql("UPDATE enterprises_enterprise SET risk_class = '', risk_classified_at = NULL WHERE risk_class <> ''")
    _sql("VACUUM ANALYZE enterprises_enterprise")
    args = ["reclassify", "--as-of", as_of.isoformat(), "--tasks", str(WORKERS), "--no-work"]
    with Worker(WORKERS) as worker:
        print("  full run …", flush=True)
        full = _command(args)
        full.update(_last_run())
        full["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        _sql("ANALYZE credit_riskresult")
        print("  nightly rerun …", flush=True)
        rerun = _command(args)
        rerun.update(_last_run())
        # The next night: the same facts one day later (penalties and listings leave their windows, entities
        # turn one year old …): what an ordinary night changes and writes.
        print("  next night …", flush=True)
        next_args = ["reclassify", "--as-of", (as_of + dt.timedelta(days=1)).isoformat(), *args[3:]]
        next_night = _command(next_args)
        next_night.update(_last_run())
        next_night["command"] = "python manage.py " + " ".join(next_args)
        figures["worker_pool_peak_rss_mb"] = worker.pool_peak_rss_mb()
    bare = figures["bare_sql"]["seconds"] or 1e-9
    for name, run in (("full_run", full), ("nightly_rerun", rerun), ("next_night", next_night)):
        run.setdefault("command", "python manage.py " + " ".join(args))
        run["command"] += f"  (celery worker --concurrency {WORKERS})"
        # The run itself (its row's start to finish) and the command's wall time (+ process start, Django set-up).
        run["ratio_to_bare_sql"] = round(run["job_seconds"] / bare, 2)
        run["wall_ratio_to_bare_sql"] = round(run["wall_seconds"] / bare, 2)
        run["meets_time_target"] = run["wall_seconds"] <= TARGET_SECONDS
        run["meets_ratio_target"] = run["ratio_to_bare_sql"] <= TARGET_RATIO
        figures[name] = run
    figures["results_rows"] = RiskResult.objects.count()
    figures["history_rows"] = ClassChange.objects.count()
    last = Run.objects.filter(mode=Run.Mode.LIVE, status=Run.Status.SUCCEEDED).order_by("-finished_at").first()
    totals = {k: sum(v.get(k, 0) for v in last.distribution.values()) for k in "ABCD"} if last else {}
    total = sum(totals.values()) or 1
    figures["distribution_percent"] = {k: round(100 * v / total, 2) for k, v in totals.items()}
    print(
        f"    bare {bare} s; "
        + "; ".join(
            f"{name} {r['job_seconds']} s (×{r['ratio_to_bare_sql']}, wall {r['wall_seconds']} s)"
            for name, r in (("full", full), ("rerun", rerun), ("next night", next_night))
        )
        + f"; worker RSS {figures['worker_pool_peak_rss_mb']}",
        flush=True,
    )
    return figures


def _count(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def _key(entities: int) -> str:
    exponent = len(str(entities)) - 1
    return f"credit_1e{exponent}" if entities == 10**exponent else f"credit_{entities}"


def run(results: dict[str, Any], *, entities: int, **_: Any) -> None:
    """Figures into results["credit_1e5"] / ["credit_1e6"]; with both in bench/results.json, results["credit_memory"]
    compares the workers' peak RSS."""
    from django.utils import timezone

    figures = {
        "date": now_iso(),
        "entities": entities,
        "command": "python -m bench --only credit",
        "target_seconds": TARGET_SECONDS,
        "target_ratio_to_bare_sql": TARGET_RATIO,
        "workers": WORKERS,
        "note": "2 cores shared by PostgreSQL, the 2 worker processes and other work on the machine: upper bounds",
    }
    figures.update(bench(as_of=timezone.localdate()))
    results[_key(entities)] = figures
    previous: dict[str, Any] = {}
    path = BASE_DIR / "bench" / "results.json"
    if path.exists():
        try:
            previous = json.loads(path.read_text(encoding="utf-8")).get("benchmarks", {})
        except ValueError:
            previous = {}
    sizes = {**previous, **results}
    if "credit_1e5" in sizes and "credit_1e6" in sizes:
        small = max(sizes["credit_1e5"]["worker_pool_peak_rss_mb"] or [0])
        large = max(sizes["credit_1e6"]["worker_pool_peak_rss_mb"] or [0])
        results["credit_memory"] = {
            "worker_peak_rss_mb_1e5": small,
            "worker_peak_rss_mb_1e6": large,
            "ratio": round(large / small, 2) if small else None,
        }


def main() -> None:
    from bench.common import django_setup

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000, help="population to load if the database is empty")
    parser.add_argument("--output", default="", help="also write the figures (JSON) to this file")
    args = parser.parse_args()
    django_setup()
    from django.core.management import call_command

    from bench import bench_seed

    call_command("migrate", verbosity=0, interactive=False)
    results: dict[str, Any] = {}
    bench_seed.run(results, entities=args.entities)
    run(results, entities=args.entities)
    text = json.dumps(results, ensure_ascii=False, indent=2, default=str)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
