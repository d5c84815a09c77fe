"""The demo records of disclosure (`manage.py seed_demo`, step "disclosure", after the registry): penalties with
their disclosure, the abnormal list and marks, the serious list with its restrictions, for the seeded population.

The records are what the portal would hold had it run since 2019 with its services and nightly jobs:

- penalties (2019 – today): a few % of entities a year, most fines small, a few heavy; their disclosure computed
  by disclosure.policies.decide under the policy of the decision date, shortened when a later lenient policy came
  into force while it ran (the nightly review), ended when its last day passed (the nightly expiry); a few
  withdrawn;
- annual-report listings for the report years the registry covers, consistent with its reports: an entity owing
  a report and not filing by 30 June is listed on 1 July (individual businesses marked), and removed the day it
  has filed every missing report; chronic non-filers also carry an older listing; a few entities unreachable at
  their address (reason 4), most later cured;
- the 3-year rule: the reminder 60 days before, the notice on the third anniversary, the decision the day after
  the statement window, the source entry removed (escalated), the legal representative's restriction;
- serious listings for some heavy penalties (notice, statement, decision, restrictions), removed after 3 years,
  some removed early by repair (hidden from the public record), a few not listed after the party's statement.

Deterministic in (population, seed, today): one random stream (ctx.rng("disclosure")) consumed in entity-id order.
Set-based and streaming: entities are read in chunks by id, each chunk's records are generated in Python and
written with core.bulk.copy_rows (COPY on PostgreSQL, executemany on SQLite) in one transaction per chunk, so
memory stays flat at 10^6 entities (~1.9·10^5 penalties, ~1.5·10^5 listings and marks). Document numbers continue the
DocumentSequence rows (written with each chunk), so numbers the services and jobs allocate later never collide.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from core.audit import audit_log
from core.calendar import CalendarUnavailable, WorkingCalendar
from core.models import Department
from disclosure import jobs, numbering, texts
from disclosure.jobs import missing_annual_report_facts, three_years_facts
from disclosure.models import AbnormalListing, DisclosurePolicy, DocumentSequence, Penalty, Restriction, SeriousListing
from disclosure.policies import HEAVY_KINDS, PenaltyFacts, add_months, decide
from disclosure.services.penalties import _canonical, content_hash
from enterprises.demo import CopyTarget, SeedContext, demo_step, report_years, write_pipelined
from enterprises.models import AnnualReport, Enterprise

# When the demo's history starts (the penalties; the oldest listings).
HISTORY_FROM = dt.date(2019, 1, 1)

# Penalties per entity and year of existence since HISTORY_FROM (a few % a year; ~0.2 per entity overall).
PENALTY_RATE = {"enterprise": 0.07, "individual": 0.04, "cooperative": 0.03}
SUMMARY_SHARE = 0.3  # 简易程序: warnings and small on-the-spot fines, never disclosed
WITHDRAWN_SHARE = 0.006  # revoked or changed decisions (行政复议、诉讼)
SERIOUS_FROM_HEAVY = 0.2  # heavy penalties that led to a serious-list procedure
CHRONIC_OLD_LISTING = 0.45  # chronic non-filers carrying an older open annual-report listing
CURED_OLD_LISTING = 0.015  # diligent filers with an older listing they cured
UNREACHABLE = {"enterprise": 0.012, "cooperative": 0.012, "individual": 0.004}
SERIOUS_EARLY_REMOVAL = 0.2  # listed over a year: removed early by credit repair
SERIOUS_NOT_LISTED = 0.08  # after the party's statement or hearing

KEY_AREA_DOMAIN = {
    "food_production": "food",
    "food_distribution": "food",
    "catering": "food",
    "drugs": "drug",
    "medical_devices": "drug",
    "cosmetics": "drug",
    "special_equipment": "special_equipment",
}
# (violation type, legal basis) per domain.
VIOLATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "food": (
        ("经营超过保质期的食品", "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项"),
        ("生产经营不符合食品安全标准的食品", "《中华人民共和国食品安全法》第一百二十四条第一款"),
        ("未按规定查验记录进货", "《中华人民共和国食品安全法》第一百二十六条第一款第（三）项"),
        ("餐饮服务场所卫生不符合规定", "《中华人民共和国食品安全法》第一百二十六条第一款"),
        ("未取得食品经营许可从事食品经营活动", "《中华人民共和国食品安全法》第一百二十二条第一款"),
    ),
    "drug": (
        ("销售劣药", "《中华人民共和国药品管理法》第一百一十七条"),
        ("未遵守药品经营质量管理规范", "《中华人民共和国药品管理法》第一百二十六条"),
        ("经营未取得注册证的医疗器械", "《医疗器械监督管理条例》第八十六条"),
        ("经营不符合技术规范的化妆品", "《化妆品监督管理条例》第六十条"),
    ),
    "special_equipment": (
        ("使用未经定期检验的特种设备", "《中华人民共和国特种设备安全法》第八十四条第（一）项"),
        ("特种设备作业人员未取得相应资格", "《中华人民共和国特种设备安全法》第八十六条第（一）项"),
        ("未按规定办理特种设备使用登记", "《中华人民共和国特种设备安全法》第八十三条第（一）项"),
    ),
    "other": (
        ("销售不合格产品", "《中华人民共和国产品质量法》第四十九条"),
        ("发布虚假广告", "《中华人民共和国广告法》第五十五条第一款"),
        ("虚假宣传", "《中华人民共和国反不正当竞争法》第二十条第一款"),
        ("不按规定明码标价", "《中华人民共和国价格法》第四十二条"),
        ("使用未经检定的计量器具", "《中华人民共和国计量法实施细则》第四十三条"),
        ("销售侵犯注册商标专用权的商品", "《中华人民共和国商标法》第六十条第二款"),
    ),
}
HEAVY_BY_DOMAIN = {
    "food": ("production_suspension", "licence_revocation", "employment_restriction"),
    "drug": ("licence_revocation", "production_suspension", "licence_suspension"),
    "special_equipment": ("production_suspension", "licence_suspension"),
    "other": ("business_licence_revocation", "business_restriction", "qualification_downgrade"),
}
KIND_TEXT = {
    "warning": "警告",
    "circulated_criticism": "通报批评",
    "confiscation": "没收违法所得",
    "qualification_downgrade": "降低资质等级",
    "licence_suspension": "暂扣许可证件",
    "licence_revocation": "吊销许可证件",
    "production_suspension": "责令停产停业",
    "business_restriction": "限制开展生产经营活动",
    "employment_restriction": "限制从业",
    "business_licence_revocation": "吊销营业执照",
}
CASE_OFFICER_SURNAMES = "王李张刘赵郭杨武贾高任郝梁段阎乔"
REMOVED_UNREACHABLE_NOTE = "已办理住所（经营场所）变更登记，可以通过登记的住所（经营场所）取得联系。"
UNREACHABLE_FACTS = "经实地核查，通过登记的住所（经营场所）无法联系该经营主体。"
STATEMENTS = (
    "当事人提出陈述申辩，称违法行为系员工个人所为，已整改完毕。",
    "当事人申请听证，经听证，违法事实与情节认定有误。",
)

PENALTY_COLUMNS = (
    "created_at", "updated_at", "enterprise_id", "department_id", "decision_number", "decision_date", "procedure",
    "kinds", "fine_amount", "domain", "violation_type", "legal_basis", "content", "authority_name", "case_officer",
    "restriction_until", "content_hash", "status", "withdrawn_at", "withdrawal_reason", "policy_id", "tier",
    "disclosed", "not_disclosed_reason", "disclosed_from", "disclosed_until", "disclosure_due_by",
    "repair_possible_from", "policies_reviewed_on", "disclosure_ended_on", "disclosure_end_reason",
)  # fmt: skip
LISTING_COLUMNS = (
    "created_at", "updated_at", "enterprise_id", "reason", "year", "is_mark", "cause_date", "decided_on",
    "decision_number", "office_id", "authority_name", "legal_basis", "remedies", "facts", "status", "removed_on",
    "removal_decision_number", "removal_reason", "removal_note", "reminder_published_on",
)  # fmt: skip
SERIOUS_COLUMNS = (
    "created_at", "updated_at", "enterprise_id", "ground", "source_penalty_id", "source_abnormal_id", "office_id",
    "authority_name", "legal_basis", "facts", "stage", "notice_number", "noticed_on", "statement_due", "statement",
    "hearing_requested", "decision_number", "decided_on", "listed_until", "removed_on", "removal_kind",
    "removal_decision_number", "hidden_from_public",
)  # fmt: skip
RESTRICTION_COLUMNS = (
    "created_at", "updated_at", "enterprise_id", "serious_listing_id", "kind", "person_name", "person_id_number",
    "starts_on", "ends_on", "ended_on",
)  # fmt: skip

DAY = dt.timedelta(days=1)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


# ==============================================================================================================
# What one entity gets
# ==============================================================================================================


@dataclass(slots=True)
class Entity:
    """The columns of an entity the demo reads, with its annual reports (year → filed on) and key areas."""

    id: int
    uscc: str
    entity_type: str
    region: str
    registration_date: dt.date
    status: str
    legal_representative: str
    legal_representative_id_number: str
    reports: dict[int, dt.date] = field(default_factory=dict)
    areas: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ListingSpec:
    enterprise_id: int
    reason: str
    year: int
    is_mark: bool
    cause_date: dt.date
    decided_on: dt.date
    decision_number: str
    office: str
    authority_name: str
    legal_basis: str
    remedies: str
    facts: str
    removed_on: dt.date | None = None
    removal_decision_number: str = ""
    removal_reason: str = ""
    removal_note: str = ""
    reminder_published_on: dt.date | None = None

    def open_on(self, day: dt.date) -> bool:
        return self.decided_on <= day and (self.removed_on is None or self.removed_on > day)

    def row(self, now: Any) -> tuple[Any, ...]:
        return (
            now, now, self.enterprise_id, self.reason, self.year, self.is_mark, _iso(self.cause_date),
            _iso(self.decided_on), self.decision_number, self.office, self.authority_name, self.legal_basis,
            self.remedies, self.facts, "listed" if self.removed_on is None else "removed", _iso(self.removed_on),
            self.removal_decision_number, self.removal_reason, self.removal_note, _iso(self.reminder_published_on),
        )  # fmt: skip


@dataclass(slots=True)
class SeriousSpec:
    enterprise_id: int
    ground: str
    office: str
    authority_name: str
    legal_basis: str
    facts: str
    notice_number: str
    noticed_on: dt.date
    statement_due: dt.date
    source_penalty: tuple[int, str] | None = None  # (department id, decision number)
    source_abnormal: str | None = None  # decision number
    stage: str = "notice"
    statement: str = ""
    hearing_requested: bool = False
    decision_number: str = ""
    decided_on: dt.date | None = None
    listed_until: dt.date | None = None
    removed_on: dt.date | None = None
    removal_kind: str = ""
    removal_decision_number: str = ""
    hidden_from_public: bool = False
    # (kind, person name, person ID number)
    restrictions: list[tuple[str, str, str]] = field(default_factory=list)

    def row(self, now: Any, penalty_id: int | None, abnormal_id: int | None) -> tuple[Any, ...]:
        return (
            now, now, self.enterprise_id, self.ground, penalty_id, abnormal_id, self.office, self.authority_name,
            self.legal_basis, self.facts, self.stage, self.notice_number, _iso(self.noticed_on),
            _iso(self.statement_due), self.statement, self.hearing_requested, self.decision_number,
            _iso(self.decided_on), _iso(self.listed_until), _iso(self.removed_on), self.removal_kind,
            self.removal_decision_number, self.hidden_from_public,
        )  # fmt: skip

    def restriction_rows(self, now: Any, listing_id: int) -> Iterator[tuple[Any, ...]]:
        if self.decided_on is None or self.listed_until is None or self.stage not in ("listed", "removed"):
            return
        ended = self.removed_on
        for kind, person, id_number in self.restrictions:
            yield (
                now, now, self.enterprise_id, listing_id, kind, person, id_number, _iso(self.decided_on),
                _iso(self.listed_until), _iso(ended),
            )  # fmt: skip


@dataclass
class ChunkRecords:
    """One chunk of entities' records, and the document counters as they stand after it (written with it)."""

    entities: int = 0
    penalties: list[tuple[Any, ...]] = field(default_factory=list)
    listings: list[ListingSpec] = field(default_factory=list)
    serious: list[SeriousSpec] = field(default_factory=list)
    sequences: dict[tuple[str, str, int], int] = field(default_factory=dict)


# ==============================================================================================================
# The generator
# ==============================================================================================================


def _randint(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _pick(rng: random.Random, items: Sequence[Any]) -> Any:
    return items[int(rng.random() * len(items))]


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method (lam is small here): the number of events of a Poisson process."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class DisclosureDemo:
    """Generates the disclosure records of one entity at a time; keeps the document counters."""

    def __init__(self, *, today: dt.date, rng: random.Random, now: Any) -> None:

        self.today = today
        self.rng = rng
        self.now = now  # the created_at / updated_at of every row, as the database adapter wants it
        self.policies = list(DisclosurePolicy.objects.all())
        self.calendar = WorkingCalendar.load()
        self._working_days: dict[tuple[dt.date, int], dt.date | None] = {}  # ~3,000 distinct days since 2019
        self.report_years = report_years(today)
        self.offices = jobs.offices()
        # The deciding departments of penalties: the county bureaus and the city bureau.
        self.departments: dict[str, Any] = {}
        for code, office in self.offices.items():
            if office.region.level == "province":
                continue
            self.departments[code], _ = Department.objects.get_or_create(
                code=f"amr-{code}", defaults={"name": office.authority_name, "region_code": code}
            )
        self.city = next(code for code, o in self.offices.items() if o.region.level == "city")
        # Continue every running number: document sequences, and penalty numbers per department and year.
        self.sequences: dict[tuple[str, str, int], int] = {
            (s.office_id, s.doc_type, s.year): s.last_number for s in DocumentSequence.objects.all()
        }
        self.touched: set[tuple[str, str, int]] = set()
        self.penalty_numbers: Counter[tuple[int, int]] = Counter()
        for department_id, decided in Penalty.objects.values_list("department_id", "decision_date"):
            self.penalty_numbers[(department_id, decided.year)] += 1
        self.counts: Counter[str] = Counter()

    # --- small helpers ------------------------------------------------------------------------------------
    def number(self, office: str, doc_type: str, year: int) -> str:
        key = (office, doc_type, year)
        self.sequences[key] = self.sequences.get(key, 0) + 1
        self.touched.add(key)
        return numbering.format_number(self.offices[office].region, doc_type, year, self.sequences[key])

    def take_sequences(self) -> dict[tuple[str, str, int], int]:
        """The counters changed since the last call (written with the chunk that used them)."""
        changed = {key: self.sequences[key] for key in sorted(self.touched)}
        self.touched.clear()
        return changed

    def working_days_after(self, day: dt.date, n: int) -> dt.date | None:
        key = (day, n)
        if key not in self._working_days:
            try:
                self._working_days[key] = self.calendar.add_working_days(day, n)
            except CalendarUnavailable:
                # A year without a schedule: the step that needs the date did not happen (yet).
                self._working_days[key] = None
        return self._working_days[key]

    def date_between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return start
        return start + dt.timedelta(days=_randint(self.rng, 0, (end - start).days))

    # --- one entity ---------------------------------------------------------------------------------------
    def entity(self, e: Entity, out: ChunkRecords) -> None:
        heavy = self.penalties(e, out)
        if heavy is not None:
            self.serious_violation(e, heavy, out)
        self.listings(e, out)

    # --- penalties ----------------------------------------------------------------------------------------
    def penalties(self, e: Entity, out: ChunkRecords) -> tuple[int, str, dt.date, str] | None:
        """The entity's penalties; returns the first heavy one that led to a serious-list procedure, if any."""
        rng = self.rng
        start = max(e.registration_date, HISTORY_FROM)
        if start >= self.today:
            return None
        years = (self.today - start).days / 365.25
        count = _poisson(rng, PENALTY_RATE[e.entity_type] * years)
        domain = next((KEY_AREA_DOMAIN[a] for a in e.areas if a in KEY_AREA_DOMAIN), "other")
        serious_source = None
        for decided in sorted(self.date_between(start, self.today) for _ in range(count)):
            heavy = self.penalty(e, decided, domain, out)
            if heavy is not None and serious_source is None and rng.random() < SERIOUS_FROM_HEAVY:
                serious_source = heavy
        return serious_source

    def penalty(
        self, e: Entity, decided: dt.date, domain: str, out: ChunkRecords
    ) -> tuple[int, str, dt.date, str] | None:

        rng = self.rng
        individual = e.entity_type == "individual"
        procedure = "summary" if rng.random() < SUMMARY_SHARE else "ordinary"
        amount: Decimal | None = None
        if procedure == "summary":
            if rng.random() < 0.5:
                kinds = ["warning"]
            else:
                kinds = ["fine"]
                amount = Decimal(_pick(rng, (50, 100, 200) if individual else (500, 1000, 2000, 3000)))
        else:
            roll = rng.random()
            heavy_share = 0.08 if domain != "other" else 0.04
            if roll < 0.08:
                kinds = ["warning"]
            elif roll < 0.09:
                kinds = ["circulated_criticism"]
            elif roll < 1 - heavy_share:
                kinds = ["fine"]
                if rng.random() < 0.2:
                    kinds.append("confiscation")
                if rng.random() < 0.15:
                    kinds.insert(0, "warning")
                median = 2000 if individual else 8000
                raw = max(rng.lognormvariate(math.log(median), 1.1), 100)
                amount = Decimal(int(round(raw, -2)) or 100)
            else:
                kinds = ["fine", "confiscation", _pick(rng, HEAVY_BY_DOMAIN[domain])]
                raw = max(rng.lognormvariate(math.log(150_000), 0.8), 10_000)
                amount = Decimal(int(round(raw, -3)))
        region = e.region if rng.random() < 0.9 else self.city
        department = self.departments[region]
        self.penalty_numbers[(department.pk, decided.year)] += 1
        number = (
            f"{numbering.office_prefix(self.offices[region].region)}罚〔{decided.year}〕"
            f"{self.penalty_numbers[(department.pk, decided.year)]}号"
        )
        violation, basis = _pick(rng, VIOLATIONS[domain])
        restriction_until = None
        if "employment_restriction" in kinds:  # e.g. 食品安全法 第一百三十五条: five years
            restriction_until = add_months(decided, 60) - DAY
        content = "；".join(
            f"罚款人民币{amount:,.2f}元" if k == "fine" and amount is not None else KIND_TEXT.get(k, k) for k in kinds
        )
        recorded = min(decided + dt.timedelta(days=_randint(rng, 1, 12)), self.today)
        facts = PenaltyFacts(
            decision_date=decided,
            procedure=procedure,
            kinds=frozenset(kinds),
            fine_amount=amount,
            domain=domain,
            party_is_individual=individual,
            restriction_until=restriction_until,
        )
        outcome = decide(facts, disclosed_from=recorded, policies=self.policies)
        until, policy, tier, repair = (
            outcome.disclosed_until,
            outcome.policy,
            outcome.tier,
            outcome.repair_possible_from,
        )
        reviewed = recorded
        if outcome.disclosed:
            # The nightly review: a later lenient policy shortens a disclosure still running when it takes effect.
            for later in sorted(self.policies, key=lambda p: p.effective_from):
                if not (recorded < later.effective_from <= self.today) or until < later.effective_from - DAY:
                    continue
                again = decide(
                    facts, disclosed_from=recorded, policies=self.policies, considered_on=later.effective_from
                )
                reviewed = later.effective_from
                if again.disclosed_until < until:
                    until, policy, tier, repair = (
                        again.disclosed_until,
                        again.policy,
                        again.tier,
                        again.repair_possible_from,
                    )
        status, withdrawn_at, withdrawal_reason = "in_force", None, ""
        ended, end_reason = None, ""
        if procedure == "ordinary" and rng.random() < WITHDRAWN_SHARE:
            withdrawn_on = decided + dt.timedelta(days=_randint(rng, 20, 180))
            if withdrawn_on <= self.today:
                status, withdrawal_reason = "withdrawn", "行政复议决定撤销原行政处罚决定"
                withdrawn_at = connection.ops.adapt_datetimefield_value(
                    dt.datetime.combine(withdrawn_on, dt.time(2, 0), tzinfo=dt.UTC)
                )
                if outcome.disclosed and until >= withdrawn_on:
                    ended, end_reason = withdrawn_on, "withdrawn"
        if outcome.disclosed and ended is None and until < self.today:
            ended, end_reason = until + DAY, "expired"  # the nightly expiry ran the day after the last day
        due_by = None
        if outcome.disclosed and policy is not None:
            due_by = self.working_days_after(decided, policy.disclosure_deadline_working_days)
        canonical = _canonical(
            {
                "uscc": e.uscc,
                "decision_date": decided,
                "procedure": procedure,
                "kinds": kinds,
                "fine_amount": amount,
                "domain": domain,
                "violation_type": violation,
                "legal_basis": basis,
                "content": content,
                "authority_name": department.name,
                "restriction_until": restriction_until,
            }
        )
        row = (
            self.now, self.now, e.id, department.pk, number, decided.isoformat(), procedure, json.dumps(kinds),
            None if amount is None else str(amount), domain, violation, basis, content, department.name,
            f"{_pick(rng, CASE_OFFICER_SURNAMES)}某某", _iso(restriction_until), content_hash(canonical), status,
            withdrawn_at, withdrawal_reason, policy.pk if policy is not None else None, tier, outcome.disclosed,
            outcome.not_disclosed_reason, _iso(outcome.disclosed_from), _iso(until), _iso(due_by), _iso(repair),
            reviewed.isoformat(), _iso(ended), end_reason,
        )  # fmt: skip
        out.penalties.append(row)
        self.counts["penalties"] += 1
        is_heavy = procedure == "ordinary" and bool(set(kinds) & HEAVY_KINDS) and status == "in_force"
        return (department.pk, number, decided, violation) if is_heavy else None

    # --- the serious list on a heavy penalty ----------------------------------------------------------------
    def serious_violation(self, e: Entity, source: tuple[int, str, dt.date, str], out: ChunkRecords) -> None:

        rng = self.rng
        department_id, penalty_number, decided, violation = source
        if e.status == "deregistered":
            return
        noticed = decided + dt.timedelta(days=_randint(rng, 7, 25))
        due = self.working_days_after(noticed, 5)
        if noticed > self.today or due is None:
            return
        office = self.offices[e.region]
        spec = SeriousSpec(
            enterprise_id=e.id,
            ground="serious_violation",
            office=e.region,
            authority_name=office.authority_name,
            legal_basis=texts.SERIOUS_LEGAL_BASIS["serious_violation"],
            facts=f"该主体{violation}，受到较重行政处罚（{penalty_number}），情节严重。",
            notice_number=self.number(e.region, numbering.SERIOUS_NOTICE, noticed.year),
            noticed_on=noticed,
            statement_due=due,
            source_penalty=(department_id, penalty_number),
        )
        decision_day = due + dt.timedelta(days=_randint(rng, 1, 10))
        if decision_day > self.today:
            out.serious.append(spec)  # still in its notice stage
            self.counts["serious_notices"] += 1
            return
        if rng.random() < SERIOUS_NOT_LISTED:
            spec.statement = _pick(rng, STATEMENTS)
            spec.hearing_requested = "听证" in spec.statement
            spec.stage, spec.decided_on = "not_listed", decision_day
            out.serious.append(spec)
            self.counts["serious_not_listed"] += 1
            return
        self.decide(spec, decision_day, personal=None)
        out.serious.append(spec)

    def decide(self, spec: SeriousSpec, day: dt.date, *, personal: tuple[str, str] | None) -> None:
        """List `spec` on `day` for 3 years with its restrictions; then what happened since (expiry, early repair)."""

        spec.stage, spec.decided_on = "listed", day
        spec.decision_number = self.number(spec.office, numbering.SERIOUS_IN, day.year)
        spec.listed_until = add_months(day, 36) - DAY
        spec.restrictions = [(k, "", "") for k in ("no_honours", "no_subsidies", "no_procurement", "key_supervision")]
        if personal is not None:
            spec.restrictions.append(("no_legal_representative", *personal))
        self.counts["serious_listed"] += 1
        self.counts["restrictions"] += len(spec.restrictions)
        if spec.listed_until < self.today:
            spec.stage, spec.removed_on, spec.removal_kind = "removed", spec.listed_until + DAY, "expired"
        elif add_months(day, 12) <= self.today and self.rng.random() < SERIOUS_EARLY_REMOVAL:
            spec.stage, spec.removal_kind, spec.hidden_from_public = "removed", "early_repair", True
            spec.removed_on = self.date_between(add_months(day, 12), min(self.today, spec.listed_until))
        if spec.removed_on is not None:
            spec.removal_decision_number = self.number(spec.office, numbering.SERIOUS_OUT, spec.removed_on.year)
            self.counts[f"serious_removed_{spec.removal_kind}"] += 1

    # --- the abnormal list ----------------------------------------------------------------------------------
    def new_listing(
        self, e: Entity, *, reason: str, year: int, cause: dt.date, decided: dt.date, facts: str
    ) -> ListingSpec:

        is_mark = e.entity_type == "individual"
        doc_type = numbering.ABNORMAL_MARK if is_mark else numbering.ABNORMAL_IN
        office = self.offices[e.region]
        return ListingSpec(
            enterprise_id=e.id,
            reason=reason,
            year=year,
            is_mark=is_mark,
            cause_date=cause,
            decided_on=decided,
            decision_number=self.number(e.region, doc_type, decided.year),
            office=e.region,
            authority_name=office.authority_name,
            legal_basis=texts.abnormal_legal_basis(e.entity_type, reason),
            remedies=office.remedies,
            facts=facts,
        )

    def remove(self, listing: ListingSpec, day: dt.date, reason: str, note: str, number: str | None = None) -> str:
        listing.removed_on = day
        listing.removal_reason = reason
        listing.removal_note = note
        listing.removal_decision_number = number or self.number(listing.office, numbering.ABNORMAL_OUT, day.year)
        return listing.removal_decision_number

    def listings(self, e: Entity, out: ChunkRecords) -> None:

        rng = self.rng
        alive = e.status in ("operating", "suspended")
        annual: list[ListingSpec] = []
        owed = [y for y in self.report_years if e.registration_date <= dt.date(y, 12, 31)]
        if alive:
            # Older years (before the registry's report data): chronic non-filers still listed, a few cured.
            chronic = len(owed) == 2 and not any(y in e.reports for y in owed)
            first_old, last_old = max(e.registration_date.year, HISTORY_FROM.year - 1), self.today.year - 3
            if first_old <= last_old and (
                (chronic and rng.random() < CHRONIC_OLD_LISTING) or (not chronic and rng.random() < CURED_OLD_LISTING)
            ):
                year = _randint(rng, first_old, last_old)
                listing = self.new_listing(
                    e,
                    reason="annual_report",
                    year=year,
                    cause=dt.date(year + 1, 6, 30),
                    decided=dt.date(year + 1, 7, 1),
                    facts=missing_annual_report_facts(year, is_mark=e.entity_type == "individual"),
                )
                if not chronic:
                    cured_on = listing.decided_on + dt.timedelta(days=_randint(rng, 10, 300))
                    self.remove(listing, min(cured_on, self.today), "cured", texts.ABNORMAL_REMOVAL_TEXT["cured"])
                annual.append(listing)
            # The registry's report years: listed on 1 July unless filed by 30 June (as the nightly job does).
            for year in owed:
                listed_on = dt.date(year + 1, 7, 1)
                filed = e.reports.get(year)
                if listed_on > self.today or (filed is not None and filed < listed_on):
                    continue
                annual.append(
                    self.new_listing(
                        e,
                        reason="annual_report",
                        year=year,
                        cause=dt.date(year + 1, 6, 30),
                        decided=listed_on,
                        facts=missing_annual_report_facts(year, is_mark=e.entity_type == "individual"),
                    )
                )
            # Removal (即申即办) on the day every missing report has been filed, all open entries under one decision.
            for year, filed in sorted(e.reports.items(), key=lambda item: item[1]):
                open_entries = [x for x in annual if x.open_on(filed) and x.decided_on <= filed]
                if not open_entries or year not in {x.year for x in open_entries}:
                    continue
                filed_years = {y for y, f in e.reports.items() if f <= filed}
                if all(x.year in filed_years for x in open_entries):
                    number = None
                    for entry in open_entries:
                        number = self.remove(entry, filed, "cured", texts.ABNORMAL_REMOVAL_TEXT["cured"], number)
        unreachable: list[ListingSpec] = []
        # Not for an entity with an old open entry: its second 3-year procedure would wait on the first (the job's
        # one-procedure rule), which a demo generated in one pass does not replay.
        old_open = any(x.removed_on is None and x.year < self.today.year - 2 for x in annual)
        if e.status == "operating" and not old_open and rng.random() < UNREACHABLE[e.entity_type]:
            earliest = max(e.registration_date + dt.timedelta(days=90), HISTORY_FROM)
            latest = self.today - dt.timedelta(days=15)
            if earliest < latest:
                cause = self.date_between(earliest, latest)
                listing = self.new_listing(
                    e,
                    reason="unreachable",
                    year=0,
                    cause=cause,
                    decided=cause + dt.timedelta(days=_randint(rng, 2, 12)),
                    facts=UNREACHABLE_FACTS,
                )
                if rng.random() < 0.55:
                    cured_on = listing.decided_on + dt.timedelta(days=_randint(rng, 20, 600))
                    if cured_on <= self.today:
                        self.remove(listing, cured_on, "cured", REMOVED_UNREACHABLE_NOTE)
                unreachable.append(listing)
        entries = annual + unreachable
        self.three_year_rule(e, entries, out)
        out.listings.extend(entries)
        for entry in entries:
            self.counts["marks" if entry.is_mark else "listings"] += 1

    def three_year_rule(self, e: Entity, entries: list[ListingSpec], out: ChunkRecords) -> None:
        """Reminder 60 days before 3 years, notice on the anniversary, decision after the statement window (the
        nightly jobs' dates); one procedure per entity."""

        if not entries:
            return
        escalated = False
        for entry in sorted(entries, key=lambda x: (x.decided_on, x.decision_number)):
            if entry.is_mark:
                continue
            anniversary = add_months(entry.decided_on, 36)
            reminder = anniversary - dt.timedelta(days=60)
            if reminder <= self.today and entry.open_on(reminder):
                entry.reminder_published_on = reminder
            if escalated or anniversary > self.today or not entry.open_on(anniversary) or e.status == "deregistered":
                continue
            due = self.working_days_after(anniversary, 5)
            if due is None:
                continue
            office = self.offices[e.region]
            spec = SeriousSpec(
                enterprise_id=e.id,
                ground="abnormal_3_years",
                office=e.region,
                authority_name=office.authority_name,
                legal_basis=texts.SERIOUS_LEGAL_BASIS["abnormal_3_years"],
                facts=three_years_facts(entry.decided_on, entry.decision_number),
                notice_number=self.number(e.region, numbering.SERIOUS_NOTICE, anniversary.year),
                noticed_on=anniversary,
                statement_due=due,
                source_abnormal=entry.decision_number,
            )
            escalated = True
            decision_day = due + DAY
            if decision_day <= self.today:
                self.decide(spec, decision_day, personal=(e.legal_representative, e.legal_representative_id_number))
                self.remove(entry, decision_day, "escalated", f"已列入严重违法失信名单（{spec.decision_number}）")
            else:
                self.counts["serious_notices"] += 1
            out.serious.append(spec)


# ==============================================================================================================
# Reading and writing
# ==============================================================================================================


def _entity_chunks(*, start_after: int, size: int) -> Iterator[list[Entity]]:
    """The population in id order, a chunk at a time, with reports and key areas (range queries: portable)."""

    after = start_after
    through = Enterprise.key_areas.through
    while True:
        rows = list(
            Enterprise.objects.filter(id__gt=after)
            .order_by("id")
            .values_list(
                "id", "uscc", "entity_type", "region_id", "registration_date", "status", "legal_representative",
                "legal_representative_id_number",
            )[:size]
        )  # fmt: skip
        if not rows:
            return
        entities = {row[0]: Entity(*row) for row in rows}
        low, high = rows[0][0], rows[-1][0]
        for enterprise_id, year, filed in AnnualReport.objects.filter(
            enterprise_id__gte=low, enterprise_id__lte=high
        ).values_list("enterprise_id", "year", "filed_on"):
            entities[enterprise_id].reports[year] = filed
        for enterprise_id, area in (
            through.objects.filter(enterprise_id__gte=low, enterprise_id__lte=high)
            .order_by("id")
            .values_list("enterprise_id", "keyarea_id")
        ):
            entities[enterprise_id].areas.append(area)
        yield list(entities.values())
        after = high


def _write(records: ChunkRecords, targets: dict[str, CopyTarget], now: Any) -> None:
    """One chunk's records in one transaction: penalties and listings, then the serious listings that cite them
    (ids looked up by their unique numbers), then their restrictions, then the document counters."""
    with transaction.atomic():
        targets["penalties"].copy(records.penalties)
        targets["listings"].copy(listing.row(now) for listing in records.listings)
        penalty_ids: dict[tuple[int, str], int] = {}
        wanted = [s.source_penalty for s in records.serious if s.source_penalty is not None]
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            for pk, department_id, number in Penalty.objects.filter(
                decision_number__in=[n for _d, n in part]
            ).values_list("pk", "department_id", "decision_number"):
                penalty_ids[(department_id, number)] = pk
        numbers = [s.source_abnormal for s in records.serious if s.source_abnormal is not None]
        listing_ids: dict[str, int] = {}
        for start in range(0, len(numbers), 500):
            listing_ids.update(
                AbnormalListing.objects.filter(decision_number__in=numbers[start : start + 500]).values_list(
                    "decision_number", "pk"
                )
            )
        targets["serious"].copy(
            s.row(
                now,
                penalty_ids[s.source_penalty] if s.source_penalty is not None else None,
                listing_ids[s.source_abnormal] if s.source_abnormal is not None else None,
            )
            for s in records.serious
        )
        serious_ids = dict(
            SeriousListing.objects.filter(notice_number__in=[s.notice_number for s in records.serious]).values_list(
                "notice_number", "pk"
            )
        )
        targets["restrictions"].copy(
            row for s in records.serious for row in s.restriction_rows(now, serious_ids[s.notice_number])
        )
        if records.sequences:
            DocumentSequence.objects.bulk_create(
                [
                    DocumentSequence(office_id=office, doc_type=doc_type, year=year, last_number=last)
                    for (office, doc_type, year), last in records.sequences.items()
                ],
                update_conflicts=True,
                unique_fields=["office", "doc_type", "year"],
                update_fields=["last_number"],
            )


@demo_step("disclosure", order=200)
def load_disclosure(ctx: SeedContext) -> None:
    """Penalties, abnormal listings and marks, serious listings and restrictions for the seeded population."""

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    targets = {
        "penalties": CopyTarget.of(Penalty, PENALTY_COLUMNS, now=now),
        "listings": CopyTarget.of(AbnormalListing, LISTING_COLUMNS, now=now),
        "serious": CopyTarget.of(SeriousListing, SERIOUS_COLUMNS, now=now),
        "restrictions": CopyTarget.of(Restriction, RESTRICTION_COLUMNS, now=now),
    }
    # Only the population this run added (seed_demo --force adds a second one after the first).
    start_after = 0
    if ctx.serial_offset:
        start_after = Enterprise.objects.order_by("id").values_list("id", flat=True)[ctx.serial_offset - 1]
    demo = DisclosureDemo(today=ctx.today, rng=ctx.rng("disclosure"), now=now)
    started = time.perf_counter()
    progress = {"done": 0, "next": 100_000}

    def produce() -> Iterator[ChunkRecords]:
        for chunk in _entity_chunks(start_after=start_after, size=ctx.chunk_size):
            records = ChunkRecords(entities=len(chunk))
            for entity in chunk:
                demo.entity(entity, records)
            records.sequences = demo.take_sequences()
            yield records

    def write(records: ChunkRecords) -> None:
        _write(records, targets, now)
        progress["done"] += records.entities
        if progress["done"] >= progress["next"]:
            ctx.log(f"  {progress['done']:>9,} entities: disclosure records ({time.perf_counter() - started:.0f} s)")
            progress["next"] += 100_000

    # As the registry step: PostgreSQL ingests one chunk while Python generates the next (not inside a caller's
    # transaction, which a second connection could not see; SQLite has one writer anyway).
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        write_pipelined(produce(), write)
    else:
        for records in produce():
            write(records)
    done = progress["done"]
    counts = dict(sorted(demo.counts.items()))
    with transaction.atomic():
        audit_log(
            actor=None,
            action="demo.seed",
            object_type="disclosure.penalty",
            object_id="*",
            object_repr=f"demo disclosure records for {done} entities (seed {ctx.seed})",
            after={"today": ctx.today, **counts},
            source="command",
        )
    ctx.summary.setdefault("counts", {}).update(
        {key: counts.get(key, 0) for key in ("penalties", "listings", "marks", "serious_listed", "restrictions")}
    )
    ctx.summary["disclosure"] = counts
