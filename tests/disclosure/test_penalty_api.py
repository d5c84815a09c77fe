"""The penalty API: department pushes with per-department tokens (idempotent, conflicts, structured errors),
reading back (a department sees only its own pushes, a regulator its county), withdrawal, and the schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import AuditEvent, User
from disclosure.models import Penalty
from disclosure.selectors import public_penalties
from enterprises.models import Enterprise, Region
from tests.disclosure.factories import PenaltyFactory
from tests.factories import DepartmentFactory, EnterpriseFactory, UserFactory, make_uscc

pytestmark = pytest.mark.django_db

URL = "/api/v1/penalties/"
TODAY = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def today(monkeypatch) -> dt.date:
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


def token_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def health(api_client_user) -> APIClient:
    """The system of 市卫生健康委员会 (department "health"), with its token."""
    return token_client(api_client_user)


@pytest.fixture
def other_department_user(db) -> User:
    dept = DepartmentFactory(code="transport", name="市交通运输局")
    return UserFactory(username="transport-api", role=User.Role.API_CLIENT, department=dept, is_staff=False)


@pytest.fixture
def transport(other_department_user) -> APIClient:
    return token_client(other_department_user)


def body(enterprise: Enterprise, **overrides: Any) -> dict[str, Any]:
    return {
        "uscc": enterprise.uscc,
        "decision_number": "晋卫罚〔2026〕8号",
        "decision_date": "2026-03-02",
        "procedure": "ordinary",
        "kinds": ["fine"],
        "fine_amount": "80000",
        "domain": "food",
        "violation_type": "未取得食品经营许可从事食品经营",
        "legal_basis": "《中华人民共和国食品安全法》第一百二十二条",
        "content": "罚款人民币捌万元整",
        "authority_name": "晋中市卫生健康委员会",
        **overrides,
    }


def state() -> tuple[int, int, list]:
    return Penalty.objects.count(), AuditEvent.objects.count(), list(Penalty.objects.order_by("pk").values())


# --- push ---------------------------------------------------------------------------------------------------------
def test_a_department_pushes_a_penalty_and_learns_its_disclosure(health, api_client_user, enterprise):
    response = health.post(URL, body(enterprise), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    penalty = Penalty.objects.get(pk=data["id"])
    assert penalty.department == api_client_user.department
    assert data["uscc"] == enterprise.uscc and data["department"] == "health"
    assert data["kinds"] == ["fine"] and data["fine_amount"] == "80000.00"
    assert data["disclosure"] == {
        "disclosed": True,
        "reason": "",
        "from": "2026-11-20",
        "until": "2027-11-19",
        "policy": {"code": "national-2025", "name": penalty.policy.name},
        "tier": "general",
        "repair_possible_from": "2027-02-20",
        "due_by": "2026-03-30",
        "ended_on": None,
        "end_reason": "",
        "public_today": True,
        "note": "",
    }
    event = AuditEvent.objects.get(action="penalty.record")
    assert (event.actor, event.source) == (api_client_user, "api")


def test_a_summary_procedure_push_says_why_it_is_not_disclosed(health, enterprise):
    response = health.post(URL, body(enterprise, procedure="summary", fine_amount="200"), format="json")
    assert response.status_code == 201
    disclosure = response.json()["disclosure"]
    assert disclosure["disclosed"] is False
    assert disclosure["reason"] == "适用简易程序作出的行政处罚决定，不予公示"
    assert disclosure["from"] is None and disclosure["policy"] is None and disclosure["tier"] == "none"


def test_a_repeat_push_answers_200_with_the_same_record(health, enterprise):
    first = health.post(URL, body(enterprise), format="json")
    before = state()
    again = health.post(URL, body(enterprise, fine_amount=80000, kinds=["fine"]), format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert state() == before


def test_a_conflicting_repeat_answers_409_and_overwrites_nothing(health, enterprise):
    health.post(URL, body(enterprise), format="json")
    before = state()
    response = health.post(URL, body(enterprise, fine_amount="90000"), format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert "罚款金额" in error["message"]
    assert list(error["fields"]) == ["fine_amount"]
    assert state() == before


def test_the_same_number_from_another_department_is_its_own_record(health, transport, enterprise):
    first = health.post(URL, body(enterprise), format="json")
    second = transport.post(URL, body(enterprise), format="json")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert second.json()["department"] == "transport"


def test_a_client_cannot_push_for_another_department(health, enterprise):
    other = DepartmentFactory(code="transport")
    before = state()
    response = health.post(URL, body(enterprise, department=other.code), format="json")
    assert response.status_code == 400
    assert "department" in response.json()["error"]["fields"]
    assert state() == before


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"uscc": "91140702MA0XXXXXX0"}, "invalid_uscc", "uscc"),
        ({"decision_date": "2026-11-21"}, "future_decision_date", "decision_date"),
        ({"fine_amount": None}, "fine_without_amount", "fine_amount"),
        ({"kinds": ["confiscation"]}, "amount_without_fine", "fine_amount"),
        ({"kinds": ["fine", "fine"]}, "duplicate_kind", "kinds"),
        # Shapes and choices are the serializer's: the same structured answer, code "invalid".
        ({"kinds": ["fine", "caning"]}, "invalid", "kinds"),
        ({"kinds": []}, "invalid", "kinds"),
        ({"domain": "tobacco"}, "invalid", "domain"),
        ({"procedure": "express"}, "invalid", "procedure"),
        ({"decision_date": "20/03/2026"}, "invalid", "decision_date"),
        ({"fine_amount": "12.345"}, "invalid", "fine_amount"),
        ({"legal_basis": ""}, "invalid", "legal_basis"),
        ({"violation_type": None}, "invalid", "violation_type"),
        ({"surprise": 1}, "invalid", "surprise"),
    ],
)
def test_bad_input_is_a_structured_400_and_changes_nothing(health, enterprise, overrides, code, field):
    before = state()
    response = health.post(URL, body(enterprise, **overrides), format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert field in error["fields"]
    assert state() == before


def test_a_missing_field_is_named(health, enterprise):
    data = body(enterprise)
    del data["legal_basis"], data["uscc"]
    response = health.post(URL, data, format="json")
    assert response.status_code == 400
    assert {"legal_basis", "uscc"} <= set(response.json()["error"]["fields"])


def test_a_malformed_uscc_is_explained(health, enterprise):
    response = health.post(URL, body(enterprise, uscc=enterprise.uscc[:17]), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("统一社会信用代码")


def test_an_unknown_valid_uscc_is_a_400(health, enterprise):
    response = health.post(URL, body(enterprise, uscc=make_uscc(serial=777)), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_enterprise"
    assert response.json()["error"]["message"].startswith("未找到该经营主体")


@pytest.mark.parametrize("persona", ["city_regulator", "county_regulator", "data_clerk"])
def test_staff_may_not_push(request, enterprise, persona):
    client = APIClient()
    client.force_authenticate(request.getfixturevalue(persona))
    before = state()
    response = client.post(URL, body(enterprise), format="json")
    assert response.status_code == 403
    assert state() == before


def test_an_api_client_without_a_department_cannot_push(enterprise):
    # The database refuses such an account (api_client_has_department); a superuser has no department either.
    admin = UserFactory(username="root", is_superuser=True)
    client = APIClient()
    client.force_authenticate(admin)
    assert client.post(URL, body(enterprise), format="json").status_code == 403


def test_anonymous_and_a_wrong_token_are_refused(enterprise):
    assert APIClient().post(URL, body(enterprise), format="json").status_code == 403
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get(URL).status_code == 403


# --- read -----------------------------------------------------------------------------------------------------------
@pytest.fixture
def two_departments(api_client_user, other_department_user) -> tuple[Penalty, Penalty]:
    """One penalty pushed by "health" (榆次区), one by "transport" (太谷区)."""
    health = PenaltyFactory(department=api_client_user.department)
    transport = PenaltyFactory(
        department=other_department_user.department,
        enterprise=EnterpriseFactory(region=Region.objects.get(code="140703")),
    )
    return health, transport


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_a_department_sees_only_its_own_pushes(health, transport, two_departments):
    mine, theirs = two_departments
    assert _ids(health.get(URL)) == {mine.pk}
    assert _ids(transport.get(URL)) == {theirs.pk}
    assert health.get(f"{URL}{theirs.pk}/").status_code == 404
    assert health.get(f"{URL}{mine.pk}/").status_code == 200
    # Filtering by the other department's entity does not reveal its penalty either.
    assert _ids(health.get(URL, {"uscc": theirs.enterprise.uscc})) == set()


def test_a_department_cannot_withdraw_another_departments_penalty(health, two_departments):
    _, theirs = two_departments
    before = state()
    response = health.post(f"{URL}{theirs.pk}/withdraw/", {"reason": "误报"}, format="json")
    assert response.status_code == 404
    assert state() == before


def test_regulators_see_their_scope(api_client, city_regulator, county_regulator, two_departments):
    yuci, taigu = two_departments
    api_client.force_authenticate(city_regulator)
    assert _ids(api_client.get(URL)) == {yuci.pk, taigu.pk}
    api_client.force_authenticate(county_regulator)
    assert _ids(api_client.get(URL)) == {yuci.pk}
    assert api_client.get(f"{URL}{taigu.pk}/").status_code == 404
    assert api_client.get(f"{URL}{yuci.pk}/").status_code == 200


@pytest.mark.parametrize("persona", ["data_clerk"])
def test_other_staff_roles_cannot_read_penalties(request, api_client, two_departments, persona):
    api_client.force_authenticate(request.getfixturevalue(persona))
    assert api_client.get(URL).status_code == 403


def test_the_list_filters(api_client, city_regulator, two_departments):
    yuci, taigu = two_departments
    old = PenaltyFactory(department=yuci.department, decision_date=dt.date(2025, 1, 6), disclosed=False,
                         disclosed_from=None, disclosed_until=None)  # fmt: skip
    withdrawn = PenaltyFactory(department=yuci.department, status=Penalty.Status.WITHDRAWN)
    api_client.force_authenticate(city_regulator)
    assert _ids(api_client.get(URL, {"uscc": taigu.enterprise.uscc.lower()})) == {taigu.pk}
    assert _ids(api_client.get(URL, {"decision_date_before": "2025-12-31"})) == {old.pk}
    assert _ids(api_client.get(URL, {"decision_date_after": "2026-01-01"})) == {yuci.pk, taigu.pk, withdrawn.pk}
    assert _ids(api_client.get(URL, {"status": "withdrawn"})) == {withdrawn.pk}
    assert _ids(api_client.get(URL, {"disclosed": "false"})) == {old.pk}
    assert _ids(api_client.get(URL, {"decision_number": yuci.decision_number})) == {yuci.pk}
    response = api_client.get(URL, {"status": "bogus"})
    assert response.status_code == 400 and "status" in response.json()["error"]["fields"]


def test_the_list_runs_a_bounded_number_of_queries(api_client, city_regulator, django_assert_max_num_queries):
    for _ in range(30):
        PenaltyFactory()
    api_client.force_authenticate(city_regulator)
    with django_assert_max_num_queries(3):  # measured: 2 (capped count + page)
        response = api_client.get(URL)
    assert len(response.json()["results"]) == 30


# --- withdraw -------------------------------------------------------------------------------------------------------
def test_the_pushing_department_withdraws_and_the_penalty_leaves_the_public_record(health, enterprise):
    pushed = health.post(URL, body(enterprise), format="json").json()
    assert public_penalties(Penalty.objects.filter(pk=pushed["id"]), on=TODAY).exists()
    response = health.post(f"{URL}{pushed['id']}/withdraw/", {"reason": "原处罚决定被行政复议撤销"}, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["status"] == "withdrawn"
    assert data["withdrawal_reason"] == "原处罚决定被行政复议撤销"
    assert data["disclosure"]["ended_on"] == "2026-11-20" and data["disclosure"]["end_reason"] == "withdrawn"
    assert data["disclosure"]["public_today"] is False
    assert not public_penalties(Penalty.objects.filter(pk=pushed["id"]), on=TODAY).exists()
    # Twice: 400, nothing changes.
    before = state()
    again = health.post(f"{URL}{pushed['id']}/withdraw/", {"reason": "再次"}, format="json")
    assert again.status_code == 400 and again.json()["error"]["code"] == "already_withdrawn"
    assert state() == before
    # A repeat push of the withdrawn decision answers with the withdrawn record; it does not revive it.
    repeat = health.post(URL, body(enterprise), format="json")
    assert repeat.status_code == 200 and repeat.json()["status"] == "withdrawn"


def test_a_withdrawal_needs_a_reason(health, enterprise):
    pushed = health.post(URL, body(enterprise), format="json").json()
    before = state()
    response = health.post(f"{URL}{pushed['id']}/withdraw/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["error"]["fields"]
    assert state() == before


def test_a_county_regulator_withdraws_in_its_county_only(api_client, county_regulator, two_departments):
    yuci, taigu = two_departments
    api_client.force_authenticate(county_regulator)
    assert api_client.post(f"{URL}{taigu.pk}/withdraw/", {"reason": "撤销"}, format="json").status_code == 404
    response = api_client.post(f"{URL}{yuci.pk}/withdraw/", {"reason": "撤销"}, format="json")
    assert response.status_code == 200
    taigu.refresh_from_db()
    assert taigu.status == Penalty.Status.IN_FORCE


def test_a_credit_reviewer_reads_but_does_not_withdraw(api_client, two_departments):
    yuci, _ = two_departments
    reviewer = UserFactory(username="reviewer", role=User.Role.CREDIT_REVIEWER, region_code="140702")
    api_client.force_authenticate(reviewer)
    assert api_client.get(f"{URL}{yuci.pk}/").status_code == 200
    before = state()
    assert api_client.post(f"{URL}{yuci.pk}/withdraw/", {"reason": "撤销"}, format="json").status_code == 403
    assert state() == before


# --- schema ---------------------------------------------------------------------------------------------------------
def test_the_schema_documents_the_push(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/penalties/"])
    assert "/api/v1/penalties/{id}/withdraw/" in schema["paths"]
    push = schema["components"]["schemas"]["PenaltyPushRequest"]
    assert "department" not in push["properties"]
    assert set(push["required"]) == {
        "uscc", "decision_number", "decision_date", "procedure", "kinds", "domain", "violation_type", "legal_basis",
    }  # fmt: skip
    disclosure = schema["components"]["schemas"]["Disclosure"]["properties"]
    assert {"disclosed", "reason", "from", "until", "policy", "tier", "repair_possible_from", "due_by"} <= set(
        disclosure
    )
