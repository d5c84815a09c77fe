"""Benchmark: a double-random draw (jz-draw/1, inspections.services.draws) over the whole city and its verification.

Set-up (untimed, in this process): a roster of 2,000 inspectors in 4 departments (each with 2 items of the item
list; ~90 % of each department qualified for both its items, the rest for one only, so not eligible), ~3 % of the
warrants expired before the plan's end, 4,000 declared conflicts with entities of the scope. Two city-wide plans
with the default ratios (A 1 %, B 2 %, C 10 %, D 30 %, unclassified 2 %), drawn one after the other:
- `single_department_plan`: the market-regulation bureau's 2 items (2 inspectors per entity from its roster);
- `joint_plan` (一业一查): all 4 departments' items, so each drawn entity gets 2 inspectors per department (4× the
  assignments: the heaviest case).

Timed, each in its own child process (so the peak RSS is that of the draw or the verification alone):
- `draw`: draw_commit + draw_execute (population snapshot and its hash, roster snapshot, stratified sample,
  assignment, result hash, the set-based reference check, tasks and assignments written in one INSERT … SELECT
  FROM unnest), with the time of each step and of the COMMIT on its own;
- `verify`: draw_verify (decompress and hash the stored snapshots, re-run, compare with the stored tasks), with
  the time of each step, and
  `manage.py verify_draw <plan>` as a whole command (Django start-up included).
Checked after the draw: no assignment to a conflicted or expired inspector, ≥ 2 inspectors per department per entity.

Target (issue 6): at 10^6 entities with 2,000 inspectors a draw ≤ 5 s and its verification ≤ 5 s.
Alone: `PORTAL_TESTING=1 scripts/with-services.sh .venv/bin/python -m bench.bench_inspections --entities N`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import BASE_DIR, now_iso

TARGET_SECONDS = 5
INSPECTORS = 2_000
EXPIRED_SHARE = 0.03
PARTLY_QUALIFIED_SHARE = 0.10
CONFLICTS = 4_000
# (code, name, share of the roster)
DEPARTMENTS = (
    ("samr", "晋中市市场监督管理局", 0.40),
    ("bench-health", "晋中市卫生健康委员会", 0.25),
    ("bench-ecology", "晋中市生态环境局", 0.20),
    ("bench-emergency", "晋中市应急管理局", 0.15),
)
RANDOM_SEED = 6


def _setup(*, year: int) -> dict[str, Any]:
    """The roster, the items, the conflicts and the plan; returns the plan id and facts about the roster."""
    from django.db import transaction

    from core.models import Department
    from enterprises.models import Enterprise, Region
    from inspections.models import InspectionItem, Inspector, InspectorConflict, Plan
    from inspections.services.plans import scope_queryset

    rng = random.Random(RANDOM_SEED)
    counties = list(Region.objects.filter(level="county", code__startswith="1407").values_list("code", flat=True))
    planned_end = dt.date(year, 11, 30)
    facts: dict[str, Any] = {"inspectors": 0, "expired": 0, "partly_qualified": 0, "per_department": {}}
    with transaction.atomic():
        items = []
        inspectors: list[Inspector] = []
        qualifications: list[tuple[int, list[int]]] = []  # (index into inspectors, item indexes)
        for d, (code, name, share) in enumerate(DEPARTMENTS):
            dept, _ = Department.objects.get_or_create(code=code, defaults={"name": name})
            dept_items = [
                InspectionItem.objects.create(
                    code=f"BENCH-{d}-{i}",
                    name=f"{name}双随机抽查事项{i + 1}",
                    department=dept,
                    legal_basis="《企业信息公示暂行条例》第十四条",
                )
                for i in range(2)
            ]
            items += dept_items
            size = round(INSPECTORS * share)
            facts["per_department"][code] = size
            for _ in range(size):
                n = len(inspectors)
                expired = rng.random() < EXPIRED_SHARE
                partly = rng.random() < PARTLY_QUALIFIED_SHARE
                facts["expired"] += expired
                facts["partly_qualified"] += partly
                inspectors.append(
                    Inspector(
                        name=f"检查员{n:04d}",
                        department=dept,
                        region_id=rng.choice(counties),
                        warrant_number=f"BENCH{n:06d}",
                        warrant_expires_on=dt.date(year, 6, 30) if expired else dt.date(year + 3, 12, 31),
                    )
                )
                qualifications.append((n, [dept_items[0].pk] if partly else [i.pk for i in dept_items]))
        Inspector.objects.bulk_create(inspectors, batch_size=1000)
        through = Inspector.qualifications.through
        through.objects.bulk_create(
            [through(inspector_id=inspectors[n].pk, inspectionitem_id=i) for n, ids in qualifications for i in ids],
            batch_size=5000,
        )
        facts["inspectors"] = len(inspectors)

        city = Region.objects.get(code="140700")
        plans = {}
        for key, name, plan_items in (
            ("single", f"{year}年度晋中市市场监管双随机抽查计划（基准测试）", items[:2]),
            ("joint", f"{year}年度晋中市跨部门联合双随机抽查计划（基准测试）", items),
        ):
            plans[key] = Plan.objects.create(
                name=name, year=year, region=city, planned_start=dt.date(year, 3, 1), planned_end=planned_end
            )
            plans[key].items.set(plan_items)
        plan = plans["joint"]

        # Conflicts with entities of the scope: a uniform sample of the scope's ids (ids are dense enough).
        scope = scope_queryset(plan)
        bounds = scope.order_by("pk").values_list("pk", flat=True)
        low, high = bounds.first(), bounds.last()
        pairs: set[tuple[int, int]] = set()
        candidates = rng.sample(range(low, high + 1), min(CONFLICTS * 3, high - low + 1))
        in_scope = set(scope.filter(pk__in=candidates).values_list("pk", flat=True))
        candidates = [c for c in candidates if c in in_scope]
        for eid in candidates[:CONFLICTS]:
            pairs.add((rng.choice(inspectors).pk, eid))
        InspectorConflict.objects.bulk_create(
            [InspectorConflict(inspector_id=i, enterprise_id=e, reason="亲属关系（基准测试）") for i, e in pairs],
            batch_size=5000,
        )
        facts["conflicts"] = len(pairs)
    facts["scope"] = scope_queryset(plan).count()
    facts["entities_total"] = Enterprise.objects.count()
    facts["plan_ids"] = {key: p.pk for key, p in plans.items()}
    return facts


# --- the timed phases (child processes) ---------------------------------------------------------------------------
def _timed(steps: dict[str, float], name: str, module: Any, attr: str) -> None:
    """Wrap module.attr so the seconds spent in it add up in steps[name] (the phases' own code is not changed)."""
    inner = getattr(module, attr)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            steps[name] = round(steps.get(name, 0.0) + time.perf_counter() - started, 3)

    setattr(module, attr, wrapper)


def _phase_draw(plan_id: int) -> dict[str, Any]:
    from django.db import transaction

    from inspections import algorithm
    from inspections.models import Plan
    from inspections.services import draws

    steps: dict[str, float] = {}
    _timed(steps, "population_query", draws, "_population")
    _timed(steps, "snapshot_strata", algorithm, "snapshot_strata")
    _timed(steps, "roster_query", draws, "_eligible_roster")
    _timed(steps, "algorithm_run", algorithm, "run")
    _timed(steps, "reference_check", draws, "_check_references")
    _timed(steps, "write_tasks", draws, "_write_tasks")
    plan = Plan.objects.get(pk=plan_id)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    draw = draws.draw_commit(actor=None, plan=plan)
    committed = time.perf_counter()
    # An outer transaction (draw_execute's own becomes a savepoint) so that the COMMIT is timed on its own: it is
    # where deferred constraint triggers fire.
    with transaction.atomic():
        draw = draws.draw_execute(actor=None, draw=draw)
        executed = time.perf_counter()
    finished = time.perf_counter()
    steps["commit"] = round(finished - executed, 3)
    # The rest of draw_execute: validation, hashes, compressing the snapshot, its row, audit.
    steps["other"] = round(finished - committed - sum(steps.values()), 3)
    return {
        "draw_id": draw.pk,
        "commit_seconds": round(committed - started, 3),
        "execute_seconds": round(finished - committed, 3),
        "seconds": round(finished - started, 3),
        "steps_seconds": steps,
        "rss_at_start_mb": round(rss_before / 1024, 1),
        "strata": draw.strata,
        "snapshot_size": draw.snapshot_size,
        "result_hash": draw.result_hash,
    }


def _phase_verify(draw_id: int) -> dict[str, Any]:
    from inspections import algorithm
    from inspections.models import Draw
    from inspections.services import draws

    steps: dict[str, float] = {}
    _timed(steps, "snapshot_strata", algorithm, "snapshot_strata")
    _timed(steps, "algorithm_run", algorithm, "run")
    _timed(steps, "stored_lines_query", draws, "_stored_lines")
    _timed(steps, "stored_tasks_rows", draws, "_stored_tasks")
    draw = Draw.objects.get(pk=draw_id)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    report = draws.draw_verify(draw=draw)
    seconds = time.perf_counter() - started
    steps["other"] = round(seconds - sum(steps.values()), 3)
    return {
        "seconds": round(seconds, 3),
        "steps_seconds": steps,
        "ok": report.ok,
        "checks": {name: passed for name, passed, _detail in report.checks},
        "rss_at_start_mb": round(rss_before / 1024, 1),
    }


def _child(args: list[str]) -> dict[str, Any]:
    """Run `python <args>` and return its wall time, own peak RSS and (for a phase) the JSON it printed last."""
    command = [sys.executable, *args]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines = [line.rstrip() for line in process.stdout if line.strip()]
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n" + "\n".join(lines[-30:]))
    figures: dict[str, Any] = {}
    if lines and lines[-1].startswith("{"):
        figures = json.loads(lines[-1])
    else:
        figures["output_tail"] = lines[-4:]
    figures["process_wall_seconds"] = round(elapsed, 2)
    figures["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return figures


def _checks(draw_id: int) -> dict[str, Any]:
    """What the draw must never do, counted in SQL over what it wrote."""
    from django.db.models import Count, F

    from inspections.models import Draw, InspectorConflict, TaskAssignment

    draw = Draw.objects.get(pk=draw_id)
    assignments = TaskAssignment.objects.filter(task__draw=draw)
    conflicted = InspectorConflict.objects.filter(enterprise__inspection_tasks__draw=draw).count()
    conflicted_assigned = assignments.filter(
        inspector__inspectorconflict__enterprise_id=F("task__enterprise_id")
    ).count()
    expired_assigned = assignments.filter(inspector__warrant_expires_on__lt=draw.plan.planned_end).count()
    per_task = Counter(
        assignments.values("task_id", "department_id").annotate(n=Count("id")).values_list("n", flat=True)
    )
    loads = list(assignments.values("inspector_id").annotate(n=Count("id")).values_list("n", flat=True))
    return {
        "assignments": assignments.count(),
        "conflicts_with_drawn_entities": conflicted,
        "conflicted_assignments": conflicted_assigned,
        "expired_assignments": expired_assigned,
        "inspectors_per_entity_and_department": {str(k): v for k, v in sorted(per_task.items())},
        "inspectors_with_tasks": len(loads),
        "load_min_max": [min(loads), max(loads)] if loads else None,
    }


def _draw_and_verify(plan_id: int) -> dict[str, Any]:
    draw = _child(["-m", "bench.bench_inspections", "--phase", "draw", "--id", str(plan_id)])
    print(f"    draw {draw['seconds']} s, peak RSS {draw['peak_rss_mb']} MB, steps {draw['steps_seconds']}", flush=True)
    verify = _child(["-m", "bench.bench_inspections", "--phase", "verify", "--id", str(draw["draw_id"])])
    print(
        f"    verification {verify['seconds']} s, ok={verify['ok']}, peak RSS {verify['peak_rss_mb']} MB, "
        f"steps {verify['steps_seconds']}",
        flush=True,
    )
    command = _child(["manage.py", "verify_draw", str(plan_id)])
    print(f"    manage.py verify_draw: {command['process_wall_seconds']} s", flush=True)
    checks = _checks(draw["draw_id"])
    print(f"    checks {checks}", flush=True)
    drawn = {cls or "unclassified": s["drawn"] for cls, s in draw["strata"].items()}
    return {
        "draw": draw,
        "verify": verify,
        "verify_draw_command": {
            "command": f"python manage.py verify_draw {plan_id}",
            "wall_seconds_with_django_start": command["process_wall_seconds"],
            "peak_rss_mb": command["peak_rss_mb"],
            "output_tail": command.get("output_tail"),
        },
        "drawn_per_class": drawn,
        "drawn_total": sum(drawn.values()),
        "checks": checks,
        "meets_target": draw["seconds"] <= TARGET_SECONDS and verify["seconds"] <= TARGET_SECONDS and verify["ok"],
    }


def bench(*, year: int) -> dict[str, Any]:
    print("  setting up the roster and the plans …", flush=True)
    started = time.perf_counter()
    roster = _setup(year=year)
    setup_seconds = round(time.perf_counter() - started, 1)
    print(f"    {roster} in {setup_seconds} s", flush=True)
    figures: dict[str, Any] = {"setup": {**roster, "seconds": setup_seconds, "departments": len(DEPARTMENTS)}}
    print("  the market-regulation plan (its 2 items, 2 inspectors per entity) …", flush=True)
    figures["single_department_plan"] = _draw_and_verify(roster["plan_ids"]["single"])
    print("  the joint plan (一业一查: 4 departments' items, 2 inspectors per entity and department) …", flush=True)
    figures["joint_plan"] = _draw_and_verify(roster["plan_ids"]["joint"])
    figures["meets_target"] = (
        figures["single_department_plan"]["meets_target"] and figures["joint_plan"]["meets_target"]
    )
    return figures


def _key(entities: int) -> str:
    exponent = len(str(entities)) - 1
    return f"inspections_1e{exponent}" if entities == 10**exponent else f"inspections_{entities}"


def run(results: dict[str, Any], *, entities: int, **_: Any) -> None:
    """Figures into results["inspections"] (the latest run) and results["inspections_1e5"] / ["inspections_1e6"]."""
    from django.utils import timezone

    figures = {
        "date": now_iso(),
        "entities": entities,
        "command": f"python -m bench --entities {entities} --only inspections",
        "target_seconds": TARGET_SECONDS,
        "note": "2 cores shared by PostgreSQL and other work on the machine while this runs: upper bounds",
    }
    figures.update(bench(year=timezone.localdate().year))
    results["inspections"] = figures
    results[_key(entities)] = figures


def main() -> None:
    from bench.common import django_setup

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000, help="population to load if the database is empty")
    parser.add_argument("--output", default="", help="also write the figures (JSON) to this file")
    parser.add_argument("--phase", choices=["draw", "verify"], help=argparse.SUPPRESS)
    parser.add_argument("--id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    django_setup()
    if args.phase:
        phase = _phase_draw if args.phase == "draw" else _phase_verify
        print(json.dumps(phase(args.id), ensure_ascii=False, default=str))
        return
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
