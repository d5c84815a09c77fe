"""The red list (守信激励): three clean years by the policy row, the public page, the mark on checks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from credit import redlist
from credit.models import RedListPolicy
from disclosure.models import AbnormalListing
from enterprises.models import AnnualReport, Enterprise, Region
from tests.credit.test_checks import TODAY, clean_entity, today  # noqa: F401
from tests.disclosure.factories import AbnormalListingFactory, PenaltyFactory
from tests.factories import EnterpriseFactory


@pytest.fixture
def population(db):
    ok = clean_entity(name="守信甲公司")
    young = clean_entity(name="新设公司", registration_date=dt.date(2024, 1, 1))
    late = EnterpriseFactory(name="迟报公司")
    for year in (2023, 2024, 2025):
        AnnualReport.objects.create(
            enterprise=late, year=year, filed_on=dt.date(year + 1, 7, 15 if year == 2024 else 1)
        )
    penalised = clean_entity(name="受罚公司")
    PenaltyFactory(enterprise=penalised, decision_date=dt.date(2024, 5, 1), disclosed_until=dt.date(2025, 5, 1))
    old_listing = clean_entity(name="早已移出公司")
    AbnormalListingFactory(enterprise=old_listing, decided_on=dt.date(2022, 7, 1), status=AbnormalListing.Status.REMOVED,  # noqa: E501
                           removed_on=dt.date(2023, 6, 1))  # fmt: skip
    recent_listing = clean_entity(name="近期移出公司")
    AbnormalListingFactory(enterprise=recent_listing, decided_on=dt.date(2023, 7, 1), status=AbnormalListing.Status.REMOVED,  # noqa: E501
                           removed_on=dt.date(2024, 2, 1))  # fmt: skip
    suspended = clean_entity(name="歇业公司", status=Enterprise.Status.SUSPENDED)
    taigu = clean_entity(name="太谷守信公司", region=Region.objects.get(code="140703"))
    return {"ok": ok, "young": young, "late": late, "penalised": penalised, "old": old_listing,
            "recent": recent_listing, "suspended": suspended, "taigu": taigu}  # fmt: skip


def test_it_takes_three_clean_years_and_the_policy_conditions(population):
    names = set(redlist.red_list(on=TODAY).values_list("name", flat=True))
    assert names == {"守信甲公司", "早已移出公司", "太谷守信公司"}


def test_the_policy_row_decides(population):
    RedListPolicy.objects.create(
        name="放宽", effective_from=dt.date(2026, 11, 1), years_free=2, require_operating=False
    )
    names = set(redlist.red_list(on=TODAY).values_list("name", flat=True))
    # two years (from 2024-11-21): the 2023-24 listing and the 2024-05 penalty are older than the window now
    # and an entity registered 2024-01-01 has two years; suspended ones count when the policy allows it
    assert names == {"守信甲公司", "早已移出公司", "太谷守信公司", "近期移出公司", "歇业公司", "受罚公司", "新设公司"}


def test_red_listed_ids_answers_for_a_batch(population):
    ids = [e.pk for e in population.values()]
    assert redlist.red_listed_ids(ids, on=TODAY) == {population["ok"].pk, population["old"].pk, population["taigu"].pk}


def test_every_required_year_needs_its_own_on_time_report(db):
    gap = EnterpriseFactory(name="缺报一年公司")  # 2023 and 2025 on time, no 2024 report
    other_years = EnterpriseFactory(name="报错年度公司")  # three on-time reports, one of them of 2022 instead of 2025
    for enterprise, years in ((gap, (2023, 2025)), (other_years, (2022, 2023, 2024))):
        for year in years:
            AnnualReport.objects.create(enterprise=enterprise, year=year, filed_on=dt.date(year + 1, 5, 1))
    complete = clean_entity(name="守信乙公司")
    ids = [gap.pk, other_years.pk, complete.pk]
    assert redlist.red_listed_ids(ids, on=TODAY) == {complete.pk}
    assert set(redlist.red_list(on=TODAY).values_list("name", flat=True)) == {"守信乙公司"}


def test_the_public_page_lists_them_by_county(population, client):
    body = client.get(reverse("credit:red-list")).content.decode()
    assert "守信甲公司" in body and "太谷守信公司" in body and "受罚公司" not in body
    body = client.get(reverse("credit:red-list"), {"region": "140703"}).content.decode()
    assert "太谷守信公司" in body and "守信甲公司" not in body
    assert "140702199" not in body
