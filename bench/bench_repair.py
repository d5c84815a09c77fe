"""Benchmark of credit repair (issue 4): the enterprise portal pages, the staff review queue with 10^5 applications,
and the decision document.

    python -m bench --only repair            (after the population is loaded; or python -m bench.bench_repair)

Setup (untimed): 10^5 applications over the population's penalties and listings (one per record, so the one-open-
application rule holds), 10 % still open and due over the coming weeks, the rest decided, spread over the counties
as the records are. Then, timed through django.test.Client like the other page benchmarks:

- the portal pages of a demo entity account (its records with the rules' answer, an application, the form);
- the review queue: the admin changelist (open applications by due date; overdue filter; USCC search) and the API
  list, as the 榆次区 reviewer and as the city regulator;
- the decision document: rendering the PDF alone (WeasyPrint), and a whole approval (rules, disclosure service,
  document, audit, outbox) in a transaction rolled back afterwards.

Targets: portal pages and the queue p95 ≤ 200 ms; a decision document ≤ 0.5 s.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
import uuid
from typing import Any

from bench.common import count_queries, login_client, now_iso, peak_rss_mb, time_gets

APPLICATIONS = 100_000
OPEN_SHARE = 0.10
SAMPLES = 25
TARGET_PAGE_MS = 200
TARGET_DOCUMENT_S = 0.5
BATCH = 5_000


def _load_applications(count: int) -> dict[str, Any]:
    """Insert `count` applications (bulk, untimed) unless the bench's rows are there already."""
    from django.db import transaction
    from django.utils import timezone

    from core.models import User
    from disclosure.models import AbnormalListing, Penalty
    from repair.models import RepairApplication, RepairPolicy

    existing = RepairApplication.objects.filter(number__startswith="BENCH").count()
    if existing >= count:
        return {"applications_loaded": 0, "applications_present": existing}
    started = time.perf_counter()
    rng = random.Random(2026)
    today = timezone.localdate()
    policy = RepairPolicy.objects.order_by("-effective_from").first()
    submitter = User.objects.filter(username="reviewer").first() or User.objects.filter(is_superuser=True).first()
    Status = RepairApplication.Status
    closed = [Status.APPROVED] * 6 + [Status.REJECTED, Status.REFUSED, Status.WITHDRAWN]
    taken = set(RepairApplication.objects.values_list("target_key", flat=True))
    penalties = Penalty.objects.filter(disclosed=True).values_list("pk", "enterprise_id", "department__region_code")
    listings = AbnormalListing.objects.values_list("pk", "enterprise_id", "office_id")
    made = 0
    batch: list[RepairApplication] = []

    def flush() -> None:
        with transaction.atomic():
            RepairApplication.objects.bulk_create(batch)
        batch.clear()

    def make(
        kind: str, field: str, pk: int, enterprise_id: int, office: str, key: str, *, may_open: bool
    ) -> RepairApplication:
        filed = today - dt.timedelta(days=rng.randint(0, 730))
        status = rng.choice(closed)
        due = None
        if may_open and rng.random() < OPEN_SHARE:
            status = rng.choice([Status.SUBMITTED, Status.ACCEPTED, Status.ACCEPTED, Status.MATERIALS_REQUESTED])
            filed = today - dt.timedelta(days=rng.randint(0, 20))
            due = None if status == Status.MATERIALS_REQUESTED else filed + dt.timedelta(days=rng.randint(3, 25))
        return RepairApplication(
            number=f"BENCH{made:07d}",
            enterprise_id=enterprise_id,
            kind=kind,
            **{f"{field}_id": pk},
            target_key=key,
            target_label=f"bench record {key}",
            policy=policy,
            responsible_office_id=office or "140700",
            responsible_authority="市场监督管理局",
            submitted_by=submitter,
            submission_key=uuid.UUID(int=rng.getrandbits(128)),
            statement="bench",
            contact_name="bench",
            contact_phone="0",
            status=status,
            filed_on=filed,
            acceptance_due=filed + dt.timedelta(days=4),
            due_on=due,
            decided_on=None
            if due is not None or status == Status.MATERIALS_REQUESTED
            else filed + dt.timedelta(days=9),
        )

    sources = [
        (RepairApplication.Kind.PENALTY_EARLY_STOP, "penalty", "penalty", penalties),
        (RepairApplication.Kind.ABNORMAL_REMOVAL, "abnormal_listing", "abnormal", listings),
    ]
    # A smaller population has fewer records than applications: later passes add decided applications only (the
    # one-open-application rule allows any number of closed ones per record).
    for first_pass in (True, False, False, False, False, False, False, False, False, False):
        for kind, field, prefix, rows in sources:
            for pk, enterprise_id, office in rows.order_by("pk").iterator(chunk_size=10_000):
                key = f"{prefix}:{pk}"
                if first_pass and key in taken:
                    continue
                batch.append(make(kind, field, pk, enterprise_id, office, key, may_open=first_pass))
                made += 1
                if len(batch) >= BATCH:
                    flush()
                if existing + made >= count:
                    break
            if existing + made >= count:
                break
        if existing + made >= count or made == 0:
            break
    if batch:
        flush()
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE repair_repairapplication")
    return {
        "applications_loaded": made,
        "applications_present": RepairApplication.objects.count(),
        "open": RepairApplication.objects.filter(status__in=RepairApplication.OPEN_STATUSES).count(),
        "load_seconds": round(time.perf_counter() - started, 1),
    }


def _pages(client: Any, pages: dict[str, str]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, url in pages.items():
        extra = {"HTTP_ACCEPT": "application/json"} if url.startswith("/api/") else {}
        timing = time_gets(client, [url] * SAMPLES, warmup=2, **extra)
        _status, queries = count_queries(client, url, **extra)
        ok = timing["status_codes"].keys() == {"200"}
        figures[name] = {
            "url": url,
            **timing,
            "sql_queries": queries,
            "meets_target": bool(ok and timing["p95_ms"] <= TARGET_PAGE_MS),
        }
    return figures


def _documents() -> dict[str, Any]:
    from django.db import transaction

    from repair import documents
    from repair.models import RepairApplication, RepairDocument
    from repair.services import applications as services

    application = (
        RepairApplication.objects.filter(status=RepairApplication.Status.APPROVED, documents__isnull=False)
        .select_related("enterprise")
        .first()
        or RepairApplication.objects.select_related("enterprise").first()
    )
    if application is None:
        return {"skipped": "no application"}
    context = documents.document_context(
        application=application,
        doc_type=RepairDocument.DocType.APPROVAL,
        number="晋中市监信修〔2026〕第1号",
        issued_on=application.filed_on,
        body=["经审查，符合信用修复条件。", "决定对上述行政处罚信息提前停止公示。"],
    )
    documents.render_pdf(context)  # warm-up: fonts loaded once per process
    render = []
    for _ in range(20):
        started = time.perf_counter()
        documents.render_pdf(context)
        render.append(time.perf_counter() - started)
    figures: dict[str, Any] = {
        "render_pdf_median_s": round(statistics.median(render), 3),
        "render_pdf_max_s": round(max(render), 3),
        "samples": len(render),
    }
    # A whole approval: accepted bench applications of 榆次区, each approved in a transaction then rolled back.
    from core.models import User

    reviewer = User.objects.filter(username="reviewer").first()
    approvals = []
    candidates = RepairApplication.objects.filter(
        status=RepairApplication.Status.ACCEPTED, responsible_office_id="140702", kind="penalty_early_stop"
    ).order_by("id")[:40]
    for application in candidates:
        started = time.perf_counter()
        try:
            with transaction.atomic():
                services.application_approve(actor=reviewer, application=application)
                elapsed = time.perf_counter() - started
                raise _Rollback
        except _Rollback:
            approvals.append(elapsed)
        except Exception:  # not eligible on the rules (e.g. the penalty is no longer shown): not a sample
            continue
        if len(approvals) >= 10:
            break
    if approvals:
        figures["approval_median_s"] = round(statistics.median(approvals), 3)
        figures["approval_max_s"] = round(max(approvals), 3)
        figures["approval_samples"] = len(approvals)
    figures["meets_target"] = figures["render_pdf_median_s"] <= TARGET_DOCUMENT_S and (
        not approvals or figures["approval_median_s"] <= TARGET_DOCUMENT_S
    )
    return figures


class _Rollback(Exception):
    pass


def run(results: dict[str, Any], *, entities: int, applications: int = APPLICATIONS) -> None:
    from repair.models import EnterpriseAccount, RepairApplication

    figures: dict[str, Any] = {
        "date": now_iso(),
        "entities": entities,
        "command": "python -m bench --only repair",
        "samples_per_page": SAMPLES,
        "target_p95_ms": TARGET_PAGE_MS,
        "target_document_s": TARGET_DOCUMENT_S,
    }
    figures["setup"] = _load_applications(applications)

    account = EnterpriseAccount.objects.select_related("user", "enterprise").order_by("id").first()
    if account is not None:
        client = login_client(account.user.username)
        own = RepairApplication.objects.filter(enterprise=account.enterprise).order_by("id").first()
        pages = {"portal_dashboard": "/portal/"}
        if own is not None:
            pages["portal_application"] = f"/portal/applications/{own.pk}/"
        from repair import selectors

        records = selectors.repairable_records(account.enterprise)
        if records:
            pages["portal_apply_form"] = f"/portal/apply/{records[0].target_type}/{records[0].record.pk}/"
        figures["portal"] = _pages(client, pages)
    else:
        figures["portal"] = {"skipped": "no demo entity account (seed_demo's repair step)"}

    some = RepairApplication.objects.filter(responsible_office_id="140702").order_by("id").first()
    uscc = some.enterprise.uscc if some else ""
    queue = {
        "admin_queue": "/admin/repair/repairapplication/",
        "admin_queue_overdue": "/admin/repair/repairapplication/?due=overdue",
        "admin_queue_page_20": "/admin/repair/repairapplication/?open=all&p=20",
        "admin_search_uscc": f"/admin/repair/repairapplication/?open=all&q={uscc}",
        "api_queue_open": "/api/v1/repair/applications/?open=true",
    }
    for persona, username in {"reviewer_140702": "reviewer", "city_regulator": "city"}.items():
        try:
            figures[persona] = _pages(login_client(username), queue)
        except Exception as exc:
            figures[persona] = {"skipped": f"{username}: {exc}"}
    figures["documents"] = _documents()
    figures["peak_rss_mb_bench_process"] = peak_rss_mb()
    results["repair"] = figures


if __name__ == "__main__":
    import json

    from bench.common import django_setup

    django_setup()
    out: dict[str, Any] = {}
    from enterprises.models import Enterprise

    run(out, entities=Enterprise.objects.count())
    print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
