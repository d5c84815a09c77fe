"""Importing enterprises and annual reports: all or nothing, every bad row reported, re-imports change nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from stdnum.cn import uscc as stdnum_uscc

from core.models import AuditEvent, Job, User
from enterprises import identity
from enterprises.importing import import_file, service
from enterprises.importing.columns import map_header
from enterprises.importing.load import OrmLoader, merge_former_names
from enterprises.importing.validate import EnterpriseRows, ReferenceData, fast_search_fields, uscc_is_valid_fast
from enterprises.models import AnnualReport, Enterprise, RegistrationChange, search_fields
from tests.factories import AnnualReportFactory, EnterpriseFactory, UserFactory, make_uscc

HEADER = [
    "uscc",
    "name",
    "legal_representative",
    "address",
    "region_code",
    "industry_code",
    "registered_capital",
    "registration_date",
    "status",
]
CHINESE_HEADER = ["统一社会信用代码", "企业名称", "法定代表人（负责人）", "住所", "行政区划代码", "国民经济行业代码",
                  "注册资本（万元）", "成立日期", "登记状态"]  # fmt: skip


def uscc(serial: int, entity_type: str = "enterprise", region: str = "140702") -> str:
    return make_uscc(entity_type=entity_type, region_code=region, serial=1_000_000 + serial)


def row(serial: int, **values: str) -> dict[str, str]:
    """A valid enterprise row; keyword arguments override cells."""
    base = {
        "uscc": uscc(serial),
        "name": f"晋中测试{serial}号商贸有限公司",
        "legal_representative": "李四",
        "address": f"山西省晋中市榆次区顺城街{serial}号",
        "region_code": "140702",
        "industry_code": "F5211",
        "registered_capital": "50",
        "registration_date": "2019-04-01",
        "status": "operating",
    }
    base.update(values)
    return base


def write_csv(
    folder: Path, rows: list[dict[str, str]], *, header: list[str] | None = None, name: str = "import.csv",
    encoding: str = "utf-8",
) -> Path:  # fmt: skip
    header = header or list(rows[0]) if rows else header or HEADER
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow(list(r.values()))
    path = folder / name
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(folder: Path, sheets: dict[str, list[list[object]]], *, name: str = "import.xlsx") -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for r in rows:
            sheet.append(r)
    path = folder / name
    workbook.save(path)
    return path


def db_state() -> dict[str, list[dict]]:
    """Everything an import may write, to prove a refused import wrote nothing."""
    return {
        "enterprises": list(Enterprise.objects.order_by("id").values()),
        "reports": list(AnnualReport.objects.order_by("id").values()),
        "changes": list(RegistrationChange.objects.order_by("id").values()),
        "audit": list(AuditEvent.objects.order_by("id").values()),
        "jobs": list(Job.objects.order_by("id").values()),
    }


def messages(result) -> list[str]:
    return [str(e) for e in result.errors]


@pytest.fixture(params=["postgresql", "orm"])
def loader(request, monkeypatch) -> str:
    """Runs a test through the set-based PostgreSQL loader and through the portable ORM loader (SQLite's)."""
    if request.param == "orm":
        monkeypatch.setattr(service, "loader_for_connection", lambda *, cap: OrmLoader(cap=cap))
    return request.param


@pytest.fixture
def existing(db) -> list[Enterprise]:
    """Two entities already in the registry, so that a refused import could have changed something."""
    return [EnterpriseFactory(), EnterpriseFactory(entity_type=Enterprise.EntityType.INDIVIDUAL)]


# --- Happy paths ----------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_imports_a_csv_with_english_headers(tmp_path, loader, city_regulator):
    rows = [
        row(1, industry_code="1431", registered_capital="1,200.5"),
        row(2, uscc=uscc(2, "individual"), registered_capital="", industry_code="C14", status="歇业"),
        row(3, uscc=uscc(3, "cooperative", "140703"), region_code="140703", industry_code="01",
            registration_date="2020/3/7", status=""),
    ]  # fmt: skip
    result = import_file(path=write_csv(tmp_path, rows), actor=city_regulator)

    assert result.ok, messages(result)
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert result.summary() == "导入成功：3 行（新增 3，更新 0，未变 0）"
    first = Enterprise.objects.get(uscc=uscc(1))
    assert (first.entity_type, first.industry_id, first.industry_code) == ("enterprise", "14", "C1431")
    assert first.registered_capital == Decimal("1200.5")
    assert (first.search_text, first.name_grams) == search_fields(first.name, [])
    individual = Enterprise.objects.get(uscc=uscc(2, "individual"))
    assert individual.entity_type == "individual"
    assert individual.registered_capital is None
    assert individual.status == Enterprise.Status.SUSPENDED
    coop = Enterprise.objects.get(uscc=uscc(3, "cooperative", "140703"))
    assert (coop.entity_type, coop.region_id, coop.industry_code) == ("cooperative", "140703", "A01")
    assert coop.registration_date == dt.date(2020, 3, 7)
    assert coop.status == Enterprise.Status.OPERATING

    job = Job.objects.get(pk=result.job_id)
    assert job.kind == "import_enterprises"
    assert job.status == Job.Status.SUCCEEDED
    assert job.created_by == city_regulator
    assert job.params["file_name"] == "import.csv"
    assert len(job.params["sha256"]) == 64
    assert (job.result["created"], job.result["updated"], job.result["unchanged"]) == (3, 0, 0)
    event = AuditEvent.objects.get(action="enterprise.import")
    assert (event.object_type, event.object_id, event.actor) == ("core.job", str(job.pk), city_regulator)
    assert not AuditEvent.objects.filter(action="enterprise.import_update").exists()


@pytest.mark.django_db
def test_it_imports_an_xlsx_with_chinese_headers_and_excel_cells(tmp_path, loader):
    excel_date = dt.datetime(2016, 5, 20)  # noqa: DTZ001 - Excel date cells are naive
    sheet = [
        [*CHINESE_HEADER, "主体类型", "曾用名", "联系电话"],
        [uscc(10), "晋中喆堃农业科技有限公司", "王五", "榆次区迎宾街2号", 140702, "A01", 300,
         excel_date, "存续（在营、开业、在册）", "有限责任公司（自然人投资或控股）",
         "晋中喆堃农业有限公司；晋中堃农业有限公司", "0354-1234567"],
        [uscc(11, "individual"), "榆次区王记面馆", "王记", "榆次区中都路8号", "榆次区", 62, None,
         "2018年7月1日", "在营", "个体工商户", None, None],
    ]  # fmt: skip
    result = import_file(path=write_xlsx(tmp_path, {"企业": sheet}), actor=None)

    assert result.ok, messages(result)
    assert result.created == 2
    company = Enterprise.objects.get(uscc=uscc(10))
    assert company.registration_date == dt.date(2016, 5, 20)
    assert company.registered_capital == Decimal("300")
    assert company.former_names == ["晋中喆堃农业有限公司", "晋中堃农业有限公司"]
    assert "喆堃" in company.name_grams and "晋中堃农业有限公司" in company.search_text
    assert company.contact_phone == "0354-1234567"
    shop = Enterprise.objects.get(uscc=uscc(11, "individual"))
    assert (shop.region_id, shop.industry_code, shop.registration_date) == ("140702", "H62", dt.date(2018, 7, 1))


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_it_reads_csv_with_a_bom_and_in_gb18030(tmp_path, encoding):
    rows = [dict(zip(CHINESE_HEADER, row(20, name="晋中市榆次区喆堃商贸有限公司").values(), strict=True))]
    path = write_csv(tmp_path, rows, encoding=encoding)
    if encoding == "utf-8-sig":
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    result = import_file(path=path, actor=None)

    assert result.ok, messages(result)
    assert Enterprise.objects.get(uscc=uscc(20)).name == "晋中市榆次区喆堃商贸有限公司"


@pytest.mark.django_db
def test_it_matches_headers_ignoring_case_spaces_and_width(tmp_path):
    header = [" USCC ", "Name", "Legal Representative", "ADDRESS", "region_code", "industry code",
              "注册资本(万元)", "registration_date ", "Status"]  # fmt: skip
    result = import_file(path=write_csv(tmp_path, [row(21)], header=header), actor=None)
    assert result.ok, messages(result)


@pytest.mark.django_db
def test_it_changes_nothing_when_the_same_file_is_imported_twice(tmp_path, loader, existing):
    path = write_csv(tmp_path, [row(30), row(31), row(32, uscc=existing[0].uscc, name=existing[0].name)])
    first = import_file(path=path, actor=None)
    assert first.ok, messages(first)
    assert (first.created, first.updated) == (2, 1)
    before = db_state()

    second = import_file(path=path, actor=None)

    assert second.ok
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert "未作任何修改" in second.summary()
    assert second.job_id is None
    assert db_state() == before  # no audit event, no job, no update


@pytest.mark.django_db
def test_it_updates_a_changed_row_and_audits_only_the_changed_fields(tmp_path, loader, city_regulator):
    import_file(path=write_csv(tmp_path, [row(40), row(41)]), actor=None)
    old = Enterprise.objects.get(uscc=uscc(40))
    changed = row(40, name="晋中新名称商贸有限公司", registered_capital="80", status="吊销，未注销")

    result = import_file(path=write_csv(tmp_path, [changed, row(41)], name="v2.csv"), actor=city_regulator)

    assert result.ok, messages(result)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    ent = Enterprise.objects.get(uscc=uscc(40))
    assert ent.name == "晋中新名称商贸有限公司"
    assert ent.former_names == [old.name]  # the old name stays searchable
    assert (ent.search_text, ent.name_grams) == search_fields(ent.name, [old.name])
    assert ent.status == Enterprise.Status.REVOKED
    event = AuditEvent.objects.get(action="enterprise.import_update")
    assert (event.object_type, event.object_id, event.actor) == ("enterprises.enterprise", str(ent.pk), city_regulator)
    assert event.object_repr == str(ent)
    assert event.before == {"name": old.name, "former_names": [], "registered_capital": "50.0000",
                            "status": "operating"}  # fmt: skip
    assert event.after == {"name": ent.name, "former_names": [old.name], "registered_capital": "80.0000",
                           "status": "revoked"}  # fmt: skip
    assert event.note == f"导入任务 #{result.job_id}"
    changes = {c.field: (c.old_value, c.new_value) for c in RegistrationChange.objects.filter(enterprise=ent)}
    assert changes == {
        "name": (old.name, ent.name),
        "registered_capital": ("50.0000", "80.0000"),
        "status": ("operating", "revoked"),
    }
    assert AuditEvent.objects.filter(action="enterprise.import").count() == 2


@pytest.mark.django_db
def test_it_keeps_registry_values_of_columns_the_file_does_not_have(tmp_path, loader):
    ent = EnterpriseFactory(contact_phone="13800000000", former_names=["旧名称一"])
    ent.refresh_from_db()
    values = row(50, uscc=ent.uscc, name=ent.name, legal_representative="赵六", address=ent.address,
                 industry_code=ent.industry_code, registered_capital="100", registration_date="2015-03-01")  # fmt: skip

    result = import_file(path=write_csv(tmp_path, [values]), actor=None)

    assert result.ok, messages(result)
    assert result.updated == 1
    ent.refresh_from_db()
    assert ent.legal_representative == "赵六"
    assert ent.contact_phone == "13800000000"
    assert ent.former_names == ["旧名称一"]
    event = AuditEvent.objects.get(action="enterprise.import_update")
    assert event.before == {"legal_representative": "张三"}
    assert event.after == {"legal_representative": "赵六"}


@pytest.mark.django_db
def test_it_takes_the_bulk_path_and_restores_the_session_settings(tmp_path, monkeypatch):
    monkeypatch.setattr("enterprises.importing.load._BULK_ROWS", 1)  # what 10^4+ rows get, on 3 rows
    reports = [{"uscc": uscc(93), "year": "2024", "filed_on": "2025-03-01"}]
    path = write_xlsx(
        tmp_path,
        {
            "主体": [HEADER, *[list(row(i).values()) for i in (91, 92, 93)]],
            "年报": [list(reports[0]), list(reports[0].values())],
        },
    )
    with connection.cursor() as cursor:
        # The connection's own value (config.settings turns JIT off per connection by default).
        cursor.execute("SELECT reset_val FROM pg_settings WHERE name = 'jit'")
        jit_default = cursor.fetchone()[0]
    result = import_file(path=path, actor=None)
    assert result.ok, messages(result)
    assert (result.created, result.updated) == (4, 0)

    changed = write_csv(tmp_path, [row(91, name="改名后商贸有限公司"), row(92), row(93)], name="v2.csv")
    again = import_file(path=changed, actor=None)

    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    assert Enterprise.objects.filter(name_grams__contains=["改名"]).count() == 1
    assert Enterprise.objects.filter(search_text__contains="晋中测试91号").get().name == "改名后商贸有限公司"
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_nestloop")
        assert cursor.fetchone()[0] == "on"
        cursor.execute("SHOW gin_pending_list_limit")
        assert cursor.fetchone()[0] == "4MB"
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == jit_default
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"


@pytest.mark.django_db
@pytest.mark.parametrize("set_based", [True, False], ids=["set-based", "row-triggers"])
def test_a_reference_validation_missed_is_refused_on_both_paths(tmp_path, monkeypatch, existing, set_based):
    """The blocks' county and industry are checked set-based (superuser sessions: the foreign keys' row triggers
    skipped) or by the triggers (anyone else): a code that slipped past validation is refused either way, and
    the whole import is rolled back."""
    from django.db import IntegrityError

    from enterprises.importing.load import PostgresLoader, registry_references

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL loader")
    assert [(c, t) for c, t, _target in registry_references()] == [
        ("region_id", "enterprises_region"),
        ("industry_id", "enterprises_industry"),
    ]
    loaded = ReferenceData.load

    def with_a_phantom_county(*, allowed_region):
        ref = loaded(allowed_region=allowed_region)
        ref.counties["149999"] = "149999"  # a county validation believes in, absent from the registry's regions
        ref.county_names["149999"] = "不存在县"
        return ref

    monkeypatch.setattr(ReferenceData, "load", with_a_phantom_county)
    seen = []
    decide = PostgresLoader._can_check_references_in_bulk
    monkeypatch.setattr(
        PostgresLoader,
        "_can_check_references_in_bulk",
        lambda self: seen.append(decide(self)) or set_based,
    )
    before = db_state()
    path = write_csv(tmp_path, [row(1), row(2, uscc=uscc(2, region="149999"), region_code="149999")])
    expected = RuntimeError if set_based else IntegrityError
    with pytest.raises(expected, match="enterprises_region" if set_based else "region"):
        import_file(path=path, actor=None)
    assert seen == [True]  # the test database's owner is a superuser: production's docker-compose shape
    assert db_state() == before
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"


def test_it_merges_former_names_like_the_sql():
    assert merge_former_names(["A"], [], "N", "N") == ["A"]
    assert merge_former_names(["A"], ["B", "A"], "N", "N") == ["A", "B"]
    assert merge_former_names(["A"], [], "N", "M") == ["A", "N"]
    assert merge_former_names(["A", "N"], ["B"], "N", "M") == ["A", "N", "B"]


@pytest.mark.django_db
def test_it_merges_former_names_on_both_paths_alike(tmp_path, loader):
    ent = EnterpriseFactory(former_names=["甲公司", "乙公司"])
    values = row(51, uscc=ent.uscc, name="丙公司", legal_representative="张三", address=ent.address,
                 industry_code="F52", registered_capital="100", registration_date="2015-03-01")  # fmt: skip
    values["former_names"] = "乙公司;丁公司"
    result = import_file(path=write_csv(tmp_path, [values]), actor=None)
    assert result.ok, messages(result)
    ent.refresh_from_db()
    old_name = AuditEvent.objects.get(action="enterprise.import_update").before["name"]
    assert ent.former_names == ["甲公司", "乙公司", "丁公司", old_name]
    assert (ent.search_text, ent.name_grams) == search_fields("丙公司", ent.former_names)


@pytest.mark.django_db
def test_it_validates_and_counts_but_writes_nothing_in_a_dry_run(tmp_path, existing):
    before = db_state()
    result = import_file(path=write_csv(tmp_path, [row(60), row(61)]), actor=None, dry_run=True)
    assert result.ok
    assert result.created == 2
    assert result.job_id is None
    assert result.summary().startswith("校验通过（试运行")
    assert db_state() == before


# --- Annual reports -------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_imports_annual_reports_and_upserts_them_by_entity_and_year(tmp_path, loader):
    a, b = EnterpriseFactory(), EnterpriseFactory()
    AnnualReportFactory(enterprise=b, year=2023, filed_on=dt.date(2024, 5, 1))
    reports = [
        {"uscc": a.uscc, "year": "2024", "filed_on": "2025-06-30"},
        {"uscc": a.uscc, "year": "2023", "filed_on": "2024-07-01"},
        {"uscc": b.uscc, "year": "2023年", "filed_on": "2024/5/1"},
    ]
    result = import_file(path=write_csv(tmp_path, reports), actor=None)

    assert result.ok, messages(result)
    assert result.kind == "annual_reports"
    assert (result.created, result.updated, result.unchanged) == (2, 0, 1)
    assert AnnualReport.objects.get(enterprise=a, year=2024).on_time is True
    assert AnnualReport.objects.get(enterprise=a, year=2023).on_time is False  # after 30 June of the next year
    assert Job.objects.get(pk=result.job_id).kind == "import_annual_reports"

    reports[2]["filed_on"] = "2024-08-01"
    again = import_file(path=write_csv(tmp_path, reports, name="v2.csv"), actor=None)

    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    event = AuditEvent.objects.get(action="annual_report.import_update")
    assert event.before == {"filed_on": "2024-05-01", "on_time": True}
    assert event.after == {"filed_on": "2024-08-01", "on_time": False}


@pytest.mark.django_db
def test_it_imports_a_workbook_of_entities_and_their_annual_reports(tmp_path, loader):
    new = uscc(70)
    sheets = {
        "主体": [HEADER, list(row(70).values())],
        "年报": [["统一社会信用代码", "年报年度", "报送日期"], [new, 2024, dt.date(2025, 3, 1)]],
    }
    result = import_file(path=write_xlsx(tmp_path, sheets), actor=None)

    assert result.ok, messages(result)
    assert result.kind == "mixed"
    assert AnnualReport.objects.get(enterprise__uscc=new, year=2024).filed_on == dt.date(2025, 3, 1)


@pytest.mark.django_db
def test_it_refuses_bad_annual_report_rows(tmp_path, loader, existing):
    known = existing[0].uscc
    this_year = timezone.localdate().year
    reports = [
        {"uscc": known, "year": "2024", "filed_on": "2025-03-01"},
        {"uscc": uscc(80), "year": "2024", "filed_on": "2025-03-01"},
        {"uscc": known, "year": str(this_year), "filed_on": "2025-03-01"},
        {"uscc": known, "year": "2023", "filed_on": "2023-12-31"},
        {"uscc": known, "year": "2024", "filed_on": "2025-04-01"},
    ]
    before = db_state()

    result = import_file(path=write_csv(tmp_path, reports), actor=None)

    assert messages(result) == [
        "行 3，列 uscc：登记库中没有该统一社会信用代码的经营主体，本次导入的文件中也没有",
        f"行 4，列 year：年报年度应在 2000 至 {this_year - 1} 年之间（{this_year} 年的年报尚不能报送）",
        "行 5，列 filed_on：报送日期 2023-12-31 早于 2024 年 1 月 1 日：2023 年度的年报在次年报送",
        "行 6，列 year：同一主体同一年度的年报重复：与第 2 行相同",
    ]
    assert db_state() == before


# --- Bad input: each refused with a clear message, the database exactly as before ----------------------------------
BAD_CELLS = [
    ({"uscc": uscc(1)[:17] + ("0" if uscc(1)[17] != "0" else "1")}, "uscc", "统一社会信用代码校验位错误"),
    ({"uscc": uscc(1)[:17]}, "uscc", "统一社会信用代码应为 18 位，实际为 17 位"),
    ({"uscc": "91140702MA0IOSVZ1X"}, "uscc", "统一社会信用代码含有不允许的字符：I、O、S、V、Z（不使用 I、O、S、V、Z）"),
    ({"uscc": uscc(1, region="140702").replace("91", "51", 1)}, "uscc", None),
    ({"region_code": "110101"}, "region_code", "未知的区县代码“110101”"),
    ({"industry_code": "C99"}, "industry_code", "行业代码“C99”的大类 99 不存在"),
    ({"industry_code": "A14"}, "industry_code", "行业代码“A14”的门类字母有误：大类 14 属于门类 C"),
    ({"industry_code": "餐饮"}, "industry_code", "行业代码“餐饮”格式错误"),
    ({"registration_date": "2999-01-01"}, "registration_date", "成立日期 2999-01-01 晚于今天"),
    ({"registration_date": "2019-02-30"}, "registration_date", "成立日期“2019-02-30”不是有效的日期"),
    ({"registration_date": "去年春天"}, "registration_date", "成立日期“去年春天”无法识别"),
    ({"registered_capital": "-5"}, "registered_capital", "注册资本不能为负数（-5）"),
    ({"registered_capital": "五十万"}, "registered_capital", "注册资本“五十万”不是有效的数字"),
    ({"registered_capital": ""}, "registered_capital", "企业和农民专业合作社须填写注册资本"),
    ({"status": "破产"}, "status", "无法识别的登记状态“破产”"),
    ({"name": ""}, "name", "名称不能为空"),
    ({"name": "=cmd|' /C calc'!A0"}, "name", "单元格以“=”开头，可能是公式（公式注入风险），已拒绝"),
    ({"address": '=HYPERLINK("http://evil.example","点击")'}, "address", "单元格以“=”开头"),
    ({"legal_representative": "@SUM(1+1)"}, "legal_representative", "单元格以“@”开头"),
    ({"legal_representative": "\t=1+1"}, "legal_representative", "单元格以“制表符”开头"),
    ({"address": "-2+3+cmd|' /C calc'!A0"}, "address", "单元格以“-”开头"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("cells", "column", "expected"), BAD_CELLS)
def test_it_refuses_a_bad_cell_with_a_clear_message_and_imports_nothing(tmp_path, existing, cells, column, expected):
    before = db_state()
    rows = [row(2), row(1, **cells)]

    result = import_file(path=write_csv(tmp_path, rows), actor=None)

    assert not result.ok
    assert result.error_count == 1
    error = result.errors[0]
    assert (error.row, error.column) == (3, column)
    if expected is not None:
        assert error.message.startswith(expected), error.message
    assert db_state() == before


@pytest.mark.django_db
def test_it_refuses_a_type_column_that_contradicts_the_uscc(tmp_path, existing):
    values = row(1)
    values["entity_type"] = "个体工商户"
    before = db_state()

    result = import_file(path=write_csv(tmp_path, [values]), actor=None)

    assert messages(result) == ["行 2，列 entity_type：主体类型“个体工商户”与统一社会信用代码第 2 位（1：企业）不一致"]
    assert db_state() == before


@pytest.mark.django_db
def test_it_reports_every_bad_row_and_every_duplicate(tmp_path, loader, existing):
    rows = [
        row(1),
        row(2, registration_date="2999-01-01", registered_capital="-1"),
        row(3),
        row(1, name="重复一"),
        row(4, region_code="999999"),
        row(1, name="重复二"),
        row(5, uscc=existing[0].uscc, name="不会生效的改名"),
    ]
    before = db_state()

    result = import_file(path=write_csv(tmp_path, rows), actor=None)

    assert messages(result) == [
        "行 3，列 registered_capital：注册资本不能为负数（-1）",
        "行 3，列 registration_date：成立日期 2999-01-01 晚于今天（"
        f"{timezone.localdate().isoformat()}），不能是将来的日期",
        "行 5，列 uscc：统一社会信用代码重复：与第 2 行相同（同一文件中每个主体只能出现一次）",
        "行 6，列 region_code：未知的区县代码“999999”：应为本市区县的 6 位行政区划代码（如 140702）或区县名称",
        "行 7，列 uscc：统一社会信用代码重复：与第 2 行相同（同一文件中每个主体只能出现一次）",
    ]
    assert result.summary() == "导入失败：发现 5 处错误，未导入任何数据。"
    assert db_state() == before


@pytest.mark.django_db
def test_it_names_the_column_as_the_file_does(tmp_path, existing):
    rows = [dict(zip(CHINESE_HEADER, row(1, registered_capital="-3").values(), strict=True))]
    result = import_file(path=write_csv(tmp_path, rows), actor=None)
    assert messages(result) == ["行 2，列 注册资本（万元）：注册资本不能为负数（-3）"]


@pytest.mark.django_db
def test_it_refuses_unknown_and_missing_headers(tmp_path, existing):
    header = [h for h in HEADER if h not in ("address", "status")] + ["备注", "fax"]
    rows = [dict(zip(header, ["x"] * len(header), strict=True))]
    before = db_state()

    result = import_file(path=write_csv(tmp_path, rows, header=header), actor=None)

    assert messages(result) == [
        "行 1：未知的列：备注、fax（经营主体表不接受这些列，请删除或更正列名）",
        "行 1：缺少必需的列：address（住所）、status（登记状态）",
    ]
    assert db_state() == before


@pytest.mark.django_db
def test_it_refuses_a_header_it_cannot_recognise(tmp_path, existing):
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    result = import_file(path=path, actor=None)
    assert not result.ok
    assert result.errors[0].message.startswith("无法从表头识别表格类型")
    assert db_state()["enterprises"] == list(Enterprise.objects.order_by("id").values())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "文件为空（0 字节），没有可导入的内容"),
        ("header-only.csv", ",".join(HEADER).encode() + b"\n", "文件中没有数据行（第 1 行是表头，数据从第 2 行开始）"),
        ("fake.xlsx", b"uscc,name\n1,2\n", "文件扩展名为 .xlsx，但内容不是 Excel 工作簿（可能是改了扩展名的其他文件）"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "文件含有二进制内容，不是 CSV 文本文件"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "这是旧版 Excel（.xls）文件，不受支持"),
        ("latin1.csv", ",".join(HEADER).encode() + b"\n\xff\xfe\xfd\n", "无法识别文件编码"),
        ("utf16.csv", ",".join(HEADER).encode("utf-16"), "文件为 UTF-16 编码"),
    ],
)
def test_it_refuses_a_file_that_is_not_what_it_claims(tmp_path, existing, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    before = db_state()

    result = import_file(path=path, actor=None)

    assert not result.ok
    assert result.errors[0].message.startswith(expected), messages(result)
    assert db_state() == before


@pytest.mark.django_db
def test_it_refuses_a_zip_that_is_not_a_workbook(tmp_path, existing):
    path = tmp_path / "report.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    before = db_state()
    result = import_file(path=path, actor=None)
    assert messages(result) == ["文件是压缩包，但不是 Excel 工作簿（.xlsx），可能是 Word 文档或其他 zip 文件"]
    assert db_state() == before


@pytest.mark.django_db
def test_it_refuses_a_50_megabyte_file_before_parsing_it(tmp_path, settings, existing):
    settings.IMPORT_MAX_BYTES = 10 * 1024 * 1024
    path = tmp_path / "big.csv"
    with path.open("wb") as fh:  # a sparse file: 50 MB on paper, nothing on disk
        fh.truncate(50 * 1024 * 1024)
    before = db_state()

    result = import_file(path=path, actor=None)

    assert messages(result) == ["文件大小 50.0 MB 超过导入上限 10.0 MB，请拆分后分批导入"]
    assert db_state() == before


@pytest.mark.django_db
def test_it_refuses_formulas_in_xlsx_cells(tmp_path, existing):
    sheet = [HEADER, [*list(row(1).values())[:-1], '=HYPERLINK("http://x","y")']]
    before = db_state()
    result = import_file(path=write_xlsx(tmp_path, {"Sheet1": sheet}), actor=None)
    assert [(e.row, e.column) for e in result.errors] == [(2, "status")]
    assert "公式注入" in result.errors[0].message
    assert db_state() == before


@pytest.mark.django_db
def test_it_names_the_sheet_when_a_workbook_has_several(tmp_path, existing):
    sheets = {
        "主体": [HEADER, list(row(1).values())],
        "年报": [["uscc", "year", "filed_on"], [uscc(1), 2024, "2025-02-30"]],
    }
    result = import_file(path=write_xlsx(tmp_path, sheets), actor=None)
    assert messages(result) == ["工作表「年报」，行 2，列 filed_on：报送日期“2025-02-30”不是有效的日期"]


@pytest.mark.django_db
def test_it_caps_the_errors_shown_and_writes_all_of_them_to_a_report(tmp_path, loader, settings):
    rows = [row(i, registered_capital="-1") for i in range(1, 8)]
    result = import_file(path=write_csv(tmp_path, rows), actor=None, max_errors=3)

    assert result.error_count == 7
    assert [e.row for e in result.errors] == [2, 3, 4]
    assert "仅显示前 3 条" in result.summary()
    with open(result.report_path, encoding="utf-8-sig") as fh:
        report = list(csv.reader(fh))
    assert report[0] == ["工作表", "行", "列", "原因"]
    assert [r[1] for r in report[1:]] == ["2", "3", "4", "5", "6", "7", "8"]
    assert Path(result.report_path).is_relative_to(settings.MEDIA_ROOT)


@pytest.mark.django_db
def test_it_lets_a_county_clerk_import_only_their_county(tmp_path, data_clerk, loader):
    other = EnterpriseFactory(region_id="140703")
    rows = [row(1), row(2, region_code="140703"), row(3, uscc=other.uscc, region_code="140702")]
    before = db_state()

    result = import_file(path=write_csv(tmp_path, rows), actor=data_clerk)

    assert messages(result) == [
        "行 3，列 region_code：您只能导入本辖区（榆次区）的经营主体",
        "行 4，列 uscc：该主体属于太谷区，不在您的辖区（榆次区），不能通过导入修改",
    ]
    assert db_state() == before


# --- Fast USCC check ----------------------------------------------------------------------------------------------
def test_it_checks_uscc_exactly_as_python_stdnum_does():
    rnd = random.Random(4754)
    alphabet = identity.ALPHABET
    for _ in range(5000):
        first17 = (
            "9"
            + rnd.choice("123")
            + "".join(rnd.choice("0123456789") for _ in range(6))
            + "".join(rnd.choice(alphabet) for _ in range(9))
        )
        valid = identity.with_check_character(first17)
        assert uscc_is_valid_fast(valid) and stdnum_uscc.is_valid(valid)
        corrupted = valid[:17] + rnd.choice(alphabet)
        assert uscc_is_valid_fast(corrupted) == stdnum_uscc.is_valid(corrupted)
        mutated = list(valid)
        mutated[rnd.randrange(18)] = rnd.choice(alphabet + "IOSVZ")
        mutated_code = "".join(mutated)
        # The fast check may say "not sure" (False) only where stdnum also refuses or the slow path decides.
        if uscc_is_valid_fast(mutated_code):
            assert stdnum_uscc.is_valid(mutated_code)


def test_it_builds_search_fields_exactly_as_the_model_does():
    rnd = random.Random(2017)
    alphabet = '晋中恒泰喆堃赟玥商贸有限公司 AB"\\'
    for _ in range(2000):
        name = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 12)))
        former = ["".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 8))) for _ in range(rnd.randrange(3))]
        assert fast_search_fields(name, former) == search_fields(name, former)


@pytest.mark.django_db
def test_it_gives_the_same_record_on_the_fast_and_the_full_validation_path():
    header = map_header([*HEADER, "entity_type", "former_names", "contact_phone", "contact_email"])
    rows = EnterpriseRows(header, ReferenceData.load(allowed_region=None))
    samples = [
        [*row(1).values(), "", "", "", ""],
        [*row(2, uscc=uscc(2, "individual"), registered_capital="").values(), "个体工商户", "", "0354-1", ""],
        [
            *row(3, industry_code="1431", status="存续", registration_date="2001/2/3").values(),
            "企业",
            "甲;乙",
            "",
            "a@b.cn",
        ],
        [*row(4, region_code="榆次区", registered_capital="12.3456", status="吊销").values(), "", "", "", ""],
        [*row(5, name="Jinzhong Trading Co Ltd", address="No 1 Road").values(), "enterprise", "", "", ""],
        [*row(6, name=" 前后有空格 ").values(), "", "", "", ""],  # the full path cleans it
        [*row(7, name="全角　空格").values(), "", "", "", ""],
        [*row(8, registered_capital="1,000").values(), "", "", "", ""],
        [*row(9, uscc=uscc(9).lower()).values(), "", "", "", ""],
    ]
    fast_taken = 0
    for number, cells in enumerate(samples, start=2):
        record, errors, key = rows(number, cells)
        full_record, full_errors, full_key = rows.full(number, cells)
        assert (record, errors, key) == (full_record, full_errors, full_key)
        assert record is not None, errors
        fast = rows.fast(cells)
        if fast is not None:
            fast_taken += 1
            assert fast == full_record
    assert fast_taken >= 5


@pytest.mark.django_db
def test_it_detects_an_xlsx_by_content_whatever_its_name(tmp_path):
    path = write_xlsx(tmp_path, {"Sheet1": [HEADER, list(row(1).values())]}, name="export.csv")
    result = import_file(path=path, actor=None)
    assert result.ok, messages(result)
    assert Enterprise.objects.filter(uscc=uscc(1)).exists()


# --- The command ----------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_imports_with_the_management_command(tmp_path, city_regulator):
    out = io.StringIO()
    call_command("import_enterprises", str(write_csv(tmp_path, [row(1), row(2)])), "--actor", "city", stdout=out)
    assert out.getvalue().strip() == "导入成功：2 行（新增 2，更新 0，未变 0）"
    event = AuditEvent.objects.get(action="enterprise.import")
    assert (event.actor, event.source) == (city_regulator, "command")


@pytest.mark.django_db
def test_it_prints_every_bad_row_and_exits_with_status_1(tmp_path, existing):
    bad = row(2, uscc=uscc(2)[:17] + ("0" if uscc(2)[17] != "0" else "1"))
    path = write_csv(tmp_path, [row(1), bad, row(3, registered_capital="-1")])
    err = io.StringIO()
    before = db_state()

    with pytest.raises(CommandError) as excinfo:
        call_command("import_enterprises", str(path), stderr=err)

    assert err.getvalue().splitlines() == [
        "行 3，列 uscc：统一社会信用代码校验位错误",
        "行 4，列 registered_capital：注册资本不能为负数（-1）",
    ]
    assert str(excinfo.value) == "导入失败：发现 2 处错误，未导入任何数据。"
    assert excinfo.value.returncode == 1
    assert db_state() == before


@pytest.mark.django_db
def test_it_checks_only_in_a_command_dry_run(tmp_path):
    out = io.StringIO()
    call_command("import_enterprises", str(write_csv(tmp_path, [row(1)])), "--dry-run", stdout=out)
    assert "试运行" in out.getvalue()
    assert not Enterprise.objects.exists()


@pytest.mark.django_db
def test_it_forces_the_kind_with_the_command(tmp_path, existing):
    path = write_csv(tmp_path, [{"uscc": existing[0].uscc, "year": "2024", "filed_on": "2025-01-05"}])
    with pytest.raises(CommandError):
        call_command("import_enterprises", str(path), "--kind", "enterprises", stderr=io.StringIO())
    call_command("import_enterprises", str(path), "--kind", "annual_reports", stdout=io.StringIO())
    assert AnnualReport.objects.filter(enterprise=existing[0], year=2024).exists()


# --- The admin page ---------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_imports_an_uploaded_file_in_the_admin(client, data_clerk, tmp_path):
    client.force_login(data_clerk)
    url = reverse("admin:enterprises_enterprise_import")
    assert client.get(url).status_code == 200

    with write_csv(tmp_path, [row(1), row(2)]).open("rb") as fh:
        response = client.post(url, {"file": fh}, follow=True)

    assert response.status_code == 200
    assert "导入成功：2 行（新增 2，更新 0，未变 0）" in response.content.decode()
    assert Enterprise.objects.count() == 2
    assert AuditEvent.objects.get(action="enterprise.import").source == "admin"


@pytest.mark.django_db
def test_it_shows_every_bad_row_in_the_admin(client, data_clerk, tmp_path, existing):
    client.force_login(data_clerk)
    rows = [row(1, name="<script>alert(1)</script>", registered_capital="-1"), row(2, region_code="000000")]
    before = db_state()

    with write_xlsx(tmp_path, {"Sheet": [HEADER, *[list(r.values()) for r in rows]]}).open("rb") as fh:
        response = client.post(reverse("admin:enterprises_enterprise_import"), {"file": fh})

    assert response.status_code == 200
    html = response.content.decode()
    assert "导入失败：发现 2 处错误，未导入任何数据。" in html
    assert "注册资本不能为负数（-1）" in html
    assert "未知的区县代码“000000”" in html
    assert "<script>alert(1)</script>" not in html
    assert response.context["result"].error_count == 2
    assert db_state() == before


@pytest.mark.django_db
def test_it_refuses_the_admin_import_without_the_add_permission(client, tmp_path):
    inspector = UserFactory(username="insp", role=User.Role.INSPECTOR, region_code="140702")
    client.force_login(inspector)
    response = client.get(reverse("admin:enterprises_enterprise_import"))
    assert response.status_code == 403
