"""The public site in a real headless browser: search, open an entity, a malformed code."""

from __future__ import annotations

import pytest
from django.utils.translation import gettext

from enterprises import identity
from tests.factories import EnterpriseFactory, make_uscc

# live_server serves from another thread: the data must be committed (the reference data: see conftest.py).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/entity.png"


def test_it_searches_a_name_and_opens_the_entity_page(live_server, page):
    target = EnterpriseFactory(
        name="晋中鼎泰商贸有限公司",
        former_names=["榆次鼎泰商行"],
        legal_representative="李四",
        legal_representative_id_number="140702199001011234",
        contact_phone="13912345678",
    )
    EnterpriseFactory(name="晋中恒丰物流有限公司")

    page.goto(f"{live_server.url}/")
    page.get_by_role("searchbox").fill("鼎泰商贸")
    page.get_by_role("button", name=gettext("Search")).click()
    page.wait_for_url("**/?q=*")
    links = page.locator("a.entity-link")
    assert links.count() == 1
    assert links.first.inner_text() == "晋中鼎泰商贸有限公司"

    links.first.click()
    page.wait_for_url(f"**/e/{target.uscc}/")
    assert page.locator("h1").inner_text() == "晋中鼎泰商贸有限公司"
    facts = page.locator("dl.facts").inner_text()
    assert target.uscc in facts and "李四" in facts and "榆次鼎泰商行" in facts
    body = page.locator("body").inner_text()
    assert "13912345678" not in body and "140702199001011234" not in body
    assert page.locator("section.credit-section").count() == 3
    # The stylesheet is served and applied (the header is the bureau's blue, not the browser default).
    header_bg = page.locator("header.site-header").evaluate("el => getComputedStyle(el).backgroundColor")
    assert header_bg == "rgb(11, 74, 139)"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_it_explains_a_malformed_code(live_server, page):
    code = make_uscc(serial=8)
    bad = code[:-1] + next(c for c in identity.ALPHABET if c != code[-1])

    page.goto(f"{live_server.url}/")
    page.get_by_role("searchbox").fill(bad.lower())
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=*")
    assert "统一社会信用代码校验位错误" in page.get_by_role("alert").inner_text()
    assert page.locator("a.entity-link").count() == 0

    response = page.goto(f"{live_server.url}/e/{bad}/")
    assert response is not None and response.status == 400
    assert "统一社会信用代码校验位错误" in page.locator("main").inner_text()


def test_it_refuses_a_one_character_search(live_server, page):
    EnterpriseFactory(name="晋中鼎泰商贸有限公司")
    page.goto(f"{live_server.url}/?q=鼎")
    assert page.get_by_role("alert").inner_text() == "请输入至少 2 个字"
    assert page.locator("a.entity-link").count() == 0
