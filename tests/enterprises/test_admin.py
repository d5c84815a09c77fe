"""The registry admin: county scoping (404 outside the county), audited edits through services, no deletes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditEvent, User
from enterprises.models import Enterprise, Region, RegistrationChange
from tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_counties():
    yuci = EnterpriseFactory(name="榆次恒泰商贸有限公司")
    taigu = EnterpriseFactory(name="太谷鑫源农业科技有限公司", region=Region.objects.get(code="140703"))
    return yuci, taigu


def change_url(obj: Enterprise) -> str:
    return reverse("admin:enterprises_enterprise_change", args=[obj.pk])


def test_it_lists_every_county_for_a_city_regulator(client, city_regulator, two_counties):
    client.force_login(city_regulator)
    response = client.get(reverse("admin:enterprises_enterprise_changelist"))
    assert response.status_code == 200
    for enterprise in two_counties:
        assert enterprise.uscc in response.content.decode()


def test_it_lists_only_the_own_county_for_a_county_regulator(client, county_regulator, two_counties):
    yuci, taigu = two_counties
    client.force_login(county_regulator)
    response = client.get(reverse("admin:enterprises_enterprise_changelist"))
    body = response.content.decode()
    assert yuci.uscc in body
    assert taigu.uscc not in body
    # The county filter offers only the own county.
    assert "太谷区" not in body


def test_the_type_filter_lists_one_type(client, city_regulator, two_counties):
    shop = EnterpriseFactory(name="榆次老王面馆", entity_type=Enterprise.EntityType.INDIVIDUAL)
    client.force_login(city_regulator)
    url = reverse("admin:enterprises_enterprise_changelist")
    body = client.get(url, {"entity_type__exact": "individual"}).content.decode()
    assert shop.uscc in body
    assert not any(e.uscc in body for e in two_counties)
    body = client.get(url, {"entity_type__exact": "enterprise", "region__code__exact": "140702"}).content.decode()
    assert two_counties[0].uscc in body
    assert shop.uscc not in body and two_counties[1].uscc not in body


@pytest.mark.parametrize("view", ["change", "history"])
def test_it_answers_404_for_another_countys_record(client, county_regulator, two_counties, view):
    _, taigu = two_counties
    client.force_login(county_regulator)
    response = client.get(reverse(f"admin:enterprises_enterprise_{view}", args=[taigu.pk]))
    assert response.status_code == 404


def test_an_unknown_id_is_also_404(client, county_regulator):
    client.force_login(county_regulator)
    assert client.get(reverse("admin:enterprises_enterprise_change", args=[999999])).status_code == 404


def test_it_never_offers_deleting(client, city_regulator, two_counties):
    yuci, _ = two_counties
    client.force_login(city_regulator)
    response = client.get(reverse("admin:enterprises_enterprise_delete", args=[yuci.pk]))
    assert response.status_code == 403
    assert Enterprise.objects.filter(pk=yuci.pk).exists()


def _form_data(enterprise: Enterprise, **overrides) -> dict:
    data = {
        "name": enterprise.name,
        "former_names": "[]",
        "registration_number": enterprise.registration_number,
        "status": enterprise.status,
        "legal_representative": enterprise.legal_representative,
        "legal_representative_id_number": "",
        "address": enterprise.address,
        "region": enterprise.region_id,
        "industry": enterprise.industry_id or "",
        "industry_code": enterprise.industry_code,
        "registered_capital": enterprise.registered_capital or "",
        "registration_date": enterprise.registration_date.isoformat(),
        "contact_phone": "",
        "contact_email": "",
        "_save": "Save",
    }
    for prefix in ["annual_reports", "changes", "licences", "commitments", "honours", "complaints"]:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(overrides)
    return data


def test_an_edit_is_audited_and_keeps_the_former_name(client, county_regulator, two_counties):
    yuci, _ = two_counties
    client.force_login(county_regulator)
    data = _form_data(yuci, name="榆次恒泰新材料有限公司", legal_representative="李四")
    response = client.post(change_url(yuci), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    yuci.refresh_from_db()
    assert yuci.name == "榆次恒泰新材料有限公司"
    assert yuci.former_names == ["榆次恒泰商贸有限公司"]
    event = AuditEvent.objects.get(action="enterprise.update", object_id=str(yuci.pk))
    assert event.actor == county_regulator
    assert event.before["name"] == "榆次恒泰商贸有限公司"
    assert event.after["legal_representative"] == "李四"
    assert event.source == "admin"
    assert set(RegistrationChange.objects.filter(enterprise=yuci).values_list("field", flat=True)) == {
        "name",
        "legal_representative",
    }


def test_a_county_regulator_cannot_move_an_entity_to_another_county(client, county_regulator, two_counties):
    yuci, _ = two_counties
    client.force_login(county_regulator)
    response = client.post(change_url(yuci), _form_data(yuci, region="140703"))
    assert response.status_code == 200  # the form refuses the choice
    yuci.refresh_from_db()
    assert yuci.region_id == "140702"
    assert not AuditEvent.objects.filter(action="enterprise.update").exists()


def test_a_bad_edit_changes_nothing(client, city_regulator, two_counties):
    yuci, _ = two_counties
    client.force_login(city_regulator)
    response = client.post(change_url(yuci), _form_data(yuci, registered_capital="-5", registration_date="2999-01-01"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "成立日期不能晚于今天" in body
    yuci.refresh_from_db()
    assert yuci.registered_capital == 100
    assert not AuditEvent.objects.exists()


def test_roles_get_their_groups_and_permissions(db):
    from tests.factories import UserFactory

    clerk = UserFactory(username="c2", role=User.Role.DATA_CLERK, region_code="140702")
    inspector = UserFactory(username="i2", role=User.Role.INSPECTOR, region_code="140702")
    assert clerk.has_perm("enterprises.add_enterprise")
    assert clerk.has_perm("enterprises.change_enterprise")
    assert not clerk.has_perm("enterprises.delete_enterprise")
    assert inspector.has_perm("enterprises.view_enterprise")
    assert not inspector.has_perm("enterprises.change_enterprise")


def test_a_county_account_without_a_county_sees_nothing(db, two_counties):
    user = User(username="x", role=User.Role.INSPECTOR, region_code="")
    assert Enterprise.objects.visible_to(user).count() == 0
    assert Enterprise.objects.visible_to(None).count() == 0
