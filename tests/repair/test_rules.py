"""The eligibility rules of DESIGN.md §3.7 on real records, with their boundary days (the day before, of and after
the first day an application is possible), across the 2021 → 2025 policy change, for the key domains and the
excluded penalty kinds; and the deadlines of an application across the 2025 National Day holiday."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from core.calendar import WorkingCalendar
from disclosure import jobs as disclosure_jobs
from disclosure.models import AbnormalListing, Penalty
from repair import rules, selectors
from repair.services import applications as services
from tests.disclosure.factories import AbnormalListingFactory, SeriousListingFactory
from tests.repair.conftest import file_report, materials, penalty_for, set_today

pytestmark = pytest.mark.django_db
D = dt.date
ONE = dt.timedelta(days=1)


def answer(record, on: dt.date) -> rules.Eligibility:
    return selectors.eligibility(record, on=on)


def assert_opens_on(record, first_day: dt.date) -> None:
    before = answer(record, first_day - ONE)
    assert not before.may_apply
    assert before.from_date == first_day, before
    assert answer(record, first_day).may_apply
    assert answer(record, first_day + ONE).may_apply


# --- penalties under the 2021 rules ------------------------------------------------------------------------------
@pytest.fixture
def in_2024(monkeypatch):
    """Recorded in 2024, before the 2025 rules: the penalty follows the national 2021 policy."""
    return set_today(monkeypatch, D(2024, 5, 11))


def test_2021_general_penalty_opens_after_six_months(in_2024, firm, amr_department):
    penalty = penalty_for(firm, amr_department, decided=D(2024, 5, 10), disclosed_from=D(2024, 5, 11))
    assert penalty.policy.code == "national-2021"
    assert_opens_on(penalty, D(2024, 11, 11))
    assert "满六个月" in answer(penalty, D(2024, 11, 11)).rule


@pytest.mark.parametrize("domain", [Penalty.Domain.FOOD, Penalty.Domain.DRUG, Penalty.Domain.SPECIAL_EQUIPMENT])
def test_2021_key_domain_penalty_opens_after_one_year(in_2024, firm, amr_department, domain):
    penalty = penalty_for(firm, amr_department, decided=D(2024, 5, 10), disclosed_from=D(2024, 5, 11), domain=domain)
    assert_opens_on(penalty, D(2025, 5, 11))
    assert "食品、药品、特种设备" in answer(penalty, D(2025, 5, 11)).rule


@pytest.mark.parametrize(
    "kinds",
    [
        ["fine", "licence_suspension"],
        ["licence_revocation"],
        ["production_suspension"],
        ["business_restriction"],
        ["employment_restriction"],
        ["business_licence_revocation"],
        ["qualification_downgrade"],
    ],
)
def test_2021_suspension_revocation_and_restriction_penalties_are_never_repaired(in_2024, firm, amr_department, kinds):
    amount = Decimal("80000") if "fine" in kinds else None
    penalty = penalty_for(
        firm, amr_department, decided=D(2024, 5, 10), disclosed_from=D(2024, 5, 11), kinds=kinds, fine_amount=amount
    )
    for day in (D(2024, 11, 11), D(2025, 5, 11), D(2027, 1, 1)):
        result = answer(penalty, day)
        assert not result.may_apply and result.never and result.from_date is None
    assert "不予提前停止公示" in answer(penalty, D(2025, 5, 11)).reasons[0]


@pytest.mark.parametrize(
    ("kinds", "amount"),
    [(["circulated_criticism"], None), (["fine"], Decimal("50000")), (["warning", "fine"], Decimal("3000"))],
)
def test_criticism_and_lower_amount_fines_expire_by_themselves(in_2024, firm, amr_department, kinds, amount):
    penalty = penalty_for(
        firm, amr_department, decided=D(2024, 5, 10), disclosed_from=D(2024, 5, 11), kinds=kinds, fine_amount=amount
    )
    assert penalty.tier == Penalty.Tier.MINOR
    result = answer(penalty, D(2024, 6, 1))
    assert result.never and "自动停止公示" in result.reasons[0]


def test_warning_only_and_summary_penalties_have_nothing_to_repair(in_2024, firm, amr_department):
    warning = penalty_for(
        firm, amr_department, decided=D(2024, 5, 10), number="W1", kinds=["warning"], fine_amount=None
    )
    summary = penalty_for(firm, amr_department, decided=D(2024, 5, 10), number="S1", procedure="summary")
    for penalty in (warning, summary):
        result = answer(penalty, D(2025, 1, 1))
        assert result.never and "未在公示" in result.reasons[0]


# --- penalties under the 2025 rules, and across the change ----------------------------------------------------------
def test_2025_general_penalty_opens_after_three_months(firm, amr_department):
    penalty = penalty_for(firm, amr_department, decided=D(2026, 3, 2), disclosed_from=D(2026, 3, 3))
    assert penalty.policy.code == "national-2025"
    assert_opens_on(penalty, D(2026, 6, 3))


def test_2025_serious_penalty_opens_after_one_year_and_is_not_excluded(firm, amr_department):
    penalty = penalty_for(
        firm,
        amr_department,
        decided=D(2026, 3, 2),
        disclosed_from=D(2026, 3, 3),
        kinds=["fine", "licence_revocation"],
    )
    assert penalty.tier == Penalty.Tier.SERIOUS
    assert_opens_on(penalty, D(2027, 3, 3))


def test_a_2021_penalty_reviewed_under_the_2025_rules_opens_earlier(monkeypatch, firm, amr_department):
    set_today(monkeypatch, D(2025, 10, 2))
    penalty = penalty_for(firm, amr_department, decided=D(2025, 10, 1), disclosed_from=D(2025, 10, 2))
    assert penalty.policy.code == "national-2021"
    assert penalty.repair_possible_from == D(2026, 4, 2)  # 6 months under 2021
    # 25 December 2025: the 2025 rules come into force and are more lenient (从旧兼从轻): the nightly review moves
    # the penalty under them — 1 year of disclosure, repair after 3 months.
    set_today(monkeypatch, D(2025, 12, 25))
    step = disclosure_jobs.JOBS["review_disclosure_policies"].step(100)
    while True:
        with transaction.atomic():
            if step(D(2025, 12, 25)) is None:
                break
    penalty.refresh_from_db()
    assert penalty.policy.code == "national-2025"
    assert_opens_on(penalty, D(2026, 1, 2))


# --- conditions beyond time ---------------------------------------------------------------------------------------
def test_a_listed_entity_must_first_leave_the_list(firm, amr_department):
    penalty = penalty_for(firm, amr_department, decided=D(2026, 3, 2), disclosed_from=D(2026, 3, 3))
    AbnormalListingFactory(enterprise=firm, reason=AbnormalListing.Reason.UNREACHABLE, year=0)
    result = answer(penalty, D(2026, 11, 20))
    assert not result.may_apply and "请先申请移出" in result.reasons[0]


def test_a_repeat_of_the_same_violation_type_bars_the_early_stop(firm, amr_department):
    penalty = penalty_for(firm, amr_department, decided=D(2026, 3, 2), disclosed_from=D(2026, 3, 3))
    penalty_for(firm, amr_department, decided=D(2026, 9, 1), disclosed_from=D(2026, 9, 2), number="N2")
    result = answer(penalty, D(2026, 11, 20))
    assert not result.may_apply and result.never and "同一类违法行为" in result.reasons[0]


def test_repeat_offenders_wait_longer_and_get_no_tolerance(firm, amr_department):
    penalty = penalty_for(firm, amr_department, decided=D(2026, 3, 2), disclosed_from=D(2026, 3, 3))
    assert answer(penalty, D(2026, 6, 3)).tolerance_allowed
    for n in range(2):
        penalty_for(
            firm, amr_department, decided=D(2026, 4, 1), disclosed_from=D(2026, 4, 2), number=f"R{n}",
            violation_type=f"其他违法行为{n}",
        )  # fmt: skip
    # Three disclosed penalties within 24 months: 3 + 6 months from 3 March 2026.
    assert_opens_on(penalty, D(2026, 12, 3))
    assert not answer(penalty, D(2026, 12, 3)).tolerance_allowed


# --- abnormal list and serious list ---------------------------------------------------------------------------------
def test_an_annual_report_listing_needs_every_missing_report(firm):
    first = AbnormalListingFactory(enterprise=firm, year=2024, cause_date=D(2025, 6, 30), decided_on=D(2025, 7, 8))
    AbnormalListingFactory(enterprise=firm, year=2025, cause_date=D(2026, 6, 30), decided_on=D(2026, 7, 8))
    file_report(firm, 2025, D(2026, 10, 8))
    result = answer(first, D(2026, 11, 20))
    assert not result.may_apply and "2024年度报告未补报" in result.reasons[0]
    file_report(firm, 2024, D(2026, 11, 19))
    result = answer(first, D(2026, 11, 20))
    assert result.may_apply and result.immediate


def test_serious_list_early_removal_opens_after_one_year(firm):
    listing = SeriousListingFactory(enterprise=firm, decided_on=D(2025, 11, 20), listed_until=D(2028, 11, 19))
    assert_opens_on(listing, D(2026, 11, 20))


def test_a_further_heavier_penalty_bars_early_removal(firm, amr_department):
    listing = SeriousListingFactory(enterprise=firm, decided_on=D(2025, 6, 2), listed_until=D(2028, 6, 1))
    penalty_for(
        firm, amr_department, decided=D(2026, 1, 5), disclosed_from=D(2026, 1, 6), kinds=["licence_suspension"],
        fine_amount=None,
    )  # fmt: skip
    result = answer(listing, D(2026, 11, 20))
    assert not result.may_apply and result.never and "较重行政处罚" in result.reasons[0]


# --- deadlines in working days across the 2025 National Day holiday ------------------------------------------------
def test_the_calendar_knows_the_2025_national_day_make_up_days():
    calendar = WorkingCalendar.load()
    assert calendar.is_working_day(D(2025, 9, 28))  # Sunday, make-up working day
    assert not calendar.is_working_day(D(2025, 10, 1))
    assert not calendar.is_working_day(D(2025, 10, 8))
    assert calendar.is_working_day(D(2025, 10, 11))  # Saturday, make-up working day


def test_deadlines_across_national_day_2025(monkeypatch, firm, owner, reviewer, amr_department):
    set_today(monkeypatch, D(2025, 1, 3))
    penalty = penalty_for(firm, amr_department, decided=D(2025, 1, 2), disclosed_from=D(2025, 1, 3))
    # Filed on Friday 26 September 2025 (2021 rules: decide within 15 working days of acceptance).
    set_today(monkeypatch, D(2025, 9, 26))
    application = services.application_submit(
        actor=owner, enterprise=firm, target_type="penalty", target_id=penalty.pk, statement="已履行",
        contact_name="王", contact_phone="139", uploads=materials(),
    )  # fmt: skip
    # 28 Sep (Sunday, make-up) 1, 29 Sep 2, 30 Sep 3.
    assert application.acceptance_due == D(2025, 9, 30)
    services.application_accept(actor=reviewer, application=application)
    application.refresh_from_db()
    # 28, 29, 30 Sep; 9, 10, 11 (Saturday, make-up), 13–17, 20–23 Oct: the 15th working day is 23 October.
    assert application.decision_due == D(2025, 10, 23)
    assert application.policy.code == "repair-2021"

    # Filed on 30 September: the 3 working days are 9, 10 and 11 October (a Saturday, worked).
    listing = AbnormalListingFactory(
        enterprise=firm,
        reason=AbnormalListing.Reason.UNREACHABLE,
        year=0,
        cause_date=D(2025, 5, 28),
        decided_on=D(2025, 6, 2),
    )
    set_today(monkeypatch, D(2025, 9, 30))
    second = services.application_submit(
        actor=owner, enterprise=firm, target_type="abnormal", target_id=listing.pk, statement="已可联系",
        contact_name="王", contact_phone="139", uploads=materials(proof=False),
    )  # fmt: skip
    assert second.acceptance_due == D(2025, 10, 11)


def test_a_deadline_in_a_year_without_an_official_calendar_is_left_open_with_a_note(
    monkeypatch, firm, owner, reviewer, amr_department
):
    penalty = penalty_for(firm, amr_department, decided=D(2026, 3, 2), disclosed_from=D(2026, 3, 3))
    set_today(monkeypatch, D(2026, 12, 30))  # the 2nd working day after it is in 2027, not published yet
    application = services.application_submit(
        actor=owner, enterprise=firm, target_type="penalty", target_id=penalty.pk, statement="已履行",
        contact_name="王", contact_phone="139", uploads=materials(),
    )  # fmt: skip
    assert application.acceptance_due is None
    assert "2027" in application.due_note and "无法计算" in application.due_note
