"""The demo keeps working on the SQLite default (`make run` without any server): migrate, seed, serve, load pages.

Runs the real commands in subprocesses with a clean environment (no DATABASE_URL / REDIS_URL), like a fresh machine.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY"}}
    env.update(PORTAL_VAR_DIR=str(tmp_path), PORTAL_TESTING="1", DJANGO_SETTINGS_MODULE="config.settings")
    return env


def _manage(env: dict[str, str], *args: str, timeout: int = 300) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_it_seeds_and_serves_the_demo_on_sqlite(sqlite_env, tmp_path):
    _manage(sqlite_env, "migrate", "--noinput", "-v", "0")
    out = _manage(sqlite_env, "seed_demo", "--enterprises", "500", "--password", "smoke-test-2026")
    assert "演示数据加载完成" in out

    db = tmp_path / "portal.sqlite3"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM enterprises_enterprise").fetchone()[0] == 500
        assert conn.execute("SELECT COUNT(*) FROM enterprises_annualreport").fetchone()[0] > 400
        (uscc,) = conn.execute(
            "SELECT uscc FROM enterprises_enterprise WHERE status = 'operating' ORDER BY id LIMIT 1"
        ).fetchone()

    again = _manage(sqlite_env, "seed_demo", "--if-empty", "--enterprises", "500")
    assert "跳过" in again
    logins = _manage(sqlite_env, "seed_demo", "--list-users")
    assert "    yuci" in logins and "榆次区" in logins

    port = _free_port()
    log = (tmp_path / "runserver.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=sqlite_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _body = _get(base + "/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("runserver did not come up:\n" + (tmp_path / "runserver.log").read_text())
                time.sleep(0.3)
        assert status == 200

        # The public pages belong to the public-site work; all four must answer 200 on the seeded demo.
        results = {path: _get(base + path) for path in ("/healthz", "/admin/login/", "/", f"/e/{uscc}/")}
        failures = {path: status for path, (status, _body) in results.items() if status != 200}
        assert not failures, f"pages not answering 200: {failures}"
        assert "sqlite" in results["/healthz"][1]
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
