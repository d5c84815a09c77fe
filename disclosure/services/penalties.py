"""Business writes on administrative penalties and their disclosure (DESIGN.md §3.2).

A penalty arrives from a department's system (API push) or from staff (admin). It is recorded once per department
and decision number: a repeat with the same content returns the existing record, a repeat with other content is a
conflict, never an overwrite. Whether and how long it is disclosed is decided by disclosure.policies over the policy
rows. A wrong entry is corrected by staff (audited before/after); a revoked or changed decision is withdrawn and
leaves the public record at once; records are never deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import audit_log, diff, snapshot
from core.calendar import CalendarUnavailable, WorkingCalendar
from core.errors import ApplicationError, ConflictError
from core.models import Department, User
from disclosure.models import DisclosurePolicy, Penalty
from disclosure.policies import PenaltyFacts, decide
from enterprises import identity
from enterprises.models import Enterprise

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
MAX_FINE = Decimal("999999999999.99")  # Penalty.fine_amount: 14 digits, 2 decimals
CENT = Decimal("0.01")

# The decision as its department states it: what the idempotency hash and the conflict check compare. The case
# officer and the document are internal bookkeeping of the record, not the content of the decision.
CONTENT_FIELDS = (
    "uscc",
    "decision_date",
    "procedure",
    "kinds",
    "fine_amount",
    "domain",
    "violation_type",
    "legal_basis",
    "content",
    "authority_name",
    "restriction_until",
)
# Names of the fields in Chinese, for messages that list them (a conflict, a refused correction).
FIELD_LABELS = {
    "uscc": "统一社会信用代码",
    "decision_number": "决定书文号",
    "decision_date": "处罚决定日期",
    "procedure": "程序类型",
    "kinds": "处罚种类",
    "fine_amount": "罚款金额",
    "domain": "领域",
    "violation_type": "违法行为类型",
    "legal_basis": "处罚依据",
    "content": "处罚内容",
    "authority_name": "处罚机关",
    "case_officer": "承办人",
    "restriction_until": "法定限制期限",
    "disclosed_from": "公示起始日期",
    "department": "处罚部门",
}
CORRECTABLE_FIELDS = frozenset({*CONTENT_FIELDS, "decision_number", "case_officer"})
AUDIT_FIELDS = [
    "enterprise_id", "department_id", "decision_number", "decision_date", "procedure", "kinds", "fine_amount",
    "domain", "violation_type", "legal_basis", "content", "authority_name", "case_officer", "restriction_until",
    "content_hash", "status", "withdrawn_at", "withdrawn_by_id", "withdrawal_reason", "policy_id",
    "tier", "disclosed", "not_disclosed_reason", "disclosed_from", "disclosed_until", "disclosure_due_by",
    "repair_possible_from", "policies_reviewed_on", "disclosure_ended_on", "disclosure_end_reason",
]  # fmt: skip
POLICY_AUDIT_FIELDS = [
    "code", "name", "scheme", "basis", "effective_from", "retroactive_if_lenient", "minor_months", "general_months",
    "serious_months", "repair_general_months", "repair_serious_months", "repair_key_domain_months",
    "disclosure_deadline_working_days", "withdrawal_deadline_working_days",
]  # fmt: skip
POLICY_EDITABLE_FIELDS = frozenset(POLICY_AUDIT_FIELDS) - {"code", "scheme"}


def _snapshot(penalty: Penalty) -> dict[str, Any]:
    # The file field by its stored name (core.audit serialises plain values, not FieldFile objects).
    return {**snapshot(penalty, AUDIT_FIELDS), "document": penalty.document.name or ""}


# --- validation -----------------------------------------------------------------------------------------------------
class _Errors:
    """Collects every problem of an input, so one answer names all bad fields (API: error.fields)."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}
        self.codes: list[str] = []

    def add(self, field: str, message: str, code: str) -> None:
        self.fields.setdefault(field, []).append(message)
        self.codes.append(code)

    def raise_if_any(self) -> None:
        if not self.fields:
            return
        messages = [m for ms in self.fields.values() for m in ms]
        code = self.codes[0] if len(self.codes) == 1 else "invalid"
        raise ApplicationError("；".join(messages), code=code, extra={"fields": self.fields})


def _invalid(field: str, message: str, code: str) -> ApplicationError:
    return ApplicationError(message, code=code, extra={"fields": {field: [message]}})


def _as_date(value: Any, field: str, errors: _Errors, *, required: bool) -> dt.date | None:
    if value in (None, ""):
        if required:
            errors.add(field, f"{FIELD_LABELS[field]}不能为空", "required")
        return None
    if isinstance(value, dt.datetime):  # a datetime is a date too: refuse it rather than guess the time zone
        errors.add(field, f"{FIELD_LABELS[field]}应为日期（YYYY-MM-DD）", "invalid_date")
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors.add(field, f"{FIELD_LABELS[field]}应为日期（YYYY-MM-DD）", "invalid_date")
        return None


def _as_amount(value: Any, errors: _Errors) -> Decimal | None:
    """The fine in yuan with exactly two decimals, or None; refuses what is not a finite amount of cents."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        errors.add("fine_amount", "罚款金额应为数字（单位：元）", "invalid_amount")
        return None
    if not amount.is_finite():
        errors.add("fine_amount", "罚款金额应为数字（单位：元）", "invalid_amount")
        return None
    if abs(amount) > MAX_FINE:  # checked first: quantizing a huge number overflows the decimal context
        errors.add("fine_amount", "罚款金额超出允许范围", "invalid_amount")
        return None
    if amount != amount.quantize(CENT):
        errors.add("fine_amount", "罚款金额最多保留两位小数（分）", "invalid_amount")
        return None
    return amount.quantize(CENT)


def _text(value: Any) -> str:
    return str(value or "").strip()


def _validated(
    *,
    actor: User | None,
    today: dt.date,
    uscc: Any,
    decision_date: Any,
    procedure: Any,
    kinds: Any,
    fine_amount: Any,
    domain: Any,
    violation_type: Any,
    legal_basis: Any,
    content: Any,
    authority_name: Any,
    restriction_until: Any,
) -> dict[str, Any]:
    """The decision's content, normalised (kinds in declaration order, amount in cents), or one ApplicationError
    naming every bad field. The enterprise must be one the actor may see (a county regulator: its county)."""
    errors = _Errors()
    data: dict[str, Any] = {}

    enterprise = None
    try:
        code = identity.validate(str(uscc or ""))
    except identity.InvalidUSCC as exc:
        errors.add("uscc", str(exc), "invalid_uscc")
    else:
        candidates = Enterprise.objects.visible_to(actor) if actor is not None else Enterprise.objects.all()
        enterprise = candidates.filter(uscc=code).first()
        if enterprise is None:
            # Same answer for an unknown code and one outside the actor's county: never confirm it exists.
            errors.add("uscc", "未找到该经营主体（统一社会信用代码未登记或不在您的辖区）", "unknown_enterprise")
    data["enterprise"] = enterprise

    decided = _as_date(decision_date, "decision_date", errors, required=True)
    if decided is not None and decided > today:
        errors.add("decision_date", f"处罚决定日期（{decided}）不能晚于今天（{today}）", "future_decision_date")
    data["decision_date"] = decided

    if procedure not in Penalty.Procedure.values:
        errors.add("procedure", f"未知的程序类型：{procedure}（应为 ordinary 或 summary）", "unknown_procedure")
    data["procedure"] = procedure

    if domain not in Penalty.Domain.values:
        errors.add("domain", f"未知的领域：{domain}（应为 food、drug、special_equipment 或 other）", "unknown_domain")
    data["domain"] = domain

    kind_list: list[str] = []
    if isinstance(kinds, str) or not isinstance(kinds, Iterable):
        errors.add("kinds", "处罚种类应为列表", "invalid_kinds")
    else:
        kind_list = [str(k) for k in kinds]
        if not kind_list:
            errors.add("kinds", "处罚种类不能为空", "no_kinds")
        unknown = [k for k in kind_list if k not in Penalty.Kind.values]
        if unknown:
            errors.add("kinds", f"未知的处罚种类：{'、'.join(unknown)}", "unknown_kind")
        duplicates = sorted({k for k in kind_list if kind_list.count(k) > 1})
        if duplicates:
            errors.add("kinds", f"处罚种类重复：{'、'.join(duplicates)}", "duplicate_kind")
    order = {value: index for index, value in enumerate(Penalty.Kind.values)}
    data["kinds"] = sorted(set(kind_list), key=lambda k: order.get(k, len(order)))

    amount = _as_amount(fine_amount, errors)
    has_fine = Penalty.Kind.FINE in kind_list
    # The amount is weighed against the kinds only when there are kinds to weigh it against.
    if not kind_list or "fine_amount" in errors.fields:
        pass
    elif has_fine and amount is None:
        errors.add("fine_amount", "处罚种类含罚款时必须填写罚款金额", "fine_without_amount")
    elif has_fine and amount is not None and amount <= 0:
        errors.add("fine_amount", "罚款金额必须大于 0", "non_positive_fine")
    elif not has_fine and amount is not None:
        errors.add("fine_amount", "处罚种类不含罚款时不应填写罚款金额", "amount_without_fine")
    data["fine_amount"] = amount

    for field, limit in (("violation_type", 200), ("legal_basis", None)):
        text = _text(violation_type if field == "violation_type" else legal_basis)
        if not text:
            errors.add(field, f"{FIELD_LABELS[field]}不能为空", "required")
        elif limit is not None and len(text) > limit:
            errors.add(field, f"{FIELD_LABELS[field]}不能超过 {limit} 个字符", "too_long")
        data[field] = text
    data["content"] = _text(content)
    data["authority_name"] = _text(authority_name)
    if len(data["authority_name"]) > 100:
        errors.add("authority_name", "处罚机关名称不能超过 100 个字符", "too_long")

    until = _as_date(restriction_until, "restriction_until", errors, required=False)
    if until is not None and decided is not None and until < decided:
        errors.add("restriction_until", "法定限制期限不能早于处罚决定日期", "restriction_before_decision")
    data["restriction_until"] = until

    errors.raise_if_any()
    return data


def _decision_number(value: Any) -> str:
    number = _text(value)
    if not number:
        raise _invalid("decision_number", "决定书文号不能为空", "required")
    if len(number) > 100:
        raise _invalid("decision_number", "决定书文号不能超过 100 个字符", "too_long")
    return number


# --- content identity -----------------------------------------------------------------------------------------------
def _canonical(data: dict[str, Any]) -> dict[str, Any]:
    """The content as plain JSON values: sorted kinds, the amount as a string with two decimals, ISO dates."""
    enterprise = data.get("enterprise")
    amount = data["fine_amount"]
    return {
        "uscc": enterprise.uscc if enterprise is not None else data.get("uscc"),
        "decision_date": data["decision_date"].isoformat(),
        "procedure": data["procedure"],
        "kinds": sorted(data["kinds"]),
        "fine_amount": None if amount is None else format(Decimal(amount).quantize(CENT), "f"),
        "domain": data["domain"],
        "violation_type": data["violation_type"],
        "legal_basis": data["legal_basis"],
        "content": data["content"],
        "authority_name": data["authority_name"],
        "restriction_until": data["restriction_until"].isoformat() if data["restriction_until"] else None,
    }


def _content_of(penalty: Penalty) -> dict[str, Any]:
    return {
        "enterprise": penalty.enterprise,
        **{name: getattr(penalty, name) for name in CONTENT_FIELDS if name != "uscc"},
    }


def content_hash(canonical: dict[str, Any]) -> str:
    """sha256 of the canonical content (keys sorted, no whitespace): equal decisions hash equally."""
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _repeat(existing: Penalty, data: dict[str, Any]) -> Penalty:
    """A repeat of (department, decision number): the existing record if the content is the same, else 409."""
    old, new = _canonical(_content_of(existing)), _canonical(data)
    differing = [name for name in CONTENT_FIELDS if old[name] != new[name]]
    if not differing:
        return existing
    labels = "、".join(FIELD_LABELS[name] for name in differing)
    raise ConflictError(
        f"本部门已报送决定书文号为“{existing.decision_number}”的行政处罚，但以下内容不一致：{labels}。"
        "已有记录不会被覆盖；如原决定被撤销或变更，请先撤回原记录。",
        code="conflict",
        extra={
            "existing_id": existing.pk,
            "fields": {name: [f"与已报送记录不一致（已有：{old[name]}）"] for name in differing},
        },
    )


# --- disclosure -----------------------------------------------------------------------------------------------------
def _apply_disclosure(penalty: Penalty, *, disclosed_from: dt.date, today: dt.date) -> str:
    """Fill the disclosure fields from the policy rows; returns a note when the deadline cannot be computed.

    Policies in force by today are weighed too (从旧兼从轻): a record entered late, or corrected, gets the period
    the nightly review would give it, not a longer one it would only shorten the next night.
    """
    outcome = decide(
        PenaltyFacts.of(penalty),
        disclosed_from=disclosed_from,
        policies=list(DisclosurePolicy.objects.all()),
        considered_on=max(disclosed_from, today),
    )
    penalty.policy = outcome.policy
    penalty.tier = outcome.tier
    penalty.disclosed = outcome.disclosed
    penalty.not_disclosed_reason = outcome.not_disclosed_reason
    penalty.disclosed_from = outcome.disclosed_from
    penalty.disclosed_until = outcome.disclosed_until
    penalty.repair_possible_from = outcome.repair_possible_from
    penalty.policies_reviewed_on = today
    penalty.disclosure_due_by = None
    if not outcome.disclosed or outcome.policy is None:
        return ""
    try:
        penalty.disclosure_due_by = WorkingCalendar.load().add_working_days(
            penalty.decision_date, outcome.policy.disclosure_deadline_working_days
        )
    except CalendarUnavailable as exc:
        # The deadline is informative: the record and its disclosure stand; staff see why the date is missing.
        return f"公示期限无法计算：{exc.message}"
    return ""


def _check_document(uploaded_file: UploadedFile) -> None:
    size = uploaded_file.size
    if not size:
        raise _invalid("document", "上传的文件为空", "empty_document")
    if size > MAX_DOCUMENT_BYTES:
        raise _invalid(
            "document",
            f"文件大小 {size / 1048576:.1f} MB 超过上限 {MAX_DOCUMENT_BYTES // 1048576} MB",
            "document_too_large",
        )
    uploaded_file.seek(0)
    head = uploaded_file.read(len(PDF_MAGIC))
    uploaded_file.seek(0)
    if head != PDF_MAGIC:
        raise _invalid("document", "只接受 PDF 格式的决定书（文件内容不是 PDF）", "not_pdf")


def _store_document(*, actor: User | None, penalty: Penalty, uploaded_file: UploadedFile) -> Penalty:
    """Save the checked file under MEDIA_ROOT with a name of our own (never the uploader's), and audit it."""
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    before = {"document": penalty.document.name or ""}
    penalty.document.save(f"{penalty.pk}-{digest.hexdigest()[:16]}.pdf", uploaded_file, save=False)
    penalty.save(update_fields=["document", "updated_at"])
    audit_log(
        actor=actor,
        action="penalty.attach_document",
        obj=penalty,
        before=before,
        after={"document": penalty.document.name, "size": uploaded_file.size, "sha256": digest.hexdigest()},
    )
    return penalty


# --- writes ---------------------------------------------------------------------------------------------------------
@transaction.atomic
def penalty_record(
    *,
    actor: User | None,
    department: Department | None,
    uscc: str,
    decision_number: str,
    decision_date: dt.date,
    procedure: str,
    kinds: list[str],
    fine_amount: Decimal | None,
    domain: str,
    violation_type: str,
    legal_basis: str,
    content: str = "",
    authority_name: str = "",
    case_officer: str = "",
    restriction_until: dt.date | None = None,
    disclosed_from: dt.date | None = None,
    document: UploadedFile | None = None,
) -> tuple[Penalty, bool]:
    """Record a penalty decision and decide its disclosure; idempotent on (department, decision number).

    Returns (penalty, created). The same content again returns the existing record untouched (no write, no audit);
    other content under the same number is a ConflictError naming the differing fields.
    """
    today = timezone.localdate()
    if department is None:
        raise _invalid("department", "须指定作出处罚决定的部门", "no_department")
    number = _decision_number(decision_number)
    data = _validated(
        actor=actor,
        today=today,
        uscc=uscc,
        decision_date=decision_date,
        procedure=procedure,
        kinds=kinds,
        fine_amount=fine_amount,
        domain=domain,
        violation_type=violation_type,
        legal_basis=legal_basis,
        content=content,
        authority_name=authority_name,
        restriction_until=restriction_until,
    )
    if disclosed_from is not None and disclosed_from < data["decision_date"]:
        raise _invalid("disclosed_from", "公示起始日期不能早于处罚决定日期", "disclosed_before_decision")
    case_officer = _text(case_officer)
    if len(case_officer) > 100:
        raise _invalid("case_officer", "承办人不能超过 100 个字符", "too_long")
    if document is not None:
        _check_document(document)

    existing = Penalty.objects.select_related("enterprise").filter(department=department, decision_number=number)
    found = existing.first()
    if found is not None:
        return _repeat(found, data), False

    penalty = Penalty(
        department=department,
        decision_number=number,
        case_officer=case_officer,
        content_hash=content_hash(_canonical(data)),
        **data,
    )
    note = _apply_disclosure(penalty, disclosed_from=disclosed_from or today, today=today)
    penalty.full_clean(validate_constraints=False)  # the unique number is settled below, race-safe
    try:
        with transaction.atomic():
            penalty.save()
    except IntegrityError:
        # Another push of the same number committed between our check and our insert.
        found = existing.first()
        if found is None:
            raise
        return _repeat(found, data), False
    audit_log(actor=actor, action="penalty.record", obj=penalty, after=_snapshot(penalty), note=note)
    if document is not None:
        _store_document(actor=actor, penalty=penalty, uploaded_file=document)
    penalty.disclosure_note = note  # transient: shown in the API answer when the deadline is unknown
    return penalty, True


def _locked(penalty: Penalty) -> Penalty:
    return Penalty.objects.select_for_update().select_related("enterprise").get(pk=penalty.pk)


def _reason(reason: str, *, label: str) -> str:
    text = _text(reason)
    if not text:
        raise _invalid("reason", f"请填写{label}", "reason_required")
    return text


@transaction.atomic
def penalty_correct(*, actor: User | None, penalty: Penalty, changes: dict[str, Any], reason: str) -> Penalty:
    """Correct a wrongly entered penalty (staff): validated like a new record, disclosure recomputed keeping its
    start; before/after of the changed fields audited with the reason. A withdrawn penalty is not corrected."""
    reason = _reason(reason, label="更正原因")
    unknown = sorted(set(changes) - CORRECTABLE_FIELDS)
    if unknown:
        raise ApplicationError(f"以下字段不能更正：{'、'.join(unknown)}", code="not_correctable")
    locked = _locked(penalty)
    if locked.status == Penalty.Status.WITHDRAWN:
        raise ApplicationError("已撤回的行政处罚不能更正。", code="withdrawn")
    today = timezone.localdate()
    before = _snapshot(locked)

    current: dict[str, Any] = {name: getattr(locked, name) for name in CONTENT_FIELDS if name != "uscc"}
    current["uscc"] = locked.enterprise.uscc
    merged = {**current, **{k: v for k, v in changes.items() if k in CONTENT_FIELDS}}
    data = _validated(actor=actor, today=today, **merged)
    number = _decision_number(changes.get("decision_number", locked.decision_number))
    if (
        number != locked.decision_number
        and Penalty.objects.filter(department_id=locked.department_id, decision_number=number).exists()
    ):
        raise ConflictError(
            f"本部门已有决定书文号为“{number}”的行政处罚记录。",
            code="conflict",
            extra={"fields": {"decision_number": ["文号已被使用"]}},
        )
    if "case_officer" in changes:
        locked.case_officer = _text(changes["case_officer"])
    locked.decision_number = number
    for name, value in data.items():
        setattr(locked, name, value)
    locked.content_hash = content_hash(_canonical(data))

    was_ended = locked.disclosure_ended_on is not None
    note = _apply_disclosure(locked, disclosed_from=locked.disclosed_from or today, today=today)
    if (
        was_ended
        and locked.disclosure_end_reason == Penalty.EndReason.EXPIRED
        and locked.disclosed
        and locked.disclosed_until is not None
        and locked.disclosed_until >= today
    ):
        # The period had run out under the wrong facts; under the corrected ones it has not: shown again.
        locked.disclosure_ended_on = None
        locked.disclosure_end_reason = ""
    locked.full_clean(validate_constraints=False)
    old, new = diff(before, _snapshot(locked))
    old.pop("policies_reviewed_on", None)
    new.pop("policies_reviewed_on", None)
    if not (old or new):
        return Penalty.objects.get(pk=locked.pk)  # nothing to correct: no write, no audit event
    locked.save()
    audit_log(
        actor=actor,
        action="penalty.correct",
        obj=locked,
        before=old,
        after=new,
        note="；".join(filter(None, [f"更正原因：{reason}", note])),
    )
    locked.disclosure_note = note
    penalty.refresh_from_db()
    return locked


@transaction.atomic
def penalty_withdraw(*, actor: User | None, penalty: Penalty, reason: str) -> Penalty:
    """Withdraw a revoked or changed decision: it leaves the public record at once (its open disclosure ends
    today); the record and its history stay. Withdrawing twice is refused."""
    reason = _reason(reason, label="撤回原因")
    locked = _locked(penalty)
    if locked.status == Penalty.Status.WITHDRAWN:
        raise ApplicationError("该行政处罚已撤回，不能重复撤回。", code="already_withdrawn")
    before = _snapshot(locked)
    locked.status = Penalty.Status.WITHDRAWN
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_by = actor if actor is not None and actor.pk else None
    locked.withdrawal_reason = reason
    if locked.disclosed and locked.disclosure_ended_on is None:
        # A disclosure that already ended (expired, repaired) keeps its own end; only an open one ends now.
        locked.disclosure_ended_on = timezone.localdate()
        locked.disclosure_end_reason = Penalty.EndReason.WITHDRAWN
    locked.save()
    old, new = diff(before, _snapshot(locked))
    audit_log(actor=actor, action="penalty.withdraw", obj=locked, before=old, after=new, note=reason)
    penalty.refresh_from_db()
    return locked


@transaction.atomic
def penalty_end_disclosure(
    *, actor: User | None, penalty: Penalty, on: dt.date, reason: Penalty.EndReason | str, note: str = ""
) -> Penalty:
    """End an open disclosure early (credit repair) or at its end (expiry) on day `on`; 400 if none is open.

    A withdrawal is penalty_withdraw's: it also changes the record's status.
    """
    if reason not in (Penalty.EndReason.EXPIRED, Penalty.EndReason.REPAIRED):
        raise ApplicationError("撤回行政处罚请使用“撤回”，此处只能因期满或信用修复结束公示。", code="invalid_reason")
    today = timezone.localdate()
    if on > today:
        raise _invalid("on", f"结束公示日期（{on}）不能晚于今天（{today}）", "future_end")
    locked = _locked(penalty)
    if not (locked.status == Penalty.Status.IN_FORCE and locked.disclosed and locked.disclosure_ended_on is None):
        raise ApplicationError("该行政处罚没有正在公示的信息，无需结束公示。", code="no_open_disclosure")
    if locked.disclosed_from is not None and on < locked.disclosed_from:
        raise _invalid("on", "结束公示日期不能早于公示起始日期", "end_before_start")
    before = _snapshot(locked)
    locked.disclosure_ended_on = on
    locked.disclosure_end_reason = reason
    locked.save(update_fields=["disclosure_ended_on", "disclosure_end_reason", "updated_at"])
    old, new = diff(before, _snapshot(locked))
    audit_log(actor=actor, action="penalty.end_disclosure", obj=locked, before=old, after=new, note=note)
    penalty.refresh_from_db()
    return locked


@transaction.atomic
def penalty_restore_disclosure(*, actor: User | None, penalty: Penalty, on: dt.date, reason: str) -> Penalty:
    """Show again a disclosure that credit repair had stopped early, because the repair was revoked (a 容缺
    commitment broken, DESIGN.md §3.7). The period keeps its original last day: a period that ran out meanwhile
    stays off the public record (disclosure.selectors.public_penalties() compares the date) and the expiry job
    closes it."""
    reason = _reason(reason, label="恢复公示原因")
    locked = _locked(penalty)
    if not (
        locked.status == Penalty.Status.IN_FORCE
        and locked.disclosed
        and locked.disclosure_end_reason == Penalty.EndReason.REPAIRED
    ):
        raise ApplicationError("该行政处罚信息不是因信用修复停止公示的，不能恢复公示。", code="not_repaired")
    before = _snapshot(locked)
    locked.disclosure_ended_on = None
    locked.disclosure_end_reason = ""
    locked.save(update_fields=["disclosure_ended_on", "disclosure_end_reason", "updated_at"])
    old, new = diff(before, _snapshot(locked))
    audit_log(
        actor=actor, action="penalty.restore_disclosure", obj=locked, before=old, after=new, note=f"{on}：{reason}"
    )
    penalty.refresh_from_db()
    return locked


@transaction.atomic
def penalty_attach_document(*, actor: User | None, penalty: Penalty, uploaded_file: UploadedFile) -> Penalty:
    """Attach the redacted decision document: a PDF (magic bytes %PDF-) of at most 10 MB, stored privately under
    MEDIA_ROOT (no public URL serves it; staff download it through the scoped admin view). A replaced file is kept
    on disk; the audit trail names both files and the new one's sha256."""
    _check_document(uploaded_file)
    locked = _locked(penalty)
    _store_document(actor=actor, penalty=locked, uploaded_file=uploaded_file)
    penalty.refresh_from_db()
    return locked


# --- policies -------------------------------------------------------------------------------------------------------
def _check_policy(policy: DisclosurePolicy) -> None:
    if policy.general_months is None or policy.general_months <= 0:
        raise _invalid("general_months", "一般公示期限（月）必须填写且大于 0", "required")
    clash = DisclosurePolicy.objects.filter(effective_from=policy.effective_from).exclude(pk=policy.pk)
    if clash.exists():
        # Two rows in force from the same day would make "the policy in force" ambiguous.
        raise _invalid("effective_from", f"已有自 {policy.effective_from} 起施行的公示规定", "duplicate_effective_from")
    policy.full_clean()


@transaction.atomic
def disclosure_policy_create(*, actor: User | None, **fields: Any) -> DisclosurePolicy:
    """Add a disclosure policy row (a new regulation with its effective date); audited."""
    policy = DisclosurePolicy(**fields)
    _check_policy(policy)
    policy.save()
    audit_log(actor=actor, action="disclosure_policy.create", obj=policy, after=snapshot(policy, POLICY_AUDIT_FIELDS))
    return policy


@transaction.atomic
def disclosure_policy_update(
    *, actor: User | None, policy: DisclosurePolicy, changes: dict[str, Any]
) -> DisclosurePolicy:
    """Change a policy's periods, dates or wording (not its code or scheme); before/after audited. Records already
    decided keep their dates until they are reviewed (the nightly review or a correction)."""
    refused = sorted(set(changes) - POLICY_EDITABLE_FIELDS)
    if refused:
        raise ApplicationError(f"以下字段不能修改：{'、'.join(refused)}", code="not_editable")
    locked = DisclosurePolicy.objects.select_for_update().get(pk=policy.pk)
    before = snapshot(locked, POLICY_AUDIT_FIELDS)
    for name, value in changes.items():
        setattr(locked, name, value)
    _check_policy(locked)
    locked.save()
    old, new = diff(before, snapshot(locked, POLICY_AUDIT_FIELDS))
    if old or new:
        audit_log(actor=actor, action="disclosure_policy.update", obj=locked, before=old, after=new)
    policy.refresh_from_db()
    return locked
