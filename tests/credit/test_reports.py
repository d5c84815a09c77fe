"""County reports: every figure against hand-counted fixtures (records vs distinct entities, totals that add up),
county scoping, bad periods, the workbook's sheets, the streamed detail export with the abnormal list's FilterSet."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.errors import ApplicationError, NotPermitted
from credit import reports
from credit.models import CreditWarning
from disclosure.models import AbnormalListing, Penalty, SeriousListing
from enterprises.models import AnnualReport, Enterprise, Region
from tests.credit.test_checks import START, TODAY, check_one, clean_entity, today  # noqa: F401
from tests.disclosure.factories import AbnormalListingFactory, PenaltyFactory, SeriousListingFactory
from tests.factories import EnterpriseFactory

PERIOD = (dt.date(2026, 1, 1), dt.date(2026, 10, 31))


@pytest.fixture
def data(db, city_regulator):

    taigu = Region.objects.get(code="140703")
    # 榆次: 3 enterprises (one deregistered), 2 individual businesses, 1 cooperative; 太谷: 1 enterprise
    e1 = EnterpriseFactory(risk_class="A")
    e2 = EnterpriseFactory(risk_class="B")
    EnterpriseFactory(status=Enterprise.Status.DEREGISTERED, risk_class="")
    i1 = EnterpriseFactory(entity_type="individual", risk_class="C")
    i2 = EnterpriseFactory(entity_type="individual", risk_class="B")
    c1 = EnterpriseFactory(entity_type="cooperative", risk_class="D")
    t1 = EnterpriseFactory(region=taigu, risk_class="A")
    # 2025 reports: e1, i1 filed (i1 late), c1 not
    AnnualReport.objects.create(enterprise=e1, year=2025, filed_on=dt.date(2026, 4, 1))
    AnnualReport.objects.create(enterprise=i1, year=2025, filed_on=dt.date(2026, 8, 1))
    AnnualReport.objects.create(enterprise=t1, year=2025, filed_on=dt.date(2026, 4, 1))
    # Abnormal: e2 listed twice in the period (two reasons), c1 once; i1 marked; one before the period; removals
    AbnormalListingFactory(enterprise=e2, reason="annual_report", year=2025, decided_on=dt.date(2026, 7, 8))
    AbnormalListingFactory(enterprise=e2, reason="unreachable", year=0, decided_on=dt.date(2026, 3, 2),
                           status="removed", removed_on=dt.date(2026, 5, 6), removal_reason="repaired")  # fmt: skip
    AbnormalListingFactory(enterprise=c1, reason="annual_report", year=2025, decided_on=dt.date(2026, 7, 8))
    AbnormalListingFactory(
        enterprise=i1, reason="annual_report", year=2025, is_mark=True, decided_on=dt.date(2026, 7, 9)
    )
    AbnormalListingFactory(enterprise=e1, reason="annual_report", year=2024, decided_on=dt.date(2025, 7, 8),
                           status="removed", removed_on=dt.date(2026, 2, 1), removal_reason="cured")  # fmt: skip
    AbnormalListingFactory(enterprise=t1, reason="annual_report", year=2025, decided_on=dt.date(2026, 7, 8))
    # Serious: e2 listed in the period, c1 removed (early repair) in the period
    SeriousListingFactory(enterprise=e2, decided_on=dt.date(2026, 3, 2))
    SeriousListingFactory(enterprise=c1, decided_on=dt.date(2025, 3, 2), stage=SeriousListing.Stage.REMOVED,
                          removed_on=dt.date(2026, 4, 1), removal_kind="early_repair", hidden_from_public=True)  # fmt: skip  # noqa: E501
    # Penalties: 2 of e1 disclosed in the period, one stopped early; e2 one; one of 2025 expired in the period
    PenaltyFactory(enterprise=e1, decision_date=dt.date(2026, 3, 2), disclosed_from=dt.date(2026, 3, 3))
    PenaltyFactory(enterprise=e1, decision_date=dt.date(2026, 4, 2), disclosed_from=dt.date(2026, 4, 3),
                   disclosure_ended_on=dt.date(2026, 10, 9), disclosure_end_reason=Penalty.EndReason.REPAIRED)  # fmt: skip  # noqa: E501
    PenaltyFactory(enterprise=e2, decision_date=dt.date(2026, 5, 2), disclosed_from=dt.date(2026, 5, 3))
    PenaltyFactory(enterprise=i2, decision_date=dt.date(2025, 1, 2), disclosed_from=dt.date(2025, 1, 3),
                   disclosed_until=dt.date(2026, 1, 2), disclosure_ended_on=dt.date(2026, 1, 3),
                   disclosure_end_reason=Penalty.EndReason.EXPIRED)  # fmt: skip
    # Warnings: e1 twice (two causes), c1 once, t1 once
    for ent, cause in ((e1, "annual_report"), (e1, "abnormal_expiry"), (c1, "annual_report"), (t1, "annual_report")):
        CreditWarning.objects.create(enterprise=ent, cause=cause, cause_key="2025", found_on=dt.date(2026, 6, 10),
                                     channel="sms", recipient="13900000000")  # fmt: skip
    return {"e1": e1, "e2": e2, "c1": c1, "i1": i1, "t1": t1}


def scope(region="140702"):
    return reports.Scope(region=region, start=PERIOD[0], end=PERIOD[1])


def test_entity_counts_by_type(data):
    figures = reports.entity_counts(scope())
    assert figures["by_type"]["enterprise"]["total"] == 3 and figures["by_type"]["enterprise"]["deregistered"] == 1
    assert figures["by_type"]["individual"]["total"] == 2 and figures["by_type"]["cooperative"]["total"] == 1
    assert figures["total"]["total"] == 6
    assert reports.entity_counts(scope(None))["total"]["total"] == 7


def test_annual_report_rates_by_type(data):
    figures = reports.annual_report_rates(scope())
    assert figures["year"] == 2025
    assert figures["by_type"]["enterprise"] == {"due": 2, "filed": 1, "on_time": 1, "rate": 50.0}
    assert figures["by_type"]["individual"] == {"due": 2, "filed": 1, "on_time": 0, "rate": 50.0}
    assert figures["by_type"]["cooperative"] == {"due": 1, "filed": 0, "on_time": 0, "rate": 0.0}
    assert figures["total"] == {"due": 5, "filed": 2, "on_time": 1, "rate": 40.0}


def test_annual_report_rates_count_a_report_filed_after_the_period_as_not_filed(data):
    # e2 files its 2025 report after the period's end; e1's 2024 report is of another year: neither counts.
    AnnualReport.objects.create(enterprise=data["e2"], year=2025, filed_on=dt.date(2026, 11, 5))
    AnnualReport.objects.create(enterprise=data["e1"], year=2024, filed_on=dt.date(2025, 4, 1))
    figures = reports.annual_report_rates(scope())
    assert figures["by_type"]["enterprise"] == {"due": 2, "filed": 1, "on_time": 1, "rate": 50.0}
    later = reports.Scope(region="140702", start=PERIOD[0], end=dt.date(2026, 11, 30))
    assert reports.annual_report_rates(later)["by_type"]["enterprise"] == {
        "due": 2,
        "filed": 2,
        "on_time": 1,
        "rate": 100.0,
    }


def test_the_report_turns_jit_off_for_its_own_queries_only(data, monkeypatch):
    from django.db import connection

    def jit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            return cursor.fetchone()[0]

    before = jit()
    seen = []
    counts = reports.entity_counts
    monkeypatch.setattr(reports, "entity_counts", lambda s: seen.append(jit()) or counts(s))
    reports.report_data(scope())
    assert seen == ["off"]
    assert jit() == before  # the test's own transaction goes on with the setting it had


def test_class_counts_and_shares(data):
    figures = reports.class_distribution(scope())
    assert figures["counts"] == {"A": 1, "B": 2, "C": 1, "D": 1} and figures["total"] == 5
    assert figures["shares"] == {"A": 20.0, "B": 40.0, "C": 20.0, "D": 20.0}


def test_abnormal_listings_records_and_distinct_entities(data):
    figures = reports.abnormal_figures(scope())
    rows = {(r["is_mark"], r["reason"]): (r["records"], r["entities"]) for r in figures["listed"]["rows"]}
    assert rows == {(False, "annual_report"): (2, 2), (False, "unreachable"): (1, 1), (True, "annual_report"): (1, 1)}
    # records add up (4); entities are distinct overall: e2 (twice), c1, i1 → 3
    assert figures["listed"]["total"] == {"records": 4, "entities": 3}
    assert sum(r["records"] for r in figures["listed"]["rows"]) == figures["listed"]["total"]["records"]
    removed = {(r["is_mark"], r["removal_reason"]): r["records"] for r in figures["removed"]["rows"]}
    assert removed == {(False, "cured"): 1, (False, "repaired"): 1}
    assert figures["removed"]["total"] == {"records": 2, "entities": 2}
    at_end = {r["is_mark"]: (r["records"], r["entities"]) for r in figures["at_end"]}
    assert at_end == {False: (2, 2), True: (1, 1)}


def test_serious_penalty_and_warning_figures(data):
    serious = reports.serious_figures(scope())
    assert serious["listed"]["total"] == {"records": 1, "entities": 1}
    assert [(r["removal_kind"], r["records"]) for r in serious["removed"]["rows"]] == [("early_repair", 1)]
    assert serious["at_end"] == {"records": 1, "entities": 1}
    penalties = reports.penalty_figures(scope())
    assert penalties["disclosed"] == {"records": 3, "entities": 2}
    assert penalties["stopped_early"] == {"records": 1, "entities": 1}
    assert penalties["expired"] == {"records": 1, "entities": 1}
    assert penalties["decided"] == {"records": 3, "entities": 2}
    warnings = reports.warning_figures(scope())
    assert warnings["total"] == {"n": 3, "entities": 2}
    assert reports.warning_figures(scope(None))["total"] == {"n": 4, "entities": 3}


def test_checks_are_counted(data, city_regulator):
    check_one(city_regulator, data["e1"])
    check_one(city_regulator, data["t1"])
    figures = reports.check_figures(reports.Scope(region="140702", start=START, end=dt.date(2030, 1, 1)))
    assert figures["checked"] == 1 and figures["entities"] == 1 and figures["with_records"] == 1
    city = reports.check_figures(reports.Scope(region=None, start=START, end=dt.date(2030, 1, 1)))
    assert city["checks"] == 2 and city["by_purpose"] == {"procurement": 2} and city["checked"] == 2


def test_a_county_regulator_reports_on_their_county_only(data, county_regulator, city_regulator):
    got = reports.resolve_scope(user=county_regulator, region=None, start=PERIOD[0], end=PERIOD[1])
    assert got.region == "140702"
    with pytest.raises(NotPermitted):
        reports.resolve_scope(user=county_regulator, region="140703", start=PERIOD[0], end=PERIOD[1])
    assert reports.resolve_scope(user=city_regulator, region="", start=PERIOD[0], end=PERIOD[1]).region is None


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (dt.date(2026, 5, 1), dt.date(2026, 4, 1), "period_reversed"),
        (dt.date(2026, 1, 1), dt.date(2026, 12, 31), "period_future"),
    ],
)
def test_a_bad_period_is_refused(db, city_regulator, start, end, code):
    with pytest.raises(ApplicationError) as exc:
        reports.resolve_scope(user=city_regulator, region=None, start=start, end=end)
    assert exc.value.code == code and "统计期间" in exc.value.message


def test_the_workbook_has_a_sheet_per_theme_with_the_figures(data):
    workbook = reports.report_workbook(reports.report_data(scope()))
    assert workbook.sheetnames == ["经营主体", "年报公示", "信用风险分类", "双随机抽查", "经营异常名录", "严重违法失信名单",  # noqa: E501
                                   "行政处罚公示", "信用修复", "信用核查", "失信警示"]  # fmt: skip
    sheet = workbook["经营异常名录"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["合计", "", 4, 3] in [row[:4] for row in values]
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert load_workbook(buffer).sheetnames[0] == "经营主体"


def test_the_admin_report_downloads_and_refuses_a_future_period(data, client, county_regulator):
    client.force_login(county_regulator)
    url = reverse("admin:credit_reports")
    response = client.get(url, {"start": "2026-01-01", "end": "2026-10-31", "download": "1"})
    assert response.status_code == 200 and "spreadsheetml" in response["Content-Type"]
    response = client.get(url, {"start": "2026-01-01", "end": "2027-01-31"})
    assert "统计期间不能晚于今天" in response.content.decode()


def test_the_detail_export_uses_the_list_filterset_and_the_county(data, county_regulator, tmp_path):
    path = tmp_path / "detail.xlsx"
    n = reports.write_abnormal_detail(user=county_regulator, filters={"decided_on_after": "2026-01-01"}, path=path)
    assert n == 4  # 榆次's four listings of 2026 (太谷's is not visible)
    rows = list(load_workbook(path).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "决定书文号" and len(rows) == 5
    assert reports.write_abnormal_detail(user=county_regulator, filters={"reason": "unreachable"}, path=path) == 1
    with pytest.raises(ApplicationError):
        reports.write_abnormal_detail(user=county_regulator, filters={"decided_on_after": "not-a-date"}, path=path)
    assert AbnormalListing.objects.count() == 6


def test_the_streaming_sheet_round_trips_awkward_values(tmp_path):
    """The detail exports' own xlsx writer: escaped text, formula-looking text quoted, control characters dropped,
    dates as dates, blanks as empty cells — read back by openpyxl without a warning."""
    import warnings as pywarnings

    path = tmp_path / "s.xlsx"
    sheet = reports.StreamingSheet(path, title="经营异常名录明细", widths=[20, 20])
    sheet.append(["决定书文号", "日期"], bold=True)
    sheet.append([reports.safe_cell("=HYPERLINK(1)"), dt.date(2026, 7, 8)])
    sheet.append(["<晋中&商贸>\x01有限公司", None])
    sheet.append([2025, ""])
    sheet.close()
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("error")
        workbook = load_workbook(path)
    assert workbook.sheetnames == ["经营异常名录明细"]
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("决定书文号", "日期")
    assert rows[1][0] == "'=HYPERLINK(1)" and rows[1][1].date() == dt.date(2026, 7, 8)
    assert rows[2] == ("<晋中&商贸>有限公司", None)
    assert rows[3] == (2025, None)
    assert workbook.worksheets[0]["A1"].font.b is True
