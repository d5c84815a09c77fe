"""Credit-repair applications from filing to decision (DESIGN.md §3.7), every step a service.

- Filed online by the entity (or entered by staff from paper) for one current record, after the rules
  (repair.rules) said it may apply; materials checked by content; one open application per record; a
  double-submitted form finds the application its first submission made (the form's one-time key).
- Accepted or refused within 3 working days; more material may be requested (the bureau's clock stops and
  restarts from the day it arrives); decided within 15 (2021) / 7 (2025) working days for penalties and the
  serious list, 5 (or the county's 3) for the abnormal list. 即申即办: an annual-report listing whose reports are
  all filed is removed the moment the entity applies.
- 容缺受理: accepted with the secondary material missing, on a commitment to supply it within the policy's
  working days; if it does not arrive the repair is revoked by the nightly job (repair.jobs), the record restored,
  the broken commitment recorded.
- Approval ends the listing or disclosure through the disclosure services in the same transaction, and issues the
  decision document; every step is an audit event, a step on the applicant's status page and a notification.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import audit_log, diff, snapshot
from core.errors import ApplicationError, ConflictError, NotPermitted
from core.models import User
from core.notifications import outbox_enqueue
from disclosure import numbering
from disclosure.models import AbnormalListing, Penalty, SeriousListing
from disclosure.services import listings as listing_services
from disclosure.services import penalties as penalty_services
from enterprises.models import Commitment, Enterprise
from inspections.models import Result
from inspections.services import repair as result_repair
from repair import documents, rules, selectors
from repair.materials import CheckedFile, check_upload
from repair.models import ApplicationStep, Material, RepairApplication, RepairDocument
from repair.services.accounts import contact_of

Status = RepairApplication.Status
StepKind = ApplicationStep.Kind
MaterialKind = Material.Kind

REVIEW_ROLES = frozenset({User.Role.CITY_REGULATOR, User.Role.COUNTY_REGULATOR, User.Role.CREDIT_REVIEWER})
AUDIT_FIELDS = [
    "number", "enterprise_id", "kind", "penalty_id", "abnormal_listing_id", "serious_listing_id",
    "inspection_result_id", "target_key",
    "policy_id", "responsible_office_id", "channel", "submitted_by_id", "status", "filed_on", "acceptance_due",
    "accepted_on", "decision_due", "due_on", "due_note", "handler_id", "immediate", "tolerance", "tolerance_missing",
    "materials_due", "materials_completed_on", "commitment_id", "requested_materials", "resume_status", "decided_on",
    "decision_reason", "revoked_on", "revocation_reason",
]  # fmt: skip
MATERIAL_LABELS = dict(MaterialKind.choices)
TOLERANCE_COMMITMENT_KIND = "信用修复容缺受理补交材料承诺"
NOT_OPEN = "该申请已办结，不能再办理此操作。"


def _today() -> dt.date:
    return timezone.localdate()


def _label(kind: str) -> str:
    return str(MATERIAL_LABELS.get(kind, kind))


@dataclass(frozen=True)
class Upload:
    """One uploaded file and which material it is."""

    kind: str
    file: UploadedFile


# --- checks ---------------------------------------------------------------------------------------------------------
def _check_uploads(uploads: Sequence[Upload]) -> list[tuple[str, CheckedFile]]:
    """Every upload checked before anything is written; the first bad one names itself."""
    checked = []
    for upload in uploads:
        if upload.kind not in MaterialKind.values:
            raise ApplicationError(f"未知的材料类型：{upload.kind}", code="invalid_choice")
        checked.append((upload.kind, check_upload(upload.file, label=_label(upload.kind))))
    return checked


def _is_reviewer(actor: User | None) -> bool:
    return bool(
        actor is not None and actor.pk and actor.is_active and (actor.is_superuser or actor.role in REVIEW_ROLES)
    )


def _check_reviewer(actor: User | None, application: RepairApplication) -> None:
    """Staff of the responsible office (谁认定、谁修复) in a reviewing role; anyone else is refused."""
    if not _is_reviewer(actor):
        raise NotPermitted("您没有办理信用修复的权限。")
    if not RepairApplication.objects.visible_to(actor).filter(pk=application.pk).exists():
        raise NotPermitted("该申请不属于您所在机关办理（谁认定、谁修复）。", code="out_of_scope")


def _owner_of(actor: User | None) -> Enterprise | None:
    account = getattr(actor, "enterprise_account", None) if actor is not None and actor.pk else None
    return account.enterprise if account is not None else None


def _locked(application: RepairApplication) -> RepairApplication:
    return (
        RepairApplication.objects.select_for_update(of=("self",))
        .select_related(
            "enterprise",
            "responsible_office",
            "policy",
            "penalty",
            "abnormal_listing",
            "serious_listing",
            "inspection_result__plan",
        )
        .get(pk=application.pk)
    )


def _actor_label(actor: User | None, application: RepairApplication) -> str:
    """Who acted, as the applicant sees it: the office, with the handler's name when there is one."""
    if actor is not None and actor.pk and actor.role == User.Role.ENTERPRISE:
        return application.enterprise.name
    name = actor.get_full_name() if actor is not None and actor.pk else ""
    return f"{application.responsible_authority}（{name}）" if name else application.responsible_authority


def _step(
    application: RepairApplication,
    *,
    kind: str,
    actor: User | None,
    note: str = "",
    next_due: dt.date | None = None,
    on: dt.date | None = None,
) -> ApplicationStep:
    return ApplicationStep.objects.create(
        application=application,
        kind=kind,
        at=timezone.now(),
        on=on or _today(),
        actor=actor if actor is not None and actor.pk else None,
        actor_label=_actor_label(actor, application)[:150],
        note=note,
        next_due=next_due,
    )


def _notify(application: RepairApplication, step: ApplicationStep, text: str) -> None:
    """Tell the applicant through the outbox: the contact it gave (SMS) and the registered contact if different."""
    body = (
        f"【{application.responsible_authority}】{application.enterprise.name}：您的信用修复申请 {application.number}"
        f"{text}详情请登录企业信用监管平台“我的信用修复”查看。信用修复不收取任何费用。"
    )
    recipients = {("sms", application.contact_phone)} if application.contact_phone else set()
    recipients.add(contact_of(application.enterprise))
    for channel, recipient in sorted(recipients):
        outbox_enqueue(
            channel=channel,
            recipient=recipient,
            subject=f"信用修复申请 {application.number}",
            body=body,
            dedupe_key=f"repair-step:{step.pk}:{channel}:{recipient}"[:200],
            related=application,
        )


def _audit(actor: User | None, action: str, application: RepairApplication, before: dict, note: str = "") -> None:
    old, new = diff(before, snapshot(application, AUDIT_FIELDS))
    audit_log(actor=actor, action=action, obj=application, before=old, after=new, note=note)


def _store_materials(
    application: RepairApplication, checked: Iterable[tuple[str, CheckedFile]], *, actor: User, later: bool
) -> list[Material]:
    stored = []
    for kind, item in checked:
        material = Material(
            application=application,
            kind=kind,
            original_name=item.original_name,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            uploaded_by=actor,
            supplied_later=later,
        )
        # A name of our own (never the uploader's), under MEDIA_ROOT, which no URL serves.
        material.file.save(f"{application.pk}-{kind}-{item.sha256[:16]}.{item.extension}", item.upload, save=False)
        material.full_clean()
        material.save()
        audit_log(
            actor=actor,
            action="repair.material.upload",
            obj=material,
            after={
                "application_id": application.pk,
                "kind": kind,
                "file": material.file.name,
                "size": item.size,
                "sha256": item.sha256,
                "content_type": item.content_type,
            },
        )
        stored.append(material)
    return stored


def _missing_kinds(application: RepairApplication, kinds: Iterable[str]) -> list[str]:
    have = set(application.materials.values_list("kind", flat=True))
    return [k for k in kinds if k not in have]


def _set_acceptance_due(application: RepairApplication, start: dt.date) -> None:
    due = selectors.due_after(start, application.policy.acceptance_working_days)
    application.acceptance_due = due.on
    application.due_on = due.on
    application.due_note = due.note


def _set_decision_due(application: RepairApplication, start: dt.date) -> None:
    days = selectors.decision_working_days(
        kind=application.kind, policy=application.policy, office=application.responsible_office
    )
    due = selectors.due_after(start, days)
    application.decision_due = due.on
    application.due_on = due.on
    application.due_note = due.note


# --- filing ---------------------------------------------------------------------------------------------------------
@transaction.atomic
def application_submit(
    *,
    actor: User,
    enterprise: Enterprise,
    target_type: str,
    target_id: int,
    statement: str,
    contact_name: str,
    contact_phone: str,
    uploads: Sequence[Upload],
    tolerance: bool = False,
    submission_key: uuid.UUID | str | None = None,
    channel: str = RepairApplication.Channel.ONLINE,
) -> RepairApplication:
    """File an application for one current record of `enterprise`.

    Online the actor is the entity's own account; a paper application is entered by staff of the responsible office.
    `tolerance` asks for 容缺受理: the secondary material (proof of fulfilment) follows within the policy's working
    days. Refused, with nothing written, when the record is not the entity's, not (yet) repairable, already has an
    open application, or the materials are missing or not PDF/JPEG/PNG.
    """
    key = uuid.UUID(str(submission_key)) if submission_key else uuid.uuid4()
    existing = RepairApplication.objects.filter(submission_key=key).first()
    if existing is not None:
        if existing.submitted_by_id != actor.pk:
            raise ApplicationError("表单已失效，请刷新页面后重新填写。", code="stale_form")
        return existing  # the same form submitted twice: the first submission's application

    if channel == RepairApplication.Channel.ONLINE:
        owner = _owner_of(actor)
        if owner is None or owner.pk != enterprise.pk:
            raise ApplicationError("未找到该记录。", code="not_found")
    elif channel == RepairApplication.Channel.PAPER:
        if not _is_reviewer(actor):
            raise NotPermitted("您没有代为录入信用修复申请的权限。")
    else:
        raise ApplicationError(f"未知的申请渠道：{channel}", code="invalid_choice")

    record = selectors.find_record(enterprise, target_type=target_type, pk=target_id)
    today = _today()
    policy = selectors.policy_in_force(today)
    office, authority = selectors.responsible_office(record)
    if channel == RepairApplication.Channel.PAPER and not (actor.is_city_wide or actor.region_code == office.code):
        raise NotPermitted("该记录不属于您所在机关办理（谁认定、谁修复）。", code="out_of_scope")

    answer = selectors.eligibility(record, on=today, policy=policy)
    if not answer.may_apply:
        raise ApplicationError(
            "暂不能申请信用修复：" + "；".join(answer.reasons),
            code="not_eligible",
            extra={"reasons": list(answer.reasons), "from_date": answer.from_date},
        )
    key_of_record = selectors.target_key(record)
    open_app = RepairApplication.objects.filter(target_key=key_of_record, status__in=RepairApplication.OPEN_STATUSES)
    if open_app.exists():
        raise ConflictError(
            f"该记录已有正在办理的信用修复申请（{open_app.first().number}），请勿重复申请。", code="already_applied"
        )

    statement = (statement or "").strip()
    contact_name = (contact_name or "").strip()
    contact_phone = (contact_phone or "").strip()
    fields: dict[str, list[str]] = {}
    if not statement:
        fields["statement"] = ["请填写申请事由（已履行的义务、已消除的不良影响等）。"]
    if not contact_name:
        fields["contact_name"] = ["请填写联系人。"]
    if not contact_phone:
        fields["contact_phone"] = ["请填写联系电话。"]
    checked = _check_uploads(uploads)
    kinds = {kind for kind, _ in checked}
    kind = selectors.kind_of(record)
    missing_primary = [k for k in rules.PRIMARY_MATERIALS if k not in kinds]
    for k in missing_primary:
        fields.setdefault(k, []).append(f"请上传“{_label(k)}”。")
    missing_secondary = [k for k in rules.SECONDARY_MATERIALS[kind] if k not in kinds]
    if tolerance and not missing_secondary:
        tolerance = False  # nothing is missing: an ordinary application
    if missing_secondary and not tolerance:
        for k in missing_secondary:
            fields.setdefault(k, []).append(f"请上传“{_label(k)}”，或选择容缺受理并承诺按期补交。")
    if tolerance and not answer.tolerance_allowed:
        fields.setdefault("tolerance", []).append("多次违法失信的经营主体不适用容缺受理，请提交全部材料。")
    if fields:
        messages = [m for ms in fields.values() for m in ms]
        raise ApplicationError("；".join(messages), code="invalid", extra={"fields": fields})

    application = RepairApplication(
        number=numbering.allocate(office=office, doc_type=numbering.REPAIR_APPLICATION, year=today.year)[0],
        enterprise=enterprise,
        kind=kind,
        penalty=record if isinstance(record, Penalty) else None,
        abnormal_listing=record if isinstance(record, AbnormalListing) else None,
        serious_listing=record if isinstance(record, SeriousListing) else None,
        inspection_result=record if isinstance(record, Result) else None,
        target_key=key_of_record,
        target_label=selectors.record_label(record),
        policy=policy,
        responsible_office=office,
        responsible_authority=authority,
        channel=channel,
        submitted_by=actor,
        submission_key=key,
        statement=statement,
        contact_name=contact_name,
        contact_phone=contact_phone,
        filed_on=today,
        tolerance=tolerance,
        tolerance_missing=missing_secondary if tolerance else [],
    )
    _set_acceptance_due(application, today)
    application.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError as exc:
        if "repair_one_open_per_record" in str(exc.__cause__ or exc):
            raise ConflictError("该记录已有正在办理的信用修复申请，请勿重复申请。", code="already_applied") from exc
        raise
    _store_materials(application, checked, actor=actor, later=False)
    audit_log(actor=actor, action="repair.submit", obj=application, after=snapshot(application, AUDIT_FIELDS))
    note = "容缺受理：承诺补交" + "、".join(_label(k) for k in missing_secondary) if tolerance else ""
    step = _step(application, kind=StepKind.SUBMITTED, actor=actor, note=note, next_due=application.acceptance_due)
    if answer.immediate:
        return _handle_at_once(application, actor=actor)
    _notify(application, step, "已提交，登记机关将在3个工作日内决定是否受理。")
    return application


def _handle_at_once(application: RepairApplication, *, actor: User) -> RepairApplication:
    """即申即办 (seed 003): every missing annual report filed, the listing is removed the moment one applies."""
    before = snapshot(application, AUDIT_FIELDS)
    today = _today()
    application.status = Status.ACCEPTED
    application.accepted_on = today
    application.immediate = True
    application.decision_due = today
    application.due_on = today
    application.save()
    _audit(None, "repair.accept", application, before, note="即申即办")
    _step(application, kind=StepKind.ACCEPTED, actor=None, note="即申即办", next_due=today)
    return _approve(application, actor=None, reason="已补报并公示全部未报年度的年度报告，即申即办。")


# --- acceptance -----------------------------------------------------------------------------------------------------
@transaction.atomic
def application_accept(*, actor: User, application: RepairApplication, note: str = "") -> RepairApplication:
    """Accept (受理) a submitted application: the decision deadline starts. With the secondary material missing on a
    容缺 commitment, the commitment is recorded and the material falls due within the policy's working days."""
    locked = _locked(application)
    _check_reviewer(actor, locked)
    if locked.status != Status.SUBMITTED:
        raise ApplicationError(NOT_OPEN if not locked.is_open else "只有待受理的申请可以受理。", code="invalid_state")
    missing_primary = _missing_kinds(locked, rules.PRIMARY_MATERIALS)
    if missing_primary:
        raise ApplicationError(
            "主要材料不齐（缺少" + "、".join(_label(k) for k in missing_primary) + "），请要求补正或不予受理。",
            code="materials_missing",
        )
    missing_secondary = _missing_kinds(locked, rules.SECONDARY_MATERIALS[locked.kind])
    if missing_secondary and not locked.tolerance:
        raise ApplicationError(
            "材料不齐（缺少" + "、".join(_label(k) for k in missing_secondary) + "），请要求补正或不予受理。",
            code="materials_missing",
        )
    before = snapshot(locked, AUDIT_FIELDS)
    today = _today()
    locked.status = Status.ACCEPTED
    locked.accepted_on = today
    locked.handler = actor
    _set_decision_due(locked, today)
    kind = StepKind.ACCEPTED
    text = "已受理。"
    if locked.tolerance and missing_secondary:
        due = selectors.due_after(today, locked.policy.tolerance_working_days)
        locked.tolerance_missing = missing_secondary
        locked.materials_due = due.on
        if due.on is None:
            locked.due_note = due.note
        names = "、".join(_label(k) for k in missing_secondary)
        commitment = Commitment(
            enterprise=locked.enterprise,
            kind=TOLERANCE_COMMITMENT_KIND,
            text=f"信用修复申请 {locked.number} 容缺受理，承诺于{due.on or '规定期限'}前补交：{names}。",
            made_on=locked.filed_on,
        )
        commitment.full_clean()
        commitment.save()
        audit_log(actor=actor, action="commitment.record", obj=commitment, after=snapshot(commitment))
        locked.commitment = commitment
        kind = StepKind.ACCEPTED_TOLERANCE
        text = f"已容缺受理，请于{due.on or '规定期限'}前补交{names}，逾期未补交的将撤销信用修复。"
    elif locked.tolerance:
        locked.tolerance = False  # everything arrived before acceptance
        locked.tolerance_missing = []
    locked.full_clean(validate_constraints=False)
    locked.save()
    _audit(actor, "repair.accept", locked, before, note=note)
    step = _step(locked, kind=kind, actor=actor, note=note or text, next_due=locked.decision_due)
    _notify(locked, step, text)
    return locked


@transaction.atomic
def application_refuse(*, actor: User, application: RepairApplication, reason: str) -> RepairApplication:
    """Refuse to accept (不予受理) with the reasons, in a notice the applicant downloads."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请填写不予受理的理由。", code="reason_required")
    locked = _locked(application)
    _check_reviewer(actor, locked)
    if locked.status not in (Status.SUBMITTED, Status.MATERIALS_REQUESTED) or (
        locked.status == Status.MATERIALS_REQUESTED and locked.resume_status != Status.SUBMITTED
    ):
        raise ApplicationError("只有尚未受理的申请可以不予受理。", code="invalid_state")
    before = snapshot(locked, AUDIT_FIELDS)
    today = _today()
    locked.status = Status.REFUSED
    locked.decided_on = today
    locked.decision_reason = reason
    locked.handler = actor
    locked.due_on = None
    locked.resume_status = ""
    locked.save()
    _issue(locked, RepairDocument.DocType.REFUSAL, numbering.REPAIR_REFUSAL, [f"经审查，{reason}", "决定不予受理。"])
    _audit(actor, "repair.refuse", locked, before, note=reason)
    step = _step(locked, kind=StepKind.REFUSED, actor=actor, note=reason)
    _notify(locked, step, f"不予受理：{reason}。")
    return locked


@transaction.atomic
def application_request_materials(*, actor: User, application: RepairApplication, requested: str) -> RepairApplication:
    """Ask the applicant for more material, all at once (一次性告知). The bureau's deadline stops; it starts again
    from the day the material arrives."""
    requested = (requested or "").strip()
    if not requested:
        raise ApplicationError("请写明需要补正的材料。", code="reason_required")
    locked = _locked(application)
    _check_reviewer(actor, locked)
    if locked.status not in (Status.SUBMITTED, Status.ACCEPTED):
        raise ApplicationError("只有待受理或审查中的申请可以要求补正材料。", code="invalid_state")
    before = snapshot(locked, AUDIT_FIELDS)
    locked.resume_status = locked.status
    locked.status = Status.MATERIALS_REQUESTED
    locked.requested_materials = requested
    locked.handler = actor
    locked.due_on = None
    locked.save()
    _audit(actor, "repair.request_materials", locked, before, note=requested)
    step = _step(locked, kind=StepKind.MATERIALS_REQUESTED, actor=actor, note=requested)
    _notify(locked, step, f"需要补正材料：{requested}。")
    return locked


@transaction.atomic
def application_supply_materials(
    *, actor: User, application: RepairApplication, uploads: Sequence[Upload], note: str = ""
) -> RepairApplication:
    """The applicant (or staff, for paper) adds material: answering a request for more, or keeping a 容缺
    commitment. A request answered puts the application back where it was, its deadline counted afresh."""
    checked = _check_uploads(uploads)
    if not checked:
        raise ApplicationError("请选择要补交的材料文件。", code="no_file")
    locked = _locked(application)
    owner = _owner_of(actor)
    if owner is not None:
        if owner.pk != locked.enterprise_id:
            raise ApplicationError("未找到该申请。", code="not_found")
    else:
        _check_reviewer(actor, locked)
    tolerance_pending = locked.tolerance and locked.materials_completed_on is None
    if not (locked.is_open or (locked.status == Status.APPROVED and tolerance_pending)):
        raise ApplicationError(NOT_OPEN, code="invalid_state")
    before = snapshot(locked, AUDIT_FIELDS)
    today = _today()
    _store_materials(locked, checked, actor=actor, later=True)
    texts = ["已收到补交的材料。"]
    if locked.status == Status.MATERIALS_REQUESTED:
        locked.status = locked.resume_status or Status.SUBMITTED
        locked.resume_status = ""
        if locked.status == Status.SUBMITTED:
            _set_acceptance_due(locked, today)
        else:
            _set_decision_due(locked, today)
        texts.append("办理期限自收到补正材料之日起重新计算。")
    if tolerance_pending and not _missing_kinds(locked, locked.tolerance_missing):
        locked.materials_completed_on = today
        if locked.commitment_id:
            commitment = Commitment.objects.select_for_update().get(pk=locked.commitment_id)
            commitment_before = snapshot(commitment)
            commitment.status = Commitment.Status.KEPT
            commitment.verified_on = today
            commitment.save()
            old, new = diff(commitment_before, snapshot(commitment))
            audit_log(actor=actor, action="commitment.kept", obj=commitment, before=old, after=new)
        texts.append("容缺受理承诺已履行。")
    locked.save()
    _audit(actor, "repair.supply_materials", locked, before, note=note)
    step = _step(
        locked, kind=StepKind.MATERIALS_SUPPLIED, actor=actor, note=note or "".join(texts), next_due=locked.due_on
    )
    _notify(locked, step, "".join(texts))
    return locked


@transaction.atomic
def application_withdraw(*, actor: User, application: RepairApplication, reason: str = "") -> RepairApplication:
    """The applicant withdraws an application still being handled."""
    locked = _locked(application)
    owner = _owner_of(actor)
    if owner is None or owner.pk != locked.enterprise_id:
        raise ApplicationError("未找到该申请。", code="not_found")
    if not locked.is_open:
        raise ApplicationError(NOT_OPEN, code="invalid_state")
    before = snapshot(locked, AUDIT_FIELDS)
    locked.status = Status.WITHDRAWN
    locked.due_on = None
    locked.decided_on = _today()
    locked.decision_reason = (reason or "").strip()
    locked.save()
    _audit(actor, "repair.withdraw", locked, before, note=reason)
    _step(locked, kind=StepKind.WITHDRAWN, actor=actor, note=reason)
    return locked


# --- decision -------------------------------------------------------------------------------------------------------
def _issue(application: RepairApplication, doc_type: str, numbering_type: str, body: list[str]) -> RepairDocument:
    today = _today()
    number = numbering.allocate(office=application.responsible_office, doc_type=numbering_type, year=today.year)[0]
    return documents.issue_document(
        application=application, doc_type=doc_type, number=number, issued_on=today, body=body
    )


def _end_record(application: RepairApplication, *, actor: User | None, on: dt.date) -> str:
    """End the listing or disclosure through the disclosure service (in the caller's transaction); what it did."""
    note = f"信用修复申请 {application.number}"
    if application.penalty_id:
        penalty_services.penalty_end_disclosure(
            actor=actor, penalty=application.penalty, on=on, reason=Penalty.EndReason.REPAIRED, note=note
        )
        return "决定对上述行政处罚信息提前停止公示，自本决定作出之日起不再在国家企业信用信息公示系统和本平台公示。"
    if application.abnormal_listing_id:
        listing_services.abnormal_remove(
            actor=actor,
            listing=application.abnormal_listing,
            reason=AbnormalListing.RemovalReason.REPAIRED,
            on=on,
            note=note,
        )
        noun = "恢复正常记载状态" if application.abnormal_listing.is_mark else "移出经营异常名录"
        return f"决定将你（单位）{noun}。"
    if application.inspection_result_id:
        result_repair.result_stop_publication(actor=actor, result=application.inspection_result, on=on, note=note)
        return "决定对上述抽查检查结果信息停止公示，自本决定作出之日起不再在本平台公示。"
    listing_services.serious_remove(
        actor=actor,
        listing=application.serious_listing,
        kind=SeriousListing.RemovalKind.EARLY_REPAIR,
        on=on,
        note=note,
    )
    return "决定将你（单位）提前移出严重违法失信名单，并停止公示相关信息，相关管理措施同时解除。"


def _approve(application: RepairApplication, *, actor: User | None, reason: str) -> RepairApplication:
    today = _today()
    record = application.target
    answer = selectors.eligibility(record, on=today, policy=application.policy)
    if not answer.may_apply:
        raise ApplicationError(
            "经复核，目前不符合信用修复条件：" + "；".join(answer.reasons) + "。请作出不予修复决定。",
            code="not_eligible",
            extra={"reasons": list(answer.reasons)},
        )
    before = snapshot(application, AUDIT_FIELDS)
    outcome = _end_record(application, actor=actor, on=today)
    application.status = Status.APPROVED
    application.decided_on = today
    application.decision_reason = reason
    application.handler = actor if actor is not None and actor.pk else application.handler
    application.due_on = None
    application.save()
    body = [reason] if reason else []
    body.append(
        f"经审查，你（单位）的申请符合信用修复条件（{answer.rule}）。" if answer.rule else "经审查，符合信用修复条件。"
    )
    body.append(outcome)
    if application.tolerance and application.materials_completed_on is None:
        body.append(
            f"本决定系容缺受理作出。你（单位）应于{application.materials_due or '规定期限'}前补交"
            + "、".join(_label(k) for k in application.tolerance_missing)
            + "；逾期未补交的，本机关将撤销本决定，恢复相关信息公示（列入状态），并记录不实承诺。"
        )
    _issue(application, RepairDocument.DocType.APPROVAL, numbering.REPAIR_APPROVAL, body)
    _audit(actor, "repair.approve", application, before, note=reason)
    step = _step(application, kind=StepKind.APPROVED, actor=actor, note=reason)
    _notify(application, step, "已准予信用修复，决定书可在线下载。")
    return application


@transaction.atomic
def application_approve(*, actor: User, application: RepairApplication, reason: str = "") -> RepairApplication:
    """Approve the repair: the rules are checked again for today, the listing or disclosure ends through the
    disclosure service and the decision document is issued — all in this transaction (the public record changes
    the moment it commits, or not at all)."""
    locked = _locked(application)
    _check_reviewer(actor, locked)
    if locked.status != Status.ACCEPTED:
        raise ApplicationError("只有已受理的申请可以作出修复决定。", code="invalid_state")
    return _approve(locked, actor=actor, reason=(reason or "").strip())


@transaction.atomic
def application_reject(*, actor: User, application: RepairApplication, reason: str) -> RepairApplication:
    """Refuse the repair (不予修复) with the reasons, in a decision document the applicant downloads."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请填写不予修复的理由。", code="reason_required")
    locked = _locked(application)
    _check_reviewer(actor, locked)
    if locked.status != Status.ACCEPTED:
        raise ApplicationError("只有已受理的申请可以作出不予修复决定。", code="invalid_state")
    return _reject(locked, actor=actor, reason=reason)


def _reject(application: RepairApplication, *, actor: User | None, reason: str) -> RepairApplication:
    before = snapshot(application, AUDIT_FIELDS)
    application.status = Status.REJECTED
    application.decided_on = _today()
    application.decision_reason = reason
    application.due_on = None
    application.resume_status = ""
    application.save()
    _issue(
        application,
        RepairDocument.DocType.REJECTION,
        numbering.REPAIR_REJECTION,
        [f"经审查，{reason}", "根据信用修复有关规定，决定不予信用修复。符合条件后可以重新申请。"],
    )
    _audit(actor, "repair.reject", application, before, note=reason)
    step = _step(application, kind=StepKind.REJECTED, actor=actor, note=reason)
    _notify(application, step, f"不予信用修复：{reason}。")
    return application


# --- 容缺 commitments not kept ----------------------------------------------------------------------------------------
def _break_commitment(application: RepairApplication, *, actor: User | None, on: dt.date) -> None:
    if not application.commitment_id:
        return
    commitment = Commitment.objects.select_for_update().get(pk=application.commitment_id)
    before = snapshot(commitment)
    commitment.status = Commitment.Status.FALSE
    commitment.verified_on = on
    commitment.save()
    old, new = diff(before, snapshot(commitment))
    audit_log(actor=actor, action="commitment.false", obj=commitment, before=old, after=new, note=application.number)


def _restore_record(application: RepairApplication, *, actor: User | None, on: dt.date, reason: str) -> None:
    if application.penalty_id:
        penalty_services.penalty_restore_disclosure(actor=actor, penalty=application.penalty, on=on, reason=reason)
    elif application.abnormal_listing_id:
        listing_services.abnormal_restore(actor=actor, listing=application.abnormal_listing, on=on, reason=reason)
    elif application.inspection_result_id:
        result_repair.result_restore_publication(actor=actor, result=application.inspection_result, reason=reason)
    else:
        listing_services.serious_restore(actor=actor, listing=application.serious_listing, on=on, reason=reason)


@transaction.atomic
def application_revoke_broken_commitment(
    *, actor: User | None, application: RepairApplication, on: dt.date
) -> RepairApplication | None:
    """The 容缺 material did not arrive by its due day: an approved repair is revoked (the disclosure or listing
    restored, a revocation decision issued), an undecided one is rejected; the commitment is recorded as broken.
    Nothing happens (None) if the material arrived or the day has not passed: safe to call again."""
    locked = _locked(application)
    if not (
        locked.tolerance
        and locked.materials_completed_on is None
        and locked.materials_due is not None
        and locked.materials_due < on
        and locked.status in (Status.APPROVED, Status.ACCEPTED, Status.MATERIALS_REQUESTED)
    ):
        return None
    missing = "、".join(_label(k) for k in locked.tolerance_missing)
    reason = f"容缺受理后未在承诺期限（{locked.materials_due}）内补交{missing}"
    _break_commitment(locked, actor=actor, on=on)
    if locked.status != Status.APPROVED:
        return _reject(locked, actor=actor, reason=reason)
    before = snapshot(locked, AUDIT_FIELDS)
    _restore_record(locked, actor=actor, on=on, reason=f"撤销信用修复申请 {locked.number} 的修复决定：{reason}")
    locked.status = Status.REVOKED
    locked.revoked_on = on
    locked.revocation_reason = reason
    locked.save()
    _issue(
        locked,
        RepairDocument.DocType.REVOCATION,
        numbering.REPAIR_REVOCATION,
        [
            f"你（单位）的信用修复申请系容缺受理，{reason}，未履行承诺。",
            "根据信用修复有关规定，决定撤销原信用修复决定，恢复相关信息公示（列入状态），并将不实承诺记入信用记录。",
        ],
    )
    _audit(actor, "repair.revoke", locked, before, note=reason)
    step = _step(locked, kind=StepKind.REVOKED, actor=actor, note=reason, on=on)
    _notify(locked, step, f"因{reason}，信用修复决定已撤销，相关信息恢复公示。")
    return locked
