"""Penalty services (record, correct, withdraw, end a disclosure, attach the document), the public-record filter on
the boundary days of a period, and the penalty admin (scoping, forms through the services, withdraw, document).

Every refused input leaves the database as it was: the rows and the audit events are counted before and after.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.errors import ApplicationError, ConflictError
from core.models import AuditEvent, CalendarYear, Department, User
from disclosure.models import DisclosurePolicy, Penalty
from disclosure.selectors import penalty_shown_on, public_penalties
from disclosure.services.penalties import (
    disclosure_policy_update,
    penalty_attach_document,
    penalty_correct,
    penalty_end_disclosure,
    penalty_record,
    penalty_withdraw,
)
from enterprises.models import Enterprise, Region
from tests.disclosure.factories import PenaltyFactory
from tests.factories import DepartmentFactory, EnterpriseFactory, UserFactory, make_uscc

pytestmark = pytest.mark.django_db

D = dt.date
TODAY = D(2026, 11, 20)  # a Friday; every test runs on this day unless it moves it
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def today(monkeypatch) -> dt.date:
    """Pin "today" (timezone.localdate) so that defaults and "not in the future" are reproducible."""
    return set_today(monkeypatch, TODAY)


def set_today(monkeypatch, day: dt.date) -> dt.date:
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)
    return day


@pytest.fixture
def department() -> Department:
    return DepartmentFactory(code="scjgj", name="晋中市市场监督管理局")


def decision(enterprise: Enterprise, **overrides: Any) -> dict[str, Any]:
    """A valid push: an 80,000-yuan fine of 2 March 2026 (national 2025 rules: general tier, 1 year)."""
    return {
        "uscc": enterprise.uscc,
        "decision_number": "晋市监罚〔2026〕12号",
        "decision_date": D(2026, 3, 2),
        "procedure": "ordinary",
        "kinds": ["fine"],
        "fine_amount": Decimal("80000"),
        "domain": "other",
        "violation_type": "销售不合格产品",
        "legal_basis": "《中华人民共和国产品质量法》第四十九条",
        "content": "罚款人民币捌万元整",
        "authority_name": "晋中市市场监督管理局",
        **overrides,
    }


def record(department: Department, enterprise: Enterprise, actor: User | None = None, **overrides: Any):
    return penalty_record(actor=actor, department=department, **decision(enterprise, **overrides))


def state() -> tuple[int, int, list]:
    """What must not change when an input is refused: the rows, the audit trail, every penalty's content."""
    return (
        Penalty.objects.count(),
        AuditEvent.objects.count(),
        list(Penalty.objects.order_by("pk").values()),
    )


# --- record -------------------------------------------------------------------------------------------------------
def test_it_records_a_penalty_and_decides_its_disclosure(department, enterprise):
    penalty, created = record(department, enterprise)
    assert created
    penalty.refresh_from_db()
    assert penalty.enterprise == enterprise and penalty.department == department
    assert penalty.status == Penalty.Status.IN_FORCE
    assert penalty.policy.code == "national-2025"
    assert penalty.tier == Penalty.Tier.GENERAL
    assert penalty.disclosed and penalty.not_disclosed_reason == ""
    assert penalty.disclosed_from == TODAY  # by default the disclosure starts on the day it is recorded
    assert penalty.disclosed_until == D(2027, 11, 19)
    assert penalty.repair_possible_from == D(2027, 2, 20)
    assert penalty.policies_reviewed_on == TODAY
    # 20 working days after Monday 2 March 2026 (no holiday in March).
    assert penalty.disclosure_due_by == D(2026, 3, 30)
    assert len(penalty.content_hash) == 64
    event = AuditEvent.objects.get(action="penalty.record")
    assert event.object_id == str(penalty.pk)
    assert event.after["decision_number"] == "晋市监罚〔2026〕12号"
    assert event.after["disclosed_until"] == "2027-11-19"


def test_it_keeps_a_given_start_of_disclosure(department, enterprise):
    penalty, _ = record(department, enterprise, disclosed_from=D(2026, 3, 10))
    assert (penalty.disclosed_from, penalty.disclosed_until) == (D(2026, 3, 10), D(2027, 3, 9))


def test_a_repeat_with_the_same_content_returns_the_existing_record_untouched(department, enterprise):
    first, _ = record(department, enterprise)
    before = state()
    # Kinds in another order, the amount written differently, whitespace around text: the same content.
    again, created = record(
        department,
        enterprise,
        uscc=enterprise.uscc.lower(),
        kinds=["fine"],
        fine_amount="80000.00",
        violation_type=" 销售不合格产品 ",
    )
    assert not created
    assert again.pk == first.pk
    assert state() == before  # no write, no audit event


def test_kinds_in_another_order_are_the_same_content(department, enterprise):
    first, _ = record(department, enterprise, kinds=["fine", "confiscation"])
    again, created = record(department, enterprise, kinds=["confiscation", "fine"])
    assert (again.pk, created) == (first.pk, False)
    assert first.kinds == ["fine", "confiscation"]  # stored in the order of Penalty.Kind


def test_a_repeat_with_other_content_is_a_conflict_and_never_an_overwrite(department, enterprise):
    record(department, enterprise)
    before = state()
    with pytest.raises(ConflictError) as exc:
        record(department, enterprise, fine_amount=Decimal("90000"), legal_basis="另一依据")
    assert exc.value.code == "conflict"
    assert "罚款金额" in exc.value.message and "处罚依据" in exc.value.message
    assert set(exc.value.extra["fields"]) == {"fine_amount", "legal_basis"}
    assert state() == before


def test_the_same_number_from_another_department_is_another_record(department, enterprise):
    first, _ = record(department, enterprise)
    other, created = record(DepartmentFactory(code="health"), enterprise)
    assert created and other.pk != first.pk
    assert other.content_hash == first.content_hash  # same content, same hash


def test_the_content_hash_changes_with_the_content(department, enterprise):
    first, _ = record(department, enterprise)
    second, _ = record(department, enterprise, decision_number="晋市监罚〔2026〕13号", fine_amount=Decimal("80000.01"))
    assert first.content_hash != second.content_hash


def test_a_decision_of_today_is_accepted(department, enterprise):
    penalty, created = record(department, enterprise, decision_date=TODAY)
    assert created and penalty.decision_date == TODAY


def test_a_county_regulator_records_only_for_its_county(department, county_regulator):
    taigu = EnterpriseFactory(region=Region.objects.get(code="140703"))
    before = state()
    with pytest.raises(ApplicationError) as exc:
        record(department, taigu, actor=county_regulator)
    assert exc.value.code == "unknown_enterprise"
    assert state() == before
    yuci = EnterpriseFactory()
    penalty, created = record(department, yuci, actor=county_regulator)
    assert created and penalty.enterprise == yuci


BAD_INPUTS = [
    pytest.param({"uscc": "91140702MA0XXXXX1"}, "invalid_uscc", "uscc", id="uscc-too-short"),
    pytest.param({"uscc": "wrong-check"}, "invalid_uscc", "uscc", id="uscc-malformed"),
    pytest.param({"decision_date": D(2026, 11, 21)}, "future_decision_date", "decision_date", id="future-date"),
    pytest.param({"kinds": []}, "no_kinds", "kinds", id="no-kinds"),
    pytest.param({"kinds": ["fine", "flogging"]}, "unknown_kind", "kinds", id="unknown-kind"),
    pytest.param({"kinds": ["fine", "fine"]}, "duplicate_kind", "kinds", id="duplicate-kind"),
    pytest.param({"kinds": "fine"}, "invalid_kinds", "kinds", id="kinds-not-a-list"),
    pytest.param({"fine_amount": None}, "fine_without_amount", "fine_amount", id="fine-without-amount"),
    pytest.param({"fine_amount": Decimal("0")}, "non_positive_fine", "fine_amount", id="zero-fine"),
    pytest.param({"fine_amount": Decimal("-5")}, "non_positive_fine", "fine_amount", id="negative-fine"),
    pytest.param({"fine_amount": "12.345"}, "invalid_amount", "fine_amount", id="fractions-of-a-cent"),
    pytest.param({"fine_amount": "1e20"}, "invalid_amount", "fine_amount", id="amount-too-large"),
    pytest.param({"fine_amount": "abc"}, "invalid_amount", "fine_amount", id="amount-not-a-number"),
    pytest.param(
        {"kinds": ["confiscation"], "fine_amount": Decimal("100")},
        "amount_without_fine",
        "fine_amount",
        id="amount-without-fine",
    ),
    pytest.param({"procedure": "express"}, "unknown_procedure", "procedure", id="unknown-procedure"),
    pytest.param({"domain": "tobacco"}, "unknown_domain", "domain", id="unknown-domain"),
    pytest.param({"violation_type": "  "}, "required", "violation_type", id="no-violation-type"),
    pytest.param({"legal_basis": ""}, "required", "legal_basis", id="no-legal-basis"),
    pytest.param({"decision_number": " "}, "required", "decision_number", id="no-decision-number"),
    pytest.param(
        {"restriction_until": D(2026, 3, 1)}, "restriction_before_decision", "restriction_until", id="restriction"
    ),
    pytest.param({"disclosed_from": D(2026, 3, 1)}, "disclosed_before_decision", "disclosed_from", id="start"),
    pytest.param(
        {"document": SimpleUploadedFile("a.pdf", b"GIF89a not a pdf")}, "not_pdf", "document", id="document-not-pdf"
    ),
]


@pytest.mark.parametrize(("overrides", "code", "field"), BAD_INPUTS)
def test_every_bad_input_is_refused_and_changes_nothing(department, enterprise, overrides, code, field):
    record(department, enterprise, decision_number="晋市监罚〔2026〕1号")  # an existing record must stay as it is
    before = state()
    with pytest.raises(ApplicationError) as exc:
        record(department, enterprise, **overrides)
    assert exc.value.code == code
    assert field in exc.value.extra["fields"]
    assert exc.value.message
    assert state() == before


def test_a_malformed_uscc_says_so_in_chinese(department, enterprise):
    with pytest.raises(ApplicationError) as exc:
        record(department, enterprise, uscc=enterprise.uscc[:-1] + ("0" if enterprise.uscc[-1] != "0" else "1"))
    assert exc.value.message.startswith("统一社会信用代码")


def test_an_unknown_valid_uscc_is_refused(department, enterprise):
    unknown = make_uscc(serial=424242)
    assert not Enterprise.objects.filter(uscc=unknown).exists()
    before = state()
    with pytest.raises(ApplicationError) as exc:
        record(department, enterprise, uscc=unknown)
    assert exc.value.code == "unknown_enterprise"
    assert exc.value.message.startswith("未找到该经营主体")
    assert state() == before


def test_it_names_every_bad_field_at_once(department, enterprise):
    with pytest.raises(ApplicationError) as exc:
        record(department, enterprise, domain="tobacco", kinds=["warning"], fine_amount=Decimal("5"))
    assert set(exc.value.extra["fields"]) == {"domain", "fine_amount"}


def test_a_department_is_required(enterprise):
    before = state()
    with pytest.raises(ApplicationError) as exc:
        penalty_record(actor=None, department=None, **decision(enterprise))
    assert exc.value.code == "no_department"
    assert state() == before


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"procedure": "summary", "fine_amount": Decimal("200")}, "适用简易程序作出的行政处罚决定，不予公示"),
        ({"kinds": ["warning"], "fine_amount": None}, "仅受到警告的行政处罚信息，不予公示"),
    ],
)
def test_summary_and_warning_only_penalties_are_recorded_but_never_disclosed(department, enterprise, overrides, reason):
    penalty, created = record(department, enterprise, **overrides)
    assert created
    assert not penalty.disclosed
    assert penalty.not_disclosed_reason == reason
    assert penalty.policy is None and penalty.tier == Penalty.Tier.NOT_DISCLOSED
    assert penalty.disclosed_from is None and penalty.disclosed_until is None and penalty.disclosure_due_by is None
    assert not public_penalties(Penalty.objects.all(), on=TODAY).exists()


def test_the_deadline_is_left_empty_with_a_note_when_the_calendar_year_is_unknown(monkeypatch, department, enterprise):
    set_today(monkeypatch, D(2026, 12, 28))
    # 20 working days after 20 December 2026 fall in 2027, whose holidays are not published yet.
    penalty, created = record(department, enterprise, decision_date=D(2026, 12, 20))
    assert created and penalty.disclosed
    assert penalty.disclosure_due_by is None
    assert "2027" in penalty.disclosure_note
    assert "2027" in AuditEvent.objects.get(action="penalty.record").note


def test_the_deadline_is_computed_once_staff_confirm_the_year(monkeypatch, department, enterprise):
    set_today(monkeypatch, D(2026, 12, 28))
    CalendarYear.objects.create(year=2027, source="国办发明电〔2026〕×号（测试）")
    penalty, _ = record(department, enterprise, decision_date=D(2026, 12, 20))
    # Mon 21 Dec … Thu 31 Dec (9 working days), 1 Jan 2027 is not an override here: weekdays of 2027 count.
    assert penalty.disclosure_due_by == D(2027, 1, 15)


# --- the public record on the boundary days -------------------------------------------------------------------------
def shown(penalty: Penalty, day: dt.date) -> bool:
    in_queryset = public_penalties(Penalty.objects.filter(pk=penalty.pk), on=day).exists()
    assert in_queryset == penalty_shown_on(penalty, on=day)  # the single-row helper agrees with the queryset filter
    return in_queryset


def test_a_penalty_is_public_from_its_first_to_its_last_day(department, enterprise):
    penalty, _ = record(department, enterprise, disclosed_from=D(2026, 3, 10))
    assert penalty.disclosed_until == D(2027, 3, 9)
    assert not shown(penalty, D(2026, 3, 9))  # the day before it starts
    assert shown(penalty, D(2026, 3, 10))
    assert shown(penalty, D(2027, 3, 8))  # the day before the last day
    assert shown(penalty, D(2027, 3, 9))  # the last day
    assert not shown(penalty, D(2027, 3, 10))  # the day after: gone even before the expiry job runs


@pytest.mark.parametrize(
    ("recorded_on", "policy", "last_day"),
    [
        # A 2024 decision (80,000 yuan): 3 years under the 2021 rules when disclosed before 2025-12-25 ...
        (D(2025, 12, 24), "national-2021", D(2028, 12, 23)),
        # ... 1 year under the more lenient 2025 rules from the day they are in force (从旧兼从轻).
        (D(2025, 12, 25), "national-2025", D(2026, 12, 24)),
    ],
)
def test_boundary_days_across_the_2025_policy_change(
    monkeypatch, department, enterprise, recorded_on, policy, last_day
):
    set_today(monkeypatch, recorded_on)
    penalty, _ = record(department, enterprise, decision_date=D(2024, 11, 20))
    assert (penalty.policy.code, penalty.disclosed_from, penalty.disclosed_until) == (policy, recorded_on, last_day)
    assert shown(penalty, last_day - dt.timedelta(days=1))
    assert shown(penalty, last_day)
    assert not shown(penalty, last_day + dt.timedelta(days=1))


def test_a_late_entry_weighs_the_policies_in_force_today(department, enterprise):
    # Entered today with a start in 2025 before the 2025 rules: the shorter 2025 period applies (从旧兼从轻 as of
    # today), as the nightly review would decide the next night.
    penalty, _ = record(department, enterprise, decision_date=D(2024, 11, 20), disclosed_from=D(2025, 12, 1))
    assert (penalty.policy.code, penalty.disclosed_until) == ("national-2025", D(2026, 11, 30))
    assert penalty.policies_reviewed_on == TODAY


@pytest.mark.parametrize(
    ("amount", "last_day"),
    [
        ("50000", D(2026, 6, 9)),  # lower amount for an organisation: 3 months (2025 minor tier)
        ("50000.01", D(2027, 3, 9)),  # a cent more: 1 year
    ],
)
def test_boundary_days_at_the_lower_amount(department, enterprise, amount, last_day):
    penalty, _ = record(department, enterprise, fine_amount=Decimal(amount), disclosed_from=D(2026, 3, 10))
    assert penalty.disclosed_until == last_day
    assert shown(penalty, last_day)
    assert not shown(penalty, last_day + dt.timedelta(days=1))


def test_a_withdrawn_or_ended_penalty_is_not_public():
    open_ = PenaltyFactory()
    withdrawn = PenaltyFactory(status=Penalty.Status.WITHDRAWN)
    ended = PenaltyFactory(disclosure_ended_on=D(2026, 6, 1), disclosure_end_reason=Penalty.EndReason.REPAIRED)
    hidden = PenaltyFactory(disclosed=False, disclosed_from=None, disclosed_until=None)
    public = set(public_penalties(Penalty.objects.all(), on=D(2026, 6, 2)))
    assert public == {open_}
    for penalty in (withdrawn, ended, hidden):
        assert not penalty_shown_on(penalty, on=D(2026, 6, 2))


# --- correct --------------------------------------------------------------------------------------------------------
def test_a_correction_recomputes_the_disclosure_and_keeps_its_start(department, enterprise, city_regulator):
    penalty, _ = record(department, enterprise, disclosed_from=D(2026, 3, 10))
    old_hash = penalty.content_hash
    corrected = penalty_correct(
        actor=city_regulator, penalty=penalty, changes={"fine_amount": Decimal("3000")}, reason="金额录入错误"
    )
    assert corrected.fine_amount == Decimal("3000.00")
    assert corrected.tier == Penalty.Tier.MINOR
    assert (corrected.disclosed_from, corrected.disclosed_until) == (D(2026, 3, 10), D(2026, 6, 9))
    assert corrected.content_hash != old_hash
    penalty.refresh_from_db()
    assert penalty.fine_amount == Decimal("3000.00")  # the caller's instance is refreshed
    event = AuditEvent.objects.get(action="penalty.correct")
    assert event.actor == city_regulator
    assert event.before["fine_amount"] == "80000.00" and event.after["fine_amount"] == "3000.00"
    assert event.before["disclosed_until"] == "2027-03-09" and event.after["disclosed_until"] == "2026-06-09"
    assert "decision_number" not in event.after  # only what changed
    assert "金额录入错误" in event.note


def test_a_correction_of_the_party_moves_the_record(department, enterprise, city_regulator):
    penalty, _ = record(department, enterprise)
    other = EnterpriseFactory(entity_type=Enterprise.EntityType.INDIVIDUAL)
    corrected = penalty_correct(
        actor=city_regulator, penalty=penalty, changes={"uscc": other.uscc}, reason="当事人录入错误"
    )
    assert corrected.enterprise == other
    # 80,000 yuan is not a lower amount for an individual business either: still general.
    assert corrected.tier == Penalty.Tier.GENERAL


def test_a_correction_to_summary_procedure_stops_the_disclosure(department, enterprise, city_regulator):
    penalty, _ = record(department, enterprise)
    corrected = penalty_correct(
        actor=city_regulator,
        penalty=penalty,
        changes={"procedure": "summary", "fine_amount": Decimal("200")},
        reason="程序类型录入错误",
    )
    assert not corrected.disclosed and not penalty_shown_on(corrected, on=TODAY)


def test_a_correction_reopens_a_disclosure_that_expired_under_wrong_facts(department, enterprise, city_regulator):
    penalty, _ = record(department, enterprise, fine_amount=Decimal("3000"), disclosed_from=D(2026, 3, 10))
    assert penalty.disclosed_until == D(2026, 6, 9)
    Penalty.objects.filter(pk=penalty.pk).update(
        disclosure_ended_on=D(2026, 6, 10), disclosure_end_reason=Penalty.EndReason.EXPIRED
    )
    corrected = penalty_correct(
        actor=city_regulator, penalty=penalty, changes={"fine_amount": Decimal("80000")}, reason="金额少录一位"
    )
    assert corrected.disclosed_until == D(2027, 3, 9)
    assert corrected.disclosure_ended_on is None and penalty_shown_on(corrected, on=TODAY)


@pytest.mark.parametrize(
    ("changes", "reason", "code"),
    [
        ({"fine_amount": Decimal("3000")}, "  ", "reason_required"),
        ({"department_id": 1}, "更正", "not_correctable"),
        ({"decision_date": D(2026, 11, 21)}, "更正", "future_decision_date"),
        ({"kinds": ["confiscation"]}, "更正", "amount_without_fine"),
        ({"uscc": "123"}, "更正", "invalid_uscc"),
    ],
)
def test_a_refused_correction_changes_nothing(department, enterprise, city_regulator, changes, reason, code):
    penalty, _ = record(department, enterprise)
    before = state()
    with pytest.raises(ApplicationError) as exc:
        penalty_correct(actor=city_regulator, penalty=penalty, changes=changes, reason=reason)
    assert exc.value.code == code
    assert state() == before


def test_a_correction_cannot_take_a_number_already_used(department, enterprise, city_regulator):
    penalty, _ = record(department, enterprise)
    record(department, enterprise, decision_number="晋市监罚〔2026〕99号")
    before = state()
    with pytest.raises(ConflictError):
        penalty_correct(
            actor=city_regulator, penalty=penalty, changes={"decision_number": "晋市监罚〔2026〕99号"}, reason="更正"
        )
    assert state() == before


def test_a_withdrawn_penalty_is_not_corrected(department, enterprise, city_regulator):
    penalty, _ = record(department, enterprise)
    penalty_withdraw(actor=city_regulator, penalty=penalty, reason="复议撤销")
    before = state()
    with pytest.raises(ApplicationError) as exc:
        penalty_correct(actor=city_regulator, penalty=penalty, changes={"content": "x"}, reason="更正")
    assert exc.value.code == "withdrawn"
    assert state() == before


# --- withdraw -------------------------------------------------------------------------------------------------------
def test_a_withdrawn_penalty_leaves_the_public_record_at_once(department, enterprise, city_regulator):
    penalty, _ = record(department, enterprise)
    assert shown(penalty, TODAY)
    withdrawn = penalty_withdraw(actor=city_regulator, penalty=penalty, reason="行政复议决定撤销原处罚决定")
    assert withdrawn.status == Penalty.Status.WITHDRAWN
    assert withdrawn.withdrawn_by == city_regulator and withdrawn.withdrawn_at is not None
    assert withdrawn.withdrawal_reason == "行政复议决定撤销原处罚决定"
    assert (withdrawn.disclosure_ended_on, withdrawn.disclosure_end_reason) == (TODAY, Penalty.EndReason.WITHDRAWN)
    assert not shown(withdrawn, TODAY)  # the same day, before any nightly job
    assert Penalty.objects.filter(pk=penalty.pk).exists()  # kept
    event = AuditEvent.objects.get(action="penalty.withdraw")
    assert event.before["status"] == "in_force" and event.after["status"] == "withdrawn"
    assert event.note == "行政复议决定撤销原处罚决定"


def test_withdrawing_twice_is_refused(department, enterprise, city_regulator):
    penalty, _ = record(department, enterprise)
    penalty_withdraw(actor=city_regulator, penalty=penalty, reason="撤销")
    before = state()
    with pytest.raises(ApplicationError) as exc:
        penalty_withdraw(actor=city_regulator, penalty=penalty, reason="再次撤销")
    assert exc.value.code == "already_withdrawn"
    assert state() == before


def test_a_withdrawal_needs_a_reason(department, enterprise, city_regulator):
    penalty, _ = record(department, enterprise)
    before = state()
    with pytest.raises(ApplicationError):
        penalty_withdraw(actor=city_regulator, penalty=penalty, reason="")
    assert state() == before


def test_withdrawing_an_ended_disclosure_keeps_its_end(department, enterprise, city_regulator):
    penalty, _ = record(department, enterprise)
    penalty_end_disclosure(actor=city_regulator, penalty=penalty, on=TODAY, reason=Penalty.EndReason.REPAIRED)
    withdrawn = penalty_withdraw(actor=city_regulator, penalty=penalty, reason="撤销")
    assert withdrawn.disclosure_end_reason == Penalty.EndReason.REPAIRED


# --- end a disclosure (the repair issue calls this) -----------------------------------------------------------------
def test_an_open_disclosure_ends_early(department, enterprise, city_regulator):
    penalty, _ = record(department, enterprise, disclosed_from=D(2026, 3, 10))
    ended = penalty_end_disclosure(
        actor=city_regulator, penalty=penalty, on=D(2026, 11, 19), reason=Penalty.EndReason.REPAIRED
    )
    assert (ended.disclosure_ended_on, ended.disclosure_end_reason) == (D(2026, 11, 19), Penalty.EndReason.REPAIRED)
    assert not shown(ended, TODAY)
    assert AuditEvent.objects.filter(action="penalty.end_disclosure", object_id=str(penalty.pk)).count() == 1


@pytest.mark.parametrize(
    ("setup", "on", "reason", "code"),
    [
        ("ended", TODAY, Penalty.EndReason.REPAIRED, "no_open_disclosure"),
        ("withdrawn", TODAY, Penalty.EndReason.REPAIRED, "no_open_disclosure"),
        ("not_disclosed", TODAY, Penalty.EndReason.REPAIRED, "no_open_disclosure"),
        ("open", TODAY, Penalty.EndReason.WITHDRAWN, "invalid_reason"),
        ("open", D(2026, 11, 21), Penalty.EndReason.REPAIRED, "future_end"),
        ("open", D(2026, 3, 9), Penalty.EndReason.REPAIRED, "end_before_start"),
    ],
)
def test_ending_a_disclosure_that_is_not_open_is_refused(
    department, enterprise, city_regulator, setup, on, reason, code
):
    overrides = {"procedure": "summary", "fine_amount": Decimal("200")} if setup == "not_disclosed" else {}
    penalty, _ = record(department, enterprise, disclosed_from=D(2026, 3, 10), **overrides)
    if setup == "ended":
        penalty_end_disclosure(actor=city_regulator, penalty=penalty, on=TODAY, reason=Penalty.EndReason.REPAIRED)
    if setup == "withdrawn":
        penalty_withdraw(actor=city_regulator, penalty=penalty, reason="撤销")
    before = state()
    with pytest.raises(ApplicationError) as exc:
        penalty_end_disclosure(actor=city_regulator, penalty=penalty, on=on, reason=reason)
    assert exc.value.code == code
    assert state() == before


# --- the decision document ------------------------------------------------------------------------------------------
def test_a_pdf_is_stored_privately_under_a_name_of_our_own(settings, department, enterprise, city_regulator):
    penalty, _ = record(department, enterprise)
    upload = SimpleUploadedFile("张三 身份证 ../../evil.pdf", PDF, content_type="application/pdf")
    stored = penalty_attach_document(actor=city_regulator, penalty=penalty, uploaded_file=upload)
    name = stored.document.name
    assert name.startswith("penalties/") and name.endswith(".pdf") and f"/{penalty.pk}-" in name
    assert "张三" not in name and ".." not in name
    path = Path(stored.document.path)
    assert path.is_relative_to(Path(settings.MEDIA_ROOT)) and path.read_bytes() == PDF
    event = AuditEvent.objects.get(action="penalty.attach_document")
    assert event.after["document"] == name and len(event.after["sha256"]) == 64


def test_a_document_can_come_with_the_record(department, enterprise):
    penalty, _ = record(department, enterprise, document=SimpleUploadedFile("d.pdf", PDF))
    assert penalty.document.name.endswith(".pdf")
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "penalty.record",
        "penalty.attach_document",
    ]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_document"),
        (b"PK\x03\x04 a zip file, renamed .pdf", "not_pdf"),
        (b"<html>%PDF-</html>", "not_pdf"),  # the magic bytes must come first
        (PDF + b"0" * (10 * 1024 * 1024 - len(PDF) + 1), "document_too_large"),
    ],
)
def test_only_a_pdf_of_at_most_10_mb_is_accepted(department, enterprise, city_regulator, content, code):
    penalty, _ = record(department, enterprise)
    before = state()
    with pytest.raises(ApplicationError) as exc:
        penalty_attach_document(
            actor=city_regulator, penalty=penalty, uploaded_file=SimpleUploadedFile("d.pdf", content)
        )
    assert exc.value.code == code
    assert state() == before


def test_a_pdf_of_exactly_10_mb_is_accepted(department, enterprise, city_regulator):
    penalty, _ = record(department, enterprise)
    content = PDF + b"0" * (10 * 1024 * 1024 - len(PDF))
    stored = penalty_attach_document(
        actor=city_regulator, penalty=penalty, uploaded_file=SimpleUploadedFile("d.pdf", content)
    )
    assert stored.document.size == 10 * 1024 * 1024


# --- policies -------------------------------------------------------------------------------------------------------
def test_a_policy_change_is_audited(city_regulator):
    policy = DisclosurePolicy.objects.get(code="national-2025")
    disclosure_policy_update(actor=city_regulator, policy=policy, changes={"general_months": 18})
    event = AuditEvent.objects.get(action="disclosure_policy.update")
    assert (event.before, event.after) == ({"general_months": 12}, {"general_months": 18})


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"scheme": "local_2018"}, "not_editable"),
        ({"effective_from": D(2021, 9, 1)}, "duplicate_effective_from"),
        ({"general_months": None}, "required"),
    ],
)
def test_a_refused_policy_change_changes_nothing(city_regulator, changes, code):
    policy = DisclosurePolicy.objects.get(code="national-2025")
    before = (list(DisclosurePolicy.objects.values()), AuditEvent.objects.count())
    with pytest.raises(ApplicationError) as exc:
        disclosure_policy_update(actor=city_regulator, policy=policy, changes=changes)
    assert exc.value.code == code
    assert (list(DisclosurePolicy.objects.values()), AuditEvent.objects.count()) == before


# --- admin ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def yuci_bureau() -> Department:
    return DepartmentFactory(code="yuci-scjgj", name="晋中市榆次区市场监督管理局", region_code="140702")


@pytest.fixture
def two_counties(department) -> tuple[Penalty, Penalty]:
    yuci = PenaltyFactory(department=department, enterprise=EnterpriseFactory(name="榆次恒泰商贸有限公司"))
    taigu = PenaltyFactory(
        department=department,
        enterprise=EnterpriseFactory(name="太谷鑫源农业有限公司", region=Region.objects.get(code="140703")),
    )
    return yuci, taigu


def admin_url(view: str, *args: Any) -> str:
    return reverse(f"admin:disclosure_penalty_{view}", args=args)


def add_form(enterprise: Enterprise, **overrides: Any) -> dict[str, Any]:
    return {
        "enterprise": enterprise.pk,
        "decision_number": "榆市监罚〔2026〕7号",
        "decision_date": "2026-03-02",
        "procedure": "ordinary",
        "kinds": ["fine"],
        "fine_amount": "80000",
        "domain": "other",
        "violation_type": "销售不合格产品",
        "legal_basis": "《中华人民共和国产品质量法》第四十九条",
        "content": "罚款人民币捌万元整",
        "authority_name": "晋中市榆次区市场监督管理局",
        "case_officer": "李四",
        "restriction_until": "",
        "disclosed_from": "",
        **overrides,
    }


def test_the_admin_list_is_scoped_to_the_county(client, county_regulator, city_regulator, two_counties):
    yuci, taigu = two_counties
    client.force_login(county_regulator)
    body = client.get(admin_url("changelist")).content.decode()
    assert yuci.decision_number in body and taigu.decision_number not in body
    client.force_login(city_regulator)
    body = client.get(admin_url("changelist")).content.decode()
    assert yuci.decision_number in body and taigu.decision_number in body


@pytest.mark.parametrize("view", ["change", "history", "withdraw", "upload", "document"])
def test_the_admin_answers_404_outside_the_county(client, county_regulator, two_counties, view):
    _, taigu = two_counties
    client.force_login(county_regulator)
    assert client.get(admin_url(view, taigu.pk)).status_code == 404


def test_the_admin_filters_and_searches(client, city_regulator, two_counties):
    yuci, taigu = two_counties
    client.force_login(city_regulator)
    body = client.get(admin_url("changelist"), {"q": taigu.enterprise.uscc}).content.decode()
    assert taigu.decision_number in body and yuci.decision_number not in body
    body = client.get(admin_url("changelist"), {"q": yuci.decision_number}).content.decode()
    assert yuci.decision_number in body and taigu.decision_number not in body
    for params in ({"status__exact": "in_force"}, {"disclosed__exact": "1"}, {"tier__exact": "general"}):
        assert client.get(admin_url("changelist"), params).status_code == 200


def test_the_admin_adds_a_penalty_through_the_service(client, county_regulator, yuci_bureau, enterprise):
    client.force_login(county_regulator)
    assert client.get(admin_url("add")).status_code == 200
    response = client.post(admin_url("add"), add_form(enterprise, department=yuci_bureau.pk))
    assert response.status_code == 302, response.context["adminform"].form.errors
    penalty = Penalty.objects.get()
    assert (penalty.department, penalty.case_officer, penalty.disclosed) == (yuci_bureau, "李四", True)
    event = AuditEvent.objects.get(action="penalty.record")
    assert (event.actor, event.source) == (county_regulator, "admin")


def test_the_admin_uses_the_staff_users_own_department(client, yuci_bureau, enterprise):
    clerk = UserFactory(role=User.Role.COUNTY_REGULATOR, region_code="140702", department=yuci_bureau)
    client.force_login(clerk)
    assert 'name="department"' not in client.get(admin_url("add")).content.decode()
    other = DepartmentFactory(code="other")
    response = client.post(admin_url("add"), add_form(enterprise, department=other.pk))  # ignored
    assert response.status_code == 302
    assert Penalty.objects.get().department == yuci_bureau


def test_the_admin_add_form_shows_a_refusal_and_changes_nothing(client, county_regulator, yuci_bureau, enterprise):
    client.force_login(county_regulator)
    before = state()
    response = client.post(
        admin_url("add"), add_form(enterprise, department=yuci_bureau.pk, kinds=["confiscation"], fine_amount="100")
    )
    assert response.status_code == 200
    assert "处罚种类不含罚款时不应填写罚款金额" in response.content.decode()
    assert state() == before


def test_the_admin_offers_only_enterprises_of_the_county(client, county_regulator, yuci_bureau, enterprise):
    taigu = EnterpriseFactory(region=Region.objects.get(code="140703"))
    client.force_login(county_regulator)
    response = client.post(admin_url("add"), add_form(taigu, department=yuci_bureau.pk))
    assert response.status_code == 200 and not Penalty.objects.exists()

    def autocomplete(term: str) -> list[str]:
        params = {"app_label": "disclosure", "model_name": "penalty", "field_name": "enterprise", "term": term}
        response = client.get("/admin/autocomplete/", params)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert autocomplete(enterprise.uscc) == [str(enterprise.pk)]
    assert autocomplete(taigu.uscc) == []


def test_the_admin_change_form_corrects_with_a_required_reason(client, county_regulator, two_counties):
    yuci, _ = two_counties
    client.force_login(county_regulator)
    form = add_form(
        yuci.enterprise,
        decision_number=yuci.decision_number,
        fine_amount="3000",
        authority_name=yuci.authority_name,
        case_officer="",
    )
    response = client.post(admin_url("change", yuci.pk), form)
    assert response.status_code == 200  # the reason is missing
    yuci.refresh_from_db()
    assert yuci.fine_amount == Decimal("80000")
    response = client.post(admin_url("change", yuci.pk), {**form, "correction_reason": "金额录入错误"})
    assert response.status_code == 302
    yuci.refresh_from_db()
    assert yuci.fine_amount == Decimal("3000") and yuci.tier == Penalty.Tier.MINOR
    assert AuditEvent.objects.get(action="penalty.correct").note.startswith("更正原因：金额录入错误")


def test_the_admin_withdraws_with_a_reason(client, county_regulator, two_counties):
    yuci, _ = two_counties
    client.force_login(county_regulator)
    assert admin_url("withdraw", yuci.pk) in client.get(admin_url("change", yuci.pk)).content.decode()
    assert client.get(admin_url("withdraw", yuci.pk)).status_code == 200
    assert client.post(admin_url("withdraw", yuci.pk), {"reason": ""}).status_code == 200
    yuci.refresh_from_db()
    assert yuci.status == Penalty.Status.IN_FORCE
    response = client.post(admin_url("withdraw", yuci.pk), {"reason": "复议撤销"})
    assert response.status_code == 302
    yuci.refresh_from_db()
    assert yuci.status == Penalty.Status.WITHDRAWN
    assert admin_url("withdraw", yuci.pk) not in client.get(admin_url("change", yuci.pk)).content.decode()
    # A withdrawn penalty is view-only: no correction, no second withdrawal.
    assert client.post(admin_url("change", yuci.pk), {}).status_code == 403
    client.post(admin_url("withdraw", yuci.pk), {"reason": "again"})
    assert AuditEvent.objects.filter(action="penalty.withdraw").count() == 1


def test_the_admin_uploads_and_serves_the_document_in_scope(client, county_regulator, two_counties):
    yuci, _ = two_counties
    client.force_login(county_regulator)
    response = client.post(admin_url("upload", yuci.pk), {"file": SimpleUploadedFile("x.txt", b"hello")})
    assert response.status_code == 200 and "PDF" in response.content.decode()
    response = client.post(admin_url("upload", yuci.pk), {"file": SimpleUploadedFile("d.pdf", PDF)})
    assert response.status_code == 302
    download = client.get(admin_url("document", yuci.pk))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF


def test_the_document_is_not_under_a_public_url(client, two_counties, settings):
    yuci, _ = two_counties
    penalty_attach_document(actor=None, penalty=yuci, uploaded_file=SimpleUploadedFile("d.pdf", PDF))
    yuci.refresh_from_db()
    assert client.get("/" + yuci.document.name).status_code == 404
    assert client.get(f"/media/{yuci.document.name}").status_code == 404
    assert client.get(admin_url("document", yuci.pk)).status_code == 302  # anonymous: to the login page


def test_the_admin_never_deletes(client, city_regulator, two_counties):
    yuci, _ = two_counties
    client.force_login(city_regulator)
    assert client.get(admin_url("delete", yuci.pk)).status_code == 403
    body = client.get(admin_url("changelist")).content.decode()
    assert "delete_selected" not in body


def test_only_the_city_bureau_edits_policies(client, city_regulator, county_regulator):
    policy = DisclosurePolicy.objects.get(code="national-2025")
    url = reverse("admin:disclosure_disclosurepolicy_change", args=[policy.pk])
    client.force_login(county_regulator)
    assert client.get(url).status_code == 200  # read-only
    assert client.post(url, {"name": "x"}).status_code == 403
    client.force_login(city_regulator)
    form = {
        "name": policy.name,
        "basis": policy.basis,
        "effective_from": "2025-12-25",
        "retroactive_if_lenient": "on",
        "minor_months": "3",
        "general_months": "12",
        "serious_months": "36",
        "repair_general_months": "3",
        "repair_serious_months": "12",
        "repair_key_domain_months": "",
        "disclosure_deadline_working_days": "15",
        "withdrawal_deadline_working_days": "3",
    }
    response = client.post(url, form)
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.disclosure_deadline_working_days == 15
    event = AuditEvent.objects.get(action="disclosure_policy.update")
    assert event.after == {"disclosure_deadline_working_days": 15}
    assert client.get(reverse("admin:disclosure_disclosurepolicy_delete", args=[policy.pk])).status_code == 403


def test_the_city_bureau_chooses_the_department_when_it_has_none(client, city_regulator, department, enterprise):
    client.force_login(city_regulator)
    body = client.get(admin_url("add")).content.decode()
    assert 'name="department"' in body and department.name in body
    response = client.post(admin_url("add"), add_form(enterprise))  # no department chosen
    assert response.status_code == 200 and not Penalty.objects.exists()
    response = client.post(admin_url("add"), add_form(enterprise, department=department.pk))
    assert response.status_code == 302
    assert Penalty.objects.get().department == department


def test_a_withdrawn_penalty_is_shown_read_only_with_its_document(client, city_regulator, two_counties):
    yuci, _ = two_counties
    penalty_attach_document(actor=None, penalty=yuci, uploaded_file=SimpleUploadedFile("d.pdf", PDF))
    penalty_withdraw(actor=city_regulator, penalty=yuci, reason="复议撤销")
    client.force_login(city_regulator)
    body = client.get(admin_url("change", yuci.pk)).content.decode()
    assert admin_url("document", yuci.pk) in body
    assert 'name="correction_reason"' not in body and 'name="fine_amount"' not in body
    assert "复议撤销" in body


def test_the_policy_list_renders(client, county_regulator):
    client.force_login(county_regulator)
    response = client.get(reverse("admin:disclosure_disclosurepolicy_changelist"))
    assert response.status_code == 200
    assert "national-2025" in response.content.decode()
    assert client.get(reverse("admin:disclosure_disclosurepolicy_add")).status_code == 403


def test_a_correction_that_changes_nothing_writes_nothing(department, enterprise, city_regulator):
    penalty, _ = record(department, enterprise)
    before = state()
    same = penalty_correct(
        actor=city_regulator, penalty=penalty, changes={"fine_amount": "80000.00", "kinds": ["fine"]}, reason="核对"
    )
    assert same.pk == penalty.pk
    assert state() == before


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_pushes_of_one_decision_record_it_once(monkeypatch, department, enterprise):
    """Both pushes find no record and insert at once: the unique index makes the second wait, fail, and answer
    with the first one's record (the same content), as a repeat would."""
    import threading

    from django.db import connection

    from disclosure.services import penalties as service

    barrier = threading.Barrier(2, timeout=10)
    real = service._apply_disclosure

    def after_both_looked(*args: Any, **kwargs: Any) -> str:
        barrier.wait()  # both have looked the number up and found nothing
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "_apply_disclosure", after_both_looked)
    results: list[tuple[Penalty, bool]] = []
    errors: list[BaseException] = []

    def push() -> None:
        try:
            results.append(record(department, enterprise))
        except BaseException as exc:  # reported by the assertion below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=push) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(created for _, created in results) == [False, True]
    assert len({penalty.pk for penalty, _ in results}) == 1
    assert Penalty.objects.count() == 1
    assert AuditEvent.objects.filter(action="penalty.record").count() == 1
