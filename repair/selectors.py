"""Reads of credit repair: an entity's repairable records with the rules' answer for each, the facts the rules
need, the policy in force, the deadlines in working days, and the staff review queue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from core.calendar import CalendarUnavailable, WorkingCalendar
from core.errors import ApplicationError
from disclosure import selectors as public
from disclosure.models import AbnormalListing, Penalty, SeriousListing
from disclosure.policies import add_months
from disclosure.services.listings import heavier_penalties_since, serious_early_removal_from
from disclosure.texts import authority_name
from enterprises.models import AnnualReport, Enterprise, Region
from inspections.models import Result
from repair import rules
from repair.models import CountyRepairSetting, RepairApplication, RepairPolicy

Kind = RepairApplication.Kind
Record = Penalty | AbnormalListing | SeriousListing | Result


def _ymd(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- policy and deadlines -----------------------------------------------------------------------------------------
def policy_in_force(on: dt.date) -> RepairPolicy:
    """The repair policy in force on `on` (the filing day decides an application's deadlines)."""
    policy = RepairPolicy.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    if policy is None:
        raise ApplicationError(f"{_ymd(on)}没有施行中的信用修复规定，请联系登记机关。", code="no_repair_policy")
    return policy


def decision_working_days(*, kind: str, policy: RepairPolicy, office: Region) -> int:
    """Working days to decide after acceptance: 15 (2021) or 7 (2025) for penalties and the serious list; 5 for the
    abnormal list, or the county's own shorter period (seed 003: 3)."""
    if kind == Kind.ABNORMAL_REMOVAL:
        setting = CountyRepairSetting.objects.filter(office=office).first()
        return setting.abnormal_decision_working_days if setting else policy.abnormal_decision_working_days
    return policy.decision_working_days


@dataclass(frozen=True)
class Due:
    """A deadline, or why it cannot be computed yet (a year whose official calendar is not published)."""

    on: dt.date | None
    note: str = ""


def due_after(start: dt.date, working_days: int, *, calendar: WorkingCalendar | None = None) -> Due:
    try:
        return Due((calendar or WorkingCalendar.load()).add_working_days(start, working_days))
    except CalendarUnavailable as exc:
        # The application goes on; the deadline is shown as not yet computable and staff see why.
        return Due(None, f"期限无法计算：{exc.message}")


# --- the records of an entity and what the rules say about each ---------------------------------------------------
@dataclass(frozen=True)
class RepairableRecord:
    """One of an entity's current records, with the rules' answer and any application being handled."""

    kind: str
    record: Record
    label: str
    office: Region
    authority: str
    eligibility: rules.Eligibility
    open_application: RepairApplication | None = None

    @property
    def target_type(self) -> str:
        return target_type_of(self.record)

    @property
    def may_apply_now(self) -> bool:
        return self.eligibility.may_apply and self.open_application is None


def target_type_of(record: Record) -> str:
    if isinstance(record, Penalty):
        return "penalty"
    if isinstance(record, AbnormalListing):
        return "abnormal"
    if isinstance(record, Result):
        return "inspection"
    return "serious"


def target_key(record: Record) -> str:
    return f"{target_type_of(record)}:{record.pk}"


def kind_of(record: Record) -> str:
    return {
        "penalty": Kind.PENALTY_EARLY_STOP,
        "abnormal": Kind.ABNORMAL_REMOVAL,
        "serious": Kind.SERIOUS_EARLY_REMOVAL,
        "inspection": Kind.INSPECTION_RESULT,
    }[target_type_of(record)]


def record_label(record: Record) -> str:
    if isinstance(record, Penalty):
        return f"行政处罚 {record.decision_number}（{record.violation_type}，{_ymd(record.decision_date)}）"
    if isinstance(record, AbnormalListing):
        noun = "标记经营异常状态" if record.is_mark else "列入经营异常名录"
        return f"{noun} {record.decision_number}（{record.get_reason_display()}，{_ymd(record.decided_on)}）"
    if isinstance(record, Result):
        return f"抽查检查结果 {record.plan.name}（{record.get_outcome_display()}，{_ymd(record.inspected_on)}）"
    assert record.decided_on is not None
    return f"列入严重违法失信名单 {record.decision_number}（{_ymd(record.decided_on)}）"


def responsible_office(record: Record) -> tuple[Region, str]:
    """The office that decided the record and repairs it (谁认定、谁修复), with the authority's name."""
    if isinstance(record, Penalty):
        code = record.department.region_code or settings.PORTAL_CITY_REGION_CODE
        office = Region.objects.filter(code=code).first() or Region.objects.get(code=settings.PORTAL_CITY_REGION_CODE)
        return office, record.authority_name or record.department.name
    if isinstance(record, Result):
        return record.plan.region, authority_name(record.plan.region)
    return record.office, record.authority_name


def is_repeat_offender(enterprise: Enterprise, *, on: dt.date, policy: RepairPolicy) -> bool:
    """多次违法失信 (seed 002 §12): at least N disclosed, non-minor penalties decided within the policy's window."""
    since = add_months(on, -policy.repeat_offender_window_months)
    count = (
        Penalty.objects.filter(
            enterprise=enterprise,
            status=Penalty.Status.IN_FORCE,
            disclosed=True,
            decision_date__gte=since,
            decision_date__lte=on,
        )
        .exclude(tier=Penalty.Tier.MINOR)
        .count()
    )
    return count >= policy.repeat_offender_penalties


def _on_lists(enterprise: Enterprise, *, on: dt.date) -> tuple[bool, bool]:
    abnormal = AbnormalListing.objects.filter(enterprise=enterprise)
    on_abnormal = public.public_abnormal(abnormal, on=on).exists() or public.public_marks(abnormal, on=on).exists()
    on_serious = public.public_serious(SeriousListing.objects.filter(enterprise=enterprise), on=on).exists()
    return on_abnormal, on_serious


def penalty_facts(penalty: Penalty, *, on: dt.date, policy: RepairPolicy) -> rules.PenaltyRepairFacts:
    enterprise = penalty.enterprise
    shown = public.public_penalties(Penalty.objects.filter(pk=penalty.pk), on=on).exists()
    on_abnormal, on_serious = _on_lists(enterprise, on=on)
    repeated = (
        Penalty.objects.filter(
            enterprise=enterprise,
            status=Penalty.Status.IN_FORCE,
            violation_type=penalty.violation_type,
            decision_date__gt=penalty.decision_date,
        )
        .exclude(pk=penalty.pk)
        .exists()
    )
    return rules.PenaltyRepairFacts(
        scheme=penalty.policy.scheme if penalty.policy_id else None,
        tier=penalty.tier,
        kinds=frozenset(penalty.kinds),
        domain=penalty.domain,
        shown=shown,
        disclosed_from=penalty.disclosed_from,
        repair_possible_from=penalty.repair_possible_from,
        on_abnormal_list=on_abnormal,
        on_serious_list=on_serious,
        repeated_violation=repeated,
        repeat_offender=is_repeat_offender(enterprise, on=on, policy=policy),
    )


def abnormal_facts(listing: AbnormalListing, *, on: dt.date) -> rules.AbnormalRepairFacts:
    missing: tuple[int, ...] = ()
    active = listing.status == AbnormalListing.Status.LISTED and listing.decided_on <= on
    if active and listing.reason == AbnormalListing.Reason.ANNUAL_REPORT:
        # Every open annual-report entry of the entity is removed together, so every one of their years counts.
        years = set(
            AbnormalListing.objects.filter(
                enterprise_id=listing.enterprise_id,
                reason=AbnormalListing.Reason.ANNUAL_REPORT,
                status=AbnormalListing.Status.LISTED,
            ).values_list("year", flat=True)
        )
        filed = set(
            AnnualReport.objects.filter(enterprise_id=listing.enterprise_id, year__in=years).values_list(
                "year", flat=True
            )
        )
        missing = tuple(sorted(years - filed))
    return rules.AbnormalRepairFacts(
        active=active, reason=listing.reason, is_mark=listing.is_mark, missing_years=missing
    )


def serious_facts(listing: SeriousListing, *, on: dt.date, policy: RepairPolicy) -> rules.SeriousRepairFacts:
    listed = public.public_serious(SeriousListing.objects.filter(pk=listing.pk), on=on).exists()
    heavier = False
    early_from = None
    if listed and listing.decided_on is not None:
        early_from = serious_early_removal_from(listing)
        heavier = heavier_penalties_since(listing).exists()
    return rules.SeriousRepairFacts(
        listed=listed,
        early_from=early_from,
        further_heavier_penalty=heavier,
        repeat_offender=is_repeat_offender(listing.enterprise, on=on, policy=policy),
    )


def inspection_facts(result: Result, *, on: dt.date, policy: RepairPolicy) -> rules.InspectionRepairFacts:
    shown = Result.objects.shown(on).filter(pk=result.pk).exists()
    repairable_from = None
    if not policy.inspection_results_repairable:
        later = (
            RepairPolicy.objects.filter(effective_from__gt=policy.effective_from, inspection_results_repairable=True)
            .order_by("effective_from")
            .first()
        )
        repairable_from = later.effective_from if later else None
    _, on_serious = _on_lists(result.enterprise, on=on)
    return rules.InspectionRepairFacts(
        shown=shown,
        negative=result.outcome in Result.NEGATIVE_OUTCOMES,
        repairable=policy.inspection_results_repairable,
        repairable_from=repairable_from,
        on_serious_list=on_serious,
        repeat_offender=is_repeat_offender(result.enterprise, on=on, policy=policy),
    )


def eligibility(record: Record, *, on: dt.date, policy: RepairPolicy | None = None) -> rules.Eligibility:
    """The rules' answer for one record on day `on` (before submission, and again at decision)."""
    policy = policy or policy_in_force(on)
    if isinstance(record, Penalty):
        return rules.penalty_eligibility(
            penalty_facts(record, on=on, policy=policy), on=on, repeat_extra_months=policy.repeat_offender_extra_months
        )
    if isinstance(record, AbnormalListing):
        return rules.abnormal_eligibility(abnormal_facts(record, on=on))
    if isinstance(record, Result):
        return rules.inspection_eligibility(inspection_facts(record, on=on, policy=policy), on=on)
    return rules.serious_eligibility(serious_facts(record, on=on, policy=policy), on=on)


def current_records(enterprise: Enterprise) -> list[Record]:
    """The entity's records that are (or may still be) in force: penalties shown, listings and marks active,
    serious listings shown. Penalties no longer shown are not listed: there is nothing to repair."""
    today = _today()
    penalties = list(
        public.public_penalties(Penalty.objects.filter(enterprise=enterprise), on=today)
        .select_related("department", "policy", "enterprise")
        .order_by("-decision_date", "-id")
    )
    abnormal = list(
        AbnormalListing.objects.filter(enterprise=enterprise, status=AbnormalListing.Status.LISTED)
        .select_related("office", "enterprise")
        .order_by("-decided_on", "-id")
    )
    serious = list(
        public.public_serious(SeriousListing.objects.filter(enterprise=enterprise), on=today)
        .select_related("office", "enterprise")
        .order_by("-decided_on", "-id")
    )
    inspections = list(
        Result.objects.shown(today)
        .filter(enterprise=enterprise, outcome__in=Result.NEGATIVE_OUTCOMES)
        .select_related("plan__region", "enterprise")
        .order_by("-inspected_on", "-id")
    )
    return [*serious, *abnormal, *penalties, *inspections]


def _today() -> dt.date:
    from django.utils import timezone

    return timezone.localdate()


def repairable_records(enterprise: Enterprise, *, on: dt.date | None = None) -> list[RepairableRecord]:
    """Every current record of the entity with whether it may apply now, why not and from when, and the
    application being handled for it, if any (the portal's first page, the API's eligibility answer)."""
    on = on or _today()
    policy = policy_in_force(on)
    records = current_records(enterprise)
    open_apps = {
        app.target_key: app
        for app in RepairApplication.objects.filter(enterprise=enterprise, status__in=RepairApplication.OPEN_STATUSES)
    }
    result = []
    for record in records:
        office, authority = responsible_office(record)
        result.append(
            RepairableRecord(
                kind=kind_of(record),
                record=record,
                label=record_label(record),
                office=office,
                authority=authority,
                eligibility=eligibility(record, on=on, policy=policy),
                open_application=open_apps.get(target_key(record)),
            )
        )
    return result


def find_record(enterprise: Enterprise, *, target_type: str, pk: int) -> Record:
    """One record of this entity by type and id; another entity's record, or an unknown one, is not found
    (a guessed id answers exactly like a missing one)."""
    models: dict[str, type[Record]] = {
        "penalty": Penalty,
        "abnormal": AbnormalListing,
        "serious": SeriousListing,
        "inspection": Result,
    }
    model = models.get(target_type)
    record = (
        model.objects.select_related("enterprise").filter(pk=pk, enterprise=enterprise).first()  # type: ignore[attr-defined]
        if model is not None
        else None
    )
    if record is None:
        raise ApplicationError("未找到该记录。", code="not_found")
    return record


# --- who may read an application ----------------------------------------------------------------------------
def applications_for(user) -> QuerySet[RepairApplication]:
    """Applications `user` may open (and whose files it may download): an entity its own; staff with the
    permission to view applications those of their office (visible_to); nobody else any."""
    if user is None or not user.is_authenticated:
        return RepairApplication.objects.none()
    if getattr(user, "enterprise_account", None) is None and not user.has_perm("repair.view_repairapplication"):
        return RepairApplication.objects.none()
    return RepairApplication.objects.visible_to(user)
