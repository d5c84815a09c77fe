"""The regulators' supervision dashboard: who may open it, figures scoped to the county against hand-counted fixtures
(classes, monthly trend, listings and removals per month, repairs with working days); and real inspection results
(a drawn plan, results recorded and published through the inspections services) on a certificate and in the county
report's problem-found rate by class."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.calendar import WorkingCalendar
from core.models import User
from credit import dashboard, reports
from credit.models import ModelVersion, Snapshot
from enterprises.models import Region
from inspections.models import Task
from inspections.services.draws import draw_commit, draw_execute
from inspections.services.results import result_publish, result_record
from repair.models import EnterpriseAccount, RepairApplication, RepairPolicy
from tests.credit.test_checks import TODAY, check_one, today  # noqa: F401
from tests.disclosure.factories import AbnormalListingFactory
from tests.factories import EnterpriseFactory, UserFactory
from tests.inspections.factories import InspectorFactory, ItemFactory, inspector_user, make_plan, make_population

URL = "admin:credit_supervision_dashboard"


def _repair(enterprise, listing, *, filed: dt.date, decided: dt.date | None, status: str, submitter: User):
    return RepairApplication.objects.create(
        number=f"T{uuid.uuid4().hex[:12]}",
        enterprise=enterprise,
        kind=RepairApplication.Kind.ABNORMAL_REMOVAL,
        abnormal_listing=listing,
        target_key=f"abnormal:{listing.pk}:{uuid.uuid4().hex[:6]}",
        target_label="经营异常名录",
        policy=RepairPolicy.objects.order_by("-effective_from").first(),
        responsible_office_id=enterprise.region_id,
        responsible_authority="市场监督管理局",
        submitted_by=submitter,
        submission_key=uuid.uuid4(),
        statement="已补报",
        contact_name="张三",
        contact_phone="13900000000",
        status=status,
        filed_on=filed,
        decided_on=decided,
    )


@pytest.fixture
def board_data(db, city_regulator):
    """榆次 (140702): classes A, B, B, D and one unclassified; 太谷 (140703): C, C.
    Abnormal list, within the dashboard's 12 months (2025-12-01 … 2026-11-20):
      榆次: listed 2026-03-02 (y1), 2026-03-20 (y2), 2026-07-08 (y3); y1's removed 2026-05-06; one listed 2025-06-01
            (before the window) removed 2026-07-15.
      太谷: listed 2026-03-10, removed 2026-03-31.
    Repairs (榆次): two approved (filed 2026-05-04 → decided 2026-05-08; filed 2026-07-06 → decided 2026-07-10), one
    rejected; 太谷: one approved."""
    yuci, taigu = Region.objects.get(code="140702"), Region.objects.get(code="140703")
    y = [EnterpriseFactory(region=yuci, risk_class=c) for c in ("A", "B", "B", "D", "")]
    t = [EnterpriseFactory(region=taigu, risk_class=c) for c in ("C", "C")]
    l1 = AbnormalListingFactory(enterprise=y[0], reason="unreachable", year=0, decided_on=dt.date(2026, 3, 2),
                                status="removed", removed_on=dt.date(2026, 5, 6),
                                removal_reason="repaired")  # fmt: skip
    l2 = AbnormalListingFactory(enterprise=y[1], reason="annual_report", year=2025, decided_on=dt.date(2026, 3, 20))
    l3 = AbnormalListingFactory(enterprise=y[2], reason="annual_report", year=2025, decided_on=dt.date(2026, 7, 8))
    AbnormalListingFactory(enterprise=y[3], reason="annual_report", year=2024, decided_on=dt.date(2025, 6, 1),
                           status="removed", removed_on=dt.date(2026, 7, 15), removal_reason="cured")  # fmt: skip
    lt = AbnormalListingFactory(enterprise=t[0], reason="annual_report", year=2025, decided_on=dt.date(2026, 3, 10),
                                status="removed", removed_on=dt.date(2026, 3, 31), removal_reason="cured")  # fmt: skip
    approved = RepairApplication.Status.APPROVED
    _repair(y[0], l1, filed=dt.date(2026, 5, 4), decided=dt.date(2026, 5, 8), status=approved, submitter=city_regulator)
    _repair(
        y[1], l2, filed=dt.date(2026, 7, 6), decided=dt.date(2026, 7, 10), status=approved, submitter=city_regulator
    )
    _repair(y[2], l3, filed=dt.date(2026, 8, 3), decided=dt.date(2026, 8, 5), status=RepairApplication.Status.REJECTED,
            submitter=city_regulator)  # fmt: skip
    _repair(
        t[0], lt, filed=dt.date(2026, 3, 16), decided=dt.date(2026, 3, 30), status=approved, submitter=city_regulator
    )
    version = ModelVersion.objects.get(status=ModelVersion.Status.LIVE)
    Snapshot.objects.create(month=dt.date(2026, 10, 1), region=yuci, a=1, b=2, c=0, d=1, model_version=version)
    Snapshot.objects.create(month=dt.date(2026, 10, 1), region=taigu, a=0, b=0, c=2, d=0, model_version=version)
    return {"yuci": y, "taigu": t}


def test_the_county_dashboard_counts_only_the_county(board_data, county_regulator):
    board = dashboard.dashboard_for(county_regulator, today=TODAY)
    assert board.scope.region == "140702" and board.region_name == "榆次区"
    assert board.classes["counts"] == {"A": 1, "B": 2, "C": 0, "D": 1} and board.classes["total"] == 4
    months = board.listings["months"]
    assert months[0] == "2025-12" and months[-1] == "2026-11" and len(months) == 12
    listed = dict(zip(months, board.listings["listed"], strict=True))
    removed = dict(zip(months, board.listings["removed"], strict=True))
    assert {m: n for m, n in listed.items() if n} == {"2026-03": 2, "2026-07": 1}
    assert {m: n for m, n in removed.items() if n} == {"2026-05": 1, "2026-07": 1}  # the 2025 listing's removal too
    kind = board.repairs["by_kind"][RepairApplication.Kind.ABNORMAL_REMOVAL]
    assert kind["approved"] == 2 and kind["rejected"] == 1
    calendar = WorkingCalendar.load()
    days = [
        calendar.working_days_between(dt.date(2026, 5, 4), dt.date(2026, 5, 8)),
        calendar.working_days_between(dt.date(2026, 7, 6), dt.date(2026, 7, 10)),
        calendar.working_days_between(dt.date(2026, 8, 3), dt.date(2026, 8, 5)),
    ]
    assert kind["average_working_days"] == round(sum(days) / 3, 1)
    # The trend: only 榆次's snapshot (1 A, 2 B, 1 D of 4).
    assert board.trend.months == ["2026-10"]
    assert board.trend.series["B"] == [50.0] and board.trend.series["C"] == [0.0]


def test_a_county_regulator_cannot_ask_for_another_county(board_data, county_regulator):
    board = dashboard.dashboard_for(county_regulator, region="140703", today=TODAY)
    assert board.scope.region == "140702"  # whatever is asked, their county (the view answers 404, below)


def test_the_city_dashboard_counts_every_county_or_one(board_data, city_regulator):
    board = dashboard.dashboard_for(city_regulator, today=TODAY)
    assert board.scope.region is None and board.region_name == "全市"
    assert board.classes["counts"] == {"A": 1, "B": 2, "C": 2, "D": 1}
    assert sum(board.listings["listed"]) == 4 and sum(board.listings["removed"]) == 3
    assert board.repairs["by_kind"][RepairApplication.Kind.ABNORMAL_REMOVAL]["approved"] == 3
    assert board.trend.series["C"] == [pytest.approx(100 * 2 / 6)]  # 2 C of 6 across both counties
    taigu = dashboard.dashboard_for(city_regulator, region="140703", today=TODAY)
    assert taigu.classes["counts"] == {"A": 0, "B": 0, "C": 2, "D": 0}
    assert sum(taigu.listings["listed"]) == 1 and sum(taigu.listings["removed"]) == 1


def test_the_page_loads_for_city_and_county_regulators(board_data, client, city_regulator, county_regulator):
    client.force_login(county_regulator)
    response = client.get(reverse(URL))
    assert response.status_code == 200
    html = response.content.decode()
    assert "榆次区" in html and "<svg" in html
    assert "太谷区" not in html  # no county picker for a county regulator
    assert client.get(reverse(URL), {"county": "140703"}).status_code == 404
    client.force_login(city_regulator)
    response = client.get(reverse(URL), {"county": "140703"})
    assert response.status_code == 200
    assert response.context["board"].classes["counts"]["C"] == 2
    assert "太谷区" in response.content.decode()


def test_the_page_is_refused_to_anonymous_enterprise_and_other_staff_users(board_data, client):
    url = reverse(URL)
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]
    owner = UserFactory(role=User.Role.ENTERPRISE, is_staff=False)
    EnterpriseAccount.objects.create(user=owner, enterprise=board_data["yuci"][0], activated_at=timezone.now())
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]  # not a staff account: no admin
    for role in (User.Role.INSPECTOR, User.Role.DATA_CLERK, User.Role.CREDIT_REVIEWER):
        client.force_login(UserFactory(role=role, region_code="140702"))
        assert client.get(url).status_code == 403, role


# ==============================================================================================================
# Real inspection results: on the certificate and in the county report
# ==============================================================================================================


@pytest.fixture
def inspected(db, city_regulator):
    """A 榆次 plan drawing 50 % of 10 C and 50 % of 6 D entities (5 C and 3 D tasks); results recorded by the
    assigned inspectors: of the C tasks 1 problem, 4 no problem; of the D tasks 2 problems, 1 no problem; all
    published except one D problem (not public yet)."""
    item = ItemFactory()
    for _ in range(6):
        InspectorFactory(items=[item])
    make_population({"C": 10, "D": 6})
    plan = make_plan(items=[item], ratio_c=Decimal("50"), ratio_d=Decimal("50"), name="2026年度榆次区双随机抽查计划")
    draw = draw_execute(actor=None, draw=draw_commit(actor=None, plan=plan))
    tasks = {cls: list(Task.objects.filter(draw=draw, risk_class=cls).order_by("pk")) for cls in "CD"}
    assert len(tasks["C"]) == 5 and len(tasks["D"]) == 3
    outcomes = {"C": ["problem", "no_problem", "no_problem", "no_problem", "no_problem"],
                "D": ["problem", "problem", "no_problem"]}  # fmt: skip
    results = {}
    for cls in "CD":
        for task, outcome in zip(tasks[cls], outcomes[cls], strict=True):
            user = inspector_user(task.assignments.first().inspector)
            extra = {"details": "未按规定公示即时信息"} if outcome == "problem" else {}
            results[(cls, task.pk)] = result = result_record(
                actor=user, task=task, outcome=outcome, inspected_on=TODAY, **extra
            )
            if not (cls == "D" and task == tasks["D"][1]):
                result_publish(actor=city_regulator, result=result)
    return {"plan": plan, "tasks": tasks, "results": results}


def test_a_published_problem_result_is_listed_on_the_certificate(inspected, city_regulator):
    from credit import certificates

    problem_task = inspected["tasks"]["C"][0]
    line = check_one(city_regulator, problem_task.enterprise)
    assert line.outcome == "records" and line.facts["no_record"] is False
    [fact] = line.facts["inspections"]
    assert fact["plan"] == "2026年度榆次区双随机抽查计划" and fact["inspected_on"] == TODAY.isoformat()
    html = certificates.render_html(
        certificates.certificate_context(line=line, serial=f"{line.serial}-0", printed_at=timezone.now())
    )
    assert "2026年度榆次区双随机抽查计划" in html
    # A result without a problem is not a bad record; an unpublished problem is not public yet.
    clean = check_one(city_regulator, inspected["tasks"]["C"][1].enterprise)
    assert clean.facts["inspections"] == [] and clean.outcome == "no_record"
    unpublished = check_one(city_regulator, inspected["tasks"]["D"][1].enterprise)
    assert unpublished.facts["inspections"] == []


def test_the_county_report_gives_the_problem_found_rate_by_class(inspected, city_regulator, county_regulator):
    scope = reports.resolve_scope(user=county_regulator, region=None, start=dt.date(2026, 1, 1), end=TODAY)
    stats = reports.report_data(scope)["inspections"]
    assert stats["available"] is True
    assert stats["plans"] == 1 and stats["tasks"] == 8 and stats["tasks_done"] == 8
    assert stats["entities_inspected"] == 8 and stats["problems_found"] == 3
    assert stats["problem_rate"] == 37.5
    assert stats["by_class"]["C"] == {"inspected": 5, "problems": 1, "rate": 20.0}
    assert stats["by_class"]["D"]["inspected"] == 3 and stats["by_class"]["D"]["problems"] == 2
    assert stats["by_class"]["D"]["rate"] == pytest.approx(66.67, abs=0.01)
    assert stats["by_class"]["A"]["rate"] is None  # none inspected: no rate, not 0 %
    # Another county's report has none of them; the dashboard shows the same rates.
    taigu = reports.resolve_scope(user=city_regulator, region="140703", start=dt.date(2026, 1, 1), end=TODAY)
    assert reports.inspections(taigu)["entities_inspected"] == 0
    board = dashboard.dashboard_for(county_regulator, today=TODAY)
    assert board.inspections["by_class"]["C"]["rate"] == 20.0
    assert "20%" in board.inspections_chart or "20.0%" in board.inspections_chart
