"""Fresh databases for tests: a SQLite file, or a new PostgreSQL database dropped afterwards."""

from __future__ import annotations

import asyncio
import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import asyncpg
import pytest

from tests.support.aio import run

# CI sets nothing: the machine's PostgreSQL listens here with trust auth.
PG_ADMIN_DSN = os.environ.get("NUANXIN_TEST_PG", "postgresql://root@127.0.0.1:5432/test")


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'nuanxin.sqlite3'}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_available() -> bool:
    try:
        run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError):
        return False
    return True


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new database on the test server; CI fails rather than skips when there is none."""
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_DSN}; CI must test against it")
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_DSN} (set NUANXIN_TEST_PG)")
    name = f"nuanxin_{uuid.uuid4().hex[:12]}"
    run(_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
