"""Certificates: content with and without records, the CJK font embedded (pdffonts, not pdftotext), serials and
reprints, the signed serial and the public verification page (genuine, made up, tampered), the entity's portal."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import pytest
from django.urls import reverse

from core.models import AuditEvent, User
from credit import certificates, checks
from credit.models import CertificatePrint, CheckLine
from repair.models import EnterpriseAccount
from tests.credit.test_checks import START, TODAY, check_one, clean_entity, listed_entity, today  # noqa: F401
from tests.factories import EnterpriseFactory, UserFactory

needs_poppler = pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils is installed by make test")


def _html(line: CheckLine, serial: str = "P20261120000001-0") -> str:
    from django.utils import timezone

    return certificates.render_html(
        certificates.certificate_context(line=line, serial=serial, printed_at=timezone.now())
    )


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_a_certificate_without_records_says_so_and_marks_the_red_list(db, city_regulator):
    line = check_one(city_regulator, clean_entity(name="晋中守信示范有限公司"))
    html = _html(line)
    assert "晋中守信示范有限公司" in html and line.uscc in html
    for text in (
        "未发现列入经营异常名录",
        "未发现列入严重违法失信名单",
        "未发现公示期内的行政处罚信息",
        "未发现该经营主体上述不良信用记录",
    ):
        assert text in html
    assert "守信激励" in html
    assert "政府采购" in html  # the purpose
    assert "2023-11-21 至 2026-11-20" in html


def test_a_certificate_with_records_lists_them_and_masks_person_ids(db, city_regulator):
    line = check_one(city_regulator, listed_entity())
    html = _html(line)
    for number in ("榆次市监异入〔2026〕第7号", "榆次市监严入〔2026〕第3号", "晋市监罚〔2026〕88号"):
        assert number in html
    assert "1407**********1234" in html and "140702198001011234" not in html
    assert "禁止" in html or "No government procurement" in html or "政府采购" in html
    assert "该经营主体存在上述公示的信用记录" in html
    assert "守信激励：" not in html


def test_the_risk_class_never_appears(db, city_regulator):
    enterprise = listed_entity()
    enterprise.risk_class = "D"
    enterprise.save()
    html = _html(check_one(city_regulator, enterprise))
    assert "风险" not in html and "D 类" not in html and "D类" not in html


@needs_poppler
def test_the_pdf_embeds_a_cjk_font(db, city_regulator, tmp_path):
    line = check_one(city_regulator, listed_entity())
    printed, pdf = certificates.certificate_print(line=line, actor=city_regulator)
    path = tmp_path / "cert.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [row for row in fonts.splitlines()[2:] if row.strip()]
    assert any("WenQuanYi" in row or "Noto" in row for row in rows), fonts
    # every font embedded ("emb" column yes) and subset (the +-prefixed name)
    assert all(re.search(r"\byes\s+yes\b", row) for row in rows), fonts
    text = _text(pdf, tmp_path)
    assert "信用核查证书" in text and printed.serial in text


def _pdf_info(pdf: bytes, tmp_path) -> tuple[str, list[str]]:
    path = tmp_path / "cert.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return info, [row for row in fonts.splitlines()[2:] if row.strip()]


# The render speed depends on these two (docs/CERTIFICATES.md "Speed"): a second page is a second layout and paint,
# a synthetic bold a second HarfBuzz subset of the 5 MB font.
@needs_poppler
def test_a_certificate_without_records_is_one_page(db, city_regulator, tmp_path):
    line = check_one(
        city_regulator,
        clean_entity(
            name="晋中市榆次区恒泰喆堃农业科技发展有限公司", address="山西省晋中市榆次区迎宾西街123号恒泰大厦15层1501室"
        ),
    )
    _printed, pdf = certificates.certificate_print(line=line, actor=city_regulator)
    info, _fonts = _pdf_info(pdf, tmp_path)
    assert re.search(r"^Pages:\s+1$", info, re.M), info


@needs_poppler
@pytest.mark.parametrize("entity", ["clean", "listed"])
def test_a_certificate_embeds_one_font_only(db, city_regulator, tmp_path, entity):
    line = check_one(city_regulator, clean_entity() if entity == "clean" else listed_entity())
    _printed, pdf = certificates.certificate_print(line=line, actor=city_regulator)
    _info, fonts = _pdf_info(pdf, tmp_path)
    assert len(fonts) == 1 and "WenQuanYi" in fonts[0], fonts


def test_serials_count_per_day_and_reprints_are_logged(db, city_regulator):
    first = check_one(city_regulator, clean_entity())
    second = check_one(city_regulator, listed_entity())
    assert (first.serial, second.serial) == ("P20261120000001", "P20261120000002")
    p0, _pdf = certificates.certificate_print(line=first, actor=city_regulator)
    p1, _pdf = certificates.certificate_print(line=first, actor=city_regulator)
    assert (p0.serial, p1.serial) == ("P20261120000001-0", "P20261120000001-1")
    first.refresh_from_db()
    assert first.prints == 2
    assert list(CertificatePrint.objects.filter(line=first).order_by("counter").values_list("counter", flat=True)) == [
        0,
        1,
    ]
    actions = list(AuditEvent.objects.filter(object_type="credit.certificateprint").values_list("action", flat=True))
    assert sorted(actions) == ["credit.certificate_print", "credit.certificate_reprint"]


def test_a_check_is_refused_a_certificate_when_not_checked(db):
    line = CheckLine(outcome=CheckLine.Outcome.UNKNOWN)
    with pytest.raises(ValueError):
        certificates.certificate_print(line=line, actor=None)


# --- verification -----------------------------------------------------------------------------------------------
def _printed(user) -> tuple[CertificatePrint, str]:
    line = check_one(user, listed_entity())
    printed, _pdf = certificates.certificate_print(line=line, actor=user)
    return printed, certificates.token_of(printed.serial, line.digest)


def test_a_genuine_certificate_verifies_and_shows_what_it_stated(db, client, city_regulator):
    printed, token = _printed(city_regulator)
    response = client.get(reverse("credit-verify", args=[token]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "verify-genuine" in body and "verify-not-genuine" not in body
    assert printed.serial in body and "晋中失信示例商贸有限公司" in body and "榆次市监严入〔2026〕第3号" in body
    assert "140702198001011234" not in body


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature altered
        lambda t: t.replace("-0.", "-1."),  # another reprint counter, same signature
        lambda t: t.replace("P2026", "B2026"),  # another prefix
        lambda t: t.split(".")[0],  # no signature
        lambda t: "P20991231000001-0.AAAAAAAAAAAAAAAAAAAAAA",  # made up
        lambda t: "%3Cscript%3E",  # garbage
    ],
)
def test_a_made_up_or_altered_serial_is_not_genuine(db, client, city_regulator, mangle):
    _printed_row, token = _printed(city_regulator)
    response = client.get(reverse("credit-verify", args=[mangle(token)]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "verify-not-genuine" in body and "verify-genuine" not in body
    assert "晋中失信示例商贸有限公司" not in body


def test_content_changed_in_the_database_is_not_genuine(db, client, city_regulator):
    printed, token = _printed(city_regulator)
    line = printed.line
    line.facts["penalties"] = []
    line.save(update_fields=["facts"])
    assert certificates.verify(token).genuine is False


def test_the_qr_code_carries_the_verification_url(db, city_regulator, settings):
    settings.PORTAL_PUBLIC_BASE_URL = "https://credit.example.gov.cn"
    line = check_one(city_regulator, clean_entity())
    context = certificates.certificate_context(
        line=line, serial=f"{line.serial}-0", printed_at=dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    )
    assert context["verify_url"].startswith(f"https://credit.example.gov.cn/verify/{line.serial}-0.")
    assert context["qr"].startswith("data:image/svg+xml")
    assert certificates.verify(context["verify_url"].rsplit("/", 2)[-2]).genuine is False  # not printed yet


# --- the entity's portal ----------------------------------------------------------------------------------------
def test_an_enterprise_downloads_its_own_certificate(db, client):
    enterprise = clean_entity()
    user = UserFactory(username="ent", role=User.Role.ENTERPRISE, is_staff=False)
    EnterpriseAccount.objects.create(
        user=user, enterprise=enterprise, activated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    client.force_login(user)
    response = client.post(reverse("portal-certificate"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    again = client.post(reverse("portal-certificate"))
    assert again.status_code == 200
    line = CheckLine.objects.get(enterprise=enterprise)  # the same check the same day: a reprint
    assert line.prints == 2 and line.check_run.purpose == "self"
    assert list(CertificatePrint.objects.values_list("channel", flat=True)) == ["portal", "portal"]
    assert client.get(reverse("portal-certificate")).status_code == 405


def test_staff_cannot_use_the_portal_download(db, client, city_regulator):
    client.force_login(city_regulator)
    assert client.post(reverse("portal-certificate")).status_code == 403


def test_anonymous_is_sent_to_log_in(db, client):
    response = client.post(reverse("portal-certificate"))
    assert response.status_code == 302 and "/portal/login/" in response["Location"]


def test_entities_without_a_check_are_not_verifiable(db):
    EnterpriseFactory()
    assert certificates.verify("").genuine is False
    assert checks.batch_max() == 5000
