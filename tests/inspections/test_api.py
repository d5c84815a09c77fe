"""The inspections API: lists with filters and county scoping, plan create/preview/commit/draw/redraw for
regulators, the inspector's own tasks and results, structured errors, bounded queries, the schema."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import User
from inspections.models import Draw, Evidence, Plan, Result, Task
from inspections.services.draws import draw_commit, draw_execute
from tests.factories import UserFactory
from tests.inspections.factories import InspectorFactory, ItemFactory, inspector_user, make_plan, make_population

pytestmark = pytest.mark.django_db
API = "/api/v1/inspections"


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def population(db):
    return make_population({"A": 100, "B": 50, "C": 30, "D": 10})


@pytest.fixture
def plan(item, roster, population):
    return make_plan(items=[item])


@pytest.fixture
def drawn(item, roster):
    make_population({"C": 20, "D": 10})
    plan = make_plan(items=[item], ratio_c=Decimal("50"), ratio_d=Decimal("50"))
    draw_execute(actor=None, draw=draw_commit(actor=None, plan=plan))
    return plan


def test_lists_are_filtered_and_county_scoped(county_regulator, other_county_regulator, item, roster):
    health = ItemFactory(code="WS-1", department__code="health", department__name="卫健委", kind="key")
    InspectorFactory(items=[item], region_id="140703")
    InspectorFactory(items=[item], warrant_expires_on=timezone.localdate().replace(year=2020))
    yuci = client_for(county_regulator)
    items = yuci.get(f"{API}/items/").json()
    assert {i["code"] for i in items["results"]} == {item.code, health.code}
    assert [i["code"] for i in yuci.get(f"{API}/items/", {"kind": "key"}).json()["results"]] == ["WS-1"]
    assert [i["code"] for i in yuci.get(f"{API}/items/", {"department": "health"}).json()["results"]] == ["WS-1"]
    inspectors = yuci.get(f"{API}/inspectors/").json()
    assert inspectors["count"] == 7 and {i["region"] for i in inspectors["results"]} == {"140702"}
    assert yuci.get(f"{API}/inspectors/", {"warrant_valid": "false"}).json()["count"] == 1
    assert yuci.get(f"{API}/inspectors/", {"item": item.code}).json()["count"] == 7
    assert client_for(other_county_regulator).get(f"{API}/inspectors/").json()["count"] == 1
    other_plan = make_plan(items=[item], region="140703", name="太谷计划")
    assert client_for(county_regulator).get(f"{API}/plans/{other_plan.pk}/").status_code == 404


def test_an_anonymous_or_entity_account_gets_nothing(api_client, item):
    assert api_client.get(f"{API}/items/").status_code in (401, 403)
    owner = UserFactory(username="owner", role=User.Role.ENTERPRISE, is_staff=False)
    assert client_for(owner).get(f"{API}/items/").status_code == 403


def test_a_regulator_creates_previews_commits_and_draws_a_plan(county_regulator, item, roster, population):
    client = client_for(county_regulator)
    body = {
        "name": "API 计划", "year": 2026, "region": "140702", "items": [item.code],
        "planned_start": "2026-03-01", "planned_end": "2026-11-30",
    }  # fmt: skip
    response = client.post(f"{API}/plans/", body, format="json")
    assert response.status_code == 201, response.json()
    plan = response.json()
    assert (plan["ratio_a"], plan["ratio_b"], plan["ratio_c"], plan["ratio_d"]) == ("1.00", "2.00", "10.00", "30.00")
    preview = client.get(f"{API}/plans/{plan['id']}/preview/").json()
    by_class = {row["risk_class"]: row["expected"] for row in preview["by_class"]}
    assert by_class == {"A": 1, "B": 1, "C": 3, "D": 3, "": 0}
    assert preview["expected_total"] == 8 and preview["warnings"] == []
    committed = client.post(f"{API}/plans/{plan['id']}/commit/").json()
    assert committed["status"] == "committed" and committed["draws"][0]["seed"] == ""  # secret until revealed
    assert len(committed["draws"][0]["commitment"]) == 64
    # A committed plan can no longer be changed.
    refused = client.patch(f"{API}/plans/{plan['id']}/", {"ratio_c": "50"}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "plan_not_draft"
    drawn = client.post(f"{API}/plans/{plan['id']}/draw/", {"reveal": False}, format="json").json()
    assert drawn["status"] == "drawn" and drawn["draws"][0]["seed"] == ""
    assert Task.objects.filter(plan_id=plan["id"]).count() == 8
    revealed = client.post(f"{API}/plans/{plan['id']}/reveal/").json()
    draw = Draw.objects.get(plan_id=plan["id"])
    assert revealed["draws"][0]["seed"] == draw.seed
    redraw = client.post(f"{API}/plans/{plan['id']}/redraw/", {"reason": ""}, format="json")
    assert redraw.status_code == 400 and redraw.json()["error"]["code"] == "invalid"
    redraw = client.post(f"{API}/plans/{plan['id']}/redraw/", {"reason": "对象已注销"}, format="json")
    assert redraw.status_code == 201 and len(redraw.json()["draws"]) == 2


def test_errors_are_structured(county_regulator, other_county_regulator, item, population):
    client = client_for(county_regulator)
    base = {"name": "坏计划", "year": 2026, "region": "140702", "items": [item.code],
            "planned_start": "2026-03-01", "planned_end": "2026-11-30"}  # fmt: skip
    bad_ratio = client.post(f"{API}/plans/", {**base, "ratio_c": "120"}, format="json")
    assert bad_ratio.status_code == 400
    assert "抽查比例不能大于 100%" in str(bad_ratio.json()["error"]["fields"]["ratio_c"])
    unknown = client.post(f"{API}/plans/", {**base, "items": ["NOPE"]}, format="json")
    assert unknown.status_code == 400 and "NOPE" in unknown.json()["error"]["message"]
    other = client.post(f"{API}/plans/", {**base, "region": "140703"}, format="json")
    assert other.status_code == 403 and other.json()["error"]["code"] == "out_of_scope"
    assert not Plan.objects.filter(name="坏计划").exists()
    empty = make_plan(items=[])
    response = client.post(f"{API}/plans/{empty.pk}/commit/")
    assert response.status_code == 400 and response.json()["error"]["code"] == "plan_without_items"
    # Shortfall: one qualified inspector, two needed — named, nothing drawn.
    InspectorFactory(items=[item])
    plan = make_plan(items=[item], name="缺人计划")
    client.post(f"{API}/plans/{plan.pk}/commit/")
    response = client.post(f"{API}/plans/{plan.pk}/draw/", {}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "inspector_shortfall" and "缺 1 名" in error["message"]
    assert not Task.objects.filter(plan=plan).exists()
    # Another county's plan: 404 for the draw action too.
    assert client_for(other_county_regulator).post(f"{API}/plans/{plan.pk}/draw/").status_code == 404


def test_an_inspector_lists_own_tasks_and_records_results(drawn, django_assert_max_num_queries):
    task = Task.objects.filter(plan=drawn).first()
    user = inspector_user(task.assignments.first().inspector)
    client = client_for(user)
    with django_assert_max_num_queries(10):
        tasks = client.get(f"{API}/tasks/").json()
    own = set(Task.objects.filter(assignments__inspector__user=user).values_list("pk", flat=True))
    assert {t["id"] for t in tasks["results"]} == own and task.pk in own
    assert "risk_class" not in tasks["results"][0]
    other = Task.objects.filter(plan=drawn).exclude(pk__in=own).first()
    refused = client.post(
        f"{API}/results/", {"task": other.pk, "outcome": "no_problem", "inspected_on": timezone.localdate()}
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "task_not_assigned"
    photo = SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n0000", content_type="image/png")
    response = client.post(
        f"{API}/results/",
        {"task": task.pk, "outcome": "problem", "inspected_on": timezone.localdate().isoformat(),
         "details": "未公示", "evidence": [photo], "evidence_description": "照片"},
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    result = Result.objects.get(task=task)
    assert response.json()["outcome"] == "problem" and result.problem_found
    assert Evidence.objects.filter(result=result).count() == 1
    bad = client.post(f"{API}/results/", {"task": task.pk, "outcome": "great", "inspected_on": "2026-01-01"})
    assert bad.status_code == 400 and "outcome" in bad.json()["error"]["fields"]
    Result.objects.filter(pk=result.pk).update(published_on=timezone.localdate())
    late = client.post(
        f"{API}/results/", {"task": task.pk, "outcome": "no_problem", "inspected_on": timezone.localdate()}
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "result_published"
    mine = client.get(f"{API}/results/").json()
    assert [r["id"] for r in mine["results"]] == [result.pk]


def test_the_schema_documents_the_inspection_endpoints(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = response.json()["paths"]
    for path in ["/items/", "/inspectors/", "/plans/", "/plans/{id}/draw/", "/plans/{id}/preview/", "/tasks/",
                 "/results/"]:  # fmt: skip
        assert f"{API}{path}" in paths, path


def test_the_lists_have_bounded_queries(drawn, city_regulator, item, django_assert_max_num_queries):
    for n in range(5):
        make_plan(items=[item], name=f"计划{n}")
    client = client_for(city_regulator)
    for path in ["/plans/", "/inspectors/", "/items/", "/tasks/", "/results/"]:
        with django_assert_max_num_queries(12):
            response = client.get(f"{API}{path}")
        assert response.status_code == 200, path
    assert client.get(f"{API}/plans/").json()["count"] == 6
