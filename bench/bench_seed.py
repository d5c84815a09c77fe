"""Benchmark: loading the demo population (`manage.py seed_demo --enterprises N`) — the population every other
benchmark runs against. Runs the real command in a child process, so its time and peak memory are its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from bench.common import BASE_DIR, now_iso

SEED = 2026
TABLES = (
    "enterprises_enterprise",
    "enterprises_annualreport",
    "enterprises_enterprise_key_areas",
    "enterprises_registrationchange",
    "enterprises_licence",
    "enterprises_honour",
    "enterprises_complaint",
    "enterprises_commitment",
)


def _table_facts() -> dict[str, dict[str, Any]]:
    from django.db import connection

    facts: dict[str, dict[str, Any]] = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(
                f"SELECT COUNT(*), pg_size_pretty(pg_total_relation_size(%s)), pg_total_relation_size(%s) FROM {table}",
                [table, table],
            )
            rows, pretty, size = cursor.fetchone()
            facts[table] = {"rows": rows, "total_size": pretty, "total_bytes": size}
    return facts


def run(results: dict[str, Any], *, entities: int) -> None:
    from enterprises.models import Enterprise

    command = [sys.executable, "manage.py", "seed_demo", "--enterprises", str(entities), "--seed", str(SEED)]
    existing = Enterprise.objects.count()
    if existing:
        results["seed"] = {
            "date": now_iso(),
            "skipped": f"the database already holds {existing} entities; nothing loaded, nothing timed",
            "command": " ".join(command[1:]),
        }
        return

    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output_lines = []
    assert process.stdout is not None
    for line in process.stdout:  # echo progress while it runs (10^6 takes minutes)
        print("    " + line.rstrip(), flush=True)
        output_lines.append(line.rstrip())
    # wait4: the rusage of this one child (its peak RSS), not the maximum over every child so far.
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError("seed_demo failed:\n" + "\n".join(output_lines[-30:]))

    tables = _table_facts()
    results["seed"] = {
        "date": now_iso(),
        "command": f"python manage.py seed_demo --enterprises {entities} --seed {SEED}",
        "entities": entities,
        "wall_seconds": round(elapsed, 1),
        "entities_per_second": round(entities / elapsed) if elapsed else None,
        "cpu_user_seconds": round(usage.ru_utime, 1),
        "cpu_system_seconds": round(usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "tables": tables,
        "output_tail": output_lines[-14:],
        "target": "completes (issue 2); a few minutes",
    }
