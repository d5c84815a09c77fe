"""The demo step of credit (`manage.py seed_demo`, step "credit", after disclosure):

1. related parties: a few % of the entities share their legal representative (name and ID number) with another
   entity, as people who run several businesses do; the registry generator draws every person independently, so
   without this the related-party indicator would never fire. Entities carrying a person-bound restriction are
   left alone (the 3-year rule's ban on being legal representative elsewhere).
2. the trend: the classes at the end of each of the previous months, replayed with the live model on the facts as
   they stood then (every indicator is computed "as of" its day), written as monthly snapshots;
3. today's classification with the live model (a live run: the classes, results, history, the month's snapshot).

Deterministic (ids and the seed day decide everything); set-based; memory flat.

A second step, "credit_checks" (issue 7, after "credit"), shows the checks, certificates, warnings and red list:

1. the red-list policy row of the bureau in force from 1 January of the seed year (three years, reports on time,
   operating, individual businesses included) unless a policy row exists (the migration's default is one);
2. single checks by the city regulator `city` of three entities — one with an open abnormal listing, one with a
   disclosed penalty, one on the red list — each with its certificate printed (and the first reprinted once);
3. a small batch (the next 20 entities by id of 榆次区, one duplicate, one malformed and one unknown code) run
   in-process to its summary sheet and zip of certificates, like the background job;
4. warnings: the annual-report reminders of the last 20 June to the first 300 entities that had not filed (what
   the daily job queued then), and today's warnings job (the real daily job: set-based, chunked, one reminder per
   entity and cause).
The entities are chosen by the lowest ids matching each condition (indexed lookups), so the step costs the same
at 10^6 entities as at 10^4, except the warnings job, which is the daily job's own cost.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

from credit import services
from credit.models import RedListPolicy
from enterprises.demo import SeedContext, demo_step
from enterprises.models import Enterprise

SHARED_REPRESENTATIVE_PERCENT = 4
# Months of replayed history for the trend chart (fewer for a big population: each month is a full pass).
HISTORY_MONTHS = 11
HISTORY_MONTHS_LARGE = 2
LARGE_POPULATION = 200_000

# The other entity: a nearby id (id − 1 − id mod 89), so the pairs are fixed by the ids and the seed day alone.
_OTHER = "enterprises_enterprise.id - 1 - (enterprises_enterprise.id %% 89)"
_SHARE_SQL = f"""
UPDATE enterprises_enterprise
   SET legal_representative = (SELECT o.legal_representative FROM enterprises_enterprise o WHERE o.id = {_OTHER}),
       legal_representative_id_number = (SELECT o.legal_representative_id_number FROM enterprises_enterprise o
                                          WHERE o.id = {_OTHER})
 WHERE id > %(after)s AND {_OTHER} > %(after)s AND (id * 7919) %% 100 < %(percent)s
   AND EXISTS (SELECT 1 FROM enterprises_enterprise o WHERE o.id = {_OTHER}
               -- the person was of age when this entity registered (birth year: ID number positions 7-10)
               AND CAST(substr(CAST(enterprises_enterprise.registration_date AS TEXT), 1, 4) AS INTEGER)
                   - CAST(substr(o.legal_representative_id_number, 7, 4) AS INTEGER) >= 19)
   AND NOT EXISTS (SELECT 1 FROM disclosure_restriction r
                    WHERE r.enterprise_id IN (enterprises_enterprise.id, {_OTHER}) AND r.person_id_number <> '')
"""


def share_legal_representatives(*, after_id: int, percent: int = SHARED_REPRESENTATIVE_PERCENT) -> int:
    """Give `percent` % of the entities with id > after_id the legal representative of a nearby entity."""
    with connection.cursor() as cursor:
        cursor.execute(_SHARE_SQL, {"after": after_id, "percent": percent})
        return cursor.rowcount


def month_ends(today: dt.date, months: int) -> list[dt.date]:
    """The last days of the `months` months before today's month, oldest first."""
    ends = []
    first = today.replace(day=1)
    for _ in range(months):
        end = first - dt.timedelta(days=1)
        ends.append(end)
        first = end.replace(day=1)
    return list(reversed(ends))


@demo_step("credit", order=900)
def load_credit(ctx: SeedContext) -> None:
    """Shared legal representatives, the replayed monthly trend, and today's classes."""
    after = 0
    if ctx.serial_offset:
        after = Enterprise.objects.order_by("id").values_list("id", flat=True)[ctx.serial_offset - 1]
    shared = share_legal_representatives(after_id=after)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # the tables were just bulk-loaded: plan the runs on real statistics
    months = HISTORY_MONTHS if ctx.entities <= LARGE_POPULATION else HISTORY_MONTHS_LARGE
    chunk_size = max(1000, min(services.DEFAULT_CHUNK_SIZE, ctx.chunk_size))
    for day in month_ends(ctx.today, months):
        services.reclassify(as_of=day, source="command", history=True, chunk_size=chunk_size)
    run = services.reclassify(as_of=ctx.today, source="command", chunk_size=chunk_size)
    totals = services.distribution_totals(run.distribution)
    total = sum(totals.values()) or 1
    ctx.log(
        "  credit: "
        + "，".join(f"{k} {100 * v / total:.2f}%" for k, v in totals.items())
        + f"（{months} 个月历史，{shared} 户共用法定代表人）"
    )
    ctx.summary.setdefault("counts", {})["risk_classified"] = sum(totals.values())
    ctx.summary["credit"] = {"classes": totals, "shared_representatives": shared, "history_months": months}


DEMO_CHECK_USER = "city"
DEMO_BATCH = 20
DEMO_JUNE_WARNINGS = 300


def _first(queryset) -> Enterprise | None:
    return queryset.order_by("pk").first()


def _demo_red_list_policy(today: dt.date) -> RedListPolicy:
    from core.audit import audit_log

    existing = RedListPolicy.objects.order_by("-effective_from").first()
    if existing is not None:
        return existing
    policy = RedListPolicy(
        name=f"晋中市守信激励名单认定条件（{today.year}年）",
        effective_from=dt.date(today.year, 1, 1),
        years_free=3,
        require_annual_reports=True,
        require_operating=True,
        include_individual=True,
    )
    policy.full_clean()
    policy.save()
    audit_log(actor=None, action="credit.red_list_policy", obj=policy, after={"years_free": 3, "source": "demo"})
    return policy


def _warnings(as_of: dt.date) -> dict[str, int]:
    """Today's warnings: the daily job (lock, JobRun, chunk by chunk); inside a caller's transaction (tests seeding
    in one) the same steps, in that transaction."""
    from collections import Counter

    from django.db import transaction

    from credit.models import CreditWarning
    from credit.warnings import _queue, annual_report_candidates, run_warnings, warnings_step

    # The reminders of the last 20 June (the annual-report season) to the first DEMO_JUNE_WARNINGS entities that
    # had not filed: what the daily job sent then, kept small so the step stays cheap at 10^6.
    june = dt.date(as_of.year if as_of >= dt.date(as_of.year, 6, 20) else as_of.year - 1, 6, 20)
    with transaction.atomic():
        sent_in_june = _queue(
            CreditWarning.Cause.ANNUAL_REPORT, annual_report_candidates(june, DEMO_JUNE_WARNINGS), june
        )
    if not connection.in_atomic_block:
        return {f"{june}": sent_in_june, **run_warnings(as_of=as_of, source="command").counts}
    totals: Counter[str] = Counter({f"{june}": sent_in_june})
    while (counts := warnings_step(as_of)) is not None:
        totals.update(counts)
    return dict(totals)


# After the inspections step (950): checks, certificates and warnings read the published inspection results.
@demo_step("credit_checks", order=960)
def load_credit_checks(ctx: SeedContext) -> None:
    """The red-list policy, three single checks with certificates, a small batch, today's warnings."""
    from core.models import User
    from credit import certificates, checks, redlist
    from disclosure.models import AbnormalListing, Penalty
    from enterprises import identity

    user = User.objects.filter(username=DEMO_CHECK_USER).first()
    if user is None:
        ctx.log("  credit checks: no demo user 'city', skipped")
        return
    from django.utils import timezone

    policy = _demo_red_list_policy(ctx.today)
    end = min(ctx.today, timezone.localdate())  # a check's period cannot end after the real today
    start = redlist.years_before(end, 3) + dt.timedelta(days=1)
    operating = Enterprise.objects.filter(status=Enterprise.Status.OPERATING)
    listed = _first(operating.filter(pk__in=AbnormalListing.objects.filter(status="listed").values("enterprise_id")))
    shown = Penalty.objects.filter(
        disclosed=True, disclosed_from__lte=end, disclosed_until__gte=end, disclosure_ended_on__isnull=True
    )  # a penalty the public record shows on the check's day
    penalised = _first(operating.exclude(pk=getattr(listed, "pk", None)).filter(pk__in=shown.values("enterprise_id")))
    # The red list is one NOT EXISTS query: asked for the first 200 ids only, it stays an index range scan.
    first_ids = list(operating.order_by("pk").values_list("pk", flat=True)[:200])
    red = _first(redlist.red_list(on=ctx.today, queryset=Enterprise.objects.filter(pk__in=first_ids)))
    singles = []
    for enterprise, purpose in ((listed, "procurement"), (penalised, "funding"), (red, "honours")):
        if enterprise is None:
            continue
        check = checks.check_single(actor=user, uscc=enterprise.uscc, purpose=purpose, start=start, end=end)
        line = check.lines.get()
        certificates.certificate_print(line=line, actor=user, channel="admin")
        singles.append(line)
    if singles:
        certificates.certificate_print(line=singles[0], actor=user, channel="admin")  # a logged reprint
    codes = list(
        Enterprise.objects.filter(region_id="140702").order_by("pk").values_list("uscc", flat=True)[:DEMO_BATCH]
    )
    batch = None
    if codes:
        # a duplicate, a code one character short, and a well-formed code no entity has
        unknown = next(
            code
            for n in range(100)
            if not Enterprise.objects.filter(
                uscc=(code := identity.with_check_character(f"91140702MA00000{n:02d}"))
            ).exists()
        )
        text = "\n".join([*codes, codes[0], "91140702MA0X12345", unknown])
        batch = checks.check_batch_start(
            actor=user,
            parsed=checks.parse_text(text),
            purpose="tendering",
            purpose_note="演示：某工程项目投标人信用核查",
            start=start,
            end=end,
            enqueue=False,
        )
        checks.check_batch_run(batch.job_id, workers=1)
        batch.refresh_from_db()
    warned = _warnings(ctx.today)
    ctx.log(
        f"  credit checks: {len(singles)} single checks with certificates, a batch of {len(codes) + 3} rows "
        f"({batch.status if batch else 'none'}), red-list policy from {policy.effective_from}, "
        f"warnings {warned}"
    )
    ctx.summary["credit_checks"] = {
        "singles": [line.serial for line in singles],
        "batch": batch.pk if batch else None,
        "warnings": warned,
    }
