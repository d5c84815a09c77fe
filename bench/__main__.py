"""`python -m bench` (`make bench`): migrate a throwaway PostgreSQL, load the demo population once, run every
benchmark module against it and write the figures to bench/results.json.

    python -m bench [--entities N] [--only NAME[,NAME]] [--output PATH]

Each module has `run(results: dict, *, entities: int)` and puts its figures under its own key. MODULES is the
order: seeding first (it is the population, and its own benchmark), read-only benchmarks next, writers last.
Later issues append their modules here. A module that does not exist yet is skipped with a note.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.common import BASE_DIR, django_setup, machine_info, now_iso

MODULES = [
    "bench.bench_seed",  # the population: always runs, even with --only (recorded only when selected)
    "bench.bench_search",
    "bench.bench_lists",
    "bench.bench_public",  # issue 3: the public record page and API, the public lists (read-only)
    "bench.bench_disclosure",  # the nightly jobs of issue 3 (writes disclosure records)
    "bench.bench_repair",  # issue 4: portal, review queue with 10^5 applications, decision documents (writes)
    "bench.bench_credit",  # the nightly reclassification of issue 5 (rewrites the classes)
    "bench.bench_inspections",  # issue 6: a draw over the city with 2,000 inspectors and its verification (writes)
    "bench.bench_checks",  # issue 7: certificates, a 1,500 batch on 2 workers, county report, detail export (writes)
    "bench.bench_import",  # writes 10^6 more rows: after the read-only benchmarks
]
DEFAULT_OUTPUT = BASE_DIR / "bench" / "results.json"


def short_name(module: str) -> str:
    return module.rsplit(".", 1)[-1].removeprefix("bench_")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Load the demo population into an empty PostgreSQL database, run the benchmarks, "
        "write bench/results.json (see docs/BENCHMARKS.md).",
    )
    parser.add_argument("--entities", type=int, default=1_000_000, help="population size (1000000)")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated benchmarks to run: " + ", ".join(short_name(m) for m in MODULES),
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results file (bench/results.json)")
    return parser.parse_args(argv)


def write_results(path: Path, document: dict[str, Any]) -> None:
    """Atomic write: a crash mid-run leaves the previous file or the new one, never half of one."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    selected = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = selected - {short_name(m) for m in MODULES}
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2

    django_setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        print(
            "The benchmarks are defined on PostgreSQL: run `make bench` (a throwaway PostgreSQL), "
            "or set DATABASE_URL to an empty scratch database.",
            file=sys.stderr,
        )
        return 2

    print("bench: migrating …", flush=True)
    call_command("migrate", verbosity=0, interactive=False)

    # Keep figures of benchmarks not run this time (e.g. with --only), each carries its own date.
    document: dict[str, Any] = {}
    if args.output.exists():
        try:
            document = json.loads(args.output.read_text(encoding="utf-8"))
        except ValueError:
            document = {}
    benchmarks: dict[str, Any] = document.get("benchmarks", {})
    document = {"machine": machine_info(entities=args.entities), "benchmarks": benchmarks, "notes": []}

    for module_name in MODULES:
        name = short_name(module_name)
        wanted = not selected or name in selected
        if not wanted and name != "seed":
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            document["notes"].append(f"{name}: module {module_name} does not exist yet, skipped")
            print(f"bench: {name}: not written yet, skipped", flush=True)
            continue
        print(f"bench: {name} …", flush=True)
        started = time.perf_counter()
        scratch: dict[str, Any] = {}
        try:
            module.run(scratch, entities=args.entities)
        except Exception:
            scratch = {name: {"date": now_iso(), "error": traceback.format_exc(limit=8)}}
            print(f"bench: {name} FAILED\n{scratch[name]['error']}", flush=True)
            if name == "seed":
                document["notes"].append("seeding failed: the other benchmarks did not run")
                benchmarks.update(scratch)
                write_results(args.output, document)
                return 1
        if wanted:
            benchmarks.update(scratch)
        print(f"bench: {name} done in {time.perf_counter() - started:.0f} s", flush=True)
        write_results(args.output, document)

    print(f"bench: figures written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
