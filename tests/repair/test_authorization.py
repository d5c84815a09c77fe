"""The authorization matrix: every portal, file, admin and API address of credit repair × every persona.

An entity sees only its own applications and files (another's id is a 404, like a missing one); staff see the
applications of their own office (谁认定、谁修复) and only in a reviewing role; staff cannot use the entity portal;
nobody anonymous gets anything but the login page. Each cell is asserted, so a changed rule fails a named cell."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from core.models import User
from repair.models import RepairApplication
from repair.services import applications as services
from tests.factories import DepartmentFactory, UserFactory
from tests.repair.conftest import materials, penalty_for

pytestmark = pytest.mark.django_db
D = dt.date
PASSWORD = "Passw0rd!2024"

PERSONAS = [
    "anonymous", "owner", "other_owner", "reviewer", "other_reviewer", "county", "other_county", "city",
    "inspector", "clerk", "api_client",
]  # fmt: skip


@pytest.fixture
def people(owner, other_owner, reviewer, other_reviewer) -> dict[str, User | None]:
    return {
        "anonymous": None,
        "owner": owner,
        "other_owner": other_owner,
        "reviewer": reviewer,
        "other_reviewer": other_reviewer,
        "county": UserFactory(username="yuci-reg", role=User.Role.COUNTY_REGULATOR, region_code="140702"),
        "other_county": UserFactory(username="taigu-reg", role=User.Role.COUNTY_REGULATOR, region_code="140703"),
        "city": UserFactory(username="city-reg", role=User.Role.CITY_REGULATOR),
        "inspector": UserFactory(username="insp", role=User.Role.INSPECTOR, region_code="140702"),
        "clerk": UserFactory(username="clerk-y", role=User.Role.DATA_CLERK, region_code="140702"),
        "api_client": UserFactory(
            username="dept-api", role=User.Role.API_CLIENT, department=DepartmentFactory(code="tax"), is_staff=False
        ),
    }


@pytest.fixture
def cases(firm, owner, reviewer, amr_department) -> dict[str, RepairApplication]:
    """An approved application (with materials and its decision document) and an open one, both of `firm`."""
    done_penalty = penalty_for(firm, amr_department, decided=D(2026, 3, 2), disclosed_from=D(2026, 3, 3), number="P1")
    open_penalty = penalty_for(
        firm,
        amr_department,
        decided=D(2026, 3, 4),
        disclosed_from=D(2026, 3, 5),
        number="P2",
        violation_type="虚假宣传",
    )
    common = {"actor": owner, "enterprise": firm, "target_type": "penalty", "statement": "已履行", "contact_name": "王"}
    done = services.application_submit(**common, target_id=done_penalty.pk, contact_phone="139", uploads=materials())
    services.application_accept(actor=reviewer, application=done)
    services.application_approve(actor=reviewer, application=done)
    pending = services.application_submit(**common, target_id=open_penalty.pk, contact_phone="139", uploads=materials())
    return {"done": done, "open": pending}


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def status_of(client: Client, method: str, url: str, data: dict | None = None) -> int:
    response = client.post(url, data or {}) if method == "post" else client.get(url)
    return response.status_code


def urls(cases) -> dict[str, tuple[str, str]]:
    done, pending = cases["done"], cases["open"]
    material = done.materials.first()
    document = done.documents.first()
    return {
        "portal:dashboard": ("get", reverse("repair:dashboard")),
        "portal:application": ("get", reverse("repair:application", args=[done.pk])),
        "portal:apply": ("get", reverse("repair:apply", args=["penalty", pending.penalty_id])),
        "portal:withdraw": ("post", reverse("repair:withdraw", args=[pending.pk])),
        "file:material": ("get", reverse("repair:material", args=[done.pk, material.pk])),
        "file:document": ("get", reverse("repair:document", args=[done.pk, document.pk])),
        "admin:changelist": ("get", reverse("admin:repair_repairapplication_changelist")),
        "admin:change": ("get", reverse("admin:repair_repairapplication_change", args=[pending.pk])),
        "admin:accept": ("get", reverse("admin:repair_repairapplication_accept", args=[pending.pk])),
        "admin:paper": ("get", reverse("admin:repair_repairapplication_paper")),
        "api:list": ("get", "/api/v1/repair/applications/"),
        "api:detail": ("get", f"/api/v1/repair/applications/{done.pk}/"),
        "api:accept": ("post", f"/api/v1/repair/applications/{pending.pk}/accept/"),
        "api:eligibility": ("get", "/api/v1/repair/eligibility/"),
    }


LOGIN = 302  # the login page
# Expected status per address and persona. Staff with repair permission see their office's applications only.
EXPECTED: dict[str, dict[str, int]] = {
    "portal:dashboard": {"anonymous": LOGIN, "owner": 200, "other_owner": 200, **dict.fromkeys(PERSONAS[3:], 403)},
    "portal:application": {"anonymous": LOGIN, "owner": 200, "other_owner": 404, **dict.fromkeys(PERSONAS[3:], 403)},
    "portal:apply": {"anonymous": LOGIN, "owner": 200, "other_owner": 404, **dict.fromkeys(PERSONAS[3:], 403)},
    "portal:withdraw": {"anonymous": LOGIN, "owner": 302, "other_owner": 404, **dict.fromkeys(PERSONAS[3:], 403)},
    "file:material": {
        "anonymous": LOGIN, "owner": 200, "other_owner": 404, "reviewer": 200, "other_reviewer": 404, "county": 200,
        "other_county": 404, "city": 200, "inspector": 404, "clerk": 404, "api_client": 404,
    },
    "file:document": {
        "anonymous": LOGIN, "owner": 200, "other_owner": 404, "reviewer": 200, "other_reviewer": 404, "county": 200,
        "other_county": 404, "city": 200, "inspector": 404, "clerk": 404, "api_client": 404,
    },
    "admin:changelist": {
        "anonymous": LOGIN, "owner": LOGIN, "other_owner": LOGIN, "reviewer": 200, "other_reviewer": 200,
        "county": 200, "other_county": 200, "city": 200, "inspector": 403, "clerk": 403, "api_client": LOGIN,
    },
    "admin:change": {
        "anonymous": LOGIN, "owner": LOGIN, "other_owner": LOGIN, "reviewer": 200, "other_reviewer": 404,
        "county": 200, "other_county": 404, "city": 200, "inspector": 403, "clerk": 403, "api_client": LOGIN,
    },
    "admin:accept": {
        "anonymous": LOGIN, "owner": LOGIN, "other_owner": LOGIN, "reviewer": 200, "other_reviewer": 404,
        "county": 200, "other_county": 404, "city": 200, "inspector": 404, "clerk": 404, "api_client": LOGIN,
    },
    "admin:paper": {
        "anonymous": LOGIN, "owner": LOGIN, "other_owner": LOGIN, "reviewer": 200, "other_reviewer": 200,
        "county": 200, "other_county": 200, "city": 200, "inspector": 404, "clerk": 404, "api_client": LOGIN,
    },
    "api:list": {
        "anonymous": 403, "owner": 200, "other_owner": 200, "reviewer": 200, "other_reviewer": 200, "county": 200,
        "other_county": 200, "city": 200, "inspector": 403, "clerk": 403, "api_client": 403,
    },
    "api:detail": {
        "anonymous": 403, "owner": 200, "other_owner": 404, "reviewer": 200, "other_reviewer": 404, "county": 200,
        "other_county": 404, "city": 200, "inspector": 403, "clerk": 403, "api_client": 403,
    },
    "api:accept": {
        "anonymous": 403, "owner": 403, "other_owner": 404, "reviewer": 200, "other_reviewer": 404, "county": 200,
        "other_county": 404, "city": 200, "inspector": 403, "clerk": 403, "api_client": 403,
    },
    "api:eligibility": {
        "anonymous": 403, "owner": 200, "other_owner": 200, **dict.fromkeys(PERSONAS[3:], 403),
    },
}  # fmt: skip


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_authorization_matrix(persona, people, cases):
    user = people[persona]
    got = {}
    for name, (method, url) in urls(cases).items():
        # A fresh open application for every POST cell: an accept or withdrawal must not change the next cell.
        got[name] = status_of(client_for(user), method, url)
    expected = {name: EXPECTED[name][persona] for name in got}
    assert got == expected


def test_lists_show_only_what_the_persona_may_see(people, cases):
    def numbers(user) -> set[str]:
        response = client_for(user).get("/api/v1/repair/applications/")
        return {row["number"] for row in response.json()["results"]}

    both = {cases["done"].number, cases["open"].number}
    assert numbers(people["owner"]) == both
    assert numbers(people["other_owner"]) == set()
    assert numbers(people["reviewer"]) == both
    assert numbers(people["other_reviewer"]) == set()
    assert numbers(people["city"]) == both


def test_a_post_without_csrf_token_is_refused_in_chinese_and_changes_nothing(owner, cases):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    pending = cases["open"]
    response = client.post(reverse("repair:withdraw", args=[pending.pk]))
    assert response.status_code == 403
    assert "请求未被执行" in response.content.decode() or "表单已失效" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == RepairApplication.Status.SUBMITTED
