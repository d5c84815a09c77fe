"""The abnormal list (经营异常名录) with its objections and 3-year rule, and the serious illegal and dishonest list
(严重违法失信名单) with its restrictions (DESIGN.md §3.3, §3.4): every decision as a service, and the selectors the
public pages use.

One listing at a time, as staff decide them (admin, API) and as the repair and inspection apps call them. The nightly
jobs (disclosure.jobs) work set-based and reuse the texts (disclosure.texts) and the date rules below
(`reminder_due`, `escalation_due`, `listing_deadline`), so both paths decide alike.

Dates: a service takes the decision day as an argument (default: today in Asia/Shanghai). It does not refuse a day
after today, because the jobs replay a given date; the API and admin forms refuse future days at input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.audit import audit_log, snapshot
from core.calendar import CalendarUnavailable, WorkingCalendar
from core.errors import ApplicationError, ConflictError
from core.models import OutboxMessage, User
from core.notifications import outbox_enqueue
from disclosure import numbering, texts
from disclosure.models import AbnormalListing, Objection, Penalty, Restriction, SeriousListing
from disclosure.policies import HEAVY_KINDS, add_months
from enterprises.models import AnnualReport, Enterprise

Reason = AbnormalListing.Reason
RemovalReason = AbnormalListing.RemovalReason
Ground = SeriousListing.Ground
Stage = SeriousListing.Stage
RemovalKind = SeriousListing.RemovalKind
EntityType = Enterprise.EntityType
EntityStatus = Enterprise.Status

# Periods of DESIGN.md §3.3/§3.4 fixed by the national rules (not local policy, so constants rather than rows).
LISTING_DEADLINE_WORKING_DAYS = 10  # list within 10 working days of the cause (reason 1: of 30 June)
OBJECTION_PERIOD_DAYS = 30  # an objection within 30 days of publication
OBJECTION_ACCEPTANCE_WORKING_DAYS = 5  # accept or refuse within 5 working days
OBJECTION_VERIFICATION_WORKING_DAYS = 20  # verify within 20 working days of acceptance
LISTED_YEARS_BEFORE_ESCALATION = 3  # 3 years on the abnormal list → serious list
REMINDER_DAYS_BEFORE_ESCALATION = 60  # public reminder 60 days before the 3 years are over
SERIOUS_LISTING_YEARS = 3  # listed for 3 years, then removed
SERIOUS_EARLY_REMOVAL_YEARS = 1  # early removal by repair after 1 year
MIN_REPORT_YEAR = 2000

# Restrictions on the listed entity while on the serious list (DESIGN.md §3.4).
ENTITY_RESTRICTIONS = (
    Restriction.Kind.NO_HONOURS,
    Restriction.Kind.NO_SUBSIDIES,
    Restriction.Kind.NO_PROCUREMENT,
    Restriction.Kind.KEY_SUPERVISION,
)

ABNORMAL_AUDIT_FIELDS = [
    "enterprise_id", "reason", "year", "is_mark", "cause_date", "decided_on", "decision_number", "office_id",
    "authority_name", "legal_basis", "status", "removed_on", "removal_decision_number", "removal_reason",
    "removal_note", "reminder_published_on",
]  # fmt: skip
OBJECTION_AUDIT_FIELDS = [
    "listing_id", "filed_on", "status", "acceptance_due", "verification_due", "decided_on", "decision_reason",
]  # fmt: skip
SERIOUS_AUDIT_FIELDS = [
    "enterprise_id", "ground", "source_penalty_id", "source_abnormal_id", "office_id", "stage", "notice_number",
    "noticed_on", "statement_due", "hearing_requested", "decision_number", "decided_on", "listed_until", "removed_on",
    "removal_kind", "removal_decision_number", "hidden_from_public",
]  # fmt: skip

ALREADY_LISTED = "该经营主体已因同一事由（同一年度）被列入经营异常名录，且尚未移出，不能重复列入。"
ALREADY_IN_SERIOUS_PROCEDURE = "该经营主体已有以同一事由列入严重违法失信名单的程序（告知或列入中），不能重复告知。"
NOT_ACTIVE = "该记录不在列入状态。"


# --- date rules (pure) -------------------------------------------------------------------------------------------
def annual_report_cause_date(year: int) -> dt.date:
    """The cause of reason 1: the report for `year` was still missing when the filing period ended (30 June)."""
    return AnnualReport.deadline(year)


def escalation_due(listing: AbnormalListing) -> dt.date:
    """The day an entry has been on the abnormal list for 3 years: from then on it goes to the serious list."""
    return add_months(listing.decided_on, 12 * LISTED_YEARS_BEFORE_ESCALATION)


def reminder_due(listing: AbnormalListing) -> dt.date:
    """The day the public reminder is due: 60 days before the 3 years are over."""
    return escalation_due(listing) - dt.timedelta(days=REMINDER_DAYS_BEFORE_ESCALATION)


def objection_period_end(listing: AbnormalListing) -> dt.date:
    """The last day an objection may be filed: 30 days after publication (publication is the decision day)."""
    return listing.decided_on + dt.timedelta(days=OBJECTION_PERIOD_DAYS)


def serious_listed_until(decided_on: dt.date) -> dt.date:
    """The last day of a serious listing: 3 years from the decision."""
    return add_months(decided_on, 12 * SERIOUS_LISTING_YEARS) - dt.timedelta(days=1)


def serious_early_removal_from(listing: SeriousListing) -> dt.date:
    """The first day an early removal by repair may take effect: 1 year after the decision."""
    assert listing.decided_on is not None
    return add_months(listing.decided_on, 12 * SERIOUS_EARLY_REMOVAL_YEARS)


def listing_deadline(cause_date: dt.date, *, calendar: WorkingCalendar | None = None) -> dt.date:
    """The last day to decide a listing: 10 working days after the cause. Raises CalendarUnavailable."""
    return (calendar or WorkingCalendar.load()).add_working_days(cause_date, LISTING_DEADLINE_WORKING_DAYS)


def listing_deadline_warning(
    cause_date: dt.date, decided_on: dt.date, *, calendar: WorkingCalendar | None = None
) -> str:
    """A note when a listing is decided late (late decisions still happen and stand, but the record says so)."""
    try:
        due = listing_deadline(cause_date, calendar=calendar)
    except CalendarUnavailable as exc:
        return f"无法核对作出期限：{exc.message}"
    if decided_on > due:
        return (
            f"逾期作出：应于{due:%Y年%m月%d日}前（事由发生之日起{LISTING_DEADLINE_WORKING_DAYS}个工作日内）作出，"
            f"实际于{decided_on:%Y年%m月%d日}作出。"
        )
    return ""


# --- helpers ------------------------------------------------------------------------------------------------------
def _today() -> dt.date:
    return timezone.localdate()


def _check_scope(actor: User | None, enterprise: Enterprise) -> None:
    """A county regulator decides only on its county's entities (the API and admin answer 404 before this)."""
    if actor is None or not actor.pk or actor.is_city_wide:
        return
    if actor.region_code != enterprise.region_id:
        raise ApplicationError("您只能对本辖区的经营主体作出决定。", code="out_of_scope")


def _choice(value: str, choices: type, label: str) -> str:
    if value not in choices.values:
        raise ApplicationError(f"未知的{label}：{value}", code="invalid_choice")
    return value


def _constraint_name(exc: IntegrityError) -> str:
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    return getattr(diag, "constraint_name", None) or str(exc)


def _check_entity_can_be_listed(enterprise: Enterprise) -> None:
    if enterprise.status == EntityStatus.DEREGISTERED:
        raise ApplicationError("该经营主体已注销，不能作出列入决定。", code="entity_deregistered")
    if enterprise.status == EntityStatus.REVOKED:
        raise ApplicationError("该经营主体已被吊销营业执照，不能列入经营异常名录。", code="entity_revoked")


# --- abnormal list -----------------------------------------------------------------------------------------------
@transaction.atomic
def abnormal_list(
    *,
    actor: User | None,
    enterprise: Enterprise,
    reason: str,
    year: int = 0,
    cause_date: dt.date | None = None,
    facts: str = "",
    decided_on: dt.date | None = None,
    tolerance: bool = False,
    correctable_slip: bool = False,
) -> AbnormalListing:
    """List an entity on the abnormal list, or mark an individual business abnormal (标记经营异常状态).

    Reason 1 (annual report): `year` is the report year and the cause is 30 June of the next year (computed when
    `cause_date` is omitted). `tolerance` (force majeure, reachable otherwise) and `correctable_slip` (a one-time
    correctable slip in a report) are the officer's findings under seed 000 §7: they hold the listing back.

    The decision is public the moment it exists. A decision made more than 10 working days after the cause stands
    but carries a warning (audit note and `listing.deadline_warning`).
    """
    decided_on = decided_on or _today()
    reason = _choice(reason, Reason, "列入事由")
    _check_scope(actor, enterprise)
    _check_entity_can_be_listed(enterprise)
    year = int(year or 0)
    entity_type = enterprise.entity_type

    if reason == Reason.ANNUAL_REPORT:
        if not year:
            raise ApplicationError("请填写未报送的年度报告所属年度。", code="year_required")
        if year < MIN_REPORT_YEAR or year >= decided_on.year:
            raise ApplicationError(
                f"年度报告所属年度应在 {MIN_REPORT_YEAR} 年至 {decided_on.year - 1} 年之间。", code="invalid_year"
            )
        if enterprise.registration_date.year > year:
            raise ApplicationError(
                f"该经营主体于{enterprise.registration_date:%Y年%m月%d日}成立，无需报送{year}年度报告。",
                code="report_not_due",
            )
        expected = annual_report_cause_date(year)
        if cause_date is not None and cause_date != expected:
            raise ApplicationError(
                f"未按期报送{year}年度报告的事由发生日期为{expected:%Y年%m月%d日}（年报公示期届满之日）。",
                code="invalid_cause_date",
            )
        cause_date = expected
        if decided_on <= cause_date:
            raise ApplicationError(
                f"{year}年度报告可报送至{cause_date:%Y年%m月%d日}，期限届满后方可列入。", code="report_period_open"
            )
        if AnnualReport.objects.filter(enterprise=enterprise, year=year).exists():
            raise ApplicationError(
                f"该经营主体已报送{year}年度报告，不能以未按期公示年度报告为由列入。", code="report_filed"
            )
    else:
        if year:
            raise ApplicationError("只有“未按期公示年度报告”事由需要填写报告年度。", code="year_not_applicable")
        if cause_date is None:
            raise ApplicationError("请填写事由发生（查实）日期。", code="cause_date_required")
        if cause_date > decided_on:
            raise ApplicationError("事由发生日期不能晚于决定日期。", code="invalid_cause_date")

    if reason == Reason.INSTANT_INFORMATION and entity_type == EntityType.INDIVIDUAL:
        raise ApplicationError("个体工商户不适用“未按责令期限公示即时信息”事由。", code="reason_not_applicable")
    if reason == Reason.UNREACHABLE:
        if enterprise.status == EntityStatus.SUSPENDED:
            raise ApplicationError(texts.TOLERANCE_SUSPENDED, code="tolerance_suspended")
        if tolerance:
            raise ApplicationError(texts.TOLERANCE_FORCE_MAJEURE, code="tolerance_force_majeure")
    elif tolerance:
        raise ApplicationError("“暂不列入”仅适用于通过登记的住所或者经营场所无法联系的情形。", code="invalid_tolerance")
    if correctable_slip:
        if reason != Reason.FALSIFIED:
            raise ApplicationError("“可允许更正一次”仅适用于公示信息有误的情形。", code="invalid_tolerance")
        raise ApplicationError(texts.TOLERANCE_CORRECTABLE_SLIP, code="correctable_slip")

    if AbnormalListing.objects.filter(
        enterprise=enterprise, reason=reason, year=year, status=AbnormalListing.Status.LISTED
    ).exists():
        raise ConflictError(ALREADY_LISTED, code="already_listed")

    is_mark = entity_type == EntityType.INDIVIDUAL
    office = enterprise.region
    doc_type = numbering.ABNORMAL_MARK if is_mark else numbering.ABNORMAL_IN
    listing = AbnormalListing(
        enterprise=enterprise,
        reason=reason,
        year=year,
        is_mark=is_mark,
        cause_date=cause_date,
        decided_on=decided_on,
        decision_number=numbering.allocate(office=office, doc_type=doc_type, year=decided_on.year)[0],
        office=office,
        authority_name=texts.authority_name(office),
        legal_basis=texts.abnormal_legal_basis(entity_type, reason),
        remedies=texts.remedies(office),
        facts=facts.strip(),
        decided_by=actor if actor is not None and actor.pk else None,
    )
    # The one-open-per-(reason, year) rule is checked above and by the constraint at insert (two officers at once):
    # leave it to the insert, where a race ends in the same message.
    listing.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            listing.save()
    except IntegrityError as exc:
        if "abnormal_one_open_per_reason_year" in _constraint_name(exc):
            raise ConflictError(ALREADY_LISTED, code="already_listed") from exc
        raise
    warning = listing_deadline_warning(cause_date, decided_on)
    listing.deadline_warning = warning  # type: ignore[attr-defined]
    audit_log(
        actor=actor,
        action="abnormal.list",
        obj=listing,
        after=snapshot(listing, ABNORMAL_AUDIT_FIELDS),
        note=warning,
    )
    return listing


@transaction.atomic
def abnormal_remove(
    *,
    actor: User | None,
    listing: AbnormalListing,
    reason: str,
    on: dt.date | None = None,
    note: str = "",
) -> AbnormalListing:
    """Remove an active entry (or restore a marked individual business to normal).

    Reason 1 cured or repaired: every missing annual report must be filed (not just one), and then every open
    annual-report entry of the entity is removed together, under one removal decision (即申即办).
    """
    on = on or _today()
    reason = _choice(reason, RemovalReason, "移出事由")
    locked = AbnormalListing.objects.select_for_update().select_related("enterprise").get(pk=listing.pk)
    _check_scope(actor, locked.enterprise)
    if locked.status != AbnormalListing.Status.LISTED:
        raise ApplicationError(NOT_ACTIVE, code="not_active")
    if on < locked.decided_on:
        raise ApplicationError("移出日期不能早于列入日期。", code="invalid_date")
    note = note.strip()

    group = [locked]
    if reason in (RemovalReason.CURED, RemovalReason.REPAIRED) and locked.reason == Reason.ANNUAL_REPORT:
        group = list(
            AbnormalListing.objects.select_for_update()
            .filter(
                enterprise_id=locked.enterprise_id,
                reason=Reason.ANNUAL_REPORT,
                status=AbnormalListing.Status.LISTED,
            )
            .order_by("year", "pk")
        )
        filed = set(
            AnnualReport.objects.filter(
                enterprise_id=locked.enterprise_id, year__in=[g.year for g in group]
            ).values_list("year", flat=True)
        )
        missing = sorted({g.year for g in group} - filed)
        if missing:
            years = "、".join(str(y) for y in missing)
            raise ApplicationError(
                f"尚有{years}年度报告未补报；须补报全部未报年度的年度报告后方可移出。",
                code="reports_missing",
                extra={"missing_years": missing},
            )
    elif reason == RemovalReason.CURED and not note:
        raise ApplicationError("请说明列入情形已消除的事实（如已公示的信息、可重新联系的方式）。", code="note_required")
    elif reason == RemovalReason.DEREGISTERED and locked.enterprise.status != EntityStatus.DEREGISTERED:
        raise ApplicationError("该经营主体未注销，不能以注销为由移出。", code="not_deregistered")
    elif reason == RemovalReason.ESCALATED and not locked.escalations.filter(stage=Stage.LISTED).exists():
        raise ApplicationError("该记录尚未据以列入严重违法失信名单。", code="not_escalated")

    number = numbering.allocate(office=locked.office, doc_type=numbering.ABNORMAL_OUT, year=on.year)[0]
    removal_note = note or texts.ABNORMAL_REMOVAL_TEXT.get(reason, "")
    for entry in group:
        before = snapshot(entry, ABNORMAL_AUDIT_FIELDS)
        entry.status = AbnormalListing.Status.REMOVED
        entry.removed_on = on
        entry.removal_reason = reason
        entry.removal_decision_number = number
        entry.removal_note = removal_note
        entry.removed_by = actor if actor is not None and actor.pk else None
        entry.full_clean(validate_constraints=False)
        entry.save()
        audit_log(
            actor=actor,
            action="abnormal.remove",
            obj=entry,
            before=before,
            after=snapshot(entry, ABNORMAL_AUDIT_FIELDS),
            note=note,
        )
    removed = next(entry for entry in group if entry.pk == listing.pk)
    listing.refresh_from_db()
    return removed


# --- objections (异议) -------------------------------------------------------------------------------------------
def _locked_objection(objection: Objection, *, expected: Iterable[str]) -> Objection:
    locked = Objection.objects.select_for_update().select_related("listing__enterprise").get(pk=objection.pk)
    if locked.status not in expected:
        raise ApplicationError(
            f"该异议当前状态为“{locked.get_status_display()}”，不能办理此操作。", code="invalid_objection_state"
        )
    return locked


@transaction.atomic
def objection_file(*, actor: User | None, listing: AbnormalListing, filed_on: dt.date, statement: str) -> Objection:
    """Record an objection to an entry, within 30 days of its publication; it is accepted or refused within 5
    working days."""
    locked = AbnormalListing.objects.select_for_update().select_related("enterprise").get(pk=listing.pk)
    _check_scope(actor, locked.enterprise)
    if not statement.strip():
        raise ApplicationError("请填写异议理由。", code="statement_required")
    if locked.status != AbnormalListing.Status.LISTED:
        raise ApplicationError(NOT_ACTIVE, code="not_active")
    if filed_on < locked.decided_on:
        raise ApplicationError("异议提出日期不能早于列入日期。", code="invalid_date")
    last_day = objection_period_end(locked)
    if filed_on > last_day:
        raise ApplicationError(
            f"异议应自公示之日起{OBJECTION_PERIOD_DAYS}日内（{last_day:%Y年%m月%d日}前）提出，已超过期限。",
            code="objection_too_late",
        )
    if locked.objections.filter(status__in=[Objection.Status.RECEIVED, Objection.Status.ACCEPTED]).exists():
        raise ConflictError("该记录已有尚未办结的异议。", code="objection_open")
    objection = Objection(
        listing=locked,
        filed_on=filed_on,
        statement=statement.strip(),
        acceptance_due=WorkingCalendar.load().add_working_days(filed_on, OBJECTION_ACCEPTANCE_WORKING_DAYS),
    )
    objection.full_clean()
    objection.save()
    audit_log(
        actor=actor, action="abnormal.objection.file", obj=objection, after=snapshot(objection, OBJECTION_AUDIT_FIELDS)
    )
    return objection


@transaction.atomic
def objection_accept(*, actor: User | None, objection: Objection, on: dt.date | None = None) -> Objection:
    """Accept an objection for verification, to be verified within 20 working days."""
    on = on or _today()
    locked = _locked_objection(objection, expected=[Objection.Status.RECEIVED])
    _check_scope(actor, locked.listing.enterprise)
    if on < locked.filed_on:
        raise ApplicationError("受理日期不能早于异议提出日期。", code="invalid_date")
    before = snapshot(locked, OBJECTION_AUDIT_FIELDS)
    locked.status = Objection.Status.ACCEPTED
    locked.verification_due = WorkingCalendar.load().add_working_days(on, OBJECTION_VERIFICATION_WORKING_DAYS)
    locked.decided_by = actor if actor is not None and actor.pk else None
    locked.full_clean()
    locked.save()
    note = "逾期受理" if on > locked.acceptance_due else ""
    audit_log(
        actor=actor,
        action="abnormal.objection.accept",
        obj=locked,
        before=before,
        after=snapshot(locked, OBJECTION_AUDIT_FIELDS),
        note=note,
    )
    return locked


@transaction.atomic
def objection_refuse(*, actor: User | None, objection: Objection, reason: str, on: dt.date | None = None) -> Objection:
    """Refuse to accept an objection, with the reason told to the applicant."""
    on = on or _today()
    locked = _locked_objection(objection, expected=[Objection.Status.RECEIVED])
    _check_scope(actor, locked.listing.enterprise)
    if not reason.strip():
        raise ApplicationError("请填写不予受理的理由。", code="reason_required")
    if on < locked.filed_on:
        raise ApplicationError("决定日期不能早于异议提出日期。", code="invalid_date")
    before = snapshot(locked, OBJECTION_AUDIT_FIELDS)
    locked.status = Objection.Status.REFUSED
    locked.decided_on = on
    locked.decision_reason = reason.strip()
    locked.decided_by = actor if actor is not None and actor.pk else None
    locked.full_clean()
    locked.save()
    audit_log(
        actor=actor,
        action="abnormal.objection.refuse",
        obj=locked,
        before=before,
        after=snapshot(locked, OBJECTION_AUDIT_FIELDS),
    )
    return locked


@transaction.atomic
def objection_decide(
    *, actor: User | None, objection: Objection, upheld: bool, reason: str = "", on: dt.date | None = None
) -> Objection:
    """Decide a verified objection: upheld removes the entry (listed in error); dismissed leaves it standing."""
    on = on or _today()
    locked = _locked_objection(objection, expected=[Objection.Status.ACCEPTED])
    _check_scope(actor, locked.listing.enterprise)
    if not upheld and not reason.strip():
        raise ApplicationError("请填写驳回异议的核实结果。", code="reason_required")
    if on < locked.filed_on:
        raise ApplicationError("决定日期不能早于异议提出日期。", code="invalid_date")
    before = snapshot(locked, OBJECTION_AUDIT_FIELDS)
    if upheld:
        abnormal_remove(
            actor=actor,
            listing=locked.listing,
            reason=RemovalReason.OBJECTION_UPHELD,
            on=on,
            note=reason.strip() or texts.ABNORMAL_REMOVAL_TEXT[RemovalReason.OBJECTION_UPHELD],
        )
    locked.status = Objection.Status.UPHELD if upheld else Objection.Status.DISMISSED
    locked.decided_on = on
    locked.decision_reason = reason.strip()
    locked.decided_by = actor if actor is not None and actor.pk else None
    locked.full_clean()
    locked.save()
    note = "逾期核实" if locked.verification_due and on > locked.verification_due else ""
    audit_log(
        actor=actor,
        action="abnormal.objection.decide",
        obj=locked,
        before=before,
        after=snapshot(locked, OBJECTION_AUDIT_FIELDS),
        note=note,
    )
    return locked


# --- the 3-year rule ---------------------------------------------------------------------------------------------
@transaction.atomic
def abnormal_publish_reminder(*, actor: User | None, listing: AbnormalListing, on: dt.date) -> AbnormalListing:
    """Publish the reminder due 60 days before 3 years on the list, and tell the entity (SMS and/or e-mail).

    Idempotent: a reminder already published is left as it is, and the messages are queued once per listing.
    """
    locked = AbnormalListing.objects.select_for_update().select_related("enterprise").get(pk=listing.pk)
    _check_scope(actor, locked.enterprise)
    if locked.status != AbnormalListing.Status.LISTED:
        raise ApplicationError(NOT_ACTIVE, code="not_active")
    if locked.is_mark:
        raise ApplicationError("个体工商户标记经营异常状态不适用届满三年提示。", code="not_applicable")
    if locked.reminder_published_on is not None:
        return locked
    due = reminder_due(locked)
    if on < due:
        raise ApplicationError(f"届满三年提示应于{due:%Y年%m月%d日}起发布。", code="reminder_not_due")
    before = snapshot(locked, ABNORMAL_AUDIT_FIELDS)
    locked.reminder_published_on = on
    locked.save(update_fields=["reminder_published_on", "updated_at"])
    enterprise = locked.enterprise
    body = texts.ABNORMAL_REMINDER_BODY.format(
        name=enterprise.name,
        uscc=enterprise.uscc,
        decided_on=locked.decided_on,
        reason=texts.abnormal_reason_text(enterprise.entity_type, locked.reason),
        decision_number=locked.decision_number,
        escalation_due=escalation_due(locked),
        authority=locked.authority_name,
    )
    channels = []
    if enterprise.contact_phone:
        channels.append((OutboxMessage.Channel.SMS, enterprise.contact_phone))
    if enterprise.contact_email:
        channels.append((OutboxMessage.Channel.EMAIL, enterprise.contact_email))
    for channel, recipient in channels:
        outbox_enqueue(
            channel=channel,
            recipient=recipient,
            subject=texts.ABNORMAL_REMINDER_SUBJECT,
            body=body,
            dedupe_key=f"abnormal-3y-reminder:{locked.pk}:{channel}",
            related=locked,
        )
    audit_log(
        actor=actor,
        action="abnormal.reminder",
        obj=locked,
        before=before,
        after=snapshot(locked, ABNORMAL_AUDIT_FIELDS),
        note=f"届满三年日：{escalation_due(locked):%Y-%m-%d}；通知渠道：{','.join(c for c, _ in channels) or '无'}",
    )
    return locked


# --- serious list ------------------------------------------------------------------------------------------------
def _is_heavier(penalty: Penalty, *, heavy_fine: bool) -> bool:
    kinds = set(penalty.kinds)
    return bool(kinds & HEAVY_KINDS) or (heavy_fine and Penalty.Kind.FINE in kinds)


def _heavier_penalty_q() -> Q:
    """Penalties carrying a heavier kind (jsonb containment per kind: served by PostgreSQL's @> operator)."""
    query = Q()
    for kind in sorted(HEAVY_KINDS):
        query |= Q(kinds__contains=[kind])
    return query


def heavier_penalties_since(listing: SeriousListing) -> QuerySet[Penalty]:
    """Heavier penalties in force decided on or after the listing (other than its own source): any of them bars an
    early removal (DESIGN.md §3.4 "no further heavier penalty was received")."""
    assert listing.decided_on is not None
    return (
        Penalty.objects.filter(
            enterprise_id=listing.enterprise_id, status=Penalty.Status.IN_FORCE, decision_date__gte=listing.decided_on
        )
        .filter(_heavier_penalty_q())
        .exclude(pk=listing.source_penalty_id)
    )


@transaction.atomic
def serious_notice(
    *,
    actor: User | None,
    enterprise: Enterprise,
    ground: str,
    source_penalty: Penalty | None = None,
    source_abnormal: AbnormalListing | None = None,
    facts: str,
    noticed_on: dt.date | None = None,
    heavy_fine: bool = False,
) -> SeriousListing:
    """Serve the notice of intended listing (告知): the party may make a statement or ask for a hearing by
    `statement_due` (settings.SERIOUS_LIST_STATEMENT_WORKING_DAYS working days).

    Grounds: a serious violation punished with a heavier penalty (a heavier kind, or a fine the officer judges at
    the heavy end: `heavy_fine`), or an entry on the abnormal list for 3 years.
    """
    noticed_on = noticed_on or _today()
    ground = _choice(ground, Ground, "列入事由")
    _check_scope(actor, enterprise)
    if enterprise.status == EntityStatus.DEREGISTERED:
        raise ApplicationError("该经营主体已注销，不能列入严重违法失信名单。", code="entity_deregistered")
    if not facts.strip():
        raise ApplicationError("请填写列入的事实和理由。", code="facts_required")

    if ground == Ground.SERIOUS_VIOLATION:
        if source_abnormal is not None:
            raise ApplicationError(
                "严重违法行为事由应依据行政处罚决定，而不是经营异常名录记录。", code="invalid_source"
            )
        if source_penalty is None:
            raise ApplicationError("请选择据以列入的行政处罚决定。", code="source_required")
        if source_penalty.enterprise_id != enterprise.pk:
            raise ApplicationError("该行政处罚决定不是对本经营主体作出的。", code="invalid_source")
        if source_penalty.status != Penalty.Status.IN_FORCE:
            raise ApplicationError("该行政处罚决定已撤销或变更，不能据以列入。", code="source_withdrawn")
        if not _is_heavier(source_penalty, heavy_fine=heavy_fine):
            raise ApplicationError(
                "只有受到较重行政处罚（从重罚款，降低资质等级，吊销许可证件、营业执照，限制开展生产经营活动、"
                "责令停产停业、限制从业等）的，方可列入严重违法失信名单。",
                code="penalty_not_heavier",
            )
        if SeriousListing.objects.filter(source_penalty=source_penalty).exclude(stage=Stage.NOT_LISTED).exists():
            raise ConflictError("该行政处罚决定已据以列入严重违法失信名单。", code="source_used")
    else:
        if source_penalty is not None:
            raise ApplicationError("满三年事由应依据经营异常名录记录，而不是行政处罚决定。", code="invalid_source")
        if source_abnormal is None:
            raise ApplicationError("请选择据以列入的经营异常名录记录。", code="source_required")
        if source_abnormal.enterprise_id != enterprise.pk:
            raise ApplicationError("该经营异常名录记录不属于本经营主体。", code="invalid_source")
        if source_abnormal.status != AbnormalListing.Status.LISTED:
            raise ApplicationError("该经营异常名录记录已移出，不能据以列入。", code="source_removed")
        if source_abnormal.is_mark:
            raise ApplicationError(
                "个体工商户标记经营异常状态不适用满三年列入严重违法失信名单。", code="not_applicable"
            )
        due = escalation_due(source_abnormal)
        if noticed_on < due:
            raise ApplicationError(
                f"该记录于{source_abnormal.decided_on:%Y年%m月%d日}列入，至{due:%Y年%m月%d日}方满三年。",
                code="not_three_years",
            )

    if SeriousListing.objects.filter(
        enterprise=enterprise, ground=ground, stage__in=[Stage.NOTICE, Stage.LISTED]
    ).exists():
        raise ConflictError(ALREADY_IN_SERIOUS_PROCEDURE, code="already_in_procedure")

    office = enterprise.region
    listing = SeriousListing(
        enterprise=enterprise,
        ground=ground,
        source_penalty=source_penalty,
        source_abnormal=source_abnormal,
        office=office,
        authority_name=texts.authority_name(office),
        legal_basis=texts.SERIOUS_LEGAL_BASIS[ground],
        facts=facts.strip(),
        stage=Stage.NOTICE,
        notice_number=numbering.allocate(office=office, doc_type=numbering.SERIOUS_NOTICE, year=noticed_on.year)[0],
        noticed_on=noticed_on,
        statement_due=WorkingCalendar.load().add_working_days(noticed_on, settings.SERIOUS_LIST_STATEMENT_WORKING_DAYS),
    )
    listing.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            listing.save()
    except IntegrityError as exc:
        if "serious_one_open_per_ground" in _constraint_name(exc):
            raise ConflictError(ALREADY_IN_SERIOUS_PROCEDURE, code="already_in_procedure") from exc
        raise
    audit_log(actor=actor, action="serious.notice", obj=listing, after=snapshot(listing, SERIOUS_AUDIT_FIELDS))
    return listing


def _locked_serious(listing: SeriousListing) -> SeriousListing:
    return SeriousListing.objects.select_for_update().select_related("enterprise").get(pk=listing.pk)


@transaction.atomic
def serious_record_statement(
    *, actor: User | None, listing: SeriousListing, statement: str, hearing_requested: bool = False
) -> SeriousListing:
    """Record the party's statement (陈述、申辩) and whether it asked for a hearing (听证)."""
    locked = _locked_serious(listing)
    _check_scope(actor, locked.enterprise)
    if locked.stage != Stage.NOTICE:
        raise ApplicationError("只有在告知阶段才能记录陈述申辩。", code="invalid_stage")
    if not statement.strip() and not hearing_requested:
        raise ApplicationError("请填写陈述申辩内容或选择要求听证。", code="statement_required")
    before = snapshot(locked, [*SERIOUS_AUDIT_FIELDS, "statement"])
    locked.statement = statement.strip()
    locked.hearing_requested = hearing_requested
    locked.full_clean(validate_constraints=False)
    locked.save()
    audit_log(
        actor=actor,
        action="serious.statement",
        obj=locked,
        before=before,
        after=snapshot(locked, [*SERIOUS_AUDIT_FIELDS, "statement"]),
    )
    return locked


@transaction.atomic
def serious_decide(
    *,
    actor: User | None,
    listing: SeriousListing,
    list_it: bool,
    decided_on: dt.date | None = None,
    reason: str = "",
) -> SeriousListing:
    """Decide after the statement window: list (3 years, with restrictions) or not.

    Not before `statement_due` unless the party already made its statement (or asked for a hearing). Listing on the
    3-year ground also restricts the legal representative for 3 years and moves the source entry off the abnormal
    list (escalated).
    """
    decided_on = decided_on or _today()
    locked = _locked_serious(listing)
    enterprise = locked.enterprise
    _check_scope(actor, enterprise)
    if locked.stage != Stage.NOTICE:
        raise ApplicationError("该记录已作出决定。", code="invalid_stage")
    if decided_on < locked.noticed_on:
        raise ApplicationError("决定日期不能早于告知日期。", code="invalid_date")
    party_heard = bool(locked.statement) or locked.hearing_requested
    if decided_on < locked.statement_due and not party_heard:
        raise ApplicationError(
            f"当事人陈述申辩期限至{locked.statement_due:%Y年%m月%d日}，期限届满前不能作出决定。",
            code="statement_window_open",
        )
    before = snapshot(locked, SERIOUS_AUDIT_FIELDS)

    if not list_it:
        if not reason.strip():
            raise ApplicationError("请填写不予列入的理由。", code="reason_required")
        locked.stage = Stage.NOT_LISTED
        locked.decided_on = decided_on
        locked.full_clean(validate_constraints=False)
        locked.save()
        audit_log(
            actor=actor,
            action="serious.decide",
            obj=locked,
            before=before,
            after=snapshot(locked, SERIOUS_AUDIT_FIELDS),
            note=reason.strip(),
        )
        return locked

    if enterprise.status == EntityStatus.DEREGISTERED:
        raise ApplicationError("该经营主体已注销，不能列入严重违法失信名单。", code="entity_deregistered")
    if locked.ground == Ground.SERIOUS_VIOLATION:
        penalty = locked.source_penalty
        if penalty is None or penalty.status != Penalty.Status.IN_FORCE:
            raise ApplicationError("据以列入的行政处罚决定已撤销或变更，不能列入。", code="source_withdrawn")
    else:
        source = locked.source_abnormal
        if source is None or source.status != AbnormalListing.Status.LISTED:
            raise ApplicationError(
                "据以列入的经营异常名录记录已移出（相关义务已履行），不能列入；请作出不予列入决定。",
                code="source_removed",
            )

    until = serious_listed_until(decided_on)
    locked.stage = Stage.LISTED
    locked.decided_on = decided_on
    locked.listed_until = until
    locked.decision_number = numbering.allocate(
        office=locked.office, doc_type=numbering.SERIOUS_IN, year=decided_on.year
    )[0]
    locked.full_clean(validate_constraints=False)
    locked.save()
    restrictions = [
        Restriction(enterprise=enterprise, serious_listing=locked, kind=kind, starts_on=decided_on, ends_on=until)
        for kind in ENTITY_RESTRICTIONS
    ]
    if locked.ground == Ground.ABNORMAL_THREE_YEARS:
        # 企业信息公示暂行条例 第十七条: the legal representative may not be one of another entity for 3 years.
        restrictions.append(
            Restriction(
                enterprise=enterprise,
                serious_listing=locked,
                kind=Restriction.Kind.NO_LEGAL_REPRESENTATIVE,
                person_name=enterprise.legal_representative,
                person_id_number=enterprise.legal_representative_id_number,
                starts_on=decided_on,
                ends_on=until,
            )
        )
    for restriction in restrictions:
        restriction.full_clean()
    Restriction.objects.bulk_create(restrictions)
    audit_log(
        actor=actor,
        action="serious.decide",
        obj=locked,
        before=before,
        after={
            **snapshot(locked, SERIOUS_AUDIT_FIELDS),
            "restrictions": [r.kind for r in restrictions],
        },
        note=reason.strip(),
    )
    if locked.ground == Ground.ABNORMAL_THREE_YEARS:
        assert locked.source_abnormal is not None
        abnormal_remove(
            actor=actor,
            listing=locked.source_abnormal,
            reason=RemovalReason.ESCALATED,
            on=decided_on,
            note=f"已列入严重违法失信名单（{locked.decision_number}）",
        )
    return locked


@transaction.atomic
def serious_remove(
    *,
    actor: User | None,
    listing: SeriousListing,
    kind: str,
    on: dt.date | None = None,
    note: str = "",
) -> SeriousListing:
    """Remove a listed entity: after 3 years (expired), early by credit repair after 1 year with no further heavier
    penalty (then hidden from the public record, kept internally), or because its basis was revoked.
    The listing's open restrictions end the same day."""
    on = on or _today()
    kind = _choice(kind, RemovalKind, "移出方式")
    locked = _locked_serious(listing)
    _check_scope(actor, locked.enterprise)
    if locked.stage != Stage.LISTED:
        raise ApplicationError(NOT_ACTIVE, code="not_active")
    assert locked.decided_on is not None and locked.listed_until is not None
    if on < locked.decided_on:
        raise ApplicationError("移出日期不能早于列入日期。", code="invalid_date")
    if kind == RemovalKind.EXPIRED and not locked.listed_until < on:
        raise ApplicationError(f"列入期限至{locked.listed_until:%Y年%m月%d日}，届满后方可移出。", code="not_expired")
    if kind == RemovalKind.EARLY_REPAIR:
        earliest = serious_early_removal_from(locked)
        if on < earliest:
            raise ApplicationError(
                f"列入严重违法失信名单满一年（{earliest:%Y年%m月%d日}起）方可申请提前移出。", code="too_early"
            )
        if heavier_penalties_since(locked).exists():
            raise ApplicationError(
                "列入后又受到市场监督管理部门较重行政处罚，不能提前移出。", code="further_heavier_penalty"
            )
    if kind == RemovalKind.REVOKED and not note.strip():
        raise ApplicationError("请说明列入依据被撤销的情况。", code="note_required")
    before = snapshot(locked, SERIOUS_AUDIT_FIELDS)
    locked.stage = Stage.REMOVED
    locked.removed_on = on
    locked.removal_kind = kind
    locked.removal_decision_number = numbering.allocate(
        office=locked.office, doc_type=numbering.SERIOUS_OUT, year=on.year
    )[0]
    # After an early removal the public record shows neither the listing nor the removal (DESIGN.md §3.4).
    locked.hidden_from_public = kind == RemovalKind.EARLY_REPAIR
    locked.full_clean(validate_constraints=False)
    locked.save()
    ended = Restriction.objects.filter(serious_listing=locked, ended_on__isnull=True).update(ended_on=on)
    audit_log(
        actor=actor,
        action="serious.remove",
        obj=locked,
        before=before,
        after={**snapshot(locked, SERIOUS_AUDIT_FIELDS), "restrictions_ended": ended},
        note=note.strip() or texts.SERIOUS_REMOVAL_TEXT[kind],
    )
    return locked


# --- restoring a repaired record (a revoked repair) -----------------------------------------------------------
@transaction.atomic
def abnormal_restore(*, actor: User | None, listing: AbnormalListing, on: dt.date, reason: str) -> AbnormalListing:
    """Put back on the list an entry that credit repair removed, because the repair was revoked (a 容缺 commitment
    broken, DESIGN.md §3.7). Entries removed together under the same removal decision come back together. The
    removal stays in the audit trail (before/after of every entry)."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError("请填写恢复列入的原因。", code="reason_required")
    locked = AbnormalListing.objects.select_for_update().get(pk=listing.pk)
    if locked.status != AbnormalListing.Status.REMOVED or locked.removal_reason != RemovalReason.REPAIRED:
        raise ApplicationError("该记录不是因信用修复移出的，不能恢复列入。", code="not_repaired")
    group = list(
        AbnormalListing.objects.select_for_update()
        .filter(
            enterprise_id=locked.enterprise_id,
            removal_decision_number=locked.removal_decision_number,
            removal_reason=RemovalReason.REPAIRED,
            status=AbnormalListing.Status.REMOVED,
        )
        .order_by("pk")
    )
    for entry in group:
        before = snapshot(entry, ABNORMAL_AUDIT_FIELDS)
        entry.status = AbnormalListing.Status.LISTED
        entry.removed_on = None
        entry.removal_reason = ""
        entry.removal_decision_number = ""
        entry.removal_note = ""
        entry.removed_by = None
        entry.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                entry.save()
        except IntegrityError as exc:
            if "abnormal_one_open_per_reason_year" in _constraint_name(exc):
                raise ConflictError(
                    "该经营主体已因同一事由（同一年度）重新被列入，不能恢复原列入记录。", code="already_listed"
                ) from exc
            raise
        audit_log(
            actor=actor,
            action="abnormal.restore",
            obj=entry,
            before=before,
            after=snapshot(entry, ABNORMAL_AUDIT_FIELDS),
            note=f"{on}：{reason}",
        )
    listing.refresh_from_db()
    return next(entry for entry in group if entry.pk == listing.pk)


@transaction.atomic
def serious_restore(*, actor: User | None, listing: SeriousListing, on: dt.date, reason: str) -> SeriousListing:
    """Put back on the serious list an entry removed early by credit repair, because the repair was revoked: listed
    and public again until its original last day, its restrictions in force again where their period lasts."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError("请填写恢复列入的原因。", code="reason_required")
    locked = _locked_serious(listing)
    if locked.stage != Stage.REMOVED or locked.removal_kind != RemovalKind.EARLY_REPAIR:
        raise ApplicationError("该记录不是因信用修复提前移出的，不能恢复列入。", code="not_repaired")
    removed_on = locked.removed_on
    before = snapshot(locked, SERIOUS_AUDIT_FIELDS)
    locked.stage = Stage.LISTED
    locked.removed_on = None
    locked.removal_kind = ""
    locked.removal_decision_number = ""
    locked.hidden_from_public = False
    locked.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:
        if "serious_one_open_per_ground" in _constraint_name(exc):
            raise ConflictError(ALREADY_IN_SERIOUS_PROCEDURE, code="already_listed") from exc
        raise
    reopened = Restriction.objects.filter(serious_listing=locked, ended_on=removed_on, ends_on__gte=on).update(
        ended_on=None
    )
    audit_log(
        actor=actor,
        action="serious.restore",
        obj=locked,
        before=before,
        after={**snapshot(locked, SERIOUS_AUDIT_FIELDS), "restrictions_reopened": reopened},
        note=f"{on}：{reason}",
    )
    return locked
