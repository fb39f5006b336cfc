"""A real `nuanxin serve` process in production: what it refuses at start, what headers it sends."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.server_process import ROOT, ServerProcess, free_port

STRONG = "kP3v9sQx7LmZ2rTwYb8NcD4fGhJ6aE1u-Vq"
PASSWORD = "a long unusual passphrase 7"


def serve(database_url: str, **env: str) -> subprocess.CompletedProcess:
    """Start `nuanxin serve` and wait for it to exit (a server that starts is killed by the
    timeout, and the test fails)."""
    return subprocess.run(
        [sys.executable, "-m", "server", "serve", "--port", str(free_port()), "--database-url", database_url],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("NUANXIN_")}, **env},
    )


@pytest.mark.parametrize("secret", [None, "", "a", "changeme", "changeme" * 5, "ab" * 20, "x" * 31])
def test_production_refuses_a_missing_or_weak_secret_in_one_line(sqlite_database: str, secret: str | None) -> None:
    env = {"NUANXIN_ENV": "production"}
    if secret is not None:
        env["NUANXIN_SECRET"] = secret

    try:
        done = serve(sqlite_database, **env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"production started with NUANXIN_SECRET={secret!r}")

    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "NUANXIN_SECRET" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def _cookies(response: httpx.Response) -> dict[str, str]:
    """Cookies as set, Secure ones included (the test speaks plain HTTP to 127.0.0.1)."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, value = header.split(";", 1)[0].partition("=")
        found[name.strip()] = value
    return found


@pytest.fixture
def production(tmp_path: Path, sqlite_database: str):
    env = {"NUANXIN_ENV": "production", "NUANXIN_SECRET": STRONG}
    account = subprocess.run(
        [sys.executable, "-m", "server", "add-account", "wangfang", "--person", "wangfang", "--role", "staff",
         "--township", "城关镇", "--database-url", sqlite_database],
        cwd=ROOT, input=PASSWORD + "\n", capture_output=True, text=True, env={**os.environ, **env},
    )
    assert account.returncode == 0, account.stderr
    server = ServerProcess(sqlite_database, tmp_path / "server.log", demo=False, env=env).start()
    try:
        yield server
    finally:
        server.stop()


def _signed_in(server: ServerProcess) -> dict[str, str]:
    form = httpx.get(f"{server.url}/township/login")
    cookies = _cookies(form)
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)[1]
    answer = httpx.post(f"{server.url}/township/login", cookies=cookies,
                        data={"username": "wangfang", "password": PASSWORD, "_csrf_token": token})
    assert answer.status_code == 303, answer.text
    return {**cookies, **_cookies(answer)}


def test_production_sends_hsts_and_no_server_header(production: ServerProcess) -> None:
    for path in ["/", "/township/login", "/api/schema/openapi.json", "/no/such/page"]:
        answer = httpx.get(f"{production.url}{path}")
        assert answer.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains", path
        assert "server" not in answer.headers, path


def test_personal_pages_and_exports_are_not_stored(production: ServerProcess) -> None:
    cookies = _signed_in(production)

    for path in ["/township/", "/township/shifts", "/township/report", "/township/report.csv",
                 "/township/export/shifts.csv", "/township/subsidy", "/township/subsidy.csv",
                 "/township/export/supplies.csv", "/township/export/requests.csv", "/township/people",
                 "/township/login"]:
        answer = httpx.get(f"{production.url}{path}", cookies=cookies)
        assert answer.status_code == 200, path
        assert answer.headers["cache-control"] == "no-store", path
        if path.endswith(".csv"):  # streamed; one charset (Litestar adds it to text/ types)
            assert answer.headers["content-type"] == "text/csv; charset=utf-8", path
            head = httpx.head(f"{production.url}{path}", cookies=cookies)
            assert head.status_code == 200 and head.content == b"", path
            assert head.headers["content-type"] == answer.headers["content-type"], path
    sync = httpx.post(f"{production.url}/api/sync", json={})
    assert sync.status_code == 401 and sync.headers["cache-control"] == "no-store"
    style = httpx.get(f"{production.url}/township/static/dashboard.css")
    assert style.status_code == 200 and "no-store" not in style.headers.get("cache-control", "")


def test_development_sends_no_hsts(tmp_path: Path, sqlite_database: str) -> None:
    server = ServerProcess(sqlite_database, tmp_path / "server.log", demo=False).start()
    try:
        answer = httpx.get(f"{server.url}/township/")
    finally:
        server.stop()

    assert "strict-transport-security" not in answer.headers
    assert "server" not in answer.headers
