"""No sync answers 500 when many phones push at once, and every change is applied once (issue 11).

Fifty enrolled phones each send two batches of shifts at the same moment to a real server
process (two of them on PostgreSQL), while the township pages are read beside
them. On SQLite the writers of each process queue for the write lock and the readers take none.
Every answer must be 200, every change `applied` (never `duplicate`, never lost), and the
database must hold each entry and each change exactly once. Nothing here is timed.

Below it, the parts on SQLite one by one: writers of a process wait for the lock holding no
connection, a read takes no write lock, busy is a retryable error, and commits are durable.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from server import db
from server.models import ChangeLog, Entry
from tests.support.aio import run
from tests.support.burst import batches, burst, enrol_phones
from tests.support.databases import postgres_database, sqlite_url
from tests.support.server_process import ROOT, ServerProcess
from tests.support.world import in_session

PHONES, BATCHES, SIZE = 50, 2, 10
PAGES = ["/township/", "/township/shifts", "/township/supplies", "/township/conflicts"]


async def burst_with_readers(base_url: str, work: list) -> tuple[list, list[int]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=300) as client:
        pages = [client.get(PAGES[n % len(PAGES)]) for n in range(30)]
        outcomes, *answers = await asyncio.gather(burst(base_url, work, at_once=len(work)), *pages)
    return outcomes, [a.status_code for a in answers]


def stored(url: str) -> tuple[int, int, int]:
    async def work(session):
        entries = await session.scalar(select(func.count()).select_from(Entry).where(Entry.id.like("b-%")))
        changes = await session.scalar(select(func.count()).select_from(ChangeLog))
        distinct = await session.scalar(select(func.count(func.distinct(ChangeLog.entry_id))))
        return entries, changes, distinct

    return run(in_session(url, work))


def check_burst(server: ServerProcess, url: str) -> None:
    phones = enrol_phones(url, PHONES)
    work = [(phone, body) for phone in phones for body in batches(phone, BATCHES, SIZE)]
    outcomes, page_statuses = run(burst_with_readers(server.url, work))

    statuses = Counter(o.status for o in outcomes)
    assert statuses == {200: len(work)}, f"{statuses}\n{server.log()[-3000:]}"
    assert set(page_statuses) == {200}
    results = Counter(status for o in outcomes for status in o.results.values())
    total = PHONES * BATCHES * SIZE
    assert results == {"applied": total}
    assert stored(url) == (total, total, total)


def test_many_phones_at_once_on_sqlite(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    server = ServerProcess(url, tmp_path / "server.log").start()
    try:
        check_burst(server, url)
    finally:
        server.stop()


@pytest.mark.postgres
def test_many_phones_at_once_on_postgres_with_two_processes(tmp_path: Path) -> None:
    with postgres_database() as url:
        server = ServerProcess(url, tmp_path / "server.log", workers=2).start()
        try:
            check_burst(server, url)
        finally:
            server.stop()


def test_several_processes_need_postgres(tmp_path: Path) -> None:
    """On SQLite a second process only contends for the one write lock: refused, in one line."""
    refused = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--workers", "2", "--database-url", sqlite_url(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert refused.returncode == 2
    assert "--workers needs PostgreSQL" in refused.stderr and refused.stderr.count("\n") == 1
    assert not (tmp_path / "nuanxin.sqlite3").exists()  # refused before touching the database


def test_writers_of_a_process_queue_holding_no_connection(tmp_path: Path) -> None:
    """Twenty writers at once: while one writes, the others wait on the process's queue, not in
    SQLite's busy loop with a pooled connection each (which also ran the pool dry)."""

    async def work() -> list[int]:
        engine = db.create_engine(sqlite_url(tmp_path))
        await db.migrate(engine)
        maker, seen = db.session_maker(engine), []

        async def writer() -> None:
            async with maker.begin() as session:
                await session.execute(text("UPDATE alembic_version SET version_num = version_num"))
                for _ in range(3):  # let the others run up to wherever they wait
                    await asyncio.sleep(0)
                seen.append(engine.sync_engine.pool.checkedout())

        try:
            await asyncio.gather(*(writer() for _ in range(20)))
        finally:
            await engine.dispose()
        return seen

    assert run(work()) == [1] * 20


def test_a_read_takes_no_write_lock(tmp_path: Path) -> None:
    """Another process holds SQLite's write lock; the dashboard and a phone's config still answer."""
    url = sqlite_url(tmp_path)
    server = ServerProcess(url, tmp_path / "server.log").start()
    holder = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with httpx.Client(base_url=server.url, timeout=60) as client:
            assert client.get("/township/supplies").status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        server.stop()


def test_busy_is_retried_as_a_whole_transaction(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)

    async def busy() -> DBAPIError:
        engine = db.create_engine(url)
        await db.migrate(engine)
        holder = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            async with engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA busy_timeout=0")  # fail at once, not in 30 s
                await conn.commit()
                conn = await conn.execution_options(**{db.WRITE: True})
                with pytest.raises(DBAPIError) as caught:
                    await conn.begin()
                return caught.value
        finally:
            holder.execute("ROLLBACK")
            holder.close()
            await engine.dispose()

    assert db.retryable(run(busy()))


def test_sqlite_commits_are_durable(tmp_path: Path) -> None:
    async def level() -> int:
        engine = db.create_engine(sqlite_url(tmp_path))
        try:
            async with engine.connect() as conn:
                return await conn.scalar(text("PRAGMA synchronous"))
        finally:
            await engine.dispose()

    assert run(level()) == 2  # FULL: WAL with NORMAL may lose acknowledged commits on power loss


def test_two_server_processes_never_share_a_clock_node() -> None:
    """Even when their random parts collide, two live processes stamp with distinct nodes."""
    script = ("import secrets; secrets.choice = lambda seq: seq[0]; "
              "from server.services.server_clock import ServerClock; print(ServerClock().node)")
    nodes = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            cwd=ROOT).stdout.strip() for _ in range(2)}
    assert len(nodes) == 2 and all(node.startswith("srvaaaaaa") for node in nodes)
