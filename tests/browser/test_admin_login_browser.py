"""A regulator logs in to the admin in a real headless browser."""

from __future__ import annotations

import pytest
from django.contrib import admin

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_logs_a_city_regulator_in_to_the_admin_index(live_server, page, city_regulator):
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill(city_regulator.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    assert page.title().startswith(str(admin.site.index_title))
    assert str(admin.site.site_header) in page.locator("#site-name").inner_text()


def test_it_refuses_a_wrong_password(live_server, page, city_regulator):
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill(city_regulator.username)
    page.locator("#id_password").fill("not-the-password")
    page.locator("input[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{live_server.url}/admin/login/")
    assert page.locator(".errornote").count() == 1
