"""No sync answers 500 when many phones push at once, and every change is applied once (issue 11).

fifty enrolled phones each send three batches of shifts at the same moment to a real server
process, while the township pages are read beside them. On SQLite the writers of the process
queue for the write lock and the readers take none; on PostgreSQL two server processes share
the load. Every answer must be 200, every change `applied` (never `duplicate`, never lost), and
the database must hold each entry and each change exactly once. Nothing here is timed.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from server.models import ChangeLog, Entry
from tests.support.aio import run
from tests.support.burst import batches, burst, enrol_phones
from tests.support.databases import postgres_database, sqlite_url
from tests.support.server_process import ServerProcess
from tests.support.world import in_session

PHONES, BATCHES, SIZE = 50, 3, 10
PAGES = ["/township/", "/township/supplies", "/township/conflicts"]


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
