"""Helpers shared by the benchmark modules: Django set-up, percentiles, timed HTTP requests, memory, machine facts."""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent


def django_setup() -> None:
    """Configure Django for in-process benchmarks; the test environment lets django.test.Client talk to views."""
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.conf import settings
    from django.test.utils import setup_test_environment

    django.setup()
    if "testserver" not in settings.ALLOWED_HOSTS:
        setup_test_environment()  # adds "testserver" to ALLOWED_HOSTS, in-memory e-mail


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`; what "p95" means in docs/BENCHMARKS.md."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.4999999))  # ceil without float surprises
    return ordered[min(rank, len(ordered)) - 1]


def summarize(durations_ms: list[float]) -> dict[str, Any]:
    return {
        "samples": len(durations_ms),
        "p50_ms": round(percentile(durations_ms, 50), 2),
        "p95_ms": round(percentile(durations_ms, 95), 2),
        "max_ms": round(max(durations_ms), 2) if durations_ms else None,
        "mean_ms": round(sum(durations_ms) / len(durations_ms), 2) if durations_ms else None,
    }


def time_gets(client: Any, urls: Iterable[str], *, warmup: int = 5, **extra: Any) -> dict[str, Any]:
    """GET every url with a django.test.Client and time it. Figures, plus the status codes seen."""
    urls = list(urls)
    for url in urls[:warmup]:
        client.get(url, **extra)
    durations: list[float] = []
    statuses: Counter[int] = Counter()
    for url in urls:
        started = time.perf_counter()
        response = client.get(url, **extra)
        durations.append((time.perf_counter() - started) * 1000)
        statuses[response.status_code] += 1
    return {**summarize(durations), "status_codes": {str(k): v for k, v in sorted(statuses.items())}}


def count_queries(client: Any, url: str, **extra: Any) -> tuple[int, int]:
    """(status, number of SQL queries) of one GET, measured apart from the timed runs (capturing costs time)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    return response.status_code, len(captured.captured_queries)


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory in MiB (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


def _meminfo_total_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        return None
    return None


def git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=BASE_DIR, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def machine_info(*, entities: int) -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        db_version = cursor.fetchone()[0]
    load = os.getloadavg()
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "entities": entities,
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _meminfo_total_gib(),
        "load_average_at_start": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "database": f"{connection.vendor} {db_version}",
        "platform": platform.platform(),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def login_client(username: str) -> Any:
    """A django.test.Client logged in as an existing user (force_login: no password, no lockout counting)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def merge_results(path: Path, figures: dict[str, Any], *, command: str) -> None:
    """Merge one module's figures (run alone, outside `python -m bench`) into a results file, atomically; each
    benchmark keeps its own date, and the command and load average of this run are noted with it."""
    import json

    document: dict[str, Any] = {}
    if path.exists():
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            document = {}
    benchmarks = document.setdefault("benchmarks", {})
    load = [round(x, 2) for x in os.getloadavg()]
    for key, value in figures.items():
        if isinstance(value, dict):
            value = {**value, "run_alone": {"command": command, "load_average_at_end": load, "commit": git_commit()}}
        benchmarks[key] = value
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
