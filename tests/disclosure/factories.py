"""Factories for disclosure records. Records made here skip the services: tests of services call the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from disclosure.models import AbnormalListing, Penalty, SeriousListing
from enterprises.models import Region
from tests.factories import DepartmentFactory, EnterpriseFactory


class PenaltyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Penalty

    enterprise = factory.SubFactory(EnterpriseFactory)
    department = factory.SubFactory(DepartmentFactory, code="scjgj", name="晋中市市场监督管理局")
    decision_number = factory.Sequence(lambda n: f"晋市监罚〔2026〕{n + 1}号")
    decision_date = dt.date(2026, 3, 2)
    procedure = Penalty.Procedure.ORDINARY
    kinds = factory.LazyFunction(lambda: ["fine"])
    fine_amount = Decimal("80000")
    domain = Penalty.Domain.OTHER
    violation_type = "销售不合格产品"
    legal_basis = "《中华人民共和国产品质量法》第四十九条"
    content = "罚款人民币捌万元整"
    authority_name = "晋中市市场监督管理局"
    content_hash = factory.Sequence(lambda n: f"{n:064x}")
    tier = Penalty.Tier.GENERAL
    disclosed = True
    disclosed_from = dt.date(2026, 3, 3)
    disclosed_until = dt.date(2027, 3, 2)


class AbnormalListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AbnormalListing

    enterprise = factory.SubFactory(EnterpriseFactory)
    reason = AbnormalListing.Reason.ANNUAL_REPORT
    year = 2025
    cause_date = dt.date(2026, 6, 30)
    decided_on = dt.date(2026, 7, 8)
    decision_number = factory.Sequence(lambda n: f"榆次市监异入〔2026〕第{n + 1}号")
    office = factory.LazyFunction(lambda: Region.objects.get(code="140702"))
    authority_name = "晋中市榆次区市场监督管理局"
    legal_basis = "《企业信息公示暂行条例》第十七条第一款"
    remedies = "如不服本决定，可以自收到本决定书之日起六十日内申请行政复议，或者在六个月内依法提起行政诉讼。"


class SeriousListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SeriousListing

    enterprise = factory.SubFactory(EnterpriseFactory)
    ground = SeriousListing.Ground.SERIOUS_VIOLATION
    office = factory.LazyFunction(lambda: Region.objects.get(code="140702"))
    authority_name = "晋中市榆次区市场监督管理局"
    legal_basis = "《市场监督管理严重违法失信名单管理办法》第二条"
    stage = SeriousListing.Stage.LISTED
    notice_number = factory.Sequence(lambda n: f"榆次市监严告〔2026〕第{n + 1}号")
    noticed_on = dt.date(2026, 2, 2)
    statement_due = dt.date(2026, 2, 9)
    decision_number = factory.Sequence(lambda n: f"榆次市监严入〔2026〕第{n + 1}号")
    decided_on = dt.date(2026, 3, 2)
    listed_until = dt.date(2029, 3, 1)
