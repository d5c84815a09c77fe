"""Results of inspections (DESIGN.md §3.6): recorded by an assigned inspector, published within 20 working days,
problems handed on as case leads, "not reachable" proposed for the abnormal list through the disclosure service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from core.audit import audit_log, snapshot
from core.calendar import WorkingCalendar
from core.errors import ApplicationError, ConflictError, NotPermitted
from core.models import User
from disclosure.models import AbnormalListing
from disclosure.services.listings import abnormal_list
from inspections.models import AbnormalProposal, CaseLead, Draw, Evidence, Inspector, Plan, Result, Task

Outcome = Result.Outcome
RESULT_AUDIT_FIELDS = [
    "task_id", "enterprise_id", "inspected_on", "outcome", "details", "recorded_by_id", "publication_due",
    "published_on",
]  # fmt: skip


def publication_due(inspected_on: dt.date, *, calendar: WorkingCalendar | None = None) -> dt.date:
    """20 working days after the inspection on the statutory calendar (holidays and make-up days)."""
    return (calendar or WorkingCalendar.load()).add_working_days(inspected_on, Result.PUBLICATION_WORKING_DAYS)


def _inspector_of(actor: User | None) -> Inspector:
    inspector = getattr(actor, "inspector", None) if actor is not None and actor.pk else None
    if inspector is None:
        raise NotPermitted("只有被抽中的检查人员可以录入检查结果（当前账号未关联检查人员）。", code="not_an_inspector")
    return inspector


@transaction.atomic
def result_record(
    *,
    actor: User | None,
    task: Task,
    outcome: str,
    inspected_on: dt.date,
    details: str = "",
    evidence: Iterable[tuple[UploadedFile, str]] = (),
) -> Result:
    """Record (or, until published, correct) the result of a task; only an inspector assigned to it may.

    A problem opens a case lead; "not reachable" raises an abnormal-list proposal for a regulator to confirm.
    """
    task = Task.objects.select_for_update().select_related("draw", "plan", "enterprise").get(pk=task.pk)
    inspector = _inspector_of(actor)
    if not task.assignments.filter(inspector=inspector).exists():
        raise NotPermitted("该检查任务未分派给您，不能录入结果。", code="task_not_assigned")
    if task.status == Task.Status.CANCELLED or task.draw.status != Draw.Status.DRAWN:
        raise ConflictError("该检查任务已因重新抽取而作废。", code="task_cancelled")
    if outcome not in Outcome.values:
        raise ApplicationError(f"未知的检查结果：{outcome}", code="invalid_outcome")
    today = timezone.localdate()
    if inspected_on > today:
        raise ApplicationError("检查日期不能晚于今天。", code="inspected_in_future")
    if task.draw.drawn_at and inspected_on < timezone.localdate(task.draw.drawn_at):
        raise ApplicationError("检查日期不能早于抽取日期。", code="inspected_before_draw")
    details = details.strip()
    if outcome in (Outcome.PROBLEM, Outcome.OTHER) and not details:
        raise ApplicationError("发现问题或“其他”情形须填写检查情况说明。", code="details_required")

    result = Result.objects.select_for_update().filter(task=task).first()
    before = snapshot(result, RESULT_AUDIT_FIELDS) if result else None
    if result is not None and result.published_on is not None:
        raise ConflictError("检查结果已公示，不能再修改。", code="result_published")
    if result is None:
        result = Result(task=task, plan=task.plan, enterprise=task.enterprise)
    result.inspected_on = inspected_on
    result.outcome = outcome
    result.details = details
    result.recorded_by = inspector
    result.publication_due = publication_due(inspected_on)
    result.full_clean()
    result.save()
    Task.objects.filter(pk=task.pk).update(status=Task.Status.DONE, updated_at=timezone.now())
    for file, description in evidence:
        _evidence_add(actor=actor, result=result, file=file, description=description)

    if outcome == Outcome.PROBLEM and not CaseLead.objects.filter(result=result).exists():
        lead = CaseLead.objects.create(result=result, enterprise=task.enterprise, summary=details)
        audit_log(actor=actor, action="inspections.case_lead.open", obj=lead, after={"result_id": result.pk})
    if outcome == Outcome.NOT_REACHABLE and not AbnormalProposal.objects.filter(result=result).exists():
        proposal = AbnormalProposal.objects.create(result=result, enterprise=task.enterprise)
        audit_log(actor=actor, action="inspections.abnormal.propose", obj=proposal, after={"result_id": result.pk})
    audit_log(
        actor=actor,
        action="inspections.result.record" if before is None else "inspections.result.correct",
        obj=result,
        before=before,
        after=snapshot(result, RESULT_AUDIT_FIELDS),
    )
    return result


def _evidence_add(*, actor: User | None, result: Result, file: UploadedFile, description: str) -> Evidence:
    item = Evidence(result=result, file=file, description=description.strip()[:200], uploaded_by=actor)
    item.full_clean()
    item.save()
    audit_log(actor=actor, action="inspections.evidence.add", obj=item, after={"file": item.file.name})
    return item


@transaction.atomic
def evidence_add(*, actor: User | None, result: Result, file: UploadedFile, description: str = "") -> Evidence:
    """Attach an evidence file to an unpublished result (assigned inspectors only)."""
    result = Result.objects.select_for_update().get(pk=result.pk)
    inspector = _inspector_of(actor)
    if not result.task.assignments.filter(inspector=inspector).exists():
        raise NotPermitted("该检查任务未分派给您，不能上传证据。", code="task_not_assigned")
    if result.published_on is not None:
        raise ConflictError("检查结果已公示，不能再补充证据。", code="result_published")
    return _evidence_add(actor=actor, result=result, file=file, description=description)


def _check_result_scope(actor: User | None, result: Result) -> None:
    if actor is None or not actor.pk or actor.is_superuser:
        return
    if actor.role not in (User.Role.CITY_REGULATOR, User.Role.COUNTY_REGULATOR):
        raise NotPermitted("只有监管人员可以公示检查结果或处理列异建议。", code="not_a_regulator")
    if not actor.is_city_wide and actor.region_code != result.enterprise.region_id:
        raise NotPermitted("您只能处理本辖区经营主体的检查结果。", code="out_of_scope")


@transaction.atomic
def result_publish(*, actor: User | None, result: Result, on: dt.date | None = None) -> Result:
    """Publish a result on the entity's public record (after the deadline it still publishes; the flag stays)."""
    result = Result.objects.select_for_update().select_related("enterprise").get(pk=result.pk)
    _check_result_scope(actor, result)
    if result.published_on is not None:
        raise ConflictError("该检查结果已公示。", code="result_published")
    on = on or timezone.localdate()
    if on < result.inspected_on:
        raise ApplicationError("公示日期不能早于检查日期。", code="published_before_inspection")
    result.published_on = on
    result.published_by = actor if actor is not None and actor.pk else None
    result.save(update_fields=["published_on", "published_by", "updated_at"])
    audit_log(
        actor=actor,
        action="inspections.result.publish",
        obj=result,
        after={"published_on": on, "late": on > result.publication_due},
    )
    return result


def results_publish(*, actor: User | None, results: Iterable[Result], on: dt.date | None = None) -> int:
    """Publish several results, each in its own transaction; returns how many were published."""
    count = 0
    for result in results:
        if result.published_on is None:
            result_publish(actor=actor, result=result, on=on)
            count += 1
    return count


@transaction.atomic
def plan_close(*, actor: User | None, plan: Plan) -> Plan:
    """Close a plan whose tasks all have results."""
    from inspections.services.plans import check_plan_scope

    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    check_plan_scope(actor, plan)
    open_tasks = Task.objects.filter(plan=plan, status=Task.Status.ASSIGNED).count()
    if open_tasks:
        raise ApplicationError(f"尚有 {open_tasks} 个检查任务未录入结果，不能结束计划。", code="tasks_open")
    plan.status = Plan.Status.CLOSED
    plan.save(update_fields=["status", "updated_at"])
    audit_log(actor=actor, action="inspections.plan.close", obj=plan, after={"status": plan.status})
    return plan


# --- abnormal-list proposals --------------------------------------------------------------------------------------
def _locked_proposal(proposal: AbnormalProposal) -> AbnormalProposal:
    proposal = AbnormalProposal.objects.select_for_update().select_related("result", "enterprise").get(pk=proposal.pk)
    if proposal.status != AbnormalProposal.Status.PROPOSED:
        raise ConflictError("该列异建议已处理。", code="proposal_decided")
    return proposal


@transaction.atomic
def proposal_confirm(*, actor: User | None, proposal: AbnormalProposal, decided_on: dt.date | None = None):
    """Confirm a "not reachable" proposal: the disclosure service lists the entity (reason 4, cause date = the
    inspection day) with all its rules (歇业 tolerance, no duplicate listing, scope)."""
    proposal = _locked_proposal(proposal)
    _check_result_scope(actor, proposal.result)
    listing = abnormal_list(
        actor=actor,
        enterprise=proposal.enterprise,
        reason=AbnormalListing.Reason.UNREACHABLE,
        cause_date=proposal.result.inspected_on,
        facts=f"“双随机、一公开”抽查（{proposal.result.plan.name}）中，"
        f"于{proposal.result.inspected_on:%Y年%m月%d日}通过登记的住所或者经营场所无法联系。",
        decided_on=decided_on,
    )
    proposal.status = AbnormalProposal.Status.CONFIRMED
    proposal.listing = listing
    proposal.decided_by = actor if actor is not None and actor.pk else None
    proposal.decided_at = timezone.now()
    proposal.save()
    audit_log(actor=actor, action="inspections.abnormal.confirm", obj=proposal, after={"listing_id": listing.pk})
    return listing


@transaction.atomic
def proposal_dismiss(*, actor: User | None, proposal: AbnormalProposal, reason: str) -> AbnormalProposal:
    """Dismiss a proposal with the reason (e.g. reachable otherwise, force majeure, seed 000 §7)."""
    proposal = _locked_proposal(proposal)
    _check_result_scope(actor, proposal.result)
    if not reason.strip():
        raise ApplicationError("不予列入须说明理由。", code="reason_required")
    proposal.status = AbnormalProposal.Status.DISMISSED
    proposal.decision_note = reason.strip()
    proposal.decided_by = actor if actor is not None and actor.pk else None
    proposal.decided_at = timezone.now()
    proposal.save()
    audit_log(actor=actor, action="inspections.abnormal.dismiss", obj=proposal, note=proposal.decision_note)
    return proposal
