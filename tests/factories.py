"""factory_boy factories shared by every test module."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import factory

from core.models import Department, User
from enterprises import identity
from enterprises.models import AnnualReport, Enterprise, Region

_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_uscc(*, entity_type: str = "enterprise", region_code: str = "140702", serial: int | None = None) -> str:
    """A valid USCC of the given type and region (positions 2 and 3-8), unique per serial."""
    rnd = random.Random(serial) if serial is not None else random.Random()
    org = "MA" + "".join(rnd.choice(_ORG_ALPHABET) for _ in range(7))
    return identity.with_check_character("9" + identity.CODE_BY_TYPE[entity_type] + region_code + org)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept-{n}")
    name = factory.Sequence(lambda n: f"部门{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = User.Role.CITY_REGULATOR
    region_code = ""
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "Passw0rd!2024")

    @factory.post_generation
    def groups_for_role(self, create, extracted, **kwargs):
        if create:
            from core.services import user_sync_groups

            self.save()
            user_sync_groups(user=self)


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    entity_type = Enterprise.EntityType.ENTERPRISE
    region = factory.LazyFunction(lambda: Region.objects.get(code="140702"))
    uscc = factory.LazyAttributeSequence(
        lambda o, n: make_uscc(entity_type=o.entity_type, region_code=o.region.code, serial=n * 7919 + 17)
    )
    name = factory.Sequence(lambda n: f"晋中恒泰{n}号商贸有限公司")
    legal_representative = "张三"
    address = "山西省晋中市榆次区迎宾街1号"
    industry_id = "52"
    industry_code = "F52"
    registered_capital = factory.LazyAttribute(
        lambda o: None if o.entity_type == Enterprise.EntityType.INDIVIDUAL else Decimal("100")
    )
    registration_date = dt.date(2015, 3, 1)


class AnnualReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnnualReport

    enterprise = factory.SubFactory(EnterpriseFactory)
    year = 2025
    filed_on = dt.date(2026, 5, 20)
