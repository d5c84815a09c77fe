"""Project hygiene that CI must keep: migrations, lint, documented settings, the production compose file."""

from __future__ import annotations

import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:  # makemigrations --check exits 1 when a migration is missing
        pytest.fail(f"missing migrations:\n{out.getvalue()} ({exc})")


def test_ruff_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--quiet", str(ROOT)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_environment_variable_is_documented():
    read = set(
        re.findall(
            r"""(?:environ\.get|environ\[|env_bool|env_list)\(\s*["']([A-Z_]+)["']""",
            (ROOT / "config/settings.py").read_text(),
        )
    )
    read |= set(re.findall(r"""os\.environ\.get\("([A-Z_]+)\"""", (ROOT / "config/settings.py").read_text()))
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    read.discard("PORTAL_TESTING")  # set by the test runner only
    assert read - documented == set()


def test_compose_describes_the_production_shape():
    import yaml  # PyYAML comes with drf-spectacular

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:3] == ["celery", "-A", "config"]
    assert "beat" in services["beat"]["command"]


def test_ci_runs_exactly_make_test():
    ci = (ROOT / ".ci/run").read_text()
    assert "make test" in ci
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
