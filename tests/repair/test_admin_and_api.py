"""The staff side of credit repair in the admin (the queue by due date with overdue flags, actions, paper
applications, access codes, audited policy edits) and the API (filing with materials, the actions, the eligibility
answer, structured errors), with bounded queries on the lists."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from core.models import AuditEvent, OutboxMessage, User
from repair.models import AccessCode, RepairApplication, RepairPolicy
from repair.services import applications as services
from tests.factories import UserFactory
from tests.repair.conftest import HTML, PDF, PNG, TODAY, materials, penalty_for, set_today

pytestmark = pytest.mark.django_db
D = dt.date


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _not_a_repeat_offender(db):
    """Three penalties of one entity would make it a repeat offender (seed 002 §12); not what these tests are about."""
    RepairPolicy.objects.update(repeat_offender_penalties=10)


@pytest.fixture
def penalties(firm, amr_department):
    return [
        penalty_for(
            firm, amr_department, decided=D(2026, 3, 2 + n), disclosed_from=D(2026, 3, 3 + n), number=f"Q{n}",
            violation_type=f"违法行为{n}",
        )
        for n in range(3)
    ]  # fmt: skip


def file(owner, firm, penalty) -> RepairApplication:
    return services.application_submit(
        actor=owner, enterprise=firm, target_type="penalty", target_id=penalty.pk, statement="已履行",
        contact_name="王", contact_phone="139", uploads=materials(),
    )  # fmt: skip


# --- admin ----------------------------------------------------------------------------------------------------------
def test_the_queue_lists_open_applications_by_due_date_and_flags_overdue_ones(
    monkeypatch, owner, firm, penalties, reviewer, django_assert_max_num_queries
):
    set_today(monkeypatch, D(2026, 11, 16))
    late = file(owner, firm, penalties[0])  # due 19 November
    set_today(monkeypatch, TODAY)
    fresh = file(owner, firm, penalties[1])  # due 25 November
    done = file(owner, firm, penalties[2])
    services.application_refuse(actor=reviewer, application=done, reason="材料不符")
    client = logged_in(reviewer)
    with django_assert_max_num_queries(15):
        page = client.get(reverse("admin:repair_repairapplication_changelist")).content.decode()
    assert page.index(late.number) < page.index(fresh.number)  # earliest due first
    assert done.number not in page  # closed ones are a filter away
    assert "⚠" in page and page.count("⚠") == 1
    overdue = client.get(reverse("admin:repair_repairapplication_changelist") + "?due=overdue").content.decode()
    assert late.number in overdue and fresh.number not in overdue
    closed = client.get(reverse("admin:repair_repairapplication_changelist") + "?open=closed").content.decode()
    assert done.number in closed


def test_actions_in_the_admin_call_the_services(owner, firm, penalties, reviewer):
    application = file(owner, firm, penalties[0])
    client = logged_in(reviewer)
    change = reverse("admin:repair_repairapplication_change", args=[application.pk])
    page = client.get(change).content.decode()
    assert reverse("admin:repair_repairapplication_accept", args=[application.pk]) in page
    response = client.post(reverse("admin:repair_repairapplication_accept", args=[application.pk]), {"reason": ""})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == RepairApplication.Status.ACCEPTED
    # A refusal without a reason is a form error; nothing is written.
    response = client.post(reverse("admin:repair_repairapplication_reject", args=[application.pk]), {"reason": ""})
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.status == RepairApplication.Status.ACCEPTED
    response = client.post(
        reverse("admin:repair_repairapplication_approve", args=[application.pk]), {"reason": "已履行"}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == RepairApplication.Status.APPROVED
    # A decided application offers no more actions; posting one anyway is refused with the service's message.
    response = client.post(reverse("admin:repair_repairapplication_approve", args=[application.pk]), {"reason": ""})
    assert "只有已受理的申请" in response.content.decode()


def test_staff_enter_a_paper_application_on_the_entitys_behalf(firm, penalties, reviewer):
    client = logged_in(reviewer)
    url = reverse("admin:repair_repairapplication_paper")
    step1 = client.post(url, {"uscc": firm.uscc, "continue": "1"}).content.decode()
    assert penalties[0].decision_number in step1
    data = {
        "uscc": firm.uscc,
        "target": f"penalty:{penalties[0].pk}",
        "statement": "纸质申请：罚款已缴纳。",
        "contact_name": "王",
        "contact_phone": "139",
        "submission_key": "0b0e5a3c-2a44-4a35-9f65-4b5a0b8f1a11",
        "submit": "1",
        "application_form": SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf"),
        "credit_commitment": SimpleUploadedFile("b.pdf", PDF, content_type="application/pdf"),
        "proof_of_fulfilment": SimpleUploadedFile("c.png", PNG, content_type="image/png"),
    }
    response = client.post(url, data)
    assert response.status_code == 302
    application = RepairApplication.objects.get()
    assert application.channel == RepairApplication.Channel.PAPER and application.submitted_by == reviewer


def test_a_county_reviewer_cannot_enter_a_paper_application_for_another_county(firm, penalties, other_reviewer):
    client = logged_in(other_reviewer)
    page = client.post(reverse("admin:repair_repairapplication_paper"), {"uscc": firm.uscc, "submit": "1"})
    assert "不在您的辖区" in page.content.decode()
    assert not RepairApplication.objects.exists()


def test_staff_issue_an_activation_code_shown_once(firm, reviewer):
    client = logged_in(reviewer)
    response = client.post(
        reverse("admin:repair_accesscode_add"), {"uscc": firm.uscc, "purpose": "activation"}, follow=True
    )
    text = response.content.decode()
    code = re.search(r"验证码：([A-Z0-9]{4}-[A-Z0-9]{4})", text).group(1)
    access = AccessCode.objects.get()
    assert code.replace("-", "") not in access.code_hash
    assert OutboxMessage.objects.filter(related_type="repair.accesscode", body__contains=code).exists()
    # The list never shows the code again.
    assert code not in client.get(reverse("admin:repair_accesscode_changelist")).content.decode()


def test_a_policy_edit_is_validated_and_audited(city_regulator):
    client = logged_in(city_regulator)
    policy = RepairPolicy.objects.get(code="repair-2025")
    url = reverse("admin:repair_repairpolicy_change", args=[policy.pk])
    data = {
        "code": policy.code, "name": policy.name, "basis": policy.basis, "effective_from": "2025-12-25",
        "acceptance_working_days": 3, "decision_working_days": 0, "abnormal_decision_working_days": 5,
        "tolerance_working_days": 10, "repeat_offender_penalties": 10, "repeat_offender_window_months": 24,
        "repeat_offender_extra_months": 6, "inspection_results_repairable": "on",
    }  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 200 and "至少为一个工作日" in response.content.decode()
    data["decision_working_days"] = 5
    assert client.post(url, data).status_code == 302
    event = AuditEvent.objects.get(action="repair.repairpolicy.update")
    assert event.before == {"decision_working_days": 7} and event.after == {"decision_working_days": 5}


# --- API ------------------------------------------------------------------------------------------------------------
def test_an_entity_files_over_the_api_with_multipart_materials(owner, firm, penalties):
    client = logged_in(owner)
    data = {
        "target_type": "penalty",
        "target_id": penalties[0].pk,
        "statement": "已履行",
        "contact_name": "王",
        "contact_phone": "139",
        "application_form": SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf"),
        "credit_commitment": SimpleUploadedFile("b.pdf", PDF, content_type="application/pdf"),
        "proof_of_fulfilment": SimpleUploadedFile("c.png", PNG, content_type="image/png"),
        "submission_key": "5f1c7d1e-6b0a-4f39-a3a8-3f1d0a7c2b10",
    }
    response = client.post("/api/v1/repair/applications/", data)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "submitted" and len(body["materials"]) == 3 and body["acceptance_due"] == "2026-11-25"
    again = client.post(
        "/api/v1/repair/applications/",
        {
            **data,
            **{
                k: SimpleUploadedFile("x.pdf", PDF)
                for k in ("application_form", "credit_commitment", "proof_of_fulfilment")
            },
        },
    )
    assert again.status_code == 201 and again.json()["id"] == body["id"]  # the same key: the same application


def test_the_api_answers_bad_input_with_structured_errors(owner, firm, penalties):
    client = logged_in(owner)
    data = {
        "target_type": "penalty",
        "target_id": penalties[0].pk,
        "statement": "已履行",
        "contact_name": "王",
        "contact_phone": "139",
        "application_form": SimpleUploadedFile("a.pdf", HTML, content_type="application/pdf"),
        "credit_commitment": SimpleUploadedFile("b.pdf", PDF, content_type="application/pdf"),
        "proof_of_fulfilment": SimpleUploadedFile("c.pdf", PDF, content_type="application/pdf"),
    }
    response = client.post("/api/v1/repair/applications/", data)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "file_type_not_accepted"
    assert not RepairApplication.objects.exists()


def test_staff_act_over_the_api(owner, firm, penalties, reviewer):
    application = file(owner, firm, penalties[0])
    client = logged_in(reviewer)
    assert client.post(f"/api/v1/repair/applications/{application.pk}/accept/", {}).status_code == 200
    response = client.post(f"/api/v1/repair/applications/{application.pk}/approve/", {"reason": "已履行"})
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert response.json()["documents"][0]["doc_type"] == "approval"
    again = client.post(f"/api/v1/repair/applications/{application.pk}/approve/", {})
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_state"


def test_the_eligibility_answer_lists_every_current_record(owner, firm, penalties, amr_department):
    recent = penalty_for(
        firm,
        amr_department,
        decided=D(2026, 10, 9),
        disclosed_from=D(2026, 10, 10),
        number="NEW",
        violation_type="新违法",
    )
    rows = logged_in(owner).get("/api/v1/repair/eligibility/").json()
    by_id = {row["target_id"]: row for row in rows}
    assert by_id[penalties[0].pk]["may_apply"] is True
    assert by_id[recent.pk]["may_apply"] is False and by_id[recent.pk]["from_date"] == "2027-01-10"


def test_the_staff_list_is_bounded_in_queries(owner, firm, penalties, reviewer, django_assert_max_num_queries):
    for penalty in penalties:
        file(owner, firm, penalty)
    client = logged_in(reviewer)
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/repair/applications/?open=true")
    assert response.status_code == 200 and response.json()["count"] == 3


def test_other_staff_roles_never_see_the_queue(owner, firm, penalties):
    file(owner, firm, penalties[0])
    inspector = UserFactory(username="insp2", role=User.Role.INSPECTOR, region_code="140702")
    assert logged_in(inspector).get("/api/v1/repair/applications/").status_code == 403
