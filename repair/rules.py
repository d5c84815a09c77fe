"""Who may apply for which credit repair, and from when (DESIGN.md §3.7): pure functions over facts gathered by
repair.selectors, so the portal's advice before submission and the check at decision are the same calculation.

Penalty disclosures (国市监信规〔2021〕3号, seed 000 §8; SAMR order 107 for decisions under the 2025 rules):
- only a disclosure still shown can be stopped early; minor tier (通报批评, lower-amount fines) expires by itself
  after 3 months and is never repaired; under the 2021 rules suspension/revocation/restriction penalties are never
  repaired early; the 2018 local rules knew no early stop;
- the earliest day is the penalty's `repair_possible_from` (disclosure.policies: 2021 — 6 months, 12 in the food,
  drug and special-equipment domains; 2025 — general 3 months, serious 12);
- not while on the abnormal or serious list; not after a repeat of the same violation type;
- repeat offenders (多次违法失信, seed 002 §12) wait longer and cannot be accepted on a 容缺 commitment.
Abnormal list: reason 1 (annual report) once every missing report is filed, and then at once (即申即办); the other
reasons once the cause is cured (the officer checks the proof). Serious list: early removal one year after listing,
with no further heavier penalty since. Negative inspection results (2025 rules only, RepairPolicy
.inspection_results_repairable): once published, when the problem has been corrected (the officer checks the proof),
not while on the serious list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from disclosure.models import AbnormalListing, DisclosurePolicy, Penalty
from disclosure.policies import HEAVY_KINDS, KEY_DOMAINS, add_months

# The values of RepairApplication.Kind (rules stay free of the models module).
PENALTY = "penalty_early_stop"
ABNORMAL = "abnormal_removal"
SERIOUS = "serious_early_removal"
INSPECTION = "inspection_result"

# What each kind needs: the primary materials must come with the application; a secondary one may follow on a
# 容缺 commitment (seed 000 §8: "主要申请材料齐全 … 次要条件或材料欠缺的，由企业承诺按时后补").
PRIMARY_MATERIALS = ("application_form", "credit_commitment")
SECONDARY_MATERIALS = {
    PENALTY: ("proof_of_fulfilment",),
    SERIOUS: ("proof_of_fulfilment",),
    ABNORMAL: (),
    INSPECTION: ("proof_of_fulfilment",),
}


def _ymd(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class Eligibility:
    """May the entity apply now? If not: why (in Chinese), and from which day if only time stands in the way."""

    kind: str
    may_apply: bool
    reasons: tuple[str, ...] = ()
    from_date: dt.date | None = None
    never: bool = False  # nothing the entity can do makes it repairable (excluded, expired, or not shown)
    immediate: bool = False  # 即申即办
    tolerance_allowed: bool = False  # 容缺受理 possible
    rule: str = ""  # the rule applied, in words

    @property
    def summary(self) -> str:
        if self.may_apply:
            return "可以申请" + ("（即申即办）" if self.immediate else "")
        return "；".join(self.reasons)


# --- penalties ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PenaltyRepairFacts:
    """What the rules need to know about a penalty and its entity on the day of the question."""

    scheme: str | None  # the disclosure policy's scheme the penalty follows
    tier: str
    kinds: frozenset[str]
    domain: str
    shown: bool  # publicly disclosed on the day
    disclosed_from: dt.date | None
    repair_possible_from: dt.date | None
    on_abnormal_list: bool = False
    on_serious_list: bool = False
    repeated_violation: bool = False  # a later penalty for the same violation type
    repeat_offender: bool = False


def _penalty_rule(facts: PenaltyRepairFacts) -> str:
    if facts.scheme == DisclosurePolicy.Scheme.NATIONAL_2025:
        if facts.tier == Penalty.Tier.SERIOUS:
            return "2025年规定：严重失信行政处罚信息公示满一年后可申请信用修复"
        return "2025年规定：一般行政处罚信息公示满三个月后可申请信用修复"
    if facts.domain in KEY_DOMAINS:
        return "2021年规定：食品、药品、特种设备领域行政处罚信息公示满一年后可申请信用修复"
    return "2021年规定：行政处罚信息公示满六个月后可申请信用修复"


def penalty_eligibility(facts: PenaltyRepairFacts, *, on: dt.date, repeat_extra_months: int = 0) -> Eligibility:
    """May the early stop of this penalty's disclosure be applied for on day `on`?"""
    never = []
    if not facts.shown:
        never.append("该行政处罚信息目前未在公示，无需申请信用修复")
    elif facts.tier == Penalty.Tier.MINOR:
        never.append("受到通报批评或者较低数额罚款的行政处罚信息，公示满三个月自动停止公示，无需申请信用修复")
    elif facts.scheme == DisclosurePolicy.Scheme.LOCAL_2018:
        never.append("依2018年地方规定公示的行政处罚信息不适用提前停止公示，公示期满后自动停止公示")
    elif facts.scheme == DisclosurePolicy.Scheme.NATIONAL_2021 and facts.kinds & HEAVY_KINDS:
        never.append(
            "受到降低资质等级、暂扣或者吊销许可证件、责令停产停业、限制开展生产经营活动、限制从业、吊销营业执照等"
            "行政处罚的，不予提前停止公示"
        )
    elif facts.repair_possible_from is None or facts.disclosed_from is None:
        never.append("该行政处罚信息依规定不能提前停止公示")
    if never:
        return Eligibility(kind=PENALTY, may_apply=False, reasons=tuple(never), never=True)

    assert facts.repair_possible_from is not None
    rule = _penalty_rule(facts)
    earliest = facts.repair_possible_from
    reasons: list[str] = []
    blocked_forever = False
    if facts.repeated_violation:
        reasons.append("公示期间再次因同一类违法行为受到行政处罚，不予提前停止公示")
        blocked_forever = True
    if facts.repeat_offender and repeat_extra_months:
        # seed 002 §12: 多次违法失信 → stricter conditions: a longer wait, no 容缺 acceptance.
        earliest = add_months(earliest, repeat_extra_months)
        rule += f"；多次违法失信的，再延长{repeat_extra_months}个月"
    if facts.on_abnormal_list or facts.on_serious_list:
        reasons.append("被列入经营异常名录或严重违法失信名单期间不能申请停止公示行政处罚信息，请先申请移出")
    waiting = on < earliest
    if waiting:
        reasons.append(f"{rule}，自{_ymd(earliest)}起可以申请")
    return Eligibility(
        kind=PENALTY,
        may_apply=not reasons,
        reasons=tuple(reasons),
        from_date=earliest if waiting and len(reasons) == 1 else None,
        never=blocked_forever,
        tolerance_allowed=not facts.repeat_offender,
        rule=rule,
    )


# --- abnormal list ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AbnormalRepairFacts:
    active: bool
    reason: str
    is_mark: bool
    missing_years: tuple[int, ...] = field(default=())  # reason 1: report years of open entries still not filed


def abnormal_eligibility(facts: AbnormalRepairFacts) -> Eligibility:
    """May removal from the abnormal list (or of an individual business's mark) be applied for?"""
    noun = "经营异常状态标记" if facts.is_mark else "经营异常名录"
    if not facts.active:
        return Eligibility(kind=ABNORMAL, may_apply=False, reasons=(f"该记录已移出{noun}",), never=True)
    if facts.reason == AbnormalListing.Reason.ANNUAL_REPORT:
        rule = "因未按期公示年度报告被列入的，补报并公示全部未报年度的年度报告后即可申请移出，即申即办"
        if facts.missing_years:
            years = "、".join(str(y) for y in facts.missing_years)
            return Eligibility(
                kind=ABNORMAL,
                may_apply=False,
                reasons=(f"尚有{years}年度报告未补报；补报并公示全部未报年度的年度报告后即可申请移出（即申即办）",),
                rule=rule,
            )
        return Eligibility(kind=ABNORMAL, may_apply=True, immediate=True, rule=rule)
    rules = {
        AbnormalListing.Reason.INSTANT_INFORMATION: "已按要求公示即时信息的，可以申请移出",
        AbnormalListing.Reason.FALSIFIED: "已更正其公示的信息的，可以申请移出",
        AbnormalListing.Reason.UNREACHABLE: "依法办理住所或者经营场所变更登记，或者能够重新取得联系的，可以申请移出",
    }
    return Eligibility(kind=ABNORMAL, may_apply=True, rule=rules.get(facts.reason, ""))


# --- serious list -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeriousRepairFacts:
    listed: bool  # listed and shown (not removed, not hidden)
    early_from: dt.date | None
    further_heavier_penalty: bool = False
    repeat_offender: bool = False


def serious_eligibility(facts: SeriousRepairFacts, *, on: dt.date) -> Eligibility:
    """May early removal from the serious list be applied for on day `on`?"""
    rule = "列入严重违法失信名单满一年，且已履行义务、消除不良影响、未再受到较重行政处罚的，可以申请提前移出"
    if not facts.listed or facts.early_from is None:
        return Eligibility(kind=SERIOUS, may_apply=False, reasons=("该记录不在严重违法失信名单中",), never=True)
    if facts.further_heavier_penalty:
        return Eligibility(
            kind=SERIOUS,
            may_apply=False,
            reasons=("列入后又受到市场监督管理部门较重行政处罚，不能提前移出",),
            never=True,
            rule=rule,
        )
    if on < facts.early_from:
        return Eligibility(
            kind=SERIOUS,
            may_apply=False,
            reasons=(f"列入严重违法失信名单满一年后方可申请提前移出，自{_ymd(facts.early_from)}起可以申请",),
            from_date=facts.early_from,
            rule=rule,
        )
    return Eligibility(kind=SERIOUS, may_apply=True, tolerance_allowed=not facts.repeat_offender, rule=rule)


# --- negative inspection results (2025 rules) ---------------------------------------------------------------------
@dataclass(frozen=True)
class InspectionRepairFacts:
    shown: bool  # published and still on the public record
    negative: bool  # problem found, not reachable, refused, not operating
    repairable: bool  # the repair policy in force lets inspection results be repaired
    repairable_from: dt.date | None = None  # the first day of a policy that does, if one is known
    on_serious_list: bool = False
    repeat_offender: bool = False


def inspection_eligibility(facts: InspectionRepairFacts, *, on: dt.date) -> Eligibility:
    """May the repair of this inspection result (its removal from the public record) be applied for on `on`?"""
    rule = "2025年规定：抽查检查发现问题等负面结果信息，经营主体已改正问题、消除不良影响的，可以申请信用修复"
    if not facts.shown:
        return Eligibility(kind=INSPECTION, may_apply=False, reasons=("该检查结果目前未在公示",), never=True)
    if not facts.negative:
        return Eligibility(
            kind=INSPECTION, may_apply=False, reasons=("该检查结果未发现问题，无需申请信用修复",), never=True
        )
    if not facts.repairable:
        if facts.repairable_from is not None and facts.repairable_from > on:
            return Eligibility(
                kind=INSPECTION,
                may_apply=False,
                reasons=(f"抽查检查结果的信用修复自{_ymd(facts.repairable_from)}起施行，届时可以申请",),
                from_date=facts.repairable_from,
                rule=rule,
            )
        return Eligibility(
            kind=INSPECTION, may_apply=False, reasons=("现行信用修复规定不适用于抽查检查结果",), never=True
        )
    if facts.on_serious_list:
        return Eligibility(
            kind=INSPECTION,
            may_apply=False,
            reasons=("被列入严重违法失信名单期间不能申请修复检查结果信息，请先申请提前移出",),
            rule=rule,
        )
    return Eligibility(kind=INSPECTION, may_apply=True, tolerance_allowed=not facts.repeat_offender, rule=rule)
