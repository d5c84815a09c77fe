"""Factories and builders for inspection tests."""

from __future__ import annotations

import datetime as dt

import factory

from core.models import User
from enterprises.models import Enterprise, Region
from inspections.models import InspectionItem, Inspector, Plan
from tests.factories import DepartmentFactory, EnterpriseFactory, UserFactory


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InspectionItem

    code = factory.Sequence(lambda n: f"SC-{n:03d}")
    name = factory.Sequence(lambda n: f"抽查事项{n}")
    department = factory.SubFactory(DepartmentFactory, code="samr", name="晋中市市场监督管理局")
    legal_basis = "《企业信息公示暂行条例》第十四条"


class InspectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Inspector
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"检查员{n}")
    department = factory.SubFactory(DepartmentFactory, code="samr", name="晋中市市场监督管理局")
    region = factory.LazyFunction(lambda: Region.objects.get(code="140702"))
    warrant_number = factory.Sequence(lambda n: f"14070220{n:05d}")
    warrant_expires_on = dt.date(2030, 12, 31)

    @factory.post_generation
    def items(self, create, extracted, **kwargs):
        if create and extracted:
            self.qualifications.set(extracted)


def inspector_user(inspector: Inspector, username: str | None = None) -> User:
    """The portal account of `inspector` (created on first use)."""
    if inspector.user_id:
        return inspector.user
    user = UserFactory(
        username=username or f"insp{inspector.pk}", role=User.Role.INSPECTOR, region_code=inspector.region_id
    )
    inspector.user = user
    inspector.save(update_fields=["user"])
    return user


def make_population(counts: dict[str, int], *, region: str = "140702", start: int = 0) -> list[Enterprise]:
    """Entities with the given risk classes, bulk-created with valid USCCs."""
    from tests.factories import make_uscc

    region_obj = Region.objects.get(code=region)
    rows = []
    n = start
    for cls, count in counts.items():
        for _ in range(count):
            n += 1
            rows.append(
                Enterprise(
                    uscc=make_uscc(region_code=region, serial=n * 104729 + 7),
                    entity_type="enterprise",
                    name=f"测试企业{region}{n}号",
                    legal_representative="李四",
                    address="晋中市",
                    region=region_obj,
                    registration_date=dt.date(2015, 1, 1),
                    registered_capital=100,
                    risk_class=cls,
                )
            )
    return Enterprise.objects.bulk_create(rows)


def make_plan(*, items, region: str = "140702", **kwargs) -> Plan:
    defaults = {
        "name": "2026年度榆次区双随机抽查计划",
        "year": 2026,
        "planned_start": dt.date(2026, 3, 1),
        "planned_end": dt.date(2026, 11, 30),
    }
    defaults.update(kwargs)
    plan = Plan.objects.create(region=Region.objects.get(code=region), **defaults)
    plan.items.set(items)
    return plan


__all__ = ["EnterpriseFactory", "InspectorFactory", "ItemFactory", "inspector_user", "make_plan", "make_population"]
