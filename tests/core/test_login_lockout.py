"""Login throttling: repeated failures lock the account+IP on the admin login form."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_it_locks_out_after_repeated_failures_even_with_the_right_password(client, city_regulator, settings):
    url = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(url, {"username": "city", "password": "wrong"})
        assert response.status_code in (200, 429)
    locked = client.post(url, {"username": "city", "password": PASSWORD})
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_correct_login_works_and_resets_the_counter(client, city_regulator):
    url = reverse("admin:login")
    client.post(url, {"username": "city", "password": "wrong"})
    response = client.post(url, {"username": "city", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(city_regulator.pk)
