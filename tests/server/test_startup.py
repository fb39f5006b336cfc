"""Every refusal at start-up is one line that says what to do, never a traceback (issue 12, item 4).

Each case runs `nuanxin serve` as a process, as systemd would, and reads its stderr."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest

from tests.support.databases import postgres_database, sqlite_url
from tests.support.server_process import nuanxin


def refusal(*args: str, env: dict | None = None) -> str:
    ran = nuanxin("serve", *args, env=env)
    assert ran.returncode == 2, ran
    assert "Traceback" not in ran.stderr
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1, ran.stderr
    return lines[0]


def test_a_database_that_does_not_answer() -> None:
    line = refusal("--database-url", "postgresql+asyncpg://nuanxin:hunter2-pass@127.0.0.1:1/nuanxin")
    assert line.startswith("nuanxin: cannot reach the database postgresql+asyncpg://nuanxin:***@127.0.0.1:1/nuanxin")
    assert "hunter2-pass" not in line


@pytest.mark.postgres
def test_a_database_that_does_not_exist() -> None:
    with postgres_database() as url:  # the server is there; the database named is not
        missing = url.rsplit("/", 1)[0] + "/no_such_database"
        assert 'database "no_such_database" does not exist' in refusal("--database-url", missing)


def test_a_schema_from_a_newer_version(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "nuanxin.sqlite3") as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('9999')")
    line = refusal("--database-url", sqlite_url(tmp_path))
    assert line.startswith("nuanxin: the database migrations cannot run") and "'9999'" in line


def test_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = refusal("--port", str(port), "--database-url", sqlite_url(tmp_path))
    assert line.startswith(f"nuanxin: cannot listen on 127.0.0.1:{port}") and "another port" in line
    assert not (tmp_path / "nuanxin.sqlite3").exists(), "refused before touching the database"


def test_a_certificate_that_does_not_load(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("not a certificate\n")
    line = refusal("--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem"),
                   "--database-url", sqlite_url(tmp_path))
    assert line.startswith(f"nuanxin: cannot use the certificate {tmp_path / 'cert.pem'}")
    assert "--tls-cert and --tls-key go together" in refusal("--tls-cert", str(tmp_path / "cert.pem"))


def test_settings_that_cannot_be_used(tmp_path: Path) -> None:
    assert "NUANXIN_SECRET" in refusal("--env", "production", "--database-url", sqlite_url(tmp_path))
    assert "NUANXIN_LOG_FORMAT" in refusal("--database-url", sqlite_url(tmp_path), env={"NUANXIN_LOG_FORMAT": "xml"})
