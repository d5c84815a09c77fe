"""The regulators' read-only API of case leads and abnormal-list proposals: county-scoped, filtered, regulators
only, no writes, bounded queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import User
from inspections.models import AbnormalProposal, CaseLead, Task
from inspections.services.draws import draw_commit, draw_execute
from inspections.services.results import result_record
from tests.factories import UserFactory
from tests.inspections.factories import inspector_user, make_plan, make_population

pytestmark = pytest.mark.django_db
API = "/api/v1/inspections"


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def findings(item, roster):
    """A drawn 榆次区 plan with two problems found (case leads) and one entity not reachable (a proposal)."""
    make_population({"C": 20, "D": 10})
    plan = make_plan(items=[item], ratio_c=Decimal("50"), ratio_d=Decimal("50"))
    draw_execute(actor=None, draw=draw_commit(actor=None, plan=plan))
    tasks = list(Task.objects.filter(plan=plan).order_by("position")[:3])
    today = timezone.localdate()
    for task, outcome in zip(tasks, ["problem", "problem", "not_reachable"], strict=True):
        user = inspector_user(task.assignments.first().inspector)
        result_record(actor=user, task=task, outcome=outcome, inspected_on=today, details="未公示许可信息")
    return plan, tasks


def test_regulators_list_case_leads_and_proposals_of_their_county(
    findings, county_regulator, city_regulator, other_county_regulator
):
    plan, tasks = findings
    yuci = client_for(county_regulator)
    leads = yuci.get(f"{API}/case-leads/").json()
    assert leads["count"] == 2
    assert {lead["uscc"] for lead in leads["results"]} == {t.enterprise.uscc for t in tasks[:2]}
    assert {lead["plan"] for lead in leads["results"]} == {plan.pk} and leads["results"][0]["status"] == "open"
    proposals = yuci.get(f"{API}/abnormal-proposals/").json()
    assert [p["uscc"] for p in proposals["results"]] == [tasks[2].enterprise.uscc]
    assert proposals["results"][0]["status"] == AbnormalProposal.Status.PROPOSED
    one = yuci.get(f"{API}/case-leads/{leads['results'][0]['id']}/")
    assert one.status_code == 200
    # Filters
    assert yuci.get(f"{API}/case-leads/", {"uscc": tasks[0].enterprise.uscc}).json()["count"] == 1
    assert yuci.get(f"{API}/case-leads/", {"status": "closed"}).json()["count"] == 0
    assert yuci.get(f"{API}/abnormal-proposals/", {"plan": plan.pk}).json()["count"] == 1
    assert yuci.get(f"{API}/abnormal-proposals/", {"plan": plan.pk + 1000}).json()["count"] == 0
    # ?uscc= (the shared EnterpriseUsccFilterSet): normalised like a typed code, another entity's code finds nothing.
    assert yuci.get(f"{API}/case-leads/", {"uscc": tasks[1].enterprise.uscc.lower()}).json()["count"] == 1
    assert yuci.get(f"{API}/abnormal-proposals/", {"uscc": tasks[2].enterprise.uscc}).json()["count"] == 1
    assert yuci.get(f"{API}/abnormal-proposals/", {"uscc": tasks[0].enterprise.uscc}).json()["count"] == 0
    # The city sees everything; another county nothing, and another county's record is a 404.
    assert client_for(city_regulator).get(f"{API}/case-leads/").json()["count"] == 2
    other = client_for(other_county_regulator)
    assert other.get(f"{API}/case-leads/").json()["count"] == 0
    assert other.get(f"{API}/abnormal-proposals/").json()["count"] == 0
    assert other.get(f"{API}/case-leads/{leads['results'][0]['id']}/").status_code == 404


def test_only_regulators_read_them_and_nobody_writes(findings, county_regulator, api_client):
    _plan, tasks = findings
    inspector = inspector_user(tasks[0].assignments.first().inspector)
    clerk = UserFactory(username="clerk2", role=User.Role.DATA_CLERK, region_code="140702")
    for user in (inspector, clerk):
        for path in ("/case-leads/", "/abnormal-proposals/"):
            assert client_for(user).get(f"{API}{path}").status_code == 403, (user.role, path)
    assert api_client.get(f"{API}/case-leads/").status_code in (401, 403)
    yuci = client_for(county_regulator)
    lead = CaseLead.objects.first()
    assert yuci.post(f"{API}/case-leads/", {"summary": "x"}).status_code == 405
    assert yuci.patch(f"{API}/case-leads/{lead.pk}/", {"status": "closed"}).status_code == 405
    assert yuci.delete(f"{API}/abnormal-proposals/{AbnormalProposal.objects.first().pk}/").status_code == 405
    lead.refresh_from_db()
    assert lead.status == CaseLead.Status.OPEN


def test_the_lists_have_bounded_queries_and_are_in_the_schema(
    findings, city_regulator, api_client, django_assert_max_num_queries
):
    client = client_for(city_regulator)
    for path in ("/case-leads/", "/abnormal-proposals/"):
        with django_assert_max_num_queries(8):
            assert client.get(f"{API}{path}").status_code == 200
    paths = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    assert f"{API}/case-leads/" in paths and f"{API}/abnormal-proposals/{{id}}/" in paths
