"""Test-wide fixtures: personas, an API client, a Celery worker on the real broker, a headless browser."""

from __future__ import annotations

import importlib
import os

import pytest
from django.apps import apps

from core.models import User
from tests.factories import DepartmentFactory, EnterpriseFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from such a thread are safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Passw0rd!2024"


def pytest_configure(config):
    from django.conf import settings

    # Hashing speed only; everything else runs as in production.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    os.makedirs(settings.STATIC_ROOT, exist_ok=True)


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


# Data migrations whose rows the tests rely on (reloaded after a transactional test's flush).
REFERENCE_DATA_MIGRATIONS = [
    "enterprises.migrations.0002_reference_data",
    "disclosure.migrations.0002_policies",
    "repair.migrations.0002_policies",
    "credit.migrations.0002_default_model",
]


def _load_reference_data() -> None:
    for module in REFERENCE_DATA_MIGRATIONS:
        importlib.import_module(module).load(apps, None)


@pytest.fixture(autouse=True)
def _reference_data_after_flush(request):
    """Transactional tests (live server, real worker) end with a flush that empties the reference tables that the
    migrations loaded (regions, industries, key areas). serialized_rollback cannot restore them once Playwright's
    event loop runs in the test thread (Django then hands out another connection without the serialized copy), so
    load them before such a test and again after its flush, for whichever test comes next."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if not transactional:
        yield
        return
    blocker = request.getfixturevalue("django_db_blocker")
    request.getfixturevalue("transactional_db")
    _load_reference_data()
    yield
    # Runs after transactional_db's teardown (fixtures tear down in reverse order): the tables are flushed now.
    with blocker.unblock():
        _load_reference_data()


@pytest.fixture
def city_regulator(db) -> User:
    return UserFactory(username="city", role=User.Role.CITY_REGULATOR)


@pytest.fixture
def county_regulator(db) -> User:
    """A regulator of 榆次区 (140702)."""
    return UserFactory(username="yuci", role=User.Role.COUNTY_REGULATOR, region_code="140702")


@pytest.fixture
def other_county_regulator(db) -> User:
    """A regulator of 太谷区 (140703)."""
    return UserFactory(username="taigu", role=User.Role.COUNTY_REGULATOR, region_code="140703")


@pytest.fixture
def data_clerk(db) -> User:
    return UserFactory(username="clerk", role=User.Role.DATA_CLERK, region_code="140702")


@pytest.fixture
def api_client_user(db) -> User:
    dept = DepartmentFactory(code="health", name="市卫生健康委员会")
    return UserFactory(username="health-api", role=User.Role.API_CLIENT, department=dept, is_staff=False)


@pytest.fixture
def enterprise(db):
    return EnterpriseFactory()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


# --- Celery -----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def celery_worker_session():
    """A real worker consuming the real broker (Redis) in a thread of the test process."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


# --- Browser ----------------------------------------------------------------------------------------------------
CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    """One headless Debian chromium for the whole session (cold start ~7 s), driven by Playwright."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: make test installs Debian's chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
