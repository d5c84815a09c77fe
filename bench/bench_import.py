"""Benchmark: importing a registry CSV (`manage.py import_enterprises FILE`) at 10^5 and 10^6 rows.

Each run is the real command in a child process, so its wall time and peak RSS (os.wait4) are its own; the same
file is imported three times: a first import (every row created), the same file again (every row unchanged:
nothing written, nothing audited), and a file with 1 % of rows changed (updates, audited set-based). The rows are
removed afterwards so the benchmarks that follow see the population they expect.

In `python -m bench`, `--entities N` gives files of N/10 and N rows. Alone, against a migrated and seeded database:
`python -m bench.bench_import [--rows N …] [--output bench/results.json]`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import BASE_DIR, now_iso

SIZES = (100_000, 1_000_000)
HEADER = [
    "uscc", "name", "legal_representative", "address", "region_code", "industry_code", "registered_capital",
    "registration_date", "status", "former_names", "contact_phone",
]  # fmt: skip
# Organisation codes "BM…" never collide with the demo population's "MA…" (enterprises.demo.organisation_code).
ORG_PREFIX = "BM"
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(_ALPHABET)}
COUNTIES = ["140702", "140703", "140721", "140722", "140723", "140724", "140725", "140727", "140728", "140729",
            "140781"]  # fmt: skip
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红喆堃赟玥"
WORDS = ["恒泰", "鑫源", "晋丰", "华达", "宏盛", "永顺", "兴隆", "瑞祥", "金鼎", "福源", "聚德", "昌盛", "和顺",
         "富民", "绿野", "天成", "汇通", "博远", "嘉禾", "晋韵"]  # fmt: skip
TRADES = [
    ("商贸", "F5211"), ("餐饮", "H6210"), ("农业科技", "A0111"), ("建材", "F5165"), ("物流", "G5430"),
    ("食品", "C1431"), ("汽车修理", "O8111"), ("网络科技", "I6510"), ("建筑工程", "E4710"), ("药房", "F5251"),
]  # fmt: skip
STREETS = ["迎宾街", "顺城街", "中都路", "锦纶路", "汇通路", "蕴华街", "安宁街", "新建路", "文苑街", "龙湖大街"]


def bench_uscc(serial: int, type_digit: str, county: str) -> str:
    body = []
    n = serial
    for _ in range(7):
        n, rem = divmod(n, 31)
        body.append(_ALPHABET[rem])
    first17 = "9" + type_digit + county + ORG_PREFIX + "".join(reversed(body))
    total = sum(w * _VALUE[c] for w, c in zip(_WEIGHTS, first17, strict=True))
    return first17 + _ALPHABET[-total % 31]


def write_file(path: Path, rows: int, *, changed_every: int = 0, seed: int = 4754) -> None:
    """A registry CSV in the mix of seed 003 (≈ 23 % enterprises, 75 % individual businesses, 2 % cooperatives);
    with `changed_every`, every n-th row has a new legal representative (an update to audit)."""
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for serial in range(rows):
            draw = rnd.random()
            type_digit = "2" if draw < 0.75 else "1" if draw < 0.98 else "3"
            county = COUNTIES[serial % len(COUNTIES)]
            word = rnd.choice(WORDS)
            trade, industry = TRADES[serial % len(TRADES)]
            person = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN)
            if type_digit == "2":
                name = f"晋中市{word}{trade}店{serial}"
                capital = "" if serial % 3 else str(rnd.randint(1, 50))
            elif type_digit == "3":
                name = f"晋中{word}{trade}专业合作社{serial}"
                capital = str(rnd.randint(10, 500))
            else:
                name = f"晋中{word}{trade}有限公司{serial}"
                capital = f"{rnd.randint(10, 100000)}.{rnd.randint(0, 99):02d}"
            if changed_every and serial % changed_every == 0:
                person = "新" + person
            year = 1995 + serial % 30
            writer.writerow(
                [
                    bench_uscc(serial, type_digit, county),
                    name,
                    person,
                    f"山西省晋中市{rnd.choice(STREETS)}{rnd.randint(1, 999)}号",
                    county,
                    industry,
                    capital,
                    f"{year}-{1 + serial % 12:02d}-{1 + serial % 28:02d}",
                    "存续" if serial % 50 else "歇业",
                    f"晋中{word}旧名{serial}" if serial % 20 == 0 else "",
                    f"1{rnd.randint(3000000000, 9999999999)}" if serial % 4 == 0 else "",
                ]
            )


def _run_command(path: Path) -> dict[str, Any]:
    command = [sys.executable, "manage.py", "import_enterprises", str(path)]
    load_before = os.getloadavg()
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines = [line.rstrip() for line in process.stdout if line.strip()]
    # wait4: the rusage of this one child (the peak RSS of this import), not the maximum over every child so far.
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError("import_enterprises failed:\n" + "\n".join(lines[-20:]))
    return {
        "wall_seconds": round(elapsed, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_user_seconds": round(usage.ru_utime, 1),
        "cpu_system_seconds": round(usage.ru_stime, 1),
        "output": lines[-1] if lines else "",
        # The 2 cores are shared (other sessions, PostgreSQL): the 1-minute load average before and after.
        "load_average_1min": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
    }


def _job_phases() -> dict[str, Any]:
    from core.models import Job

    job = Job.objects.filter(kind="import_enterprises").order_by("-id").first()
    return job.result.get("seconds", {}) if job else {}


def _cleanup() -> int:
    """Remove the benchmark's entities (and the registered changes an update run recorded for them)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM enterprises_registrationchange WHERE enterprise_id IN "
            "(SELECT id FROM enterprises_enterprise WHERE substr(uscc, 9, 2) = %s)",
            [ORG_PREFIX],
        )
        cursor.execute("DELETE FROM enterprises_enterprise WHERE substr(uscc, 9, 2) = %s", [ORG_PREFIX])
        deleted = cursor.rowcount
        cursor.execute("VACUUM ANALYZE enterprises_enterprise")
    return deleted


def bench_size(rows: int, workdir: Path) -> dict[str, Any]:
    from enterprises.models import Enterprise

    path = workdir / f"registry-{rows}.csv"
    changed = workdir / f"registry-{rows}-changed.csv"
    started = time.perf_counter()
    write_file(path, rows)
    write_file(changed, rows, changed_every=100)
    generated = time.perf_counter() - started
    before = Enterprise.objects.count()
    figures: dict[str, Any] = {
        "date": now_iso(),
        "rows": rows,
        "file_mb": round(path.stat().st_size / 1048576, 1),
        "entities_in_registry_before": before,
        "generate_seconds": round(generated, 1),
        "command": f"python manage.py import_enterprises registry-{rows}.csv",
    }
    for label, file in (("first_import", path), ("same_file_again", path), ("one_percent_changed", changed)):
        print(f"  import {rows} rows: {label} …", flush=True)
        result = _run_command(file)
        if label != "same_file_again":  # a re-import that changes nothing keeps no job (and no phases)
            phases = _job_phases()
            result["phases_seconds"] = phases
            # The import itself, without the command's start (Django and its apps: 5–20 s on a loaded machine).
            inside = sum(phases.get(key, 0.0) for key in ("read_validate_stage_write", "check", "apply"))
            if inside:
                result["import_seconds"] = round(inside, 2)
                result["rows_per_second_in_import"] = round(rows / inside)
        result["rows_per_second"] = round(rows / result["wall_seconds"])
        figures[label] = result
        print(f"    {result['wall_seconds']} s, peak RSS {result['peak_rss_mb']} MB: {result['output']}", flush=True)
    figures["cleanup_deleted"] = _cleanup()
    return figures


def sizes_for(entities: int | None) -> tuple[int, ...]:
    """The file sizes for a population of `entities`: a tenth of it and as many rows (10^5 and 10^6 by default)."""
    if entities is None:
        return SIZES
    return tuple(sorted({max(entities // 10, 1000), entities}))


def run(
    results: dict[str, Any], *, entities: int | None = None, sizes: tuple[int, ...] | None = None, **_: Any
) -> None:
    """Figures into results["import_1e5"], results["import_1e6"] (by size) and the memory comparison."""
    if sizes is None:
        sizes = sizes_for(entities)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        for rows in sizes:
            exponent = len(str(rows)) - 1
            key = f"import_1e{exponent}" if rows == 10**exponent else f"import_{rows}"
            results[key] = bench_size(rows, Path(tmp))
    if "import_1e5" in results and "import_1e6" in results:
        small, large = results["import_1e5"]["first_import"], results["import_1e6"]["first_import"]
        results["import_memory"] = {
            "peak_rss_mb_1e5": small["peak_rss_mb"],
            "peak_rss_mb_1e6": large["peak_rss_mb"],
            "ratio_1e6_to_1e5": round(large["peak_rss_mb"] / small["peak_rss_mb"], 2),
            "note": "10x the rows; a ratio near 1 means memory does not grow with the file",
        }


def main() -> None:
    from bench.common import django_setup

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--output", type=Path, help="also merge the figures into this results file")
    args = parser.parse_args()
    django_setup()
    results: dict[str, Any] = {}
    run(results, sizes=tuple(args.rows))
    print(json.dumps(results, ensure_ascii=False, indent=2))
    if args.output:
        from bench.common import merge_results

        merge_results(args.output, results, command="python -m bench.bench_import " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
