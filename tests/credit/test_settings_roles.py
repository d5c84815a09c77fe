"""The credit capabilities of core.roles by role (run checks; view the reports and the dashboard), and the settings
read by credit (batch maximum, warning window, the public base URL of the QR code)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from core.errors import ApplicationError
from core.models import User
from core.roles import CAPABILITIES, has_capability
from credit import checks, warnings
from tests.factories import UserFactory

# (role, staff account, credit.run_checks, credit.view_reports)
MATRIX = [
    (User.Role.CITY_REGULATOR, True, True, True),
    (User.Role.COUNTY_REGULATOR, True, True, True),
    (User.Role.COUNTY_REGULATOR, False, False, False),  # a regulator role without a staff account
    (User.Role.CHECK_OFFICER, True, True, False),  # checks, never the reports or the dashboard
    (User.Role.CHECK_OFFICER, False, False, False),
    (User.Role.INSPECTOR, True, False, False),
    (User.Role.CREDIT_REVIEWER, True, False, False),
    (User.Role.DATA_CLERK, True, False, False),
    (User.Role.ENTERPRISE, False, False, False),
]


@pytest.mark.parametrize(("role", "staff", "run_checks", "view_reports"), MATRIX)
def test_it_gives_the_credit_capabilities_by_role(db, role, staff, run_checks, view_reports):
    user = UserFactory(role=role, is_staff=staff, region_code="" if role == User.Role.CITY_REGULATOR else "140702")
    assert has_capability(user, "credit.run_checks") is run_checks
    assert has_capability(user, "credit.view_reports") is view_reports


def test_the_matrix_covers_every_role():
    assert {row[0] for row in MATRIX} == set(User.Role.values) - {User.Role.API_CLIENT}  # the API client: below


@pytest.mark.parametrize("capability", ["credit.run_checks", "credit.view_reports"])
def test_it_refuses_department_api_clients(db, api_client_user, capability):
    assert has_capability(api_client_user, capability) is False


@pytest.mark.parametrize("capability", ["credit.run_checks", "credit.view_reports"])
def test_it_refuses_anonymous_and_inactive_users_and_grants_superusers(db, capability):
    assert has_capability(AnonymousUser(), capability) is False
    assert has_capability(None, capability) is False
    inactive = UserFactory(role=User.Role.CITY_REGULATOR, is_active=False)
    assert has_capability(inactive, capability) is False
    superuser = UserFactory(role=User.Role.ENTERPRISE, is_superuser=True, is_staff=False)
    assert has_capability(superuser, capability) is True


def test_an_unknown_capability_is_a_programming_error(db, city_regulator):
    assert {"credit.run_checks", "credit.view_reports"} <= set(CAPABILITIES)
    with pytest.raises(KeyError):
        has_capability(city_regulator, "credit.run_check")  # a typo must not silently deny (or grant)


def test_the_batch_maximum_comes_from_settings(settings):
    settings.CREDIT_CHECK_BATCH_MAX = 2
    assert len(checks.parse_text("a\nb").entries) == 2
    with pytest.raises(ApplicationError, match="超过单次核查上限 2 个"):
        checks.parse_text("a\nb\nc")


def test_the_annual_report_warning_window_comes_from_settings(settings):
    settings.CREDIT_WARNING_ANNUAL_REPORT_DAYS = 10
    assert warnings.annual_report_days() == 10


def test_the_qr_url_uses_the_public_base_url(settings):
    from credit import certificates

    settings.PORTAL_PUBLIC_BASE_URL = "https://xy.example.gov.cn"
    assert certificates.verify_url("P20261120000001-0.abc") == "https://xy.example.gov.cn/verify/P20261120000001-0.abc/"
    settings.PORTAL_PUBLIC_BASE_URL = ""
    assert certificates.verify_url("P20261120000001-0.abc") == "/verify/P20261120000001-0.abc/"
