"""The staff listing API (/api/v1/abnormal-listings/, /api/v1/serious-listings/): roles, county scoping (404),
input validation with structured 400s, conflicts (409), decisions through the services, bounded queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum
from rest_framework.authtoken.models import Token

from core.models import AuditEvent, User
from disclosure.models import AbnormalListing, DocumentSequence, Objection, SeriousListing
from disclosure.serializers_listings import NOT_FOUND_IN_SCOPE
from enterprises.models import Enterprise, Region
from tests.disclosure.factories import AbnormalListingFactory, PenaltyFactory, SeriousListingFactory
from tests.factories import AnnualReportFactory, EnterpriseFactory, UserFactory

pytestmark = pytest.mark.django_db

ABNORMAL = "/api/v1/abnormal-listings/"
SERIOUS = "/api/v1/serious-listings/"


def db_state() -> tuple[int, int, int, int, int]:
    numbers = DocumentSequence.objects.aggregate(total=Sum("last_number"))["total"] or 0
    return (
        AbnormalListing.objects.count(),
        SeriousListing.objects.count(),
        Objection.objects.count(),
        numbers,
        AuditEvent.objects.count(),
    )


@pytest.fixture
def yuci() -> Enterprise:
    return EnterpriseFactory(name="榆次鼎泰商贸有限公司", contact_phone="13900000000")


@pytest.fixture
def taigu() -> Enterprise:
    return EnterpriseFactory(name="太谷恒丰物流有限公司", region=Region.objects.get(code="140703"))


@pytest.fixture
def two_listings(yuci, taigu) -> tuple[AbnormalListing, AbnormalListing]:
    return (
        AbnormalListingFactory(enterprise=yuci),
        AbnormalListingFactory(enterprise=taigu, office=Region.objects.get(code="140703")),
    )


def as_user(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def _ids(response) -> list[int]:
    return sorted(row["id"] for row in response.json()["results"])


# --- roles ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", [ABNORMAL, SERIOUS])
def test_anonymous_callers_are_refused(api_client, url, two_listings):
    response = api_client.get(url)
    assert response.status_code == 403
    assert "results" not in response.json()


@pytest.mark.parametrize("url", [ABNORMAL, SERIOUS])
def test_a_department_token_is_refused(api_client, api_client_user, yuci, url, two_listings):
    token = Token.objects.create(user=api_client_user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get(url).status_code == 403
    before = db_state()
    response = api_client.post(ABNORMAL, {"uscc": yuci.uscc, "reason": "unreachable"}, format="json")
    assert response.status_code == 403
    assert db_state() == before


@pytest.mark.parametrize("role", [User.Role.ENTERPRISE, User.Role.DATA_CLERK, User.Role.INSPECTOR])
def test_other_roles_are_refused(api_client, role, two_listings):
    user = UserFactory(username=f"u-{role}", role=role, region_code="140702", is_staff=role != "enterprise")
    client = as_user(api_client, user)
    assert client.get(ABNORMAL).status_code == 403
    assert client.get(f"{ABNORMAL}{two_listings[0].pk}/").status_code == 403


def test_a_credit_reviewer_reads_but_does_not_decide(api_client, two_listings):
    reviewer = UserFactory(username="reviewer", role=User.Role.CREDIT_REVIEWER, region_code="140702")
    client = as_user(api_client, reviewer)
    assert _ids(client.get(ABNORMAL)) == [two_listings[0].pk]
    before = db_state()
    response = client.post(f"{ABNORMAL}{two_listings[0].pk}/remove/", {"reason": "repaired"}, format="json")
    assert response.status_code == 403
    assert db_state() == before


# --- scoping --------------------------------------------------------------------------------------------------------
def test_a_city_regulator_sees_every_county(api_client, city_regulator, two_listings):
    assert _ids(as_user(api_client, city_regulator).get(ABNORMAL)) == sorted(x.pk for x in two_listings)


def test_a_county_regulator_sees_only_its_county(api_client, county_regulator, two_listings):
    client = as_user(api_client, county_regulator)
    assert _ids(client.get(ABNORMAL)) == [two_listings[0].pk]
    assert client.get(f"{ABNORMAL}{two_listings[0].pk}/").status_code == 200
    response = client.get(f"{ABNORMAL}{two_listings[1].pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_acting_on_another_countys_entry_is_404_and_changes_nothing(api_client, county_regulator, two_listings):
    client = as_user(api_client, county_regulator)
    other = two_listings[1]
    before = db_state()
    for path, body in [
        ("remove/", {"reason": "cured", "note": "x"}),
        ("objections/", {"filed_on": "2026-07-10", "statement": "x"}),
    ]:
        assert client.post(f"{ABNORMAL}{other.pk}/{path}", body, format="json").status_code == 404
    assert db_state() == before


def test_listing_another_countys_entity_reads_as_not_found(api_client, county_regulator, taigu):
    before = db_state()
    response = as_user(api_client, county_regulator).post(
        ABNORMAL, {"uscc": taigu.uscc, "reason": "annual_report", "year": 2025}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["uscc"] == [NOT_FOUND_IN_SCOPE]
    assert db_state() == before


# --- listing through the API ----------------------------------------------------------------------------------------
def test_a_county_regulator_lists_an_entity_of_its_county(api_client, county_regulator, yuci):
    response = as_user(api_client, county_regulator).post(
        ABNORMAL,
        {"uscc": yuci.uscc.lower(), "reason": "annual_report", "year": 2025, "decided_on": "2026-07-08"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["decision_number"] == "榆次市监异入〔2026〕第1号"
    assert body["uscc"] == yuci.uscc
    assert body["cause_date"] == "2026-06-30"
    assert body["reason_text"].startswith("未按照《企业信息公示暂行条例》")
    assert body["escalation_due"] == "2029-07-08"
    assert body["reminder_due"] == "2029-05-09"
    assert body["deadline_warning"] == ""
    event = AuditEvent.objects.get(action="abnormal.list")
    assert (event.actor, event.source) == (county_regulator, "api")


def test_a_late_listing_answers_with_its_warning(api_client, city_regulator, yuci):
    response = as_user(api_client, city_regulator).post(
        ABNORMAL,
        {"uscc": yuci.uscc, "reason": "annual_report", "year": 2025, "decided_on": "2026-07-20"},
        format="json",
    )
    assert response.status_code == 201
    assert "逾期作出" in response.json()["deadline_warning"]


def test_listing_twice_answers_409_and_changes_nothing(api_client, city_regulator, yuci):
    client = as_user(api_client, city_regulator)
    payload = {"uscc": yuci.uscc, "reason": "annual_report", "year": 2025, "decided_on": "2026-07-08"}
    assert client.post(ABNORMAL, payload, format="json").status_code == 201
    before = db_state()
    response = client.post(ABNORMAL, payload, format="json")
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "already_listed",
        "message": "该经营主体已因同一事由（同一年度）被列入经营异常名录，且尚未移出，不能重复列入。",
    }
    assert db_state() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"uscc": "91140702MA0000000X", "reason": "annual_report", "year": 2025}, "uscc"),
        ({"uscc": "not-a-code", "reason": "annual_report", "year": 2025}, "uscc"),
        ({"reason": "annual_report", "year": 2025}, "uscc"),
        ({"uscc": "{uscc}", "reason": "late_tax"}, "reason"),
        ({"uscc": "{uscc}", "reason": "annual_report", "year": "last"}, "year"),
        ({"uscc": "{uscc}", "reason": "unreachable", "cause_date": "2026-13-01"}, "cause_date"),
        ({"uscc": "{uscc}", "reason": "annual_report", "year": 2025, "decided_on": "2099-07-08"}, "decided_on"),
    ],
    ids=["bad-check-char", "malformed", "missing", "unknown-reason", "year-not-a-number", "not-a-date", "future"],
)
def test_bad_input_is_a_structured_400_and_changes_nothing(api_client, city_regulator, yuci, payload, field):
    payload = {k: (v.format(uscc=yuci.uscc) if isinstance(v, str) else v) for k, v in payload.items()}
    before = db_state()
    response = as_user(api_client, city_regulator).post(ABNORMAL, payload, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert db_state() == before


def test_a_refused_listing_is_a_400_with_the_rule(api_client, city_regulator):
    suspended = EnterpriseFactory(status=Enterprise.Status.SUSPENDED)
    before = db_state()
    response = as_user(api_client, city_regulator).post(
        ABNORMAL, {"uscc": suspended.uscc, "reason": "unreachable", "cause_date": "2026-07-01"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "tolerance_suspended"
    assert "歇业" in response.json()["error"]["message"]
    assert db_state() == before


# --- removal and objections -----------------------------------------------------------------------------------------
def test_removal_needs_every_missing_report_and_refuses_an_inactive_entry(api_client, county_regulator, yuci):
    older = AbnormalListingFactory(enterprise=yuci, year=2024, decided_on=dt.date(2025, 7, 8))
    newer = AbnormalListingFactory(enterprise=yuci, year=2025)
    AnnualReportFactory(enterprise=yuci, year=2025, filed_on=dt.date(2026, 8, 1))
    client = as_user(api_client, county_regulator)

    before = db_state()
    response = client.post(f"{ABNORMAL}{newer.pk}/remove/", {"reason": "cured", "on": "2026-08-03"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["missing_years"] == [2024]
    assert db_state() == before

    AnnualReportFactory(enterprise=yuci, year=2024, filed_on=dt.date(2026, 8, 3))
    response = client.post(f"{ABNORMAL}{newer.pk}/remove/", {"reason": "cured", "on": "2026-08-03"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "removed"
    older.refresh_from_db()
    assert older.status == AbnormalListing.Status.REMOVED

    before = db_state()
    response = client.post(f"{ABNORMAL}{newer.pk}/remove/", {"reason": "cured", "on": "2026-08-04"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "该记录不在列入状态。"
    assert db_state() == before


def test_an_objection_is_filed_accepted_and_upheld(api_client, county_regulator, yuci):
    listing = AbnormalListingFactory(enterprise=yuci, decided_on=dt.date(2026, 7, 8))
    client = as_user(api_client, county_regulator)
    late = client.post(
        f"{ABNORMAL}{listing.pk}/objections/", {"filed_on": "2026-08-08", "statement": "已报送"}, format="json"
    )
    assert late.status_code == 400
    assert late.json()["error"]["code"] == "objection_too_late"

    filed = client.post(
        f"{ABNORMAL}{listing.pk}/objections/", {"filed_on": "2026-08-07", "statement": "已报送"}, format="json"
    )
    assert filed.status_code == 201
    objection_id = filed.json()["id"]
    assert filed.json()["acceptance_due"] == "2026-08-14"

    url = f"{ABNORMAL}{listing.pk}/objections/{objection_id}/"
    accepted = client.post(url, {"action": "accept", "on": "2026-08-10"}, format="json")
    assert accepted.json()["verification_due"] == "2026-09-07"
    upheld = client.post(url, {"action": "uphold", "reason": "核实已报送", "on": "2026-08-20"}, format="json")
    assert upheld.status_code == 200
    assert upheld.json()["status"] == "upheld"
    detail = client.get(f"{ABNORMAL}{listing.pk}/").json()
    assert detail["status"] == "removed"
    assert detail["removal_reason"] == "objection_upheld"
    assert [o["status"] for o in detail["objections"]] == ["upheld"]


def test_an_objection_of_another_listing_is_404(api_client, county_regulator, yuci):
    listing = AbnormalListingFactory(enterprise=yuci)
    other = AbnormalListingFactory(enterprise=yuci, reason="unreachable", year=0)
    objection = Objection.objects.create(
        listing=other, filed_on=dt.date(2026, 7, 9), statement="x", acceptance_due=dt.date(2026, 7, 16)
    )
    response = as_user(api_client, county_regulator).post(
        f"{ABNORMAL}{listing.pk}/objections/{objection.pk}/", {"action": "accept"}, format="json"
    )
    assert response.status_code == 404


# --- filters and query count ----------------------------------------------------------------------------------------
def test_the_list_filters_by_status_reason_and_uscc(api_client, city_regulator, yuci, taigu):
    annual = AbnormalListingFactory(enterprise=yuci)
    unreachable = AbnormalListingFactory(enterprise=yuci, reason="unreachable", year=0)
    removed = AbnormalListingFactory(
        enterprise=taigu, status="removed", removed_on=dt.date(2026, 8, 1), removal_reason="cured"
    )
    client = as_user(api_client, city_regulator)
    assert _ids(client.get(ABNORMAL, {"status": "listed"})) == sorted([annual.pk, unreachable.pk])
    assert _ids(client.get(ABNORMAL, {"reason": "unreachable"})) == [unreachable.pk]
    assert _ids(client.get(ABNORMAL, {"uscc": taigu.uscc.lower()})) == [removed.pk]
    assert _ids(client.get(ABNORMAL, {"region": "140703"})) == [removed.pk]
    assert client.get(ABNORMAL, {"status": "gone"}).status_code == 400


def test_the_lists_cost_a_fixed_number_of_queries(api_client, city_regulator, django_assert_max_num_queries):
    for _ in range(12):
        listing = AbnormalListingFactory()
        Objection.objects.create(
            listing=listing, filed_on=dt.date(2026, 7, 9), statement="x", acceptance_due=dt.date(2026, 7, 16)
        )
        SeriousListingFactory(enterprise=listing.enterprise)
    client = as_user(api_client, city_regulator)
    with django_assert_max_num_queries(6):
        assert len(client.get(ABNORMAL).json()["results"]) == 12
    with django_assert_max_num_queries(6):
        assert len(client.get(SERIOUS).json()["results"]) == 12


# --- serious list ---------------------------------------------------------------------------------------------------
def test_the_serious_procedure_through_the_api(api_client, county_regulator, yuci):
    penalty = PenaltyFactory(enterprise=yuci, kinds=["licence_revocation"], decision_date=dt.date(2025, 1, 10))
    client = as_user(api_client, county_regulator)
    noticed = client.post(
        SERIOUS,
        {
            "uscc": yuci.uscc,
            "ground": "serious_violation",
            "source_penalty": penalty.pk,
            "facts": "吊销许可证",
            "noticed_on": "2025-02-10",
        },
        format="json",
    )
    assert noticed.status_code == 201, noticed.json()
    pk = noticed.json()["id"]
    assert noticed.json()["stage"] == "notice"
    assert noticed.json()["notice_number"] == "榆次市监严告〔2025〕第1号"

    early = client.post(f"{SERIOUS}{pk}/decide/", {"list_it": True, "decided_on": "2025-02-11"}, format="json")
    assert early.status_code == 400
    assert early.json()["error"]["code"] == "statement_window_open"

    listed = client.post(f"{SERIOUS}{pk}/decide/", {"list_it": True, "decided_on": "2025-03-03"}, format="json")
    assert listed.status_code == 200
    assert listed.json()["stage"] == "listed"
    assert listed.json()["listed_until"] == "2028-03-02"
    assert len(listed.json()["restrictions"]) == 4

    removed = client.post(
        f"{SERIOUS}{pk}/remove/", {"kind": "early_repair", "on": "2026-03-03", "note": "信用修复"}, format="json"
    )
    assert removed.status_code == 200
    assert removed.json()["hidden_from_public"] is True
    # Staff still see the hidden entry, with its filter.
    assert _ids(client.get(SERIOUS, {"hidden_from_public": "true"})) == [pk]


def test_a_serious_notice_needs_a_valid_source(api_client, city_regulator, yuci):
    before = db_state()
    response = as_user(api_client, city_regulator).post(
        SERIOUS,
        {"uscc": yuci.uscc, "ground": "serious_violation", "source_penalty": 999999, "facts": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert "source_penalty" in response.json()["error"]["fields"]
    response = as_user(api_client, city_regulator).post(
        SERIOUS, {"uscc": yuci.uscc, "ground": "serious_violation", "facts": "x"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "source_required"
    assert db_state() == before


def test_another_countys_serious_entry_is_404(api_client, county_regulator, taigu):
    entry = SeriousListingFactory(enterprise=taigu, office=Region.objects.get(code="140703"))
    client = as_user(api_client, county_regulator)
    assert client.get(f"{SERIOUS}{entry.pk}/").status_code == 404
    before = db_state()
    response = client.post(f"{SERIOUS}{entry.pk}/remove/", {"kind": "revoked", "note": "x"}, format="json")
    assert response.status_code == 404
    assert db_state() == before


def test_the_api_is_in_the_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in [
        "/api/v1/abnormal-listings/",
        "/api/v1/abnormal-listings/{id}/remove/",
        "/api/v1/abnormal-listings/{id}/objections/",
        "/api/v1/serious-listings/{id}/decide/",
    ]:
        assert path in schema["paths"], path
    assert "post" in schema["paths"]["/api/v1/abnormal-listings/"]
