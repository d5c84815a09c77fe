"""The regulator and inspector side of inspections in the admin: 一单两库 pages, county scoping (another county's
record is a 404), plan create/preview/draw through the services with Chinese messages, the inspector's own tasks and
result form, abnormal-list proposals and the statistics page."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.errors import NotPermitted
from core.models import AuditEvent, User
from disclosure.models import AbnormalListing
from inspections.models import AbnormalProposal, Draw, Evidence, Inspector, InspectorConflict, Plan, Result, Task
from inspections.services.catalogue import conflict_declare
from inspections.services.draws import draw_commit, draw_execute
from inspections.services.results import result_record
from tests.factories import UserFactory
from tests.inspections.factories import InspectorFactory, ItemFactory, inspector_user, make_plan, make_population

pytestmark = pytest.mark.django_db


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def population(db):
    return make_population({"A": 100, "B": 50, "C": 30, "D": 10})


@pytest.fixture
def plan(item, roster, population):
    return make_plan(items=[item])


@pytest.fixture
def taigu_plan(item):
    make_population({"C": 10}, region="140703", start=5000)
    return make_plan(items=[item], region="140703", name="太谷区计划")


@pytest.fixture
def drawn(item, roster):
    make_population({"C": 20, "D": 10})
    plan = make_plan(items=[item], ratio_c=Decimal("50"), ratio_d=Decimal("50"))
    draw_execute(actor=None, draw=draw_commit(actor=None, plan=plan))
    return plan


CHANGELISTS = [
    "admin:inspections_inspectionitem_changelist",
    "admin:inspections_inspector_changelist",
    "admin:inspections_inspectorconflict_changelist",
    "admin:inspections_plan_changelist",
    "admin:inspections_task_changelist",
    "admin:inspections_result_changelist",
    "admin:inspections_abnormalproposal_changelist",
    "admin:inspections_caselead_changelist",
    "admin:inspections_plan_statistics",
    "admin:inspections_plan_directory",
    "admin:inspections_inspectionitem_import",
    "admin:inspections_inspector_import",
]


@pytest.mark.parametrize("persona", ["city_regulator", "county_regulator"])
def test_it_loads_every_page_for_city_and_county_regulators(request, persona, drawn, taigu_plan):
    client = logged_in(request.getfixturevalue(persona))
    for name in CHANGELISTS:
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get(reverse("admin:inspections_plan_change", args=[drawn.pk])).status_code == 200
    assert client.get(reverse("admin:inspections_plan_add")).status_code == 200
    inspector = Inspector.objects.first()
    assert client.get(reverse("admin:inspections_inspector_change", args=[inspector.pk])).status_code == 200


def test_another_countys_plan_inspector_and_task_are_404(county_regulator, other_county_regulator, drawn, taigu_plan):
    client = logged_in(other_county_regulator)  # 太谷区
    task = Task.objects.filter(plan=drawn).first()
    inspector = Inspector.objects.filter(region_id="140702").first()
    for url in [
        reverse("admin:inspections_plan_change", args=[drawn.pk]),
        reverse("admin:inspections_plan_draw", args=[drawn.pk]),
        reverse("admin:inspections_inspector_change", args=[inspector.pk]),
        reverse("admin:inspections_task_change", args=[task.pk]),
        reverse("admin:inspections_task_record", args=[task.pk]),
    ]:
        assert client.get(url).status_code == 404, url
    page = text(client.get(reverse("admin:inspections_plan_changelist")))
    assert taigu_plan.name in page and drawn.name not in page
    assert client.get(reverse("admin:inspections_plan_change", args=[taigu_plan.pk])).status_code == 200


def test_the_plan_page_shows_the_preview_per_class_before_the_draw(county_regulator, plan):
    page = text(logged_in(county_regulator).get(reverse("admin:inspections_plan_change", args=[plan.pk])))
    # Defaults A 1 %, B 2 %, C 10 %, D 30 % of 100/50/30/10 → 1, 1, 3, 3 (rounded half up).
    expected = {"A": 1, "B": 1, "C": 3, "D": 3}
    for cls, k in expected.items():
        row = re.search(rf'<tr data-class="{cls}">(.*?)</tr>', page, re.S).group(1)
        assert f'class="expected">{k}<' in row, (cls, row)
    assert 'id="expected-total">8<' in page
    assert "plan-warning" not in page  # 8 of 190 = 4.2 % ≥ 3 %


def test_the_plan_page_warns_when_coverage_stays_under_3_percent(county_regulator, item, roster):
    make_population({"A": 400})
    plan = make_plan(items=[item])  # A 1 % of 400 → 4 = 1 %
    page = text(logged_in(county_regulator).get(reverse("admin:inspections_plan_change", args=[plan.pk])))
    assert "低于 3% 的要求" in page


def test_a_plan_is_created_in_the_admin_through_the_service_with_defaults(county_regulator, item, roster, population):
    client = logged_in(county_regulator)
    add_page = text(client.get(reverse("admin:inspections_plan_add")))
    for field, default in [("ratio_a", "1"), ("ratio_b", "2"), ("ratio_c", "10"), ("ratio_d", "30")]:
        assert re.search(rf'name="{field}" value="{default}(\.00)?"', add_page), field
    data = {
        "name": "2026年度榆次区食品抽查", "year": "2026", "region": "140702", "items": [item.pk],
        "ratio_a": "1", "ratio_b": "2", "ratio_c": "10", "ratio_d": "35", "ratio_unclassified": "2",
        "frequency_cap": "2", "planned_start": "2026-03-01", "planned_end": "2026-11-30",
        "_continue": "1",
    }  # fmt: skip
    response = client.post(reverse("admin:inspections_plan_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    plan = Plan.objects.get(name="2026年度榆次区食品抽查")
    assert plan.ratio_d == Decimal("35") and list(plan.items.all()) == [item]
    assert plan.created_by == county_regulator
    assert AuditEvent.objects.filter(action="inspections.plan.create", object_id=str(plan.pk)).exists()
    # A ratio over 100 % is refused with the model's Chinese message and nothing is written.
    response = client.post(reverse("admin:inspections_plan_add"), {**data, "name": "坏计划", "ratio_c": "120"})
    assert response.status_code == 200 and "抽查比例不能大于 100%" in text(response)
    assert not Plan.objects.filter(name="坏计划").exists()
    # A county regulator cannot organise a plan of another county (the choice is not offered).
    response = client.post(reverse("admin:inspections_plan_add"), {**data, "name": "越权计划", "region": "140703"})
    assert response.status_code == 200 and not Plan.objects.filter(name="越权计划").exists()


def test_commit_and_draw_via_the_admin_buttons(county_regulator, plan):
    client = logged_in(county_regulator)
    response = client.post(reverse("admin:inspections_plan_commit", args=[plan.pk]), follow=True)
    draw = Draw.objects.get(plan=plan)
    assert draw.commitment in " ".join(messages_of(response))
    assert draw.status == Draw.Status.COMMITTED
    # Once committed, the plan's settings are frozen: the page shows them read-only.
    page = text(client.get(reverse("admin:inspections_plan_change", args=[plan.pk])))
    assert 'name="ratio_c"' not in page
    response = client.post(reverse("admin:inspections_plan_draw", args=[plan.pk]), follow=True)
    draw.refresh_from_db()
    assert draw.status == Draw.Status.DRAWN and draw.revealed_at is not None
    assert Task.objects.filter(draw=draw).count() == 8
    assert "共抽中 8 户" in " ".join(messages_of(response))
    # A redraw needs a reason; with one it commits a new seed and the next draw supersedes.
    response = client.post(reverse("admin:inspections_plan_redraw", args=[plan.pk]), {"reason": "  "})
    assert response.status_code == 200 and Draw.objects.filter(plan=plan).count() == 1
    client.post(reverse("admin:inspections_plan_redraw", args=[plan.pk]), {"reason": "抽中对象已注销"})
    client.post(reverse("admin:inspections_plan_draw", args=[plan.pk]))
    assert list(Draw.objects.filter(plan=plan).order_by("number").values_list("status", flat=True)) == [
        Draw.Status.SUPERSEDED,
        Draw.Status.DRAWN,
    ]


def test_a_shortfall_is_a_chinese_message_naming_it_and_nothing_is_drawn(county_regulator, item):
    make_population({"D": 20})
    InspectorFactory(items=[item])
    plan = make_plan(items=[item])
    client = logged_in(county_regulator)
    client.post(reverse("admin:inspections_plan_commit", args=[plan.pk]))
    response = client.post(reverse("admin:inspections_plan_draw", args=[plan.pk]), follow=True)
    shown = " ".join(messages_of(response))
    assert "只有 1 名" in shown and "缺 1 名" in shown
    assert not Task.objects.filter(plan=plan).exists()
    assert Draw.objects.get(plan=plan).status == Draw.Status.COMMITTED


def test_a_plan_without_items_shows_the_reason_instead_of_a_preview(county_regulator, item, roster, population):
    plan = make_plan(items=[])
    client = logged_in(county_regulator)
    page = text(client.get(reverse("admin:inspections_plan_change", args=[plan.pk])))
    assert "没有抽查事项" in page
    response = client.post(reverse("admin:inspections_plan_commit", args=[plan.pk]), follow=True)
    assert "没有抽查事项" in " ".join(messages_of(response))
    assert not Draw.objects.filter(plan=plan).exists()


def test_an_inspector_sees_only_own_tasks_and_records_a_result_with_evidence(drawn):
    task = Task.objects.filter(plan=drawn).first()
    user = inspector_user(task.assignments.first().inspector)
    client = logged_in(user)
    page = text(client.get(reverse("admin:inspections_task_changelist")))
    own = Task.objects.filter(assignments__inspector__user=user).distinct()
    others = Task.objects.filter(plan=drawn).exclude(pk__in=own.values("pk"))
    assert task.enterprise.name in page
    assert others.exists()
    other = others.select_related("enterprise").first()
    assert client.get(reverse("admin:inspections_task_record", args=[other.pk])).status_code == 404
    photo = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")
    response = client.post(
        reverse("admin:inspections_task_record", args=[task.pk]),
        {
            "outcome": "problem",
            "inspected_on": timezone.localdate().isoformat(),
            "details": "未按规定公示年报",
            "evidence": [photo],
            "evidence_description": "现场照片",
        },
        follow=True,
    )
    assert "检查结果已录入" in " ".join(messages_of(response))
    result = Result.objects.get(task=task)
    assert result.outcome == "problem" and result.recorded_by.user == user
    assert Evidence.objects.filter(result=result, description="现场照片").count() == 1
    # An empty "problem" description is refused with the service's message.
    task2 = own.exclude(pk=task.pk).first()
    if task2 is not None:
        response = client.post(
            reverse("admin:inspections_task_record", args=[task2.pk]),
            {"outcome": "problem", "inspected_on": timezone.localdate().isoformat(), "details": ""},
        )
        assert "须填写检查情况说明" in text(response)
        assert not Result.objects.filter(task=task2).exists()


def test_a_result_by_someone_not_assigned_or_after_publication_is_refused(drawn, county_regulator):
    task = Task.objects.filter(plan=drawn).first()
    # A regulator sees the task but is not an assigned inspector: refused with the service's message.
    response = logged_in(county_regulator).post(
        reverse("admin:inspections_task_record", args=[task.pk]),
        {"outcome": "no_problem", "inspected_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 200 and "只有被抽中的检查人员可以录入检查结果" in text(response)
    assert not Result.objects.filter(task=task).exists()
    user = inspector_user(task.assignments.first().inspector)
    result = result_record(actor=user, task=task, outcome="no_problem", inspected_on=timezone.localdate())
    client = logged_in(county_regulator)
    client.post(
        reverse("admin:inspections_result_changelist"),
        {"action": "publish_selected", "_selected_action": [result.pk]},
    )
    result.refresh_from_db()
    assert result.published_on == timezone.localdate()
    response = logged_in(user).post(
        reverse("admin:inspections_task_record", args=[task.pk]),
        {"outcome": "problem", "inspected_on": timezone.localdate().isoformat(), "details": "补录"},
    )
    assert "检查结果已公示，不能再修改" in text(response)
    result.refresh_from_db()
    assert result.outcome == "no_problem"


def test_a_regulator_confirms_or_dismisses_not_reachable_proposals(drawn, county_regulator, other_county_regulator):
    tasks = list(Task.objects.filter(plan=drawn)[:2])
    for task in tasks:
        user = inspector_user(task.assignments.first().inspector)
        result_record(actor=user, task=task, outcome="not_reachable", inspected_on=timezone.localdate())
    first, second = (AbnormalProposal.objects.get(result__task=t) for t in tasks)
    assert logged_in(other_county_regulator).get(
        reverse("admin:inspections_abnormalproposal_confirm", args=[first.pk])
    ).status_code == 404  # fmt: skip
    client = logged_in(county_regulator)
    response = client.post(reverse("admin:inspections_abnormalproposal_confirm", args=[first.pk]), follow=True)
    first.refresh_from_db()
    assert first.status == AbnormalProposal.Status.CONFIRMED
    assert AbnormalListing.objects.filter(enterprise=first.enterprise).exists()
    assert "已列入经营异常名录" in " ".join(messages_of(response))
    response = client.post(reverse("admin:inspections_abnormalproposal_dismiss", args=[second.pk]), {"reason": ""})
    assert response.status_code == 200
    second.refresh_from_db()
    assert second.status == AbnormalProposal.Status.PROPOSED
    client.post(reverse("admin:inspections_abnormalproposal_dismiss", args=[second.pk]), {"reason": "已迁至新址"})
    second.refresh_from_db()
    assert second.status == AbnormalProposal.Status.DISMISSED and second.decision_note == "已迁至新址"


def test_the_statistics_page_shows_figures_per_county_and_plan(drawn, city_regulator, county_regulator):
    tasks = list(Task.objects.filter(plan=drawn)[:4])
    for n, task in enumerate(tasks):
        user = inspector_user(task.assignments.first().inspector)
        outcome = "problem" if n == 0 else "no_problem"
        result_record(actor=user, task=task, outcome=outcome, inspected_on=timezone.localdate(), details="问题")
    year = timezone.localdate().year
    params = {"start": f"{year}-01-01", "end": f"{year}-12-31"}
    if drawn.planned_start.year != year:
        Plan.objects.filter(pk=drawn.pk).update(
            year=year, planned_start=dt.date(year, 1, 1), planned_end=dt.date(year, 12, 31)
        )
    page = text(logged_in(city_regulator).get(reverse("admin:inspections_plan_statistics"), params))
    yuci = re.search(r'<tr data-county="140702">(.*?)</tr>', page, re.S).group(1)
    assert "25%" in yuci  # 1 problem among 4 entities inspected
    assert 'id="city-total"' in page
    plan_row = re.search(rf'<tr data-plan="{drawn.pk}">(.*?)</tr>', page, re.S).group(1)
    assert 'class="done">4<' in plan_row
    county_page = text(logged_in(county_regulator).get(reverse("admin:inspections_plan_statistics"), params))
    assert 'data-county="140702"' in county_page and 'data-county="140703"' not in county_page
    assert 'id="city-total"' not in county_page


def test_the_directory_filters_the_registry_within_the_users_county(county_regulator, population, taigu_plan):
    client = logged_in(county_regulator)
    page = text(client.get(reverse("admin:inspections_plan_directory")))
    assert 'id="directory-total">190 ' in page  # 榆次区 only, not 太谷区's 10
    page = text(client.get(reverse("admin:inspections_plan_directory"), {"entity_type": "individual"}))
    assert 'id="directory-total">0 ' in page


def test_roster_edits_and_conflicts_go_through_audited_services(county_regulator, item, enterprise):
    client = logged_in(county_regulator)
    data = {
        "name": "王五", "department": item.department.pk, "region": "140702", "qualifications": [item.pk],
        "warrant_number": "1407029999", "warrant_expires_on": "2030-12-31", "active": "on",
    }  # fmt: skip
    response = client.post(reverse("admin:inspections_inspector_add"), data)
    assert response.status_code == 302
    inspector = Inspector.objects.get(warrant_number="1407029999")
    assert list(inspector.qualifications.all()) == [item]
    assert AuditEvent.objects.filter(action="inspections.inspector.create", object_id=str(inspector.pk)).exists()
    conflict = {"inspector": inspector.pk, "enterprise": enterprise.pk, "reason": "近亲属任法定代表人"}
    assert client.post(reverse("admin:inspections_inspectorconflict_add"), conflict).status_code == 302
    response = client.post(reverse("admin:inspections_inspectorconflict_add"), conflict)
    assert response.status_code == 200 and "回避关系已申报" in text(response)
    assert InspectorConflict.objects.filter(inspector=inspector).count() == 1
    page = text(client.get(reverse("admin:inspections_inspector_change", args=[inspector.pk])))
    assert "近亲属任法定代表人" in page


def test_an_inspector_cannot_edit_the_item_list_or_plans_but_declares_own_conflicts(drawn, item, enterprise):
    inspector = Task.objects.filter(plan=drawn).first().assignments.first().inspector
    user = inspector_user(inspector)
    client = logged_in(user)
    data = {"code": item.code, "name": "改名", "department": item.department.pk, "legal_basis": "x", "kind": "key"}
    response = client.post(reverse("admin:inspections_inspectionitem_change", args=[item.pk]), data)
    assert response.status_code == 200 and "只有市、县市场监管部门的监管人员" in text(response)
    item.refresh_from_db()
    assert item.name != "改名"
    assert client.post(reverse("admin:inspections_plan_commit", args=[drawn.pk]), follow=True).status_code == 200
    assert Draw.objects.filter(plan=drawn).count() == 1  # refused: not a regulator
    # An inspector declares their own conflicts in the admin (the role has no "add" permission: the conflict admin
    # lets a roster inspector add for themselves only); a declaration for a colleague is refused by the form and
    # by the service.
    add_url = reverse("admin:inspections_inspectorconflict_add")
    page = client.get(add_url)
    assert page.status_code == 200
    assert list(page.context["adminform"].form.fields["inspector"].queryset) == [inspector]
    other = Inspector.objects.exclude(pk=inspector.pk).first()
    refused = client.post(add_url, {"inspector": other.pk, "enterprise": enterprise.pk, "reason": "代为申报"})
    assert refused.status_code == 200 and refused.context["adminform"].form.errors["inspector"]
    conflict = {"inspector": inspector.pk, "enterprise": enterprise.pk, "reason": "曾在该企业任职"}
    assert client.post(add_url, conflict).status_code == 302
    declared = InspectorConflict.objects.get(inspector=inspector, enterprise=enterprise)
    assert declared.reason == "曾在该企业任职"
    event = AuditEvent.objects.get(action="inspections.conflict.declare", object_id=str(declared.pk))
    assert event.actor_id == user.pk
    with pytest.raises(NotPermitted):
        conflict_declare(actor=user, inspector=other, enterprise=enterprise, reason="代为申报")
    assert not InspectorConflict.objects.filter(inspector=other).exists()


def test_an_inspector_account_not_on_the_roster_cannot_declare_conflicts(db, enterprise):
    user = UserFactory(username="not-on-roster", role=User.Role.INSPECTOR, region_code="140702")
    client = logged_in(user)
    assert client.get(reverse("admin:inspections_inspectorconflict_add")).status_code == 403
    inspector = InspectorFactory()
    conflict = {"inspector": inspector.pk, "enterprise": enterprise.pk, "reason": "x"}
    assert client.post(reverse("admin:inspections_inspectorconflict_add"), conflict).status_code == 403
    assert not InspectorConflict.objects.exists()


def test_the_task_and_result_lists_have_bounded_queries(drawn, county_regulator, django_assert_max_num_queries):
    for task in Task.objects.filter(plan=drawn)[:5]:
        user = inspector_user(task.assignments.first().inspector)
        result_record(actor=user, task=task, outcome="no_problem", inspected_on=timezone.localdate())
    client = logged_in(county_regulator)
    for name in ["admin:inspections_task_changelist", "admin:inspections_result_changelist"]:
        with django_assert_max_num_queries(20):
            assert client.get(reverse(name)).status_code == 200


def test_a_joint_plan_is_flagged_in_the_list(county_regulator, item, roster):
    other = ItemFactory(department__code="health", department__name="市卫生健康委员会")
    plan = make_plan(items=[item, other], name="一业一查联合计划")
    page = text(logged_in(county_regulator).get(reverse("admin:inspections_plan_changelist")))
    row = re.search(r"一业一查联合计划.*?</tr>", page, re.S).group(0)
    assert "icon-yes" in row
    solo = make_plan(items=[item], name="单部门计划")
    page = text(logged_in(county_regulator).get(reverse("admin:inspections_plan_changelist")))
    assert "icon-no" in re.search(r"单部门计划.*?</tr>", page, re.S).group(0)
    assert plan.pk != solo.pk


def test_task_and_result_pages_are_read_only(drawn, county_regulator):
    task = Task.objects.filter(plan=drawn).first()
    user = inspector_user(task.assignments.first().inspector)
    result = result_record(actor=user, task=task, outcome="no_problem", inspected_on=timezone.localdate())
    client = logged_in(county_regulator)
    for url in [
        reverse("admin:inspections_task_change", args=[task.pk]),
        reverse("admin:inspections_result_change", args=[result.pk]),
    ]:
        page = text(client.get(url))
        assert 'name="_save"' not in page, url
    before = Result.objects.get(pk=result.pk).updated_at
    client.post(reverse("admin:inspections_result_change", args=[result.pk]), {"outcome": "problem"})
    result.refresh_from_db()
    assert result.outcome == "no_problem" and result.updated_at == before
