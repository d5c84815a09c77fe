"""The demo step of credit (`manage.py seed_demo`, step "credit", after disclosure):

1. related parties: a few % of the entities share their legal representative (name and ID number) with another
   entity, as people who run several businesses do; the registry generator draws every person independently, so
   without this the related-party indicator would never fire. Entities carrying a person-bound restriction are
   left alone (the 3-year rule's ban on being legal representative elsewhere).
2. the trend: the classes at the end of each of the previous months, replayed with the live model on the facts as
   they stood then (every indicator is computed "as of" its day), written as monthly snapshots;
3. today's classification with the live model (a live run: the classes, results, history, the month's snapshot).

Deterministic (ids and the seed day decide everything); set-based; memory flat.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

from credit import services
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
