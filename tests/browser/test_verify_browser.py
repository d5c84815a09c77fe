"""Verifying a printed certificate in a real headless browser: the address printed under the QR code (and encoded in
it) opens the public verification page, which shows what the certificate stated; an altered serial or signature is
reported as not genuine."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from credit import certificates, checks
from tests.credit.test_checks import START, TODAY, listed_entity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _printed_url(pdf: bytes, tmp_path) -> str:
    """The verification address as printed on the certificate (what a reader types; the QR code carries the same)."""
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    joined = re.sub(r"\s+", "", text)  # a long address may wrap in the PDF's table cell
    match = re.search(r"(https?://[^/]+/verify/[^/]+/)", joined)
    assert match, text
    return match.group(1)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is installed by make test")
def test_a_certificate_verifies_by_its_qr_url_and_a_tampered_one_does_not(
    live_server, page, city_regulator, settings, tmp_path
):
    settings.PORTAL_PUBLIC_BASE_URL = live_server.url  # the public site as printed in the QR code
    enterprise = listed_entity()
    check = checks.check_single(
        actor=city_regulator, uscc=enterprise.uscc, purpose="procurement", start=START, end=TODAY
    )
    line = check.lines.get()
    printed, pdf = certificates.certificate_print(line=line, actor=city_regulator)
    url = _printed_url(pdf, tmp_path)
    # The QR code on the certificate encodes exactly the printed address.
    context = certificates.certificate_context(line=line, serial=printed.serial, printed_at=printed.printed_at)
    assert context["verify_url"] == url
    assert context["qr"] == certificates.qr_svg_uri(url)
    assert url.startswith(f"{live_server.url}/verify/{printed.serial}.")

    page.goto(url)
    status = page.get_by_role("status")
    assert "真实有效" in status.inner_text() or printed.serial in status.inner_text()
    assert page.locator(".verify-not-genuine").count() == 0
    facts = page.locator("dl.facts").inner_text()
    assert printed.serial in facts and enterprise.uscc in facts and "晋中失信示例商贸有限公司" in facts
    stated = page.locator("ul.verify-records").inner_text()
    for number in ("榆次市监异入〔2026〕第7号", "榆次市监严入〔2026〕第3号", "晋市监罚〔2026〕88号"):
        assert number in stated
    assert "140702198001011234" not in page.locator("body").inner_text()

    token = url.rstrip("/").rsplit("/", 1)[1]
    serial, signature = token.rsplit(".", 1)
    flipped = "A" if signature[0] != "A" else "B"
    tampered = {
        "signature": f"{live_server.url}/verify/{serial}.{flipped}{signature[1:]}/",
        "serial": f"{live_server.url}/verify/{serial[:-3]}9{serial[-2:]}.{signature}/",  # the daily sequence altered
        "reprint counter": f"{live_server.url}/verify/{serial[:-1]}7.{signature}/",
        "made up": f"{live_server.url}/verify/P20991231000001-0.AAAAAAAAAAAAAAAAAAAAAA/",
    }
    for what, address in tampered.items():
        page.goto(address)
        alert = page.locator(".verify-not-genuine")
        assert alert.count() == 1, what
        assert "不是" in alert.inner_text() or "伪造" in alert.inner_text() or "查无" in alert.inner_text(), what
        assert page.locator("dl.facts").count() == 0, what  # nothing of the genuine certificate is shown
        assert "晋中失信示例商贸有限公司" not in page.locator("body").inner_text(), what
