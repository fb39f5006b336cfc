"""`nuanxin migrate-to`: a SQLite deployment moves to PostgreSQL without losing a row, and the
phones carry on against the new database with no reset and no duplicate (issue 12, item 6)."""

from __future__ import annotations

import httpx
import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.settings import Settings
from sync.client import HttpTransport
from tests.support.databases import postgres_database, sqlite_url
from tests.support.every_row import fill, new_phone, read_all
from tests.support.server_process import ServerProcess, nuanxin
from tests.support.world import HOUR, START, World, shift

pytestmark = pytest.mark.postgres


def _pull(transport: HttpTransport, request: dict) -> tuple[list[tuple], list[tuple], str]:
    answer = transport(request)
    entries = [(e.id, e.kind, e.fields, e.stamps, e.deleted) for e in answer.entries]
    results = [(r.id, r.status) for r in answer.results]
    return entries, results, answer.cursor


def test_a_sqlite_deployment_moves_to_postgresql_and_the_phones_carry_on(tmp_path) -> None:
    source = sqlite_url(tmp_path)
    with World.start(source) as world:
        zhang, lina = fill(source, world.client)
        # A batch that reached the old server; the phone will retry it against the new one.
        zhang.replica.put("late", "shift", shift(zhang.site, START + 20 * HOUR), START + 7000)
        retried = zhang.replica.request(START + 7000)
        zhang.transport(world.client)(retried)
    before = read_all(source)
    assert [name for name, rows in before.items() if not rows] == [], "every kind of row is moved"

    with postgres_database() as target:
        moved = nuanxin("migrate-to", target, "--database-url", source)
        assert moved.returncode == 0, moved.stderr
        assert "sync cursor" in moved.stdout
        assert read_all(target) == before

        # What each phone would have got from the old server, asked of the SQLite file in-process.
        questions = {"zhang": zhang.replica.request(START + 8000), "lina": lina.replica.request(START + 8000)}
        with TestClient(create_app(Settings(database_url=source))) as old:
            expected = {name: _pull(HttpTransport(old, p.token), questions[name])
                        for name, p in (("zhang", zhang), ("lina", lina))}

        server = ServerProcess(target, tmp_path / "server.log", demo=False).start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                for name, phone in (("zhang", zhang), ("lina", lina)):
                    assert _pull(phone.transport(client), questions[name]) == expected[name], name
                assert expected["lina"][0] == [], "lina was up to date: nothing is sent to her again"

                # The retried batch is recognised, not applied twice.
                _, results, _ = _pull(zhang.transport(client), retried)
                assert [status for _, status in results] == ["duplicate"]

                # New work lands after the moved cursor; a new conflict gets an id of its own.
                zhang.sync(client, START + 9000)
                other = new_phone(target, client, "zhangwei")
                other.sync(client, START + 9000)
                zhang.replica.put("late", "shift", {"post": "北门"}, START + 10_000)
                other.replica.put("late", "shift", {"post": "南门"}, START + 11_000)
                zhang.sync(client, START + 12_000)
                other.sync(client, START + 12_000)
                assert other.replica.entries["late"].conflicts == ["post"]

                fresh = new_phone(target, client, "zhangwei")
                received: list[str] = []
                transport = fresh.transport(client)
                while True:
                    answer = transport(fresh.replica.request(START + 13_000))
                    fresh.replica.receive(answer, START + 13_000)
                    received += [entry.id for entry in answer.entries]
                    if not answer.more:
                        break
                assert len(received) == len(set(received)), "a moved entry arrives once"
                assert set(received) == set(zhang.replica.entries)
        finally:
            server.stop()
        after = read_all(target)
        assert len(after["conflicts"]) == len(before["conflicts"]) + 1
        assert {c["id"] for c in after["conflicts"]} > {c["id"] for c in before["conflicts"]}
        assert "Traceback" not in server.log()


def test_the_move_refuses_a_target_that_holds_data(tmp_path) -> None:
    source = sqlite_url(tmp_path)
    with World.start(source) as world:
        fill(source, world.client)
    with postgres_database() as target:
        with World.start(target):
            pass  # a deployment already served from it: its demo sites are rows
        held = read_all(target)
        refused = nuanxin("migrate-to", target, "--database-url", source)
        assert refused.returncode == 2
        assert refused.stderr.strip().count("\n") == 0 and "Traceback" not in refused.stderr
        assert "already holds data" in refused.stderr
        assert read_all(target) == held

