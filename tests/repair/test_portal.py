"""The portal's pages as an entity uses them: login (throttled like the admin's), the records page with the rules'
answer, filing through the form (a double submission makes one application), following the application."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from core.models import AuditEvent
from disclosure.models import Penalty
from repair.models import RepairApplication, RepairDocument
from repair.services import applications as services
from tests.conftest import PASSWORD
from tests.repair.conftest import HTML, PDF, PNG, materials, penalty_for

pytestmark = pytest.mark.django_db
D = dt.date


def test_the_portal_login_locks_out_after_repeated_failures(firm, owner, settings):
    client = Client()
    url = reverse("repair:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": firm.uscc, "password": "wrong"})
    locked = client.post(url, {"username": firm.uscc, "password": PASSWORD})
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_portal_login_works_with_the_uscc(firm, owner):
    client = Client()
    response = client.post(reverse("repair:login"), {"username": firm.uscc.lower(), "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("repair:dashboard")


def _form(penalty: Penalty, key: str, content: bytes = PDF) -> dict:
    return {
        "submission_key": key,
        "statement": "罚款已缴清。",
        "contact_name": "王",
        "contact_phone": "139",
        "application_form": SimpleUploadedFile("申请书.pdf", content, content_type="application/pdf"),
        "credit_commitment": SimpleUploadedFile("承诺书.pdf", PDF, content_type="application/pdf"),
        "proof_of_fulfilment": SimpleUploadedFile("凭证.png", PNG, content_type="image/png"),
    }


def test_filing_through_the_form_and_a_double_submission(firm, owner, amr_department):
    penalty = penalty_for(firm, amr_department, decided=D(2026, 3, 2), disclosed_from=D(2026, 3, 3))
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("repair:dashboard")).content.decode()
    assert "信用修复不收取任何费用" in page and penalty.decision_number in page and "可以申请" in page
    url = reverse("repair:apply", args=["penalty", penalty.pk])
    form = client.get(url).content.decode()
    key = form.split('name="submission_key" value="')[1].split('"')[0]
    first = client.post(url, _form(penalty, key))
    second = client.post(url, _form(penalty, key))  # the same form, sent twice
    assert first.status_code == second.status_code == 302 and first.url == second.url
    assert RepairApplication.objects.count() == 1
    detail = client.get(first.url).content.decode()
    assert "已提交，待受理" in detail and "2026-11-25" in detail


def test_a_renamed_html_file_is_refused_in_chinese_and_nothing_is_written(firm, owner, amr_department):
    penalty = penalty_for(firm, amr_department, decided=D(2026, 3, 2), disclosed_from=D(2026, 3, 3))
    client = Client()
    client.force_login(owner)
    url = reverse("repair:apply", args=["penalty", penalty.pk])
    events = AuditEvent.objects.count()
    response = client.post(url, _form(penalty, "7c0e3f35-74b4-4c8e-8f0e-4f6bd5b8b0a1", content=HTML))
    assert response.status_code == 200
    assert "不是 PDF、JPG、PNG 文件" in response.content.decode()
    assert not RepairApplication.objects.exists() and AuditEvent.objects.count() == events


def test_a_record_not_yet_eligible_shows_why_and_from_when_and_offers_no_form(firm, owner, amr_department):
    recent = penalty_for(firm, amr_department, decided=D(2026, 10, 9), disclosed_from=D(2026, 10, 10))
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("repair:apply", args=["penalty", recent.pk])).content.decode()
    assert "2027-01-10" in page and "submission_key" not in page
    response = client.post(
        reverse("repair:apply", args=["penalty", recent.pk]), _form(recent, "a0c6a0f7-5cd7-4a7e-bc32-7e3c10e2d8c3")
    )
    assert "该记录目前不能申请信用修复" in response.content.decode()
    assert not RepairApplication.objects.exists()


def test_a_revocation_that_fails_midway_changes_nothing(firm, owner, reviewer, amr_department, monkeypatch):
    penalty = penalty_for(firm, amr_department, decided=D(2026, 3, 2), disclosed_from=D(2026, 3, 3))
    application = services.application_submit(
        actor=owner, enterprise=firm, target_type="penalty", target_id=penalty.pk, statement="已履行",
        contact_name="王", contact_phone="139", uploads=materials(proof=False), tolerance=True,
    )  # fmt: skip
    services.application_accept(actor=reviewer, application=application)
    services.application_approve(actor=reviewer, application=application)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("repair.documents.render_pdf", broken)
    with pytest.raises(RuntimeError):
        services.application_revoke_broken_commitment(actor=None, application=application, on=D(2026, 12, 5))
    application.refresh_from_db()
    penalty.refresh_from_db()
    assert application.status == RepairApplication.Status.APPROVED
    assert penalty.disclosure_end_reason == Penalty.EndReason.REPAIRED  # still stopped: the restore rolled back
    assert application.commitment.status == "pending"
    assert not application.documents.filter(doc_type=RepairDocument.DocType.REVOCATION).exists()
