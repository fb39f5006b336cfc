"""A lost reset is repeated (docs/sync-protocol.md §4 `cursor` and `reset`).

A worker moves site; the answer that says `reset: true` never reaches the phone. The reset must
follow from what the phone holds (the scope inside its opaque cursor), so the retry resets
again. Against a real server process, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from server.demo import TOWNSHIP
from server.models import Person
from sync.client import HttpTransport, enrol
from sync.client import sync as sync_to_the_end
from sync.replica import Replica
from tests.support.aio import run
from tests.support.databases import postgres_database, sqlite_url
from tests.support.server_process import ServerProcess
from tests.support.world import in_session


def now() -> int:
    return time.time_ns() // 1_000_000


def _phone(server: ServerProcess, client: httpx.Client, person: str) -> tuple[Replica, HttpTransport]:
    answer = enrol(server.url, server.issue_code(person), client)
    return Replica(device=answer["device"]), HttpTransport(client, answer["token"])


def _movement(site: str) -> dict:
    return {"site": site, "item": "N95口罩", "unit": "个", "movement": "received", "quantity": 100, "at": now()}


def _move(url: str, person: str, site: str):
    async def work(session) -> None:
        await session.execute(update(Person).where(Person.id == person).values(site_id=site))

    run(in_session(url, work))


def _colleague(url: str) -> None:
    async def work(session) -> None:
        session.add(Person(id="laoli", name="老李", role="worker", site_id="dongfeng", township=TOWNSHIP))

    run(in_session(url, work))


def lost_reset_is_repeated(url: str, log: Path) -> None:
    server = ServerProcess(url, log).start()
    try:
        _colleague(url)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            mover, mover_link = _phone(server, client, "zhangwei")  # dongfeng
            colleague, colleague_link = _phone(server, client, "laoli")  # dongfeng
            local, local_link = _phone(server, client, "lina")  # chengnan
            mover.put("own", "supply", _movement("dongfeng"), now())
            colleague.put("old-site", "supply", _movement("dongfeng"), now())
            local.put("new-site", "supply", _movement("chengnan"), now())
            for replica, link in ((colleague, colleague_link), (local, local_link), (mover, mover_link)):
                sync_to_the_end(replica, link, now)
            assert set(mover.entries) == {"own", "old-site"}

            _move(url, "zhangwei", "chengnan")
            lost = mover_link(mover.request(now()))  # the server answers; the phone never hears it
            answer = mover_link(mover.request(now()))
            mover.receive(answer, now())
            sync_to_the_end(mover, mover_link, now)
    finally:
        server.stop()
    assert lost.reset is True
    assert answer.reset is True, "the retry after a lost reset was an ordinary pull"
    assert set(mover.entries) == {"own", "new-site"}, "the phone kept the old site's ledger"


def test_a_lost_reset_is_repeated_on_sqlite(tmp_path: Path) -> None:
    lost_reset_is_repeated(sqlite_url(tmp_path), tmp_path / "server.log")


@pytest.mark.postgres
def test_a_lost_reset_is_repeated_on_postgresql(tmp_path: Path) -> None:
    with postgres_database() as url:
        lost_reset_is_repeated(url, tmp_path / "server.log")
