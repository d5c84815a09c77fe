"""Benchmark of credit checks, certificates and county reports (issue 7).

    python -m bench --only checks            (after the population is loaded; or python -m bench.bench_checks)
    BENCH_CHECKS_PARTS=certificate,county_report python -m bench --only checks     (some parts only, e.g. without
                                                                                     the long batch while iterating)

On the loaded population, as the city regulator `city` (the demo's):

- `certificate`: 25 entities with public records (abnormal listing, serious listing or disclosed penalty) and 25
  without, each checked once (check_single, timed too); then each certificate rendered to PDF (WeasyPrint, CJK font
  subset and embedded) — median and p95 of the render alone and of a whole print (print log + audit + render).
  Target: render median ≤ 100 ms.
- `batch`: 1,500 codes (a random sample of the population, seed 2026) through the real background job: the batch
  is started as a user would (check_batch_start → run_check_batch on the broker), consumed by a Celery worker with
  2 prefork processes (`celery worker --concurrency 2`), the certificates split into parts across them and
  assembled into one zip with the summary sheet. Wall time from the start to the job's success, and the progress
  seen while it ran. Target ≤ 3 min.
- `county_report`: every figure of the county report (credit.reports.report_data) and its workbook, for the
  largest county (榆次区, 140702) and for the whole city. Target ≤ 10 s at 10^6 entities.
- `detail_export`: the abnormal-list detail export (credit.reports.write_abnormal_detail: FilterSet, streamed
  write-only workbook) of ≥ 10^5 rows, run in a child process whose peak RSS (wait4 rusage) is the memory figure.
  A population without 10^5 listings gets bench listings first (removed entries `BENCHCHK…`, COPY, untimed).
  Target ≤ 30 s and < 300 MB.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from bench.common import BASE_DIR, now_iso, peak_rss_mb, percentile

SAMPLES_PER_GROUP = 25
BATCH_SIZE = 1_500
EXPORT_ROWS = 100_000
TARGET_RENDER_MS = 100
TARGET_BATCH_S = 180
TARGET_REPORT_S = 10
TARGET_EXPORT_S = 30
TARGET_EXPORT_MB = 300
COUNTY = "140702"


def _ms(values: list[float]) -> dict[str, Any]:
    return {
        "samples": len(values),
        "median_ms": round(statistics.median(values) * 1000, 1),
        "p95_ms": round(percentile(values, 95) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def _regulator():
    from core.models import User

    return User.objects.filter(username="city").first() or User.objects.filter(is_superuser=True).first()


def _entities_with_and_without_records(n: int) -> tuple[list[Any], list[Any]]:
    from disclosure.models import AbnormalListing, Penalty, SeriousListing
    from enterprises.models import Enterprise

    listed = set(
        AbnormalListing.objects.filter(status="listed").order_by("pk").values_list("enterprise_id", flat=True)[:n]
    )
    listed |= set(SeriousListing.objects.order_by("pk").values_list("enterprise_id", flat=True)[: n // 5])
    listed |= set(Penalty.objects.filter(disclosed=True).order_by("pk").values_list("enterprise_id", flat=True)[:n])
    with_records = list(Enterprise.objects.filter(pk__in=sorted(listed)[: n * 3]).order_by("pk")[:n])
    without = list(
        Enterprise.objects.filter(status="operating")
        .exclude(abnormal_listings__isnull=False)
        .exclude(penalties__isnull=False)
        .order_by("pk")[1000 : 1000 + n]
    )
    return with_records, without


def _certificates(user) -> dict[str, Any]:
    from django.utils import timezone

    from credit import certificates, checks

    today = timezone.localdate()
    start = today.replace(year=today.year - 3) + dt.timedelta(days=1)
    with_records, without = _entities_with_and_without_records(SAMPLES_PER_GROUP)
    figures: dict[str, Any] = {}
    all_render: list[float] = []
    all_cpu: list[float] = []
    for group, entities in {"with_records": with_records, "without_records": without}.items():
        check_s, render_s, render_cpu, print_s, records = [], [], [], [], 0
        for enterprise in entities:
            started = time.perf_counter()
            check = checks.check_single(actor=user, uscc=enterprise.uscc, purpose="procurement", start=start, end=today)
            check_s.append(time.perf_counter() - started)
            line = check.lines.get()
            records += 0 if line.facts["no_record"] else 1
            context = certificates.certificate_context(line=line, serial=f"{line.serial}-0", printed_at=timezone.now())
            if not all_render:
                certificates.render_pdf(context)  # warm-up: fonts and stylesheet loaded once per process
            started, cpu = time.perf_counter(), time.process_time()
            pdf = certificates.render_pdf(context)
            render_s.append(time.perf_counter() - started)
            render_cpu.append(time.process_time() - cpu)
            started = time.perf_counter()
            certificates.certificate_print(line=line, actor=user, channel="bench")
            print_s.append(time.perf_counter() - started)
            all_render.append(render_s[-1])
            all_cpu.append(render_cpu[-1])
        figures[group] = {
            "entities": len(entities),
            "stating_records": records,
            "check_single": _ms(check_s),
            "render_pdf": _ms(render_s),
            "render_pdf_cpu": _ms(render_cpu),  # CPU time of the render: what the machine's other load does not inflate
            "print_with_log": _ms(print_s),
            "last_pdf_bytes": len(pdf) if entities else None,
        }
    figures["render_pdf_all"] = _ms(all_render)
    figures["render_pdf_all_cpu"] = _ms(all_cpu)
    figures["meets_target"] = figures["render_pdf_all"]["median_ms"] <= TARGET_RENDER_MS
    return figures


def _batch(user) -> dict[str, Any]:
    from django.utils import timezone

    from bench.bench_credit import Worker
    from core.models import Job
    from credit import checks
    from enterprises.models import Enterprise

    today = timezone.localdate()
    start = today.replace(year=today.year - 3) + dt.timedelta(days=1)
    last = Enterprise.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    rng = random.Random(2026)
    ids = sorted(rng.sample(range(1, last + 1), min(last, BATCH_SIZE * 2)))
    codes = list(Enterprise.objects.filter(pk__in=ids).order_by("pk").values_list("uscc", flat=True)[:BATCH_SIZE])
    figures: dict[str, Any] = {"rows": len(codes), "workers": "celery worker --pool prefork --concurrency 2"}
    with Worker(2) as worker:
        started = time.perf_counter()
        check = checks.check_batch_start(
            actor=user, parsed=checks.parse_text("\n".join(codes)), purpose="tendering", start=start, end=today
        )
        progress: list[tuple[float, int, int]] = []
        job = Job.objects.get(pk=check.job_id)
        while job.status not in (Job.Status.SUCCEEDED, Job.Status.FAILED):
            if time.perf_counter() - started > TARGET_BATCH_S * 4:
                figures["error"] = "gave up after 4× the target"
                break
            time.sleep(1.0)
            job.refresh_from_db()
            progress.append((round(time.perf_counter() - started, 1), job.progress_done, job.progress_total))
        elapsed = time.perf_counter() - started
        figures["worker_pool_peak_rss_mb"] = worker.pool_peak_rss_mb()
        figures["worker_pool_cpu_s"] = _pool_cpu_seconds(worker)
    parts = Job.objects.filter(kind=checks.PART_KIND, params__parent=job.pk)
    rows = len(codes)
    checked_at = next((t for t, done, total in progress if total and done >= rows), None)
    rendered = max(0, job.progress_done - rows)
    render_s = elapsed - (checked_at or 0)
    figures.update(
        {
            "status": job.status,
            "seconds": round(elapsed, 1),
            "certificates": job.result.get("certificates"),
            "parts": parts.count(),
            "seconds_until_every_row_checked": checked_at,
            "certificates_rendered": rendered,
            "certificates_per_second_both_workers": round(rendered / render_s, 2) if render_s > 0 else None,
            "extrapolated_seconds_for_all": round((checked_at or 0) + rows * render_s / rendered, 1)
            if rendered
            else None,
            "progress_samples": progress[:: max(1, len(progress) // 12)],
            "zip_mb": round(os.path.getsize(job.result["path"]) / 1e6, 1) if job.result.get("path") else None,
            "meets_target": job.status == Job.Status.SUCCEEDED and elapsed <= TARGET_BATCH_S,
        }
    )
    return figures


def _pool_cpu_seconds(worker) -> list[float]:
    """User + system CPU seconds of each pool process (/proc/<pid>/stat fields 14 and 15, in clock ticks)."""
    from pathlib import Path

    from bench.bench_credit import _children

    ticks = os.sysconf("SC_CLK_TCK")
    out = []
    for pid in _children(worker.process.pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out.append(round((int(fields[11]) + int(fields[12])) / ticks, 1))
    return out


def _report(user) -> dict[str, Any]:
    from django.utils import timezone

    from credit import reports

    today = timezone.localdate()
    figures: dict[str, Any] = {}
    for name, region in {"county_140702": COUNTY, "city": None}.items():
        scope = reports.resolve_scope(user=user, region=region, start=dt.date(today.year, 1, 1), end=today)
        started = time.perf_counter()
        data = reports.report_data(scope)
        computed = time.perf_counter() - started
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as f:
            reports.report_workbook(data).save(f.name)
            size = os.path.getsize(f.name)
        total = time.perf_counter() - started
        parts = {}
        for part in (
            "entity_counts", "annual_report_rates", "class_distribution", "inspections", "abnormal_figures",
            "serious_figures", "penalty_figures", "repair_figures", "check_figures", "warning_figures",
            "red_list_count",
        ):  # fmt: skip
            t = time.perf_counter()
            getattr(reports, part)(scope)
            parts[part] = round(time.perf_counter() - t, 2)
        figures[name] = {
            "figures_s": round(computed, 2),
            "figures_s_by_part": parts,
            "with_workbook_s": round(total, 2),
            "workbook_kb": round(size / 1024, 1),
            "entities_in_scope": data["entities"]["total"].get("total"),
            "meets_target": total <= TARGET_REPORT_S,
        }
    return figures


def _ensure_listings(rows: int) -> dict[str, Any]:
    """Removed bench listings (COPY, untimed) so the export has `rows` rows; nothing if the population has them."""
    from django.db import connection, transaction

    from core.bulk import copy_rows
    from disclosure.models import AbnormalListing
    from enterprises.models import Enterprise

    present = AbnormalListing.objects.count()
    if present >= rows:
        return {"listings_present": present, "listings_added": 0}
    started = time.perf_counter()
    need = rows - present
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", "region_id")[:need])
    from django.utils import timezone

    today = timezone.localdate()
    columns = [
        "enterprise_id", "reason", "year", "is_mark", "cause_date", "decided_on", "decision_number", "office_id",
        "authority_name", "legal_basis", "remedies", "facts", "status", "removed_on", "removal_decision_number",
        "removal_reason", "removal_note", "created_at", "updated_at",
    ]  # fmt: skip
    now = dt.datetime.now(dt.UTC)

    def generate():
        for n in range(need):
            pk, region = ids[n % len(ids)]
            decided = today - dt.timedelta(days=400 + n % 700)
            yield [
                pk, "annual_report", 2020 + n % 4, False, decided, decided, f"BENCHCHK{n:08d}", region or "140700",
                "晋中市市场监督管理局", "《企业信息公示暂行条例》第十七条", "补报年度报告", "", "removed",
                decided + dt.timedelta(days=90), f"BENCHCHK-R{n:08d}", "cured", "", now, now,
            ]  # fmt: skip

    with transaction.atomic():
        copy_rows(AbnormalListing._meta.db_table, columns, generate())
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {AbnormalListing._meta.db_table}")
    return {
        "listings_present": present,
        "listings_added": need,
        "load_seconds": round(time.perf_counter() - started, 1),
    }


def export_child(username: str, path: str) -> None:
    """Run in a child process: the detail export alone, so its peak RSS is the export's."""
    from bench.common import django_setup

    django_setup()
    from core.models import User
    from credit import reports

    started = time.perf_counter()
    n = reports.write_abnormal_detail(user=User.objects.get(username=username), filters={}, path=path)
    print(f"{n} {time.perf_counter() - started:.2f}", flush=True)


def _export(user) -> dict[str, Any]:
    figures: dict[str, Any] = {"setup": _ensure_listings(EXPORT_ROWS)}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "detail.xlsx")
        code = f"from bench.bench_checks import export_child; export_child({user.username!r}, {path!r})"
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-c", code], cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out = process.stdout.read() if process.stdout else ""
        err = process.stderr.read() if process.stderr else ""
        if status != 0:
            return {**figures, "error": err[-3000:]}
        rows, seconds = out.split()[-2:]
        figures.update(
            {
                "rows": int(rows),
                "export_seconds": float(seconds),
                "child_wall_seconds_with_django_setup": round(wall, 1),
                "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
                "child_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
                "file_mb": round(os.path.getsize(path) / 1e6, 1),
            }
        )
    figures["meets_target"] = (
        figures["rows"] >= EXPORT_ROWS
        and figures["export_seconds"] <= TARGET_EXPORT_S
        and figures["peak_rss_mb"] < TARGET_EXPORT_MB
    )
    return figures


def run(results: dict[str, Any], *, entities: int) -> None:
    from django.conf import settings

    user = _regulator()
    figures: dict[str, Any] = {
        "date": now_iso(),
        "entities": entities,
        "command": "python -m bench --only checks",
        "targets": {
            "render_median_ms": TARGET_RENDER_MS,
            "batch_1500_s": TARGET_BATCH_S,
            "county_report_s_at_1e6": TARGET_REPORT_S,
            "detail_export_1e5_s": TARGET_EXPORT_S,
            "detail_export_mb": TARGET_EXPORT_MB,
        },
        "batch_tasks_setting": settings.CREDIT_CHECK_BATCH_TASKS,
    }
    steps = (
        ("certificate", _certificates),
        ("batch", _batch),
        ("county_report", _report),
        ("detail_export", _export),  # last: it may add bench listings
    )
    wanted = {p.strip() for p in os.environ.get("BENCH_CHECKS_PARTS", "").split(",") if p.strip()}
    unknown = wanted - {name for name, _step in steps}
    if unknown:
        raise ValueError(f"BENCH_CHECKS_PARTS: unknown part(s) {', '.join(sorted(unknown))}")
    if wanted:
        figures["parts_run"] = sorted(wanted)
    for name, step in steps:
        if wanted and name not in wanted:
            continue
        started = time.perf_counter()
        print(f"bench: checks: {name} …", flush=True)
        try:
            figures[name] = step(user)
        except Exception as exc:  # one failing part must not lose the others' figures
            import traceback

            figures[name] = {"error": f"{exc.__class__.__name__}: {exc}", "trace": traceback.format_exc(limit=6)}
        print(f"bench: checks: {name} done in {time.perf_counter() - started:.0f} s", flush=True)
    figures["peak_rss_mb_bench_process"] = peak_rss_mb()
    results["checks"] = figures


if __name__ == "__main__":
    import json

    from bench.common import django_setup

    django_setup()
    out: dict[str, Any] = {}
    from enterprises.models import Enterprise

    run(out, entities=Enterprise.objects.count())
    print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
