"""Filing, reviewing and deciding repair applications through the services: the public record changes with the
decision in one transaction, bad input is refused with nothing written, and 容缺 commitments not kept are revoked."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import ApplicationError, ConflictError
from core.models import AuditEvent, OutboxMessage
from disclosure import selectors as public
from disclosure.models import AbnormalListing, Penalty, SeriousListing
from enterprises.models import Commitment
from repair.models import ApplicationStep, Material, RepairApplication, RepairDocument
from repair.services import applications as services
from repair.services.applications import Upload
from tests.disclosure.factories import AbnormalListingFactory, SeriousListingFactory
from tests.repair.conftest import EXE, HTML, PDF, TODAY, drain, file_report, materials, pdf, penalty_for, set_today

pytestmark = pytest.mark.django_db
D = dt.date


def shown(penalty: Penalty, on: dt.date = TODAY) -> bool:
    return public.public_penalties(Penalty.objects.filter(pk=penalty.pk), on=on).exists()


@pytest.fixture
def penalty(firm, amr_department) -> Penalty:
    """A general-tier fine of 2 March 2026 (2025 rules: repair possible after 3 months of disclosure)."""
    return penalty_for(firm, amr_department, decided=D(2026, 3, 2), disclosed_from=D(2026, 3, 3))


def submit(owner, firm, record, **overrides) -> RepairApplication:
    values = {
        "actor": owner,
        "enterprise": firm,
        "target_type": "penalty"
        if isinstance(record, Penalty)
        else "abnormal"
        if isinstance(record, AbnormalListing)
        else "serious",
        "target_id": record.pk,
        "statement": "罚款已缴纳，不合格产品已全部召回并销毁。",
        "contact_name": "王经理",
        "contact_phone": "13900000002",
        "uploads": materials(),
        **overrides,
    }
    return services.application_submit(**values)


def state() -> tuple:
    return (
        RepairApplication.objects.count(),
        Material.objects.count(),
        ApplicationStep.objects.count(),
        AuditEvent.objects.count(),
        OutboxMessage.objects.count(),
        list(Penalty.objects.order_by("pk").values("disclosure_ended_on", "disclosure_end_reason")),
    )


# --- filing ---------------------------------------------------------------------------------------------------------
def test_it_files_an_application_with_its_materials_and_the_acceptance_deadline(owner, firm, penalty):
    application = submit(owner, firm, penalty)
    assert application.status == RepairApplication.Status.SUBMITTED
    assert application.kind == RepairApplication.Kind.PENALTY_EARLY_STOP
    assert application.responsible_office_id == "140702"
    assert application.number.startswith("榆次市监修申〔2026〕第")
    # Filed on Friday 20 November 2026: 3 working days → Wednesday 25 November.
    assert application.acceptance_due == D(2026, 11, 25)
    assert application.due_on == D(2026, 11, 25)
    kinds = set(application.materials.values_list("kind", "content_type"))
    assert kinds == {
        ("application_form", "application/pdf"),
        ("credit_commitment", "application/pdf"),
        ("proof_of_fulfilment", "image/png"),
    }
    assert list(application.steps.values_list("kind", flat=True)) == ["submitted"]
    assert AuditEvent.objects.filter(action="repair.submit", object_id=str(application.pk)).exists()
    assert OutboxMessage.objects.filter(
        related_type="repair.repairapplication", related_id=str(application.pk)
    ).exists()
    assert shown(penalty)  # nothing changes on the public record before a decision


def test_a_double_submitted_form_gives_the_first_application(owner, firm, penalty):
    key = uuid.uuid4()
    first = submit(owner, firm, penalty, submission_key=key)
    before = state()
    again = submit(owner, firm, penalty, submission_key=key, uploads=materials())
    assert again.pk == first.pk
    assert state() == before


def test_a_second_application_for_the_same_record_is_refused_while_one_is_open(owner, firm, penalty):
    submit(owner, firm, penalty)
    before = state()
    with pytest.raises(ConflictError) as exc:
        submit(owner, firm, penalty)
    assert "已有正在办理" in exc.value.message
    assert state() == before


def test_another_entitys_record_is_not_found(owner, firm, other_firm, amr_department):
    foreign = penalty_for(other_firm, amr_department, decided=D(2026, 3, 2), disclosed_from=D(2026, 3, 3), number="X1")
    before = state()
    with pytest.raises(ApplicationError) as exc:
        services.application_submit(
            actor=owner, enterprise=firm, target_type="penalty", target_id=foreign.pk, statement="x",
            contact_name="x", contact_phone="1", uploads=materials(),
        )  # fmt: skip
    assert exc.value.code == "not_found"
    # …and filing "as" the other entity with one's own account is refused the same way.
    with pytest.raises(ApplicationError) as exc:
        submit(owner, other_firm, foreign)
    assert exc.value.code == "not_found"
    assert state() == before


def test_a_record_not_yet_eligible_is_refused_with_the_date(owner, firm, amr_department, monkeypatch):
    recent = penalty_for(firm, amr_department, decided=D(2026, 10, 9), disclosed_from=D(2026, 10, 10), number="Y1")
    before = state()
    with pytest.raises(ApplicationError) as exc:
        submit(owner, firm, recent)
    assert exc.value.code == "not_eligible"
    assert exc.value.extra["from_date"] == D(2027, 1, 10)
    assert "2027年1月10日" in exc.value.message
    assert state() == before


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("申请书.pdf", HTML, "file_type_not_accepted"),  # an HTML page renamed .pdf
        ("申请书.pdf", EXE, "file_type_not_accepted"),  # an executable renamed .pdf
        ("申请书.pdf", b"", "empty_file"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused(owner, firm, penalty, name, content, code):
    before = state()
    uploads = [
        Upload("application_form", SimpleUploadedFile(name, content, content_type="application/pdf")),
        Upload("credit_commitment", pdf()),
        Upload("proof_of_fulfilment", pdf()),
    ]
    with pytest.raises(ApplicationError) as exc:
        submit(owner, firm, penalty, uploads=uploads)
    assert exc.value.code == code
    assert "申请书" in exc.value.message or "Application form" in exc.value.message
    assert state() == before


def test_an_oversized_file_is_refused(owner, firm, penalty, settings):
    settings.REPAIR_MATERIAL_MAX_BYTES = 1024
    before = state()
    big = Upload("application_form", pdf(content=PDF + b"0" * 2048))
    with pytest.raises(ApplicationError) as exc:
        submit(
            owner,
            firm,
            penalty,
            uploads=[big, Upload("credit_commitment", pdf()), Upload("proof_of_fulfilment", pdf())],
        )
    assert exc.value.code == "file_too_large"
    assert state() == before


def test_missing_primary_materials_and_fields_are_all_named(owner, firm, penalty):
    before = state()
    with pytest.raises(ApplicationError) as exc:
        submit(owner, firm, penalty, statement="", contact_phone="", uploads=[Upload("proof_of_fulfilment", pdf())])
    fields = exc.value.extra["fields"]
    assert {"statement", "contact_phone", "application_form", "credit_commitment"} <= set(fields)
    assert state() == before


# --- review and decision --------------------------------------------------------------------------------------------
def test_accept_then_approve_ends_the_disclosure_and_issues_the_decision(owner, firm, penalty, reviewer):
    application = submit(owner, firm, penalty)
    services.application_accept(actor=reviewer, application=application)
    application.refresh_from_db()
    assert application.status == RepairApplication.Status.ACCEPTED
    assert application.accepted_on == TODAY
    # 2025 rules: decision within 7 working days of acceptance (Fri 20 Nov → Tue 1 Dec 2026).
    assert application.decision_due == D(2026, 12, 1)
    services.application_approve(actor=reviewer, application=application, reason="罚款已缴清。")
    application.refresh_from_db()
    penalty.refresh_from_db()
    assert application.status == RepairApplication.Status.APPROVED
    assert penalty.disclosure_end_reason == Penalty.EndReason.REPAIRED
    assert penalty.disclosure_ended_on == TODAY
    assert not shown(penalty)
    document = application.documents.get()
    assert document.doc_type == RepairDocument.DocType.APPROVAL
    assert document.number.startswith("榆次市监信修〔2026〕第")
    assert document.file.read().startswith(b"%PDF-")
    assert [s.kind for s in application.steps.order_by("at", "id")] == ["submitted", "accepted", "approved"]


def test_a_failure_while_deciding_leaves_the_public_record_and_the_application_as_they_were(
    owner, firm, penalty, reviewer, monkeypatch
):
    application = submit(owner, firm, penalty)
    services.application_accept(actor=reviewer, application=application)
    before = state()

    def broken(*args, **kwargs):
        raise RuntimeError("PDF renderer crashed")

    monkeypatch.setattr("repair.documents.render_pdf", broken)
    with pytest.raises(RuntimeError):
        services.application_approve(actor=reviewer, application=application)
    application.refresh_from_db()
    assert application.status == RepairApplication.Status.ACCEPTED
    assert shown(penalty)
    assert state() == before


def test_staff_of_another_office_cannot_act(owner, firm, penalty, other_reviewer):
    application = submit(owner, firm, penalty)
    with pytest.raises(ApplicationError) as exc:
        services.application_accept(actor=other_reviewer, application=application)
    assert exc.value.code == "out_of_scope"


def test_the_entity_cannot_decide_its_own_application(owner, firm, penalty):
    application = submit(owner, firm, penalty)
    with pytest.raises(ApplicationError) as exc:
        services.application_accept(actor=owner, application=application)
    assert exc.value.code == "permission_denied"


def test_refusal_and_rejection_need_reasons_and_issue_documents(owner, firm, penalty, reviewer):
    application = submit(owner, firm, penalty)
    with pytest.raises(ApplicationError):
        services.application_refuse(actor=reviewer, application=application, reason=" ")
    services.application_refuse(actor=reviewer, application=application, reason="申请材料与所涉处罚不符")
    application.refresh_from_db()
    assert application.status == RepairApplication.Status.REFUSED
    assert application.documents.get().doc_type == RepairDocument.DocType.REFUSAL
    # Closed: a new application for the same record may now be filed, and rejected after review.
    second = submit(owner, firm, penalty)
    services.application_accept(actor=reviewer, application=second)
    services.application_reject(actor=reviewer, application=second, reason="未提供罚款缴纳凭证原件")
    second.refresh_from_db()
    assert second.status == RepairApplication.Status.REJECTED
    assert shown(penalty)


def test_requested_material_stops_the_clock_and_restarts_it_on_arrival(owner, firm, penalty, reviewer, monkeypatch):
    application = submit(owner, firm, penalty)
    services.application_request_materials(
        actor=reviewer, application=application, requested="请补交罚款缴纳凭证原件扫描件"
    )
    application.refresh_from_db()
    assert application.status == RepairApplication.Status.MATERIALS_REQUESTED
    assert application.due_on is None
    set_today(monkeypatch, D(2026, 11, 24))
    services.application_supply_materials(actor=owner, application=application, uploads=[Upload("other", pdf())])
    application.refresh_from_db()
    assert application.status == RepairApplication.Status.SUBMITTED
    assert application.acceptance_due == D(2026, 11, 27)  # 3 working days from Tuesday 24 November


def test_a_decision_rechecks_the_rules(owner, firm, penalty, reviewer, amr_department):
    application = submit(owner, firm, penalty)
    services.application_accept(actor=reviewer, application=application)
    # Listed on the abnormal list meanwhile: a penalty disclosure cannot be stopped while listed.
    AbnormalListingFactory(enterprise=firm, reason=AbnormalListing.Reason.UNREACHABLE, year=0, decided_on=TODAY)
    with pytest.raises(ApplicationError) as exc:
        services.application_approve(actor=reviewer, application=application)
    assert exc.value.code == "not_eligible"
    assert shown(penalty)


# --- abnormal list, serious list --------------------------------------------------------------------------------
def test_an_annual_report_listing_is_removed_at_once_when_every_report_is_filed(owner, firm):
    listing = AbnormalListingFactory(enterprise=firm, year=2025, cause_date=D(2026, 6, 30), decided_on=D(2026, 7, 8))
    with pytest.raises(ApplicationError) as exc:
        submit(owner, firm, listing)
    assert "2025年度报告未补报" in exc.value.message
    file_report(firm, 2025, D(2026, 11, 2))
    application = submit(owner, firm, listing, uploads=materials(proof=False))
    listing.refresh_from_db()
    assert application.status == RepairApplication.Status.APPROVED
    assert application.immediate
    assert listing.status == AbnormalListing.Status.REMOVED
    assert listing.removal_reason == AbnormalListing.RemovalReason.REPAIRED
    assert not public.public_abnormal(AbnormalListing.objects.filter(pk=listing.pk), on=TODAY).exists()
    assert application.documents.get().doc_type == RepairDocument.DocType.APPROVAL


def test_an_unreachable_listing_is_decided_within_the_countys_period(owner, firm, reviewer):
    from repair.models import CountyRepairSetting

    listing = AbnormalListingFactory(
        enterprise=firm, reason=AbnormalListing.Reason.UNREACHABLE, year=0, cause_date=D(2026, 5, 6)
    )
    application = submit(owner, firm, listing, uploads=materials(proof=False))
    services.application_accept(actor=reviewer, application=application)
    application.refresh_from_db()
    assert application.decision_due == D(2026, 11, 27)  # 5 working days
    CountyRepairSetting.objects.create(office_id="140702", abnormal_decision_working_days=3, basis="县局压缩时限")
    second_listing = AbnormalListingFactory(
        enterprise=firm, reason=AbnormalListing.Reason.FALSIFIED, year=0, cause_date=D(2026, 5, 6)
    )
    second = submit(owner, firm, second_listing, uploads=materials(proof=False))
    services.application_accept(actor=reviewer, application=second)
    second.refresh_from_db()
    assert second.decision_due == D(2026, 11, 25)  # the county's 3 working days
    services.application_approve(actor=reviewer, application=application)
    listing.refresh_from_db()
    assert listing.status == AbnormalListing.Status.REMOVED


def test_early_removal_from_the_serious_list_hides_listing_and_removal(owner, firm, reviewer):
    listing = SeriousListingFactory(enterprise=firm, decided_on=D(2025, 11, 10), listed_until=D(2028, 11, 9))
    application = submit(owner, firm, listing)
    services.application_accept(actor=reviewer, application=application)
    services.application_approve(actor=reviewer, application=application)
    listing.refresh_from_db()
    assert listing.stage == SeriousListing.Stage.REMOVED
    assert listing.hidden_from_public
    assert not public.public_serious(SeriousListing.objects.filter(pk=listing.pk), on=TODAY).exists()


# --- 容缺受理 ----------------------------------------------------------------------------------------------------
def test_tolerance_acceptance_then_the_material_arrives(owner, firm, penalty, reviewer):
    application = submit(owner, firm, penalty, uploads=materials(proof=False), tolerance=True)
    assert application.tolerance and application.tolerance_missing == ["proof_of_fulfilment"]
    services.application_accept(actor=reviewer, application=application)
    application.refresh_from_db()
    assert application.materials_due == D(2026, 12, 4)  # 10 working days from Friday 20 November
    assert application.commitment.status == Commitment.Status.PENDING
    services.application_approve(actor=reviewer, application=application)
    assert not shown(penalty)
    services.application_supply_materials(
        actor=owner, application=application, uploads=[Upload("proof_of_fulfilment", pdf())]
    )
    application.refresh_from_db()
    assert application.materials_completed_on == TODAY
    assert application.commitment.status == Commitment.Status.KEPT
    run = drain("repair_revoke_broken_commitments", D(2026, 12, 10))
    assert run == {}
    assert not shown(penalty, D(2026, 12, 10))


def test_a_broken_tolerance_commitment_revokes_the_repair_and_restores_the_record(owner, firm, penalty, reviewer):
    application = submit(owner, firm, penalty, uploads=materials(proof=False), tolerance=True)
    services.application_accept(actor=reviewer, application=application)
    services.application_approve(actor=reviewer, application=application)
    assert not shown(penalty)
    # The due day itself is still in time; the day after, the nightly job revokes.
    assert drain("repair_revoke_broken_commitments", D(2026, 12, 4)) == {}
    assert drain("repair_revoke_broken_commitments", D(2026, 12, 5)) == {"revoked": 1, "rejected": 0}
    application.refresh_from_db()
    penalty.refresh_from_db()
    assert application.status == RepairApplication.Status.REVOKED
    assert application.commitment.status == Commitment.Status.FALSE
    assert penalty.disclosure_ended_on is None
    assert shown(penalty, D(2026, 12, 5))
    assert application.documents.filter(doc_type=RepairDocument.DocType.REVOCATION).exists()
    assert AuditEvent.objects.filter(action="penalty.restore_disclosure", object_id=str(penalty.pk)).exists()
    # Run again: nothing more to do.
    assert drain("repair_revoke_broken_commitments", D(2026, 12, 6)) == {}


def test_tolerance_is_refused_for_repeat_offenders(owner, firm, penalty, amr_department):
    for n in range(3):
        penalty_for(
            firm,
            amr_department,
            decided=D(2026, 4, 1 + n),
            disclosed_from=D(2026, 4, 2 + n),
            number=f"R{n}",
            violation_type=f"其他违法{n}",
        )
    with pytest.raises(ApplicationError) as exc:
        submit(owner, firm, penalty, uploads=materials(proof=False), tolerance=True)
    # A repeat offender also waits longer (3 + 6 months from 3 March 2026 = 3 December 2026).
    assert exc.value.code == "not_eligible"
    assert "2026年12月3日" in exc.value.message
