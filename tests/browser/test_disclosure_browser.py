"""The public credit record and the public abnormal list in a real headless browser."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.translation import gettext

from tests.disclosure.factories import AbnormalListingFactory, PenaltyFactory
from tests.factories import EnterpriseFactory

# live_server serves from another thread: the data must be committed (the reference data: see conftest.py).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = dt.date(2026, 9, 15)
SCREENSHOT = "/tmp/record.png"


@pytest.fixture(autouse=True)
def today(monkeypatch):
    # The live server runs in a thread of this process: it sees the same frozen day.
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture
def listed_enterprise():
    enterprise = EnterpriseFactory(
        name="晋中鼎泰商贸有限公司",
        legal_representative="李四",
        legal_representative_id_number="140702199001011234",
        contact_phone="13912345678",
    )
    PenaltyFactory(
        enterprise=enterprise,
        decision_number="晋市监罚〔2026〕88号",
        kinds=["fine", "confiscation"],
        fine_amount=Decimal("80000"),
        violation_type="销售不合格产品",
        case_officer="办案人员王五",
    )
    PenaltyFactory(enterprise=enterprise, decision_number="晋市监罚〔2026〕99号", status="withdrawn")
    AbnormalListingFactory(enterprise=enterprise, decision_number="榆次市监异入〔2026〕第7号")
    EnterpriseFactory(name="晋中恒丰物流有限公司")
    return enterprise


def test_the_record_page_shows_the_penalty_and_the_abnormal_listing_in_chinese(live_server, page, listed_enterprise):
    response = page.goto(f"{live_server.url}/e/{listed_enterprise.uscc}/")
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("h1").inner_text() == "晋中鼎泰商贸有限公司"

    penalties = page.locator("section#penalties")
    assert penalties.locator("h2").inner_text() == "行政处罚信息"
    rows = penalties.locator("tbody tr")
    assert rows.count() == 1
    row = rows.first.inner_text()
    for text in (
        "晋市监罚〔2026〕88号",
        "销售不合格产品",
        "80,000",
        "晋中市市场监督管理局",
        "2026-03-02",
        "2027-03-02",
    ):
        assert text in row
    headers = penalties.locator("thead th").all_inner_texts()
    assert headers[0] == gettext("Decision number") and headers[-1] == gettext("Disclosed until")

    abnormal = page.locator("section#abnormal")
    assert abnormal.locator("h2").inner_text() == "经营异常名录"
    listing = abnormal.locator("tbody tr").first.inner_text()
    assert "榆次市监异入〔2026〕第7号" in listing
    assert "未按照《企业信息公示暂行条例》第八条规定的期限公示年度报告" in listing
    assert "晋中市榆次区市场监督管理局" in listing

    serious = page.locator("section#serious")
    assert serious.locator("h2").inner_text() == "严重违法失信名单"
    assert serious.locator("p.empty").inner_text() == gettext("No record")

    body = page.locator("body").inner_text()
    for secret in ("晋市监罚〔2026〕99号", "办案人员王五", "140702199001011234", "13912345678"):
        assert secret not in body
    # disclosure.css is served and applied (the kinds are a bold block above the decided text).
    weight = penalties.locator(".penalty-kinds").evaluate("el => getComputedStyle(el).fontWeight")
    assert weight == "600"

    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_the_abnormal_list_searches_by_name_and_opens_the_entity(live_server, page, listed_enterprise):
    other = EnterpriseFactory(name="晋中恒丰物流有限公司二号")
    AbnormalListingFactory(enterprise=other, decision_number="榆次市监异入〔2026〕第8号")

    page.goto(f"{live_server.url}/abnormal/")
    assert page.locator("h1").inner_text() == "经营异常名录"
    assert page.locator("a.entity-link").count() == 2

    page.get_by_role("searchbox").fill("鼎泰")
    page.locator("form.list-form button[type=submit]").click()
    page.wait_for_url("**/abnormal/?q=*")
    links = page.locator("a.entity-link")
    assert links.count() == 1
    assert links.first.inner_text() == "晋中鼎泰商贸有限公司"

    links.first.click()
    page.wait_for_url(f"**/e/{listed_enterprise.uscc}/")
    assert "榆次市监异入〔2026〕第7号" in page.locator("section#abnormal").inner_text()
    assert "榆次市监异入〔2026〕第8号" not in page.locator("body").inner_text()
