"""Fixtures of the repair tests: a pinned today, the entity's own account and another entity's, staff of the
responsible office and of another one, records to repair, and material files of each kind."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.models import CalendarYear, Department, User
from disclosure.models import Penalty
from disclosure.services.penalties import penalty_record
from enterprises.models import AnnualReport, Enterprise
from repair.models import EnterpriseAccount
from repair.services.applications import Upload
from tests.factories import DepartmentFactory, EnterpriseFactory, UserFactory

D = dt.date
TODAY = D(2026, 11, 20)  # a Friday
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
EXE = b"MZ\x90\x00" + b"\x00" * 64


def set_today(monkeypatch, day: dt.date) -> dt.date:
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)
    return day


@pytest.fixture(autouse=True)
def today(monkeypatch) -> dt.date:
    return set_today(monkeypatch, TODAY)


@pytest.fixture
def calendar_2027(db):
    """Deadlines running into 2027 need the year confirmed (core.calendar refuses to guess it): weekdays only."""
    CalendarYear.objects.get_or_create(year=2027, defaults={"source": "tests: weekdays only"})


def pdf(name: str = "材料.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def materials(*, proof: bool = True) -> list[Upload]:
    uploads = [Upload("application_form", pdf("申请书.pdf")), Upload("credit_commitment", pdf("承诺书.pdf"))]
    if proof:
        uploads.append(Upload("proof_of_fulfilment", SimpleUploadedFile("缴款凭证.png", PNG, content_type="image/png")))
    return uploads


@pytest.fixture
def amr_department(db) -> Department:
    """The county bureau of 榆次区 as a deciding department (its penalties are repaired by 140702)."""
    return DepartmentFactory(code="amr-140702", name="晋中市榆次区市场监督管理局", region_code="140702")


def make_account(enterprise: Enterprise, *, username: str | None = None) -> User:
    user = UserFactory(username=username or enterprise.uscc, role=User.Role.ENTERPRISE, region_code="", is_staff=False)
    EnterpriseAccount.objects.create(user=user, enterprise=enterprise, activated_at=timezone.now())
    return user


@pytest.fixture
def firm(db) -> Enterprise:
    return EnterpriseFactory(name="晋中恒泰商贸有限公司", contact_phone="13800000001")


@pytest.fixture
def owner(firm) -> User:
    return make_account(firm)


@pytest.fixture
def other_firm(db) -> Enterprise:
    return EnterpriseFactory(name="晋中另一家商贸有限公司")


@pytest.fixture
def other_owner(other_firm) -> User:
    return make_account(other_firm)


@pytest.fixture
def reviewer(db) -> User:
    return UserFactory(username="reviewer", role=User.Role.CREDIT_REVIEWER, region_code="140702", first_name="李审核")


@pytest.fixture
def other_reviewer(db) -> User:
    return UserFactory(username="reviewer-taigu", role=User.Role.CREDIT_REVIEWER, region_code="140703")


def penalty_for(
    enterprise: Enterprise,
    department: Department,
    *,
    decided: dt.date,
    number: str = "榆市监罚〔2026〕1号",
    **extra: Any,
) -> Penalty:
    values: dict[str, Any] = {
        "uscc": enterprise.uscc,
        "decision_number": number,
        "decision_date": decided,
        "procedure": "ordinary",
        "kinds": ["fine"],
        "fine_amount": Decimal("80000"),
        "domain": "other",
        "violation_type": "销售不合格产品",
        "legal_basis": "《中华人民共和国产品质量法》第四十九条",
        "content": "罚款人民币捌万元整",
        "authority_name": department.name,
        **extra,
    }
    penalty, _created = penalty_record(actor=None, department=department, **values)
    return penalty


def file_report(enterprise: Enterprise, year: int, filed_on: dt.date) -> AnnualReport:
    return AnnualReport.objects.create(enterprise=enterprise, year=year, filed_on=filed_on)


def drain(name: str, as_of: dt.date, *, chunk_size: int | None = None) -> dict[str, int]:
    """Run every chunk of a repair job in the test's transaction, each chunk in its own savepoint (as run_job does
    with transactions); the totals, {} when there was nothing to do."""
    from collections import Counter

    from django.db import transaction

    from core.middleware import use_source
    from repair import jobs

    step = jobs.JOBS[name].step(chunk_size)
    totals: Counter[str] = Counter()
    with use_source("command"):
        for _ in range(10_000):
            with transaction.atomic():
                counts = step(as_of)
            if counts is None:
                return dict(totals)
            totals.update(counts)
    raise AssertionError(f"{name} did not finish")
