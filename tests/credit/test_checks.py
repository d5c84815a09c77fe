"""Credit checks (信用核查): the facts of one entity, batches from pasted codes and files with every kind of bad
input, county scoping, the background job with its summary sheet and certificates."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import zipfile

import pytest
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from core.errors import ApplicationError
from core.models import Job, User
from credit import checks
from credit.models import CertificatePrint, CheckLine, CreditCheck
from disclosure.models import Restriction, SeriousListing
from enterprises import identity
from enterprises.models import AnnualReport, Region
from tests.disclosure.factories import AbnormalListingFactory, PenaltyFactory, SeriousListingFactory
from tests.factories import EnterpriseFactory, UserFactory, make_uscc

TODAY = dt.date(2026, 11, 20)
START = dt.date(2023, 11, 21)


@pytest.fixture(autouse=True)
def today(monkeypatch) -> dt.date:
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


def clean_entity(**kwargs):
    """Registered 2015, every annual report 2022–2025 on time, no record: on the red list."""
    enterprise = EnterpriseFactory(**kwargs)
    for year in (2022, 2023, 2024, 2025):
        AnnualReport.objects.create(enterprise=enterprise, year=year, filed_on=dt.date(year + 1, 5, 1))
    return enterprise


def listed_entity(**kwargs):
    """On the abnormal list, the serious list (with a person-bound restriction) and with a disclosed penalty."""
    enterprise = EnterpriseFactory(name="晋中失信示例商贸有限公司", **kwargs)
    AbnormalListingFactory(enterprise=enterprise, decision_number="榆次市监异入〔2026〕第7号")
    serious = SeriousListingFactory(enterprise=enterprise, decision_number="榆次市监严入〔2026〕第3号")
    Restriction.objects.create(
        enterprise=enterprise,
        serious_listing=serious,
        kind=Restriction.Kind.NO_PROCUREMENT,
        starts_on=dt.date(2026, 3, 2),
        ends_on=dt.date(2029, 3, 1),
    )
    Restriction.objects.create(
        enterprise=enterprise,
        serious_listing=serious,
        kind=Restriction.Kind.NO_LEGAL_REPRESENTATIVE,
        person_name="王五",
        person_id_number="140702198001011234",
        starts_on=dt.date(2026, 3, 2),
        ends_on=dt.date(2029, 3, 1),
    )
    PenaltyFactory(enterprise=enterprise, decision_number="晋市监罚〔2026〕88号")
    return enterprise


def check_one(user: User, enterprise, **kwargs) -> CheckLine:
    check = checks.check_single(
        actor=user, uscc=enterprise.uscc, purpose="procurement", start=START, end=TODAY, **kwargs
    )
    return check.lines.get()


def test_it_states_no_record_and_the_red_list_for_a_clean_entity(db, city_regulator):
    line = check_one(city_regulator, clean_entity())
    assert line.outcome == CheckLine.Outcome.NO_RECORD
    assert line.facts["no_record"] is True
    assert line.red_listed is True and line.facts["red_listed"] is True
    assert line.serial == "P20261120000001"
    assert len(line.digest) == 64


def test_it_states_every_public_record_with_restrictions_masked(db, city_regulator):
    line = check_one(city_regulator, listed_entity())
    facts = line.facts
    assert line.outcome == CheckLine.Outcome.RECORDS and facts["no_record"] is False
    assert [a["decision_number"] for a in facts["abnormal"]] == ["榆次市监异入〔2026〕第7号"]
    assert [s["decision_number"] for s in facts["serious"]] == ["榆次市监严入〔2026〕第3号"]
    people = [r for r in facts["serious"][0]["restrictions"] if r["person"]]
    assert people[0]["person_id_number"] == "1407**********1234"
    assert "140702198001011234" not in str(facts)
    assert [p["decision_number"] for p in facts["penalties"]] == ["晋市监罚〔2026〕88号"]
    assert line.red_listed is False


def test_it_leaves_out_what_is_not_public(db, city_regulator):
    enterprise = EnterpriseFactory()
    SeriousListingFactory(enterprise=enterprise, stage=SeriousListing.Stage.REMOVED, removed_on=dt.date(2026, 6, 1),
                          removal_kind=SeriousListing.RemovalKind.EARLY_REPAIR, hidden_from_public=True)  # fmt: skip
    PenaltyFactory(enterprise=enterprise, disclosed_until=dt.date(2026, 10, 1))  # disclosure over
    line = check_one(city_regulator, enterprise)
    assert line.outcome == CheckLine.Outcome.NO_RECORD
    # …but an early-removed listing within the three years keeps it off the red list.
    assert line.red_listed is False


def test_it_never_states_the_risk_class(db, city_regulator):
    enterprise = listed_entity()
    enterprise.risk_class = "D"
    enterprise.save()
    line = check_one(city_regulator, enterprise)
    assert "risk" not in str(line.facts).lower() and "'D'" not in str(line.facts)


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (dt.date(2026, 5, 1), dt.date(2026, 4, 1), "period_reversed"),
        (dt.date(2026, 1, 1), dt.date(2026, 11, 21), "period_future"),
    ],
)
def test_it_refuses_a_bad_period(db, city_regulator, start, end, code):
    enterprise = EnterpriseFactory()
    with pytest.raises(ApplicationError) as exc:
        checks.check_single(actor=city_regulator, uscc=enterprise.uscc, purpose="funding", start=start, end=end)
    assert exc.value.code == code and "核查期间" in exc.value.message
    assert not CreditCheck.objects.exists()


def test_a_single_check_refuses_malformed_unknown_and_out_of_county_codes(db, county_regulator):
    other = EnterpriseFactory(region=Region.objects.get(code="140703"))
    cases = {
        "91140702MA0000000X": "malformed",
        make_uscc(serial=991): "unknown",
        other.uscc: "out_of_scope",
    }
    for code, expected in cases.items():
        with pytest.raises(ApplicationError) as exc:
            checks.check_single(actor=county_regulator, uscc=code, purpose="funding", start=START, end=TODAY)
        assert exc.value.code == expected, code
    assert not CreditCheck.objects.exists()


# --- batch input ------------------------------------------------------------------------------------------------
def test_pasted_codes_note_blanks_and_duplicates_and_keep_bad_codes(db):
    a, b = make_uscc(serial=1), make_uscc(serial=2)
    parsed = checks.parse_text(f"\n{a}\n\n{b.lower()}，{a}\nNOT-A-CODE\n\n")
    assert [value for _row, value in parsed.entries] == [a, b.lower(), "NOT-A-CODE"]
    messages = [n["message"] for n in parsed.notes]
    assert messages == ["第 3 行为空，已跳过", f"第 4 行与第 2 行重复（{a}），只核查一次"]


def test_it_refuses_more_rows_than_the_maximum(db, settings):
    settings.CREDIT_CHECK_BATCH_MAX = 3
    with pytest.raises(ApplicationError) as exc:
        checks.parse_text("\n".join(make_uscc(serial=i) for i in range(4)))
    assert exc.value.code == "too_many_rows" and "超过单次核查上限 3 个" in exc.value.message


def test_it_refuses_an_empty_list(db):
    with pytest.raises(ApplicationError) as exc:
        checks.parse_text("\n \n")
    assert exc.value.code == "empty"


def _xlsx(rows: list[list[str]]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_it_reads_the_code_column_of_an_xlsx_and_a_gbk_csv(db):
    a, b = make_uscc(serial=1), make_uscc(serial=2)
    parsed = checks.parse_file(
        name="名单.xlsx", content=_xlsx([["序号", "名称", "统一社会信用代码"], ["1", "甲", a], ["2", "乙", b]])
    )
    assert parsed.entries == [(2, a), (3, b)]
    csv_bytes = f"统一社会信用代码,名称\n{a},甲公司\n,\n{b},乙公司\n".encode("gb18030")
    parsed = checks.parse_file(name="名单.csv", content=csv_bytes)
    assert parsed.entries == [(2, a), (4, b)]
    assert parsed.notes[0]["message"] == "第 3 行为空，已跳过"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("名单.pdf", b"%PDF-1.7 ...", "文件不是 Excel（.xlsx）或 CSV 表格"),
        ("名单.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 50, "不支持旧版 Excel（.xls）"),
        ("名单.xlsx", b"PK\x03\x04 broken zip", "无法作为 Excel（.xlsx）表格读取"),
        ("名单.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "不是 CSV 文本表格"),
        ("名单.xlsx", b"", "上传的文件是空的"),
    ],
)
def test_it_refuses_a_file_that_is_not_a_spreadsheet(db, name, content, message):
    with pytest.raises(ApplicationError) as exc:
        checks.parse_file(name=name, content=content)
    assert message in exc.value.message


def test_a_batch_lists_malformed_unknown_and_out_of_county_codes(
    db, county_regulator, django_capture_on_commit_callbacks
):
    mine = clean_entity()
    theirs = EnterpriseFactory(region=Region.objects.get(code="140703"))
    unknown = make_uscc(serial=4242)
    text = f"{mine.uscc}\n{theirs.uscc}\n{unknown}\n12345\n{mine.uscc}"
    with django_capture_on_commit_callbacks() as callbacks:
        check = checks.check_batch_start(
            actor=county_regulator, parsed=checks.parse_text(text), purpose="honours", start=START, end=TODAY
        )
    assert len(callbacks) == 1  # the job is queued after commit
    lines = {line.position: line for line in check.lines.all()}
    assert {p: line.outcome for p, line in lines.items()} == {
        1: "no_record",  # to be checked by the worker
        2: "out_of_scope",
        3: "unknown",
        4: "malformed",
    }
    assert "不属于您所在县" in lines[2].message and lines[2].facts == {}
    assert "18 位" in lines[4].message
    assert check.input_notes[0]["message"].startswith("第 5 行与第 1 行重复")
    assert check.region_code == "140702" and check.job.status == Job.Status.QUEUED

    checks.check_batch_run(check.job_id, workers=1)
    check.refresh_from_db()
    job = Job.objects.get(pk=check.job_id)
    assert (
        job.status == Job.Status.SUCCEEDED and job.progress_done == job.progress_total == 5
    )  # 4 rows checked, 1 certificate
    line = check.lines.get(position=1)
    assert line.outcome == "no_record" and line.serial == "B20261120000001" and line.red_listed
    assert check.counts["out_of_scope"] == 1 and check.counts["total"] == 4
    with zipfile.ZipFile(job.result["path"]) as archive:
        names = archive.namelist()
        assert "核查结果汇总.xlsx" in names
        pdfs = [n for n in names if n.endswith(".pdf")]
        assert pdfs == [f"00001-{mine.uscc}-B20261120000001-0.pdf"]
        sheet = load_workbook(io.BytesIO(archive.read("核查结果汇总.xlsx"))).worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    with translation.override("zh-hans"):
        labels = [str(CheckLine.Outcome(o).label) for o in ("no_record", "out_of_scope", "unknown", "malformed")]
    assert [r[4] for r in rows] == labels
    assert [r[2] for r in rows][:3] == [mine.uscc, theirs.uscc, unknown]
    assert rows[3][1] == "12345"
    assert CertificatePrint.objects.filter(line=line, counter=0).count() == 1
    # A redelivered task finds the job claimed and does nothing.
    checks.check_batch_run(check.job_id, workers=1)
    assert CertificatePrint.objects.count() == 1


def test_a_batch_can_give_one_combined_pdf(db, city_regulator, tmp_path):
    entities = [clean_entity(), listed_entity()]
    check = checks.check_batch_start(
        actor=city_regulator,
        parsed=checks.parse_text("\n".join(e.uscc for e in entities)),
        purpose="tendering",
        start=START,
        end=TODAY,
        output="combined",
    )
    checks.check_batch_run(check.job_id, workers=1)
    job = Job.objects.get(pk=check.job_id)
    with zipfile.ZipFile(job.result["path"]) as archive:
        pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
        assert pdfs == ["信用核查证书（合并）.pdf"]
        data = archive.read(pdfs[0])
    assert data.startswith(b"%PDF")
    if shutil.which("pdfinfo"):
        path = tmp_path / "combined.pdf"
        path.write_bytes(data)
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
        pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
        assert pages >= 2  # one certificate (at least one page) per entity


def test_a_county_regulator_sees_only_their_county_checks(db, county_regulator, other_county_regulator, city_regulator):
    check_one(county_regulator, EnterpriseFactory())
    assert CreditCheck.objects.visible_to(county_regulator).count() == 1
    assert CreditCheck.objects.visible_to(other_county_regulator).count() == 0
    assert CreditCheck.objects.visible_to(city_regulator).count() == 1


def test_codes_are_normalised_before_lookup(db, city_regulator):
    enterprise = EnterpriseFactory()
    check = checks.check_single(
        actor=city_regulator, uscc=f" {enterprise.uscc.lower()} ", purpose="other", start=START, end=TODAY
    )
    assert check.lines.get().enterprise == enterprise
    assert identity.is_valid(check.lines.get().uscc)


def test_a_staff_user_without_county_sees_nothing(db):
    user = UserFactory(role=User.Role.INSPECTOR, region_code="")
    assert CreditCheck.objects.visible_to(user).count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_batch_is_split_across_celery_workers_and_assembled_once(celery_worker_session, settings):
    """The certificates go out as a group of parts; the last part assembles one zip with every PDF in row order."""
    from credit.tasks import run_check_batch

    Region.objects.get_or_create(code="140702", defaults={"name": "榆次区", "level": Region.Level.COUNTY})
    city = UserFactory(username="city-split", role=User.Role.CITY_REGULATOR, region_code="")
    entities = [clean_entity() for _ in range(5)]
    check = checks.check_batch_start(
        actor=city,
        parsed=checks.parse_text("\n".join(e.uscc for e in entities)),
        purpose="tendering",
        start=START,
        end=TODAY,
    )
    checks.PART_SIZE, old = 2, checks.PART_SIZE
    try:
        run_check_batch.delay(check.job_id)
        import time

        deadline = time.monotonic() + 60
        job = Job.objects.get(pk=check.job_id)
        while job.status not in (Job.Status.SUCCEEDED, Job.Status.FAILED) and time.monotonic() < deadline:
            time.sleep(0.2)
            job.refresh_from_db()
    finally:
        checks.PART_SIZE = old
    assert job.status == Job.Status.SUCCEEDED, job.result
    assert job.progress_done == job.progress_total == 10
    parts = Job.objects.filter(kind=checks.PART_KIND, params__parent=job.pk)
    assert parts.count() == 3 and all(p.status == Job.Status.SUCCEEDED for p in parts)
    assert Job.objects.get(kind=checks.ASSEMBLE_KIND, params__parent=job.pk).status == Job.Status.SUCCEEDED
    assert job.result["parts"] == 3 and job.result["certificates"] == 5
    with zipfile.ZipFile(job.result["path"]) as archive:
        pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert [int(n[:5]) for n in pdfs] == [1, 2, 3, 4, 5]
    assert CertificatePrint.objects.filter(line__check_run=check).count() == 5
    check.refresh_from_db()
    assert check.status == CreditCheck.Status.DONE
    # A redelivered part (its worker died after finishing) renders nothing again and does not reassemble.
    checks.render_part(parts.first().pk, resume=True)
    assert CertificatePrint.objects.filter(line__check_run=check).count() == 5
