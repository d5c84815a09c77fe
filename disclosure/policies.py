"""Which disclosure policy a penalty follows, and what it says: disclosed or not, the tier, the period, when
repair becomes possible (DESIGN.md §3.2, §3.7). Pure functions over policy rows; no database writes.

- Never disclosed: decisions under the summary procedure (简易程序), and warning-only penalties.
- A record follows the policy in force on its decision date, unless a later policy in force by the day the
  disclosure is decided is more lenient to the party and applies retroactively (从旧兼从轻).
- Periods run from the first day of disclosure; `disclosed_until` is the last day shown.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from disclosure.models import DisclosurePolicy, Penalty

Kind = Penalty.Kind
Tier = Penalty.Tier

# Heavier penalties (较重行政处罚): the serious tier, and never repairable under the 2021 rules.
HEAVY_KINDS = frozenset(
    {
        Kind.QUALIFICATION_DOWNGRADE,
        Kind.LICENCE_SUSPENSION,
        Kind.LICENCE_REVOCATION,
        Kind.PRODUCTION_SUSPENSION,
        Kind.BUSINESS_RESTRICTION,
        Kind.EMPLOYMENT_RESTRICTION,
        Kind.BUSINESS_LICENCE_REVOCATION,
    }
)
KEY_DOMAINS = frozenset({Penalty.Domain.FOOD, Penalty.Domain.DRUG, Penalty.Domain.SPECIAL_EQUIPMENT})
LIGHT_KINDS = frozenset({Kind.WARNING, Kind.CIRCULATED_CRITICISM, Kind.FINE})


@dataclass(frozen=True)
class PenaltyFacts:
    """What the classification needs to know about a penalty."""

    decision_date: dt.date
    procedure: str
    kinds: frozenset[str]
    fine_amount: Decimal | None
    domain: str
    party_is_individual: bool
    restriction_until: dt.date | None = None

    @classmethod
    def of(cls, penalty: Penalty) -> PenaltyFacts:
        return cls(
            decision_date=penalty.decision_date,
            procedure=penalty.procedure,
            kinds=frozenset(penalty.kinds),
            fine_amount=penalty.fine_amount,
            domain=penalty.domain,
            party_is_individual=penalty.enterprise.entity_type == "individual",
            restriction_until=penalty.restriction_until,
        )


@dataclass(frozen=True)
class Disclosure:
    """The outcome: disclosed or why not, and the dates."""

    disclosed: bool
    policy: DisclosurePolicy | None
    tier: str
    not_disclosed_reason: str = ""
    disclosed_from: dt.date | None = None
    disclosed_until: dt.date | None = None
    repair_possible_from: dt.date | None = None


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def is_lower_amount(amount: Decimal | None, *, individual: bool) -> bool:
    """The province's "lower amount" (较低数额) with its boundary rule (settings)."""
    if amount is None:
        return False
    limit = Decimal(
        settings.DISCLOSURE_LOWER_AMOUNT_INDIVIDUAL if individual else settings.DISCLOSURE_LOWER_AMOUNT_ORGANISATION
    )
    return amount <= limit if settings.DISCLOSURE_LOWER_AMOUNT_INCLUSIVE else amount < limit


def never_disclosed_reason(facts: PenaltyFacts) -> str:
    """Why a penalty is never disclosed under any policy, or ''."""
    if facts.procedure == Penalty.Procedure.SUMMARY:
        return "适用简易程序作出的行政处罚决定，不予公示"
    if facts.kinds == {Kind.WARNING}:
        return "仅受到警告的行政处罚信息，不予公示"
    return ""


def tier_under(policy: DisclosurePolicy, facts: PenaltyFacts) -> str:
    """The tier a penalty falls into under `policy`'s scheme."""
    heavy = bool(facts.kinds & HEAVY_KINDS)
    if policy.scheme == DisclosurePolicy.Scheme.LOCAL_2018:
        return Tier.SERIOUS if heavy else Tier.GENERAL
    light = facts.kinds <= LIGHT_KINDS
    only_criticism = facts.kinds - {Kind.WARNING} == {Kind.CIRCULATED_CRITICISM}
    lower_fine = (
        light and Kind.FINE in facts.kinds and is_lower_amount(facts.fine_amount, individual=facts.party_is_individual)
    )
    if only_criticism or lower_fine:
        return Tier.MINOR
    if policy.scheme == DisclosurePolicy.Scheme.NATIONAL_2025 and heavy:
        return Tier.SERIOUS
    return Tier.GENERAL


def _months(policy: DisclosurePolicy, tier: str) -> int:
    months = {Tier.MINOR: policy.minor_months, Tier.GENERAL: policy.general_months, Tier.SERIOUS: policy.serious_months}
    value = months[tier]
    if value is None:  # a tier the scheme does not know: fall back to its general period
        value = policy.general_months
    assert value is not None, f"policy {policy.code} has no period for {tier}"
    return value


def repair_months(policy: DisclosurePolicy, tier: str, facts: PenaltyFacts) -> int | None:
    """Months of disclosure after which an early stop by credit repair may be applied for, or None (never)."""
    if tier == Tier.MINOR:
        return None  # expires soon by itself (seed 000 §8)
    if policy.scheme == DisclosurePolicy.Scheme.LOCAL_2018:
        return None
    if policy.scheme == DisclosurePolicy.Scheme.NATIONAL_2021:
        if facts.kinds & HEAVY_KINDS:
            return None  # suspension, revocation, restriction: not repairable under the 2021 rules
        if facts.domain in KEY_DOMAINS:
            return policy.repair_key_domain_months
        return policy.repair_general_months
    return policy.repair_serious_months if tier == Tier.SERIOUS else policy.repair_general_months


def _outcome(policy: DisclosurePolicy, facts: PenaltyFacts, disclosed_from: dt.date) -> Disclosure:
    tier = tier_under(policy, facts)
    until = add_months(disclosed_from, _months(policy, tier)) - dt.timedelta(days=1)
    if (
        policy.scheme != DisclosurePolicy.Scheme.LOCAL_2018
        and facts.restriction_until is not None
        and facts.restriction_until > until
    ):
        until = facts.restriction_until  # "or as long as a legal restriction lasts, if longer"
    months = repair_months(policy, tier, facts)
    return Disclosure(
        disclosed=True,
        policy=policy,
        tier=tier,
        disclosed_from=disclosed_from,
        disclosed_until=until,
        repair_possible_from=add_months(disclosed_from, months) if months is not None else None,
    )


def _more_lenient(a: Disclosure, b: Disclosure) -> bool:
    """A shorter period first; at an equal period, repair possible (earlier) is more lenient."""
    assert a.disclosed_until is not None and b.disclosed_until is not None
    if a.disclosed_until != b.disclosed_until:
        return a.disclosed_until < b.disclosed_until
    return (a.repair_possible_from or dt.date.max) < (b.repair_possible_from or dt.date.max)


def policy_in_force(policies: Sequence[DisclosurePolicy], day: dt.date) -> DisclosurePolicy | None:
    applicable = [p for p in policies if p.effective_from <= day]
    return max(applicable, key=lambda p: p.effective_from) if applicable else None


def decide(
    facts: PenaltyFacts,
    *,
    disclosed_from: dt.date,
    policies: Iterable[DisclosurePolicy],
    considered_on: dt.date | None = None,
) -> Disclosure:
    """Whether and how long a penalty is disclosed when its disclosure starts on `disclosed_from`.

    `considered_on` (default: `disclosed_from`) is the day of the decision about the period: later policies in
    force by then are weighed too. The nightly review passes the run date, so a lenient policy that comes into
    force shortens disclosures already running.
    """
    considered_on = considered_on or disclosed_from
    reason = never_disclosed_reason(facts)
    if reason:
        return Disclosure(disclosed=False, policy=None, tier=Tier.NOT_DISCLOSED, not_disclosed_reason=reason)
    ordered = sorted(policies, key=lambda p: p.effective_from)
    base = policy_in_force(ordered, facts.decision_date)
    if base is None:
        return Disclosure(
            disclosed=False, policy=None, tier=Tier.NOT_DISCLOSED, not_disclosed_reason="决定日期早于任何公示规定"
        )
    best = _outcome(base, facts, disclosed_from)
    # 从旧兼从轻: a later policy in force by `considered_on` applies if it is more lenient and retroactive.
    for later in ordered:
        if later.effective_from <= base.effective_from or later.effective_from > considered_on:
            continue
        if not later.retroactive_if_lenient:
            continue
        candidate = _outcome(later, facts, disclosed_from)
        if _more_lenient(candidate, best):
            best = candidate
    return best
