"""The registry REST API: authentication, county scoping, filters, pagination, bounded queries, schema."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from core.models import User
from enterprises.models import Enterprise, KeyArea, Region
from tests.factories import AnnualReportFactory, EnterpriseFactory, UserFactory

pytestmark = pytest.mark.django_db

ENTERPRISES = "/api/v1/enterprises/"
ID_NUMBER = "140702199001011234"


@pytest.fixture
def taigu() -> Region:
    return Region.objects.get(code="140703")


@pytest.fixture
def two_counties(taigu) -> tuple[Enterprise, Enterprise]:
    """One entity in 榆次区 (140702), one in 太谷区 (140703)."""
    yuci = EnterpriseFactory(name="榆次鼎泰商贸有限公司")
    other = EnterpriseFactory(name="太谷恒丰物流有限公司", region=taigu)
    return yuci, other


@pytest.fixture
def enterprise_user(db) -> User:
    return UserFactory(username="owner", role=User.Role.ENTERPRISE, is_staff=False)


def _usccs(response) -> list[str]:
    return [row["uscc"] for row in response.json()["results"]]


# --- authentication and roles -----------------------------------------------------------------------------------
@pytest.mark.parametrize("url", [ENTERPRISES, "/api/v1/annual-reports/", "/api/v1/regions/", "/api/v1/industries/"])
def test_it_requires_authentication(api_client, url, two_counties):
    response = api_client.get(url)
    assert response.status_code == 403
    assert "results" not in response.json()


def test_it_accepts_a_department_token(api_client, api_client_user, two_counties):
    token = Token.objects.create(user=api_client_user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api_client.get(ENTERPRISES)
    assert response.status_code == 200
    # A department client reads the whole city (it pushes data for every county).
    assert sorted(_usccs(response)) == sorted(e.uscc for e in two_counties)


def test_it_refuses_a_wrong_token(api_client, two_counties):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api_client.get(ENTERPRISES)
    # 403, not 401: the first authenticator (session) sends no WWW-Authenticate challenge.
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "authentication_failed"


def test_it_accepts_a_session(client, city_regulator, two_counties):
    client.force_login(city_regulator)
    assert client.get(ENTERPRISES).status_code == 200


def test_it_refuses_the_registry_to_enterprise_users(api_client, enterprise_user, two_counties):
    api_client.force_authenticate(enterprise_user)
    assert api_client.get(ENTERPRISES).status_code == 403
    assert api_client.get(f"{ENTERPRISES}{two_counties[0].uscc}/").status_code == 403
    assert api_client.get("/api/v1/annual-reports/").status_code == 403
    # Reference data is for any authenticated user.
    assert api_client.get("/api/v1/regions/").status_code == 200
    assert api_client.get("/api/v1/industries/").status_code == 200


def test_it_is_read_only(api_client, city_regulator, two_counties):
    api_client.force_authenticate(city_regulator)
    assert api_client.post(ENTERPRISES, {"name": "x"}).status_code == 405
    assert api_client.patch(f"{ENTERPRISES}{two_counties[0].uscc}/", {"name": "x"}).status_code == 405
    assert api_client.delete(f"{ENTERPRISES}{two_counties[0].uscc}/").status_code == 405


# --- scoping ----------------------------------------------------------------------------------------------------
def test_it_shows_a_county_regulator_only_its_county(api_client, county_regulator, two_counties):
    yuci, other = two_counties
    api_client.force_authenticate(county_regulator)
    response = api_client.get(ENTERPRISES)
    assert _usccs(response) == [yuci.uscc]
    assert response.json()["count"] == 1
    assert api_client.get(f"{ENTERPRISES}{yuci.uscc}/").status_code == 200
    hidden = api_client.get(f"{ENTERPRISES}{other.uscc}/")
    assert hidden.status_code == 404
    assert other.name not in hidden.content.decode()
    # A filter or a search cannot reach outside the county either.
    assert _usccs(api_client.get(ENTERPRISES, {"region": "140703"})) == []
    assert _usccs(api_client.get(ENTERPRISES, {"search": other.uscc})) == []
    assert _usccs(api_client.get(ENTERPRISES, {"search": "恒丰"})) == []


def test_it_shows_a_city_regulator_every_county(api_client, city_regulator, two_counties):
    api_client.force_authenticate(city_regulator)
    assert sorted(_usccs(api_client.get(ENTERPRISES))) == sorted(e.uscc for e in two_counties)
    assert api_client.get(f"{ENTERPRISES}{two_counties[1].uscc}/").status_code == 200


def test_it_finds_an_entity_by_a_lower_case_uscc(api_client, city_regulator, two_counties):
    api_client.force_authenticate(city_regulator)
    response = api_client.get(f"{ENTERPRISES}{two_counties[0].uscc.lower()}/")
    assert response.status_code == 200
    assert response.json()["uscc"] == two_counties[0].uscc


def test_it_scopes_annual_reports_through_the_entity(api_client, county_regulator, two_counties):
    yuci, other = two_counties
    mine = AnnualReportFactory(enterprise=yuci, year=2024, filed_on=dt.date(2025, 5, 1))
    theirs = AnnualReportFactory(enterprise=other, year=2024, filed_on=dt.date(2025, 5, 1))
    api_client.force_authenticate(county_regulator)
    response = api_client.get("/api/v1/annual-reports/")
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]
    assert api_client.get(f"/api/v1/annual-reports/{theirs.pk}/").status_code == 404


# --- payload ----------------------------------------------------------------------------------------------------
def test_it_gives_regulators_the_registry_record_but_not_the_risk_class(api_client, city_regulator):
    target = EnterpriseFactory(
        risk_class=Enterprise.RiskClass.D,
        contact_phone="13912345678",
        contact_email="boss@dingtai.example",
        legal_representative_id_number=ID_NUMBER,
        former_names=["旧名商行"],
    )
    target.key_areas.set(KeyArea.objects.filter(code__in=["catering", "food_distribution"]))
    api_client.force_authenticate(city_regulator)
    data = api_client.get(f"{ENTERPRISES}{target.uscc}/").json()
    assert data["legal_representative_id_number"] == ID_NUMBER
    assert data["contact_phone"] == "13912345678"
    assert data["contact_email"] == "boss@dingtai.example"
    assert data["former_names"] == ["旧名商行"]
    assert sorted(data["key_areas"]) == ["catering", "food_distribution"]
    assert data["region"] == "140702" and data["region_name"] == "榆次区"
    assert data["industry"] == "52" and data["industry_name"] == "零售业"
    assert "risk_class" not in data and "risk_classified_at" not in data
    assert "search_text" not in data and "name_grams" not in data


def test_it_masks_the_id_number_for_department_clients(api_client, api_client_user):
    target = EnterpriseFactory(legal_representative_id_number=ID_NUMBER)
    api_client.force_authenticate(api_client_user)
    data = api_client.get(f"{ENTERPRISES}{target.uscc}/").json()
    assert data["legal_representative_id_number"] == "1407**********1234"


# --- filters ----------------------------------------------------------------------------------------------------
@pytest.fixture
def population(taigu) -> dict[str, Enterprise]:
    food = EnterpriseFactory(name="榆次鼎泰食品有限公司", industry_id="14", industry_code="C1431")
    food.key_areas.set(KeyArea.objects.filter(code="food_production"))
    return {
        "food": food,
        "shop": EnterpriseFactory(
            name="榆次老王面馆", entity_type=Enterprise.EntityType.INDIVIDUAL, registration_date=dt.date(2020, 6, 1)
        ),
        "closed": EnterpriseFactory(
            name="榆次恒丰物流有限公司", status=Enterprise.Status.DEREGISTERED, registration_date=dt.date(2010, 1, 1)
        ),
        "taigu": EnterpriseFactory(name="太谷鼎泰商贸有限公司", region=taigu, registration_date=dt.date(2022, 2, 2)),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"region": "140703"}, ["taigu"]),
        ({"entity_type": "individual"}, ["shop"]),
        ({"status": "deregistered"}, ["closed"]),
        ({"industry": "14"}, ["food"]),
        ({"industry": "C14"}, ["food"]),
        ({"industry": "C"}, ["food"]),
        ({"industry": "F52"}, ["closed", "shop", "taigu"]),
        ({"key_area": "food_production"}, ["food"]),
        ({"registration_date_after": "2020-06-01"}, ["shop", "taigu"]),
        ({"registration_date_before": "2015-03-01"}, ["closed", "food"]),
        ({"registration_date_after": "2020-01-01", "registration_date_before": "2021-01-01"}, ["shop"]),
        ({"search": "鼎泰"}, ["food", "taigu"]),
        ({"search": "鼎泰", "region": "140702"}, ["food"]),
        ({"region": "140702", "search": "鼎泰食品"}, ["food"]),
    ],
)
def test_it_filters_the_registry(api_client, city_regulator, population, params, expected):
    api_client.force_authenticate(city_regulator)
    response = api_client.get(ENTERPRISES, params)
    assert response.status_code == 200
    by_uscc = {e.uscc: key for key, e in population.items()}
    assert sorted(by_uscc[u] for u in _usccs(response)) == expected


def test_the_type_filter_reads_one_range_of_the_uscc_order(api_client, city_regulator, population):
    """EnterpriseQuerySet.of_type: the type's equality and its USCC range (92… for individual businesses), so the
    planner can start the page at the type's first code; every type, in the API and the admin list."""
    coop = EnterpriseFactory(name="榆次丰收农民专业合作社", entity_type=Enterprise.EntityType.COOPERATIVE)
    api_client.force_authenticate(city_regulator)
    for kind, expected in (
        ("individual", [population["shop"].uscc]),
        ("cooperative", [coop.uscc]),
        ("enterprise", sorted(e.uscc for k, e in population.items() if k != "shop")),
    ):
        assert _usccs(api_client.get(ENTERPRISES, {"entity_type": kind})) == expected
        assert list(Enterprise.objects.of_type(kind).values_list("uscc", flat=True)) == expected
    where = str(Enterprise.objects.of_type("individual").query).split(" WHERE ")[1]
    assert '"uscc" >= 92' in where and '"uscc" < 93' in where and "entity_type" not in where
    assert not Enterprise.objects.of_type("bank").exists()


def test_the_database_holds_the_type_to_the_uscc(population):
    from django.db import IntegrityError, transaction

    shop = population["shop"]
    with pytest.raises(IntegrityError, match="enterprise_type_matches_uscc"), transaction.atomic():
        Enterprise.objects.filter(pk=shop.pk).update(entity_type=Enterprise.EntityType.ENTERPRISE)
    shop.refresh_from_db()
    assert shop.entity_type == Enterprise.EntityType.INDIVIDUAL


def test_it_searches_by_uscc_and_ranks_names(api_client, city_regulator, population):
    api_client.force_authenticate(city_regulator)
    assert _usccs(api_client.get(ENTERPRISES, {"search": population["shop"].uscc.lower()})) == [population["shop"].uscc]
    exact = EnterpriseFactory(name="鼎泰")
    assert _usccs(api_client.get(ENTERPRISES, {"search": "鼎泰"}))[0] == exact.uscc


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"search": "鼎"}, "search"),
        ({"region": "999999"}, "region"),
        ({"status": "bankrupt"}, "status"),
        ({"industry": "1"}, "industry"),
        ({"registration_date_after": "2020-13-01"}, "registration_date"),
    ],
)
def test_it_rejects_bad_filter_values_with_the_field(api_client, city_regulator, population, params, field):
    api_client.force_authenticate(city_regulator)
    response = api_client.get(ENTERPRISES, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]


def test_it_explains_a_refused_search(api_client, city_regulator):
    api_client.force_authenticate(city_regulator)
    response = api_client.get(ENTERPRISES, {"search": "鼎"})
    assert response.json()["error"]["fields"]["search"] == ["请输入至少 2 个字"]


def test_it_filters_annual_reports(api_client, city_regulator, population):
    on_time = AnnualReportFactory(enterprise=population["food"], year=2024, filed_on=dt.date(2025, 6, 30))
    late = AnnualReportFactory(enterprise=population["shop"], year=2024, filed_on=dt.date(2025, 7, 1))
    older = AnnualReportFactory(enterprise=population["food"], year=2023, filed_on=dt.date(2024, 3, 1))
    api_client.force_authenticate(city_regulator)

    def ids(**params) -> list[int]:
        return sorted(row["id"] for row in api_client.get("/api/v1/annual-reports/", params).json()["results"])

    assert ids(year=2024) == sorted([on_time.pk, late.pk])
    assert ids(on_time="false") == [late.pk]
    assert ids(uscc=population["food"].uscc.lower()) == sorted([on_time.pk, older.pk])
    row = api_client.get(f"/api/v1/annual-reports/{late.pk}/").json()
    assert row == {
        "id": late.pk,
        "uscc": population["shop"].uscc,
        "enterprise_name": "榆次老王面馆",
        "year": 2024,
        "filed_on": "2025-07-01",
        "on_time": False,
    }


# --- pagination and query count -----------------------------------------------------------------------------------
def test_it_paginates(api_client, city_regulator):
    created = sorted(EnterpriseFactory().uscc for _ in range(5))
    api_client.force_authenticate(city_regulator)
    first = api_client.get(ENTERPRISES, {"page_size": 2}).json()
    assert first["count"] == 5
    assert [row["uscc"] for row in first["results"]] == created[:2]
    assert first["next"] and first["previous"] is None
    last = api_client.get(ENTERPRISES, {"page_size": 2, "page": 3}).json()
    assert [row["uscc"] for row in last["results"]] == created[4:]
    assert last["next"] is None


def test_it_lists_thirty_entities_in_a_bounded_number_of_queries(
    api_client, city_regulator, django_assert_max_num_queries
):
    areas = list(KeyArea.objects.all()[:3])
    for i in range(30):
        e = EnterpriseFactory(industry_id=["14", "52", "61"][i % 3], region_id=["140702", "140703", "140781"][i % 3])
        e.key_areas.set(areas[: i % 4])
    api_client.force_authenticate(city_regulator)
    # count + page (region and industry joined) + key areas of the whole page
    with django_assert_max_num_queries(3):
        response = api_client.get(ENTERPRISES)
    assert len(response.json()["results"]) == 30
    with CaptureQueriesContext(connection) as queries:
        api_client.get(ENTERPRISES, {"search": "恒泰"})
    assert len(queries) <= 3


# --- reference data and schema ------------------------------------------------------------------------------------
def test_it_lists_industry_sections_with_their_divisions(api_client, county_regulator):
    api_client.force_authenticate(county_regulator)
    sections = api_client.get("/api/v1/industries/").json()["results"]
    assert [s["code"] for s in sections][:3] == ["A", "B", "C"]
    manufacturing = next(s for s in sections if s["code"] == "C")
    assert {"code": "14", "full_code": "C14", "name": "食品制造业", "section": "C"} in manufacturing["divisions"]
    assert all(s["section"] is None for s in sections)
    division = api_client.get("/api/v1/industries/52/").json()
    assert division["section"] == "F" and division["divisions"] == []


def test_it_lists_regions(api_client, county_regulator):
    api_client.force_authenticate(county_regulator)
    counties = api_client.get("/api/v1/regions/", {"level": "county", "page_size": 100}).json()
    assert counties["count"] == 11
    assert {"code": "140702", "name": "榆次区", "level": "county", "parent": "140700"} in counties["results"]
    assert api_client.get("/api/v1/regions/140781/").json()["name"] == "介休市"


def test_it_publishes_the_schema_with_the_registry(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/enterprises/" in paths
    assert "/api/v1/enterprises/{uscc}/" in paths
    parameters = {p["name"] for p in paths["/api/v1/enterprises/"]["get"]["parameters"]}
    assert {"region", "entity_type", "status", "industry", "key_area", "search"} <= parameters
    assert {"registration_date_after", "registration_date_before", "page", "page_size"} <= parameters
    assert "risk_class" not in response.json()["components"]["schemas"]["Enterprise"]["properties"]


def test_it_generates_the_schema_without_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
