"""The demo's disclosure records (disclosure.demo): present in realistic shares, consistent record by record, the
state the nightly jobs would leave (running them for the seed day changes nothing), deterministic, and loadable on
the SQLite demo database too."""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Q

from core.middleware import use_source
from disclosure import jobs, numbering
from disclosure.models import AbnormalListing, DocumentSequence, Penalty, Restriction, SeriousListing
from enterprises.models import Enterprise

TODAY = dt.date(2026, 11, 20)
BASE_DIR = Path(__file__).resolve().parent.parent.parent


def seed(entities: int, *, today: dt.date = TODAY, seed: int = 2026) -> None:
    call_command(
        "seed_demo",
        "--enterprises",
        str(entities),
        "--seed",
        str(seed),
        "--today",
        today.isoformat(),
        "--password",
        "demo-test-2026",
        stdout=open(os.devnull, "w"),  # noqa: SIM115 - closed with the process; the output is not under test
    )


def drain(name: str, as_of: dt.date) -> Counter[str]:
    step = jobs.JOBS[name].step(500)
    totals: Counter[str] = Counter()
    with use_source("command"):
        while True:
            with transaction.atomic():
                counts = step(as_of)
            if counts is None:
                return totals
            totals.update(counts)


def number_parts(number: str) -> tuple[str, str, int, int]:
    """(office prefix, document type, year, n) of 榆次市监异入〔2026〕第12号."""
    match = re.fullmatch(r"(.+市监)(.{2})〔(\d{4})〕第(\d+)号", number)
    assert match, number
    return match.group(1), match.group(2), int(match.group(3)), int(match.group(4))


@pytest.fixture
def population(db):
    seed(3000)


@pytest.mark.django_db
def test_it_gives_the_population_penalties_listings_marks_and_serious_listings(population):
    entities = Enterprise.objects.count()
    assert entities == 3000
    penalties = Penalty.objects.count()
    assert 0.1 * entities < penalties < 0.4 * entities  # ~0.2 per entity (2·10^5 at 10^6)
    assert Penalty.objects.values("enterprise").distinct().count() < 0.25 * entities  # most entities have none
    disclosed = Penalty.objects.filter(disclosed=True)
    assert disclosed.count() > 0.5 * penalties
    assert Penalty.objects.filter(procedure="summary", disclosed=False).exists()
    fines = sorted(Penalty.objects.filter(fine_amount__isnull=False).values_list("fine_amount", flat=True))
    assert fines[len(fines) // 2] <= 10_000 and fines[-1] >= 50_000  # most fines small, some heavy
    assert disclosed.filter(disclosure_ended_on__isnull=True).exists()  # running
    assert disclosed.filter(disclosure_end_reason="expired").exists()  # over
    assert disclosed.filter(policy__code="national-2025").exists() and disclosed.filter(policy__code="local-2018")

    listings = AbnormalListing.objects.filter(is_mark=False)
    marks = AbnormalListing.objects.filter(is_mark=True)
    enterprises = Enterprise.objects.exclude(entity_type="individual").count()
    assert 0.03 * enterprises < listings.filter(status="listed").count() < 0.3 * enterprises
    assert marks.filter(status="listed").exists()
    assert listings.filter(reason="annual_report").count() > listings.exclude(reason="annual_report").count()
    assert listings.filter(reason="unreachable").exists()
    assert listings.filter(status="removed", removal_reason="cured").exists()

    serious = SeriousListing.objects.all()
    assert serious.filter(ground="abnormal_3_years").exists()
    assert serious.filter(stage__in=["listed", "removed"]).exists()
    assert Restriction.objects.filter(kind="no_legal_representative").exists()
    assert (
        AbnormalListing.objects.filter(removal_reason="escalated").count()
        == serious.filter(ground="abnormal_3_years", stage__in=["listed", "removed"]).count()
    )


@pytest.mark.django_db
def test_every_demo_record_is_consistent(population):
    # Penalties: a period that ends after it starts; withdrawn ones left the public record on withdrawal.
    disclosed = Penalty.objects.filter(disclosed=True)
    assert not disclosed.filter(
        Q(disclosed_from__isnull=True) | Q(disclosed_until__lt=F("disclosed_from")) | Q(policy__isnull=True)
    ).exists()
    assert not disclosed.filter(tier="none").exists()
    assert not Penalty.objects.filter(disclosed=False).exclude(Q(procedure="summary") | Q(kinds=["warning"])).exists()
    assert not Penalty.objects.filter(disclosed_from__gt=TODAY).exists()
    assert not Penalty.objects.filter(decision_date__gt=TODAY).exists()
    for penalty in disclosed.filter(disclosure_ended_on__isnull=False, disclosure_end_reason="expired"):
        assert penalty.disclosure_ended_on == penalty.disclosed_until + dt.timedelta(days=1)
    assert not Penalty.objects.filter(status="withdrawn", disclosed=True, disclosure_ended_on__isnull=True).exists()

    # Listings: one open entry per entity, reason and year; marks exactly for individual businesses.
    duplicates = (
        AbnormalListing.objects.filter(status="listed")
        .values("enterprise", "reason", "year")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicates.exists()
    assert not AbnormalListing.objects.filter(is_mark=True).exclude(enterprise__entity_type="individual").exists()
    assert not AbnormalListing.objects.filter(is_mark=False, enterprise__entity_type="individual").exists()
    assert not AbnormalListing.objects.filter(removed_on__lt=F("decided_on")).exists()
    # An annual-report listing only for a year the entity had not filed by 30 June.
    for listing in AbnormalListing.objects.filter(reason="annual_report", year__gte=TODAY.year - 2).select_related(
        "enterprise"
    ):
        report = listing.enterprise.annual_reports.filter(year=listing.year).first()
        assert report is None or report.filed_on >= listing.decided_on
        assert listing.enterprise.registration_date <= dt.date(listing.year, 12, 31)

    # Serious listings: 3 years, restrictions for the listed time, the 3-year rule's personal restriction.
    for s in SeriousListing.objects.filter(stage__in=["listed", "removed"]).prefetch_related("restrictions"):
        assert s.listed_until is not None and s.decided_on is not None and s.decided_on > s.statement_due
        kinds = Counter(r.kind for r in s.restrictions.all())
        assert set(kinds) >= {k.value for k in jobs.ENTITY_RESTRICTIONS}
        assert (kinds["no_legal_representative"] == 1) == (s.ground == "abnormal_3_years")
        if s.stage == "removed":
            assert s.removal_decision_number and s.removed_on is not None
            assert s.hidden_from_public == (s.removal_kind == "early_repair")
            if s.removal_kind == "expired":
                assert s.removed_on == s.listed_until + dt.timedelta(days=1)
            assert all(r.ended_on == s.removed_on for r in s.restrictions.all())
        else:
            assert s.listed_until >= TODAY and all(r.ended_on is None for r in s.restrictions.all())
        if s.ground == "abnormal_3_years":
            assert s.source_abnormal.removal_reason == "escalated" and s.source_abnormal.removed_on == s.decided_on
    assert not SeriousListing.objects.filter(stage="notice", statement_due__lt=TODAY).exists()

    # Document numbers: unique, and the sequences continue after the highest number used.
    used: dict[tuple[str, str, int], int] = {}
    numbers = [
        *AbnormalListing.objects.values_list("decision_number", flat=True),
        *SeriousListing.objects.values_list("notice_number", flat=True),
        *SeriousListing.objects.exclude(decision_number="").values_list("decision_number", flat=True),
    ]
    assert len(numbers) == len(set(numbers))
    removal_numbers = AbnormalListing.objects.exclude(removal_decision_number="").values_list(
        "removal_decision_number", "enterprise_id"
    )
    owners: dict[str, set[int]] = {}
    for number, enterprise_id in removal_numbers:
        owners.setdefault(number, set()).add(enterprise_id)  # one removal decision may remove several entries
    assert all(len(ids) == 1 for ids in owners.values())
    serious_out = list(SeriousListing.objects.exclude(removal_decision_number="").values_list(
        "removal_decision_number", flat=True
    ))  # fmt: skip
    assert len(serious_out) == len(set(serious_out))
    for number in [*numbers, *owners, *serious_out]:
        prefix, doc_type, year, n = number_parts(number)
        used[(prefix, doc_type, year)] = max(used.get((prefix, doc_type, year), 0), n)
    sequences = {
        (numbering.office_prefix(s.office), s.doc_type, s.year): s.last_number
        for s in DocumentSequence.objects.select_related("office")
    }
    assert used and all(sequences.get(key, 0) == top for key, top in used.items())


@pytest.mark.django_db
def test_the_nightly_jobs_find_nothing_to_do_on_the_seed_day(population):
    """The demo is the state the nightly jobs leave: running every one of them for the seed day changes nothing."""
    for name in jobs.NIGHTLY_ORDER:
        assert drain(name, TODAY) == Counter(), name
    # The next days do have work (the demo is not frozen): within a year disclosures expire.
    assert drain("expire_disclosures", TODAY + dt.timedelta(days=365))["expired"] > 0


class _Rollback(Exception):
    pass


def _content() -> list[str]:
    rows = [
        *Penalty.objects.order_by("decision_number").values_list(
            "enterprise__uscc", "decision_number", "kinds", "fine_amount", "disclosed_until", "disclosure_ended_on"
        ),
        *AbnormalListing.objects.order_by("decision_number").values_list(
            "enterprise__uscc", "decision_number", "reason", "year", "status", "removed_on"
        ),
        *SeriousListing.objects.order_by("notice_number").values_list(
            "enterprise__uscc", "notice_number", "stage", "decision_number", "removed_on"
        ),
    ]
    return [repr(row) for row in rows]


@pytest.mark.django_db
def test_it_is_deterministic_in_the_seed():
    snapshots = []
    for _ in range(2):
        try:
            with transaction.atomic():
                seed(800)
                snapshots.append(_content())
                raise _Rollback
        except _Rollback:
            pass
    assert snapshots[0] and snapshots[0] == snapshots[1]


@pytest.mark.slow
def test_the_demo_and_the_nightly_jobs_work_on_sqlite(tmp_path):
    """`make run` without a server: seed on SQLite, then the nightly command (the jobs' portable writes)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY"}}
    env.update(PORTAL_VAR_DIR=str(tmp_path), PORTAL_TESTING="1", DJANGO_SETTINGS_MODULE="config.settings")

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    manage("migrate", "--noinput", "-v", "0")
    manage("seed_demo", "--enterprises", "600", "--today", "2026-11-20", "--password", "smoke-test-2026")
    db = sqlite3.connect(tmp_path / "portal.sqlite3")
    (penalties,) = db.execute("SELECT COUNT(*) FROM disclosure_penalty").fetchone()
    (listings,) = db.execute("SELECT COUNT(*) FROM disclosure_abnormallisting").fetchone()
    assert penalties > 50 and listings > 30
    quiet = manage("disclosure_nightly", "--as-of", "2026-11-20")
    assert quiet.count("没有需要处理的记录") == len(jobs.NIGHTLY_ORDER)
    busy = manage("disclosure_nightly", "--as-of", "2027-11-20")  # a year on: expiries, reminders, a new cycle
    assert "expired:" in busy and "listed:" in busy
    (expired_events,) = db.execute(
        "SELECT COUNT(*) FROM core_auditevent WHERE action = 'penalty.disclosure_expired'"
    ).fetchone()
    assert expired_events > 0
    again = manage("expire_disclosures", "--as-of", "2027-11-20")
    assert "没有需要处理的记录" in again
