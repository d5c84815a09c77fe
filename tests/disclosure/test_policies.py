"""disclosure.policies.decide(): whether and how long a penalty is disclosed under the three policy rows of
DESIGN.md §3.2 (local 2018, national 2021, national 2025), with their boundaries: the amount at the "lower amount",
the day a policy comes into force, the last day of a period, month ends and leap days.

`disclosed_until` is the last day shown: the public record shows a penalty on that day and not on the next
(tests/disclosure/test_penalties.py checks the day before, of and after on the public-record filter).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from disclosure.models import DisclosurePolicy, Penalty
from disclosure.policies import HEAVY_KINDS, PenaltyFacts, add_months, decide, is_lower_amount

pytestmark = pytest.mark.django_db

D = dt.date
Kind = Penalty.Kind
Tier = Penalty.Tier


@pytest.fixture
def policies() -> list[DisclosurePolicy]:
    """The three rows the migration loads."""
    rows = list(DisclosurePolicy.objects.all())
    assert [p.code for p in rows] == ["local-2018", "national-2021", "national-2025"]
    return rows


def facts(
    decision_date: dt.date,
    *kinds: str,
    amount: str | None = None,
    procedure: str = Penalty.Procedure.ORDINARY,
    domain: str = Penalty.Domain.OTHER,
    individual: bool = False,
    restriction_until: dt.date | None = None,
) -> PenaltyFacts:
    return PenaltyFacts(
        decision_date=decision_date,
        procedure=procedure,
        kinds=frozenset(kinds or (Kind.FINE,)),
        fine_amount=Decimal(amount) if amount is not None else None,
        domain=domain,
        party_is_individual=individual,
        restriction_until=restriction_until,
    )


def fine(decision_date: dt.date, amount: str, **kwargs) -> PenaltyFacts:
    return facts(decision_date, Kind.FINE, amount=amount, **kwargs)


# --- local 2018 (seed 001): 1 year, serious 3 years, no early repair ------------------------------------------------
def test_it_discloses_for_one_year_under_the_2018_local_policy(policies):
    outcome = decide(fine(D(2020, 5, 10), "80000"), disclosed_from=D(2020, 5, 20), policies=policies)
    assert outcome.disclosed
    assert outcome.policy.code == "local-2018"
    assert outcome.tier == Tier.GENERAL
    assert outcome.disclosed_from == D(2020, 5, 20)
    assert outcome.disclosed_until == D(2021, 5, 19)  # one year: the day before the anniversary is the last day
    assert outcome.repair_possible_from is None


def test_it_discloses_serious_violations_for_three_years_under_the_2018_local_policy(policies):
    serious = facts(D(2020, 5, 10), Kind.FINE, Kind.LICENCE_REVOCATION, amount="80000")
    outcome = decide(serious, disclosed_from=D(2020, 5, 20), policies=policies)
    assert (outcome.policy.code, outcome.tier) == ("local-2018", Tier.SERIOUS)
    assert outcome.disclosed_until == D(2023, 5, 19)


def test_it_ignores_a_legal_restriction_under_the_2018_local_policy(policies):
    restricted = facts(
        D(2020, 5, 10), Kind.EMPLOYMENT_RESTRICTION, Kind.FINE, amount="9000", restriction_until=D(2030, 1, 1)
    )
    outcome = decide(restricted, disclosed_from=D(2020, 5, 20), policies=policies)
    assert outcome.disclosed_until == D(2023, 5, 19)


def test_it_does_not_reach_back_before_the_first_policy(policies):
    # No policy was in force on 2018-05-31: the 2018 local rules start on 2018-06-01 and do not reach back.
    before = decide(fine(D(2018, 5, 31), "80000"), disclosed_from=D(2018, 6, 5), policies=policies)
    assert not before.disclosed
    assert before.policy is None
    assert before.not_disclosed_reason == "决定日期早于任何公示规定"
    on_the_day = decide(fine(D(2018, 6, 1), "80000"), disclosed_from=D(2018, 6, 5), policies=policies)
    assert on_the_day.disclosed and on_the_day.policy.code == "local-2018"


# --- national 2021 (seed 000 §8): 通报批评 or a lower-amount fine 3 months, anything else 3 years --------------------
def test_it_discloses_circulated_criticism_alone_for_three_months_under_2021(policies):
    outcome = decide(facts(D(2023, 3, 1), Kind.CIRCULATED_CRITICISM), disclosed_from=D(2023, 3, 10), policies=policies)
    assert (outcome.policy.code, outcome.tier) == ("national-2021", Tier.MINOR)
    assert outcome.disclosed_until == D(2023, 6, 9)
    assert outcome.repair_possible_from is None  # it expires soon by itself


def test_a_warning_with_the_criticism_is_still_the_short_period(policies):
    outcome = decide(
        facts(D(2023, 3, 1), Kind.WARNING, Kind.CIRCULATED_CRITICISM), disclosed_from=D(2023, 3, 10), policies=policies
    )
    assert outcome.tier == Tier.MINOR and outcome.disclosed_until == D(2023, 6, 9)


@pytest.mark.parametrize(
    ("amount", "individual", "tier", "until"),
    [
        # Individual business: 5,000 yuan is the lower amount (inclusive by default).
        ("4999.99", True, Tier.MINOR, D(2023, 6, 9)),
        ("5000", True, Tier.MINOR, D(2023, 6, 9)),
        ("5000.01", True, Tier.GENERAL, D(2026, 3, 9)),
        # Organisation: 50,000 yuan.
        ("5000.01", False, Tier.MINOR, D(2023, 6, 9)),
        ("50000", False, Tier.MINOR, D(2023, 6, 9)),
        ("50000.01", False, Tier.GENERAL, D(2026, 3, 9)),
    ],
)
def test_it_applies_the_lower_amount_inclusively_by_default(policies, amount, individual, tier, until):
    outcome = decide(
        fine(D(2023, 3, 1), amount, individual=individual), disclosed_from=D(2023, 3, 10), policies=policies
    )
    assert outcome.policy.code == "national-2021"
    assert (outcome.tier, outcome.disclosed_until) == (tier, until)


@pytest.mark.parametrize(
    ("amount", "individual", "tier"),
    [
        ("4999.99", True, Tier.MINOR),
        ("5000", True, Tier.GENERAL),  # flips: the boundary is no longer a lower amount
        ("49999.99", False, Tier.MINOR),
        ("50000", False, Tier.GENERAL),
    ],
)
def test_an_exclusive_province_flips_the_boundary_amount(policies, settings, amount, individual, tier):
    settings.DISCLOSURE_LOWER_AMOUNT_INCLUSIVE = False  # Fujian, Guizhou: < 5,000 / < 50,000
    outcome = decide(
        fine(D(2023, 3, 1), amount, individual=individual), disclosed_from=D(2023, 3, 10), policies=policies
    )
    assert outcome.tier == tier


def test_the_lower_amounts_are_settings(settings):
    settings.DISCLOSURE_LOWER_AMOUNT_INDIVIDUAL = 3000
    assert is_lower_amount(Decimal("3000"), individual=True)
    assert not is_lower_amount(Decimal("3000.01"), individual=True)
    assert not is_lower_amount(None, individual=True)


@pytest.mark.parametrize(
    "kinds",
    [
        (Kind.FINE, Kind.CONFISCATION),  # a lower fine with confiscation is not "only a lower fine"
        (Kind.CONFISCATION,),
        (Kind.LICENCE_SUSPENSION,),
    ],
)
def test_anything_else_is_three_years_under_2021(policies, kinds):
    outcome = decide(facts(D(2023, 3, 1), *kinds, amount="3000" if Kind.FINE in kinds else None),
                     disclosed_from=D(2023, 3, 10), policies=policies)  # fmt: skip
    assert (outcome.policy.code, outcome.tier) == ("national-2021", Tier.GENERAL)
    assert outcome.disclosed_until == D(2026, 3, 9)


@pytest.mark.parametrize(
    ("restriction_until", "until"),
    [
        (D(2026, 3, 8), D(2026, 3, 9)),  # shorter than the three years: no effect
        (D(2026, 3, 9), D(2026, 3, 9)),
        (D(2026, 3, 10), D(2026, 3, 10)),  # one day longer: extends by one day
        (D(2028, 12, 31), D(2028, 12, 31)),
    ],
)
def test_a_longer_legal_restriction_extends_the_2021_period(policies, restriction_until, until):
    restricted = facts(
        D(2023, 3, 1), Kind.EMPLOYMENT_RESTRICTION, Kind.FINE, amount="9000", restriction_until=restriction_until
    )
    outcome = decide(restricted, disclosed_from=D(2023, 3, 10), policies=policies)
    assert outcome.disclosed_until == until


@pytest.mark.parametrize(
    ("domain", "repair_from"),
    [
        (Penalty.Domain.OTHER, D(2023, 9, 10)),  # 6 months
        (Penalty.Domain.FOOD, D(2024, 3, 10)),  # 12 months in food, drug, special equipment (seed 000 §8)
        (Penalty.Domain.DRUG, D(2024, 3, 10)),
        (Penalty.Domain.SPECIAL_EQUIPMENT, D(2024, 3, 10)),
    ],
)
def test_repair_is_possible_after_6_or_12_months_under_2021(policies, domain, repair_from):
    outcome = decide(fine(D(2023, 3, 1), "80000", domain=domain), disclosed_from=D(2023, 3, 10), policies=policies)
    assert outcome.repair_possible_from == repair_from


@pytest.mark.parametrize("kind", sorted(HEAVY_KINDS))
@pytest.mark.parametrize("domain", [Penalty.Domain.OTHER, Penalty.Domain.FOOD])
def test_heavy_penalties_are_never_repairable_under_2021(policies, kind, domain):
    outcome = decide(
        facts(D(2023, 3, 1), kind, Kind.FINE, amount="80000", domain=domain),
        disclosed_from=D(2023, 3, 10),
        policies=policies,
    )
    assert outcome.policy.code == "national-2021"
    assert outcome.repair_possible_from is None


# --- the day a policy comes into force ------------------------------------------------------------------------------
def test_a_decision_follows_the_policy_in_force_on_its_date(policies):
    day_before = decide(fine(D(2021, 8, 31), "80000"), disclosed_from=D(2021, 9, 10), policies=policies)
    first_day = decide(fine(D(2021, 9, 1), "80000"), disclosed_from=D(2021, 9, 10), policies=policies)
    # 80,000 yuan for an organisation: 1 year under the local rules, 3 years under 2021 (not more lenient).
    assert (day_before.policy.code, day_before.disclosed_until) == ("local-2018", D(2022, 9, 9))
    assert (first_day.policy.code, first_day.disclosed_until) == ("national-2021", D(2024, 9, 9))


def test_a_later_policy_applies_to_an_earlier_decision_where_more_lenient(policies):
    # 从旧兼从轻: a 3,000-yuan fine of 2021-08-31 is disclosed after 2021-09-01 for 3 months, not 1 year.
    outcome = decide(fine(D(2021, 8, 31), "3000"), disclosed_from=D(2021, 9, 10), policies=policies)
    assert (outcome.policy.code, outcome.tier, outcome.disclosed_until) == ("national-2021", Tier.MINOR, D(2021, 12, 9))
    # Decided on a day the 2021 rules were not yet in force: the local year stands.
    earlier = decide(fine(D(2021, 8, 20), "3000"), disclosed_from=D(2021, 8, 31), policies=policies)
    assert (earlier.policy.code, earlier.disclosed_until) == ("local-2018", D(2022, 8, 30))


# --- national 2025 (SAMR order 107, from 2025-12-25): minor 3 m, general 1 y (repair 3 m), serious 3 y (repair 1 y) -
@pytest.mark.parametrize(
    ("kinds", "amount", "tier", "until", "repair_from"),
    [
        ((Kind.CIRCULATED_CRITICISM,), None, Tier.MINOR, D(2026, 4, 19), None),
        ((Kind.FINE,), "30000", Tier.MINOR, D(2026, 4, 19), None),
        ((Kind.FINE,), "80000", Tier.GENERAL, D(2027, 1, 19), D(2026, 4, 20)),
        ((Kind.FINE, Kind.CONFISCATION), "3000", Tier.GENERAL, D(2027, 1, 19), D(2026, 4, 20)),
        ((Kind.FINE, Kind.LICENCE_REVOCATION), "80000", Tier.SERIOUS, D(2029, 1, 19), D(2027, 1, 20)),
        ((Kind.PRODUCTION_SUSPENSION,), None, Tier.SERIOUS, D(2029, 1, 19), D(2027, 1, 20)),
    ],
)
def test_it_applies_the_three_tiers_of_2025(policies, kinds, amount, tier, until, repair_from):
    outcome = decide(facts(D(2026, 1, 10), *kinds, amount=amount), disclosed_from=D(2026, 1, 20), policies=policies)
    assert outcome.policy.code == "national-2025"
    assert (outcome.tier, outcome.disclosed_until, outcome.repair_possible_from) == (tier, until, repair_from)


def test_food_penalties_are_repairable_after_3_months_under_2025(policies):
    # The 12-month key-domain wait is a 2021 rule; the 2025 tiers do not have it.
    outcome = decide(
        fine(D(2026, 1, 10), "80000", domain=Penalty.Domain.FOOD), disclosed_from=D(2026, 1, 20), policies=policies
    )
    assert outcome.repair_possible_from == D(2026, 4, 20)


# --- 从旧兼从轻 across 2025-12-25 ------------------------------------------------------------------------------------
def test_a_2024_decision_disclosed_from_2025_12_25_gets_the_shorter_2025_period(policies):
    decision = fine(D(2024, 11, 20), "80000")
    before = decide(decision, disclosed_from=D(2025, 12, 24), policies=policies)
    on = decide(decision, disclosed_from=D(2025, 12, 25), policies=policies)
    assert (before.policy.code, before.disclosed_until) == ("national-2021", D(2028, 12, 23))
    assert (on.policy.code, on.tier, on.disclosed_until) == ("national-2025", Tier.GENERAL, D(2026, 12, 24))
    assert on.repair_possible_from == D(2026, 3, 25)


def test_the_nightly_review_shortens_a_running_disclosure_from_the_day_2025_is_in_force(policies):
    decision = fine(D(2024, 6, 3), "80000")
    start = D(2024, 6, 10)
    on_start = decide(decision, disclosed_from=start, policies=policies)
    day_before = decide(decision, disclosed_from=start, policies=policies, considered_on=D(2025, 12, 24))
    in_force = decide(decision, disclosed_from=start, policies=policies, considered_on=D(2025, 12, 25))
    assert (on_start.policy.code, on_start.disclosed_until) == ("national-2021", D(2027, 6, 9))
    assert (day_before.policy.code, day_before.disclosed_until) == ("national-2021", D(2027, 6, 9))
    # The period runs from the same first day; 1 year under 2025 is already over by the review day.
    assert (in_force.policy.code, in_force.disclosed_until) == ("national-2025", D(2025, 6, 9))


def test_at_an_equal_period_the_policy_that_allows_repair_is_more_lenient(policies):
    # A licence revocation: 3 years under 2021 and under 2025 alike, but only 2025 allows repair (after 1 year).
    decision = facts(D(2024, 11, 20), Kind.FINE, Kind.LICENCE_REVOCATION, amount="80000")
    outcome = decide(decision, disclosed_from=D(2026, 1, 5), policies=policies)
    assert (outcome.policy.code, outcome.disclosed_until) == ("national-2025", D(2029, 1, 4))
    assert outcome.repair_possible_from == D(2027, 1, 5)


def test_a_later_policy_that_is_not_more_lenient_does_not_apply(policies):
    # Before the 2025 policy is in force on the day considered, the policy of the decision date stays.
    decision = facts(D(2024, 11, 20), Kind.FINE, Kind.LICENCE_REVOCATION, amount="80000")
    outcome = decide(decision, disclosed_from=D(2025, 1, 6), policies=policies)
    assert (outcome.policy.code, outcome.disclosed_until) == ("national-2021", D(2028, 1, 5))
    assert outcome.repair_possible_from is None


def test_a_policy_applies_retroactively_only_if_its_row_says_so(policies):
    later = DisclosurePolicy(
        code="hypothetical-2026",
        name="假设的更宽松规定",
        scheme=DisclosurePolicy.Scheme.LOCAL_2018,
        effective_from=D(2026, 6, 1),
        retroactive_if_lenient=False,
        general_months=6,
        serious_months=12,
    )
    decision = fine(D(2026, 1, 10), "80000")
    not_retroactive = decide(decision, disclosed_from=D(2026, 7, 1), policies=[*policies, later])
    assert (not_retroactive.policy.code, not_retroactive.disclosed_until) == ("national-2025", D(2027, 6, 30))
    later.retroactive_if_lenient = True
    retroactive = decide(decision, disclosed_from=D(2026, 7, 1), policies=[*policies, later])
    assert (retroactive.policy.code, retroactive.disclosed_until) == ("hypothetical-2026", D(2026, 12, 31))
    # Not yet in force on the day considered: not weighed at all.
    too_early = decide(decision, disclosed_from=D(2026, 5, 31), policies=[*policies, later])
    assert too_early.policy.code == "national-2025"


# --- month ends and leap days ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2026, 1, 31), 3, D(2026, 4, 30)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2025, 11, 30), 3, D(2026, 2, 28)),
        (D(2026, 12, 15), 1, D(2027, 1, 15)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("disclosed_from", "until"),
    [
        (D(2026, 1, 30), D(2026, 4, 29)),
        # 31 January + 3 months is clamped to 30 April; the last day shown is the day before.
        (D(2026, 1, 31), D(2026, 4, 29)),
        (D(2026, 2, 1), D(2026, 4, 30)),
    ],
)
def test_a_three_month_period_across_a_short_month(policies, disclosed_from, until):
    outcome = decide(facts(D(2026, 1, 10), Kind.CIRCULATED_CRITICISM), disclosed_from=disclosed_from, policies=policies)
    assert outcome.disclosed_until == until


def test_a_period_starting_on_29_february(policies):
    # 2021 rules, 3 years from 2024-02-29: 2027 has no 29 February.
    three_years = decide(fine(D(2024, 2, 20), "80000"), disclosed_from=D(2024, 2, 29), policies=policies)
    assert three_years.disclosed_until == D(2027, 2, 27)
    assert three_years.repair_possible_from == D(2024, 8, 29)
    # Three months from 2023-11-29 end on the day before 2024-02-29.
    minor = decide(facts(D(2023, 11, 20), Kind.CIRCULATED_CRITICISM), disclosed_from=D(2023, 11, 29), policies=policies)
    assert minor.disclosed_until == D(2024, 2, 28)


# --- never disclosed ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("decision_date", [D(2020, 5, 10), D(2023, 3, 1), D(2026, 1, 10)])
def test_summary_procedure_decisions_are_never_disclosed(policies, decision_date):
    summary = facts(decision_date, Kind.FINE, Kind.LICENCE_REVOCATION, amount="200", procedure="summary")
    outcome = decide(summary, disclosed_from=decision_date, policies=policies)
    assert not outcome.disclosed
    assert outcome.policy is None and outcome.tier == Tier.NOT_DISCLOSED
    assert outcome.disclosed_until is None
    assert outcome.not_disclosed_reason == "适用简易程序作出的行政处罚决定，不予公示"


@pytest.mark.parametrize("decision_date", [D(2020, 5, 10), D(2023, 3, 1), D(2026, 1, 10)])
def test_warning_only_penalties_are_never_disclosed(policies, decision_date):
    outcome = decide(facts(decision_date, Kind.WARNING), disclosed_from=decision_date, policies=policies)
    assert not outcome.disclosed
    assert outcome.not_disclosed_reason == "仅受到警告的行政处罚信息，不予公示"
    # A warning with anything else is disclosed.
    with_fine = decide(
        facts(decision_date, Kind.WARNING, Kind.FINE, amount="80000"), disclosed_from=decision_date, policies=policies
    )
    assert with_fine.disclosed
