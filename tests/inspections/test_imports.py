"""Importing the inspector roster and the item list: all or nothing with every bad row reported (row, column,
reason in Chinese), upsert (the same file again changes nothing), English or Chinese headers, formula cells refused,
warrant dates checked; from the admin upload page and `manage.py import_inspections`."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from core.models import AuditEvent
from inspections.importing import KIND_ITEMS, KIND_ROSTER, import_file
from inspections.models import InspectionItem, Inspector, InspectorConflict
from tests.factories import DepartmentFactory
from tests.inspections.factories import ItemFactory

pytestmark = pytest.mark.django_db

ITEM_HEADER = ["code", "name", "department", "legal_basis", "kind"]
ROSTER_HEADER = ["name", "department", "region_code", "warrant_number", "warrant_expires_on", "qualifications"]


def write_csv(tmp_path: Path, rows: list[list[str]], name: str = "file.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(tmp_path: Path, rows: list[list[object]], name: str = "file.xlsx") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


@pytest.fixture
def samr(db):
    return DepartmentFactory(code="samr", name="晋中市市场监督管理局")


@pytest.fixture
def items(samr):
    return [ItemFactory(code="SC-101", department=samr), ItemFactory(code="SC-102", department=samr)]


def test_it_imports_the_item_list_and_a_reimport_changes_nothing(tmp_path, samr, city_regulator):
    path = write_csv(
        tmp_path,
        [
            ITEM_HEADER,
            ["JZ-001", "企业公示信息抽查", "samr", "《企业信息公示暂行条例》第十四条", "一般"],
            ["JZ-002", "食品生产经营抽查", "晋中市市场监督管理局", "《食品安全法》第一百一十条", "重点"],
        ],
    )
    result = import_file(kind=KIND_ITEMS, path=path, actor=city_regulator)
    assert result.ok and (result.created, result.updated, result.unchanged) == (2, 0, 0), result.errors
    assert InspectionItem.objects.get(code="JZ-002").kind == InspectionItem.Kind.KEY
    events = AuditEvent.objects.filter(action="inspections.item.create").count()
    again = import_file(kind=KIND_ITEMS, path=path, actor=city_regulator)
    assert again.ok and (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert "未作任何修改" in again.summary()
    assert AuditEvent.objects.filter(action__startswith="inspections.item.").count() == events
    # A changed name is an update of that one row.
    changed = write_csv(
        tmp_path, [ITEM_HEADER, ["JZ-001", "企业公示信息抽查（修订）", "samr", "条例", "一般"]], "b.csv"
    )
    third = import_file(kind=KIND_ITEMS, path=changed, actor=city_regulator)
    assert (third.created, third.updated) == (0, 1)
    assert InspectionItem.objects.get(code="JZ-001").name == "企业公示信息抽查（修订）"


def test_every_bad_row_is_reported_and_nothing_is_imported(tmp_path, items, county_regulator):
    rows = [
        [*ROSTER_HEADER, "conflicts"],
        ["张三", "samr", "140702", "W-001", "2030-12-31", "SC-101;SC-102", ""],  # good
        ["", "samr", "140702", "W-002", "2030-12-31", "SC-101", ""],  # row 3: no name
        ["李四", "nosuch", "140702", "W-003", "2030/13/40", "SC-101", ""],  # row 4: department, date
        ["王五", "samr", "140703", "W-004", "2030-12-31", "SC-999", ""],  # row 5: other county, unknown item
        ["赵六", "samr", "140702", "W-001", "2030-12-31", "SC-101", ""],  # row 6: duplicate warrant
        ['=HYPERLINK("x")', "samr", "140702", "W-006", "2030-12-31", "SC-101", ""],  # row 7: formula
        ["钱七", "samr", "140702", "W-007", "2020-01-31", "SC-101", ""],  # row 8: expired warrant
        ["孙八", "samr", "140702", "W-008", "2030-12-31", "SC-101", "91140702MA0000000X"],  # row 9: bad USCC
    ]
    result = import_file(kind=KIND_ROSTER, path=write_csv(tmp_path, rows), actor=county_regulator)
    assert not result.ok
    found = {(e.row, e.column) for e in result.errors}
    assert {
        (3, "name"),
        (4, "department"),
        (4, "warrant_expires_on"),
        (5, "region_code"),
        (5, "qualifications"),
        (6, "warrant_number"),
        (7, "name"),
        (8, "warrant_expires_on"),
        (9, "conflicts"),
    } <= found, result.errors
    messages = {(e.row, e.column): e.message for e in result.errors}
    assert "不在您的辖区" in messages[(5, "region_code")]
    assert "SC-999" in messages[(5, "qualifications")]
    assert "与第 2 行重复" in messages[(6, "warrant_number")]
    assert "公式" in messages[(7, "name")]
    assert "过期" in messages[(8, "warrant_expires_on")]
    assert "无法识别" in messages[(4, "warrant_expires_on")] or "不是有效的日期" in messages[(4, "warrant_expires_on")]
    assert "未导入任何数据" in result.summary()
    assert not Inspector.objects.exists()  # not even the good row 2


def test_it_imports_a_roster_from_xlsx_with_chinese_headers_and_conflicts(tmp_path, items, enterprise, city_regulator):
    rows = [
        ["姓名", "所属部门", "所属区域", "执法证号", "执法证有效期至", "可检查事项", "回避对象", "是否在册"],
        ["张三", "晋中市市场监督管理局", "榆次区", "W-100", "2030年12月31日", "SC-101、SC-102", enterprise.uscc, "是"],
        ["李四", "samr", "140702", 140702001, None, "SC-101", "", "否"],
    ]
    rows[2][4] = dt.date(2019, 5, 1)  # a date cell; expired but not on the roster: allowed
    path = write_xlsx(tmp_path, rows)
    result = import_file(kind=KIND_ROSTER, path=path, actor=city_regulator)
    assert result.ok, result.errors
    zhang = Inspector.objects.get(warrant_number="W-100")
    assert zhang.region_id == "140702" and zhang.warrant_expires_on == dt.date(2030, 12, 31)
    assert set(zhang.qualifications.values_list("code", flat=True)) == {"SC-101", "SC-102"}
    assert InspectorConflict.objects.filter(inspector=zhang, enterprise=enterprise).exists()
    li = Inspector.objects.get(warrant_number="140702001")
    assert not li.active and li.warrant_expires_on == dt.date(2019, 5, 1)
    again = import_file(kind=KIND_ROSTER, path=path, actor=city_regulator)
    assert again.ok and (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert InspectorConflict.objects.count() == 1


def test_a_bad_header_is_refused_with_every_problem_named(tmp_path, items, city_regulator):
    path = write_csv(tmp_path, [["姓名", "部门", "警号", "Name"], ["张三", "samr", "1", "x"]])
    result = import_file(kind=KIND_ROSTER, path=path, actor=city_regulator)
    assert not result.ok
    message = result.errors[0].message
    assert "未知的列：警号" in message and "重复的列" in message and "缺少必需的列" in message
    assert "warrant_number" in message


def test_the_admin_upload_page_shows_the_error_table_or_the_counts(tmp_path, samr, city_regulator):
    client = Client()
    client.force_login(city_regulator)
    url = reverse("admin:inspections_inspectionitem_import")
    bad = write_csv(tmp_path, [ITEM_HEADER, ["JZ-1", "", "samr", "依据", "特别"]])
    response = client.post(url, {"file": SimpleUploadedFile("items.csv", bad.read_bytes())})
    page = response.content.decode()
    assert response.status_code == 200 and 'id="import-errors"' in page
    assert "抽查事项不能为空" in page and "事项类别“特别”无法识别" in page
    assert not InspectionItem.objects.exists()
    good = write_csv(tmp_path, [ITEM_HEADER, ["JZ-1", "抽查", "samr", "依据", ""]], "good.csv", encoding="gb18030")
    response = client.post(url, {"file": SimpleUploadedFile("items.csv", good.read_bytes())}, follow=True)
    assert "导入成功" in " ".join(str(m) for m in response.context["messages"])
    assert InspectionItem.objects.filter(code="JZ-1", kind="general").exists()


def test_the_command_imports_and_fails_loudly(tmp_path, items, capsys):
    good = write_csv(tmp_path, [ROSTER_HEADER, ["张三", "samr", "140702", "W-1", "2030-12-31", "SC-101"]])
    call_command("import_inspections", "roster", str(good))
    assert Inspector.objects.filter(warrant_number="W-1").exists()
    bad = write_csv(tmp_path, [ROSTER_HEADER, ["张三", "samr", "140702", "W-2", "31.12.2030", "SC-101"]], "bad.csv")
    with pytest.raises(CommandError, match="未导入任何数据"):
        call_command("import_inspections", "roster", str(bad))
    assert "行 2，列 warrant_expires_on" in capsys.readouterr().err
    assert not Inspector.objects.filter(warrant_number="W-2").exists()
