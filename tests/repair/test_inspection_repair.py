"""Credit repair of a negative inspection result (2025 rules): eligible only under a policy that allows it and
only for published negative results; approval takes the result off the public record in the decision's
transaction; a broken 容缺 commitment puts it back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.errors import ApplicationError
from core.models import AuditEvent
from inspections.models import Result, Task
from inspections.selectors import published_results
from inspections.services.draws import draw_commit, draw_execute
from inspections.services.results import result_publish, result_record
from repair import selectors
from repair.models import RepairApplication, RepairDocument
from repair.services import applications as services
from tests.inspections.factories import InspectorFactory, ItemFactory, inspector_user, make_plan
from tests.repair.conftest import TODAY, drain, materials, set_today

pytestmark = pytest.mark.django_db
D = dt.date


def _result(firm, *, outcome: str, inspected_on: dt.date, publish_on: dt.date | None) -> Result:
    item = ItemFactory()
    for _ in range(2):
        InspectorFactory(items=[item])
    firm.risk_class = "D"
    firm.save(update_fields=["risk_class"])
    plan = make_plan(items=[item], ratio_d=Decimal("100"))
    draw = draw_execute(actor=None, draw=draw_commit(actor=None, plan=plan))
    task = Task.objects.get(draw=draw, enterprise=firm)
    user = inspector_user(task.assignments.first().inspector)
    result = result_record(actor=user, task=task, outcome=outcome, inspected_on=inspected_on, details="未公示许可信息")
    if publish_on is not None:
        result = result_publish(actor=None, result=result, on=publish_on)
    return result


@pytest.fixture
def negative(firm) -> Result:
    return _result(firm, outcome="problem", inspected_on=TODAY, publish_on=TODAY)


def _submit(owner, firm, result, **overrides) -> RepairApplication:
    values = {
        "actor": owner,
        "enterprise": firm,
        "target_type": "inspection",
        "target_id": result.pk,
        "statement": "已按要求公示许可信息，问题已整改。",
        "contact_name": "王经理",
        "contact_phone": "13900000002",
        "uploads": materials(),
        **overrides,
    }
    return services.application_submit(**values)


def test_a_published_negative_result_is_listed_and_may_be_repaired_under_the_2025_rules(firm, negative):
    records = {r.target_type: r for r in selectors.repairable_records(firm)}
    answer = records["inspection"].eligibility
    assert answer.may_apply
    assert answer.kind == RepairApplication.Kind.INSPECTION_RESULT
    assert "2025年规定" in answer.rule


def test_under_the_2021_rules_it_waits_for_the_2025_rules(firm, negative):
    # A result of autumn 2025 (moved back in time: the services date a result by the draw).
    Result.objects.filter(pk=negative.pk).update(inspected_on=D(2025, 11, 3), published_on=D(2025, 11, 10))
    negative.refresh_from_db()
    on = D(2025, 12, 24)  # the last day of the 2021 rules
    answer = selectors.eligibility(negative, on=on)
    assert not answer.may_apply
    assert answer.from_date == D(2025, 12, 25)
    assert "2025年12月25日" in answer.reasons[0]
    assert selectors.eligibility(negative, on=D(2025, 12, 25)).may_apply


def test_unpublished_and_clean_results_cannot_be_repaired(firm, owner):
    unpublished = _result(firm, outcome="problem", inspected_on=TODAY, publish_on=None)
    assert selectors.eligibility(unpublished, on=TODAY).never
    with pytest.raises(ApplicationError):
        _submit(owner, firm, unpublished)
    assert "inspection" not in {r.target_type for r in selectors.repairable_records(firm)}


def test_a_clean_result_needs_no_repair(firm):
    clean = _result(firm, outcome="no_problem", inspected_on=TODAY, publish_on=TODAY)
    answer = selectors.eligibility(clean, on=TODAY)
    assert not answer.may_apply and answer.never
    assert "未发现问题" in answer.reasons[0]


def test_approval_takes_the_result_off_the_public_record(owner, firm, negative, reviewer):
    assert published_results(enterprise_ids=[firm.pk]).count() == 1
    application = _submit(owner, firm, negative)
    assert application.responsible_office_id == "140702"
    services.application_accept(actor=reviewer, application=application)
    application.refresh_from_db()
    assert application.decision_due == D(2026, 12, 1)  # 7 working days (2025 rules)
    services.application_approve(actor=reviewer, application=application, reason="问题已整改。")
    negative.refresh_from_db()
    assert negative.publication_stopped_on == TODAY
    assert not published_results(enterprise_ids=[firm.pk]).exists()
    assert not Result.objects.shown(TODAY).filter(pk=negative.pk).exists()
    assert Result.objects.filter(pk=negative.pk).exists()  # kept on file
    assert application.documents.get().doc_type == RepairDocument.DocType.APPROVAL
    assert AuditEvent.objects.filter(action="inspection_result.stop_publication", object_id=str(negative.pk)).exists()
    # Nothing left to repair.
    assert "inspection" not in {r.target_type for r in selectors.repairable_records(firm)}


def test_a_broken_commitment_shows_the_result_again(owner, firm, negative, reviewer, monkeypatch):
    application = _submit(owner, firm, negative, uploads=materials(proof=False), tolerance=True)
    services.application_accept(actor=reviewer, application=application)
    services.application_approve(actor=reviewer, application=application)
    assert not published_results(enterprise_ids=[firm.pk]).exists()
    set_today(monkeypatch, D(2026, 12, 5))
    assert drain("repair_revoke_broken_commitments", D(2026, 12, 5)) == {"revoked": 1, "rejected": 0}
    negative.refresh_from_db()
    assert negative.publication_stopped_on is None
    assert published_results(enterprise_ids=[firm.pk]).count() == 1
    assert AuditEvent.objects.filter(action="inspection_result.restore_publication").exists()
