"""A batch is all or nothing when the server dies in the middle of it (docs/sync-protocol.md §5).

A real server process takes a batch of 500 shift changes from a phone and is killed with SIGKILL
after a varying delay: before the request arrives, while the transaction runs, around the
commit, after it. Restarted on the same database, the server must hold all 500 entries or none
(a fresh phone of the same person pulls 0 or 500 of them), and the phone's retry of the same
batch must complete with every entry present exactly once: each result `applied`, or
`duplicate` of an applied change when the batch had committed before the kill.

The delays adapt to the machine: the first is half of a measured batch round trip, and each
next one bisects between the longest delay whose batch was lost and the shortest whose batch
committed, so the kills close in on the commit from both sides (mid-transaction, just before
and just after it) on a fast machine and a slow one alike. Nothing asserts on timing.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync.client import HttpTransport, enrol
from sync.client import sync as sync_to_the_end
from sync.protocol import SyncResponse
from sync.replica import Replica
from tests.support.databases import postgres_database, sqlite_url
from tests.support.server_process import ServerProcess
from tests.support.world import HOUR, START

BATCH = 500


def now() -> int:
    return time.time_ns() // 1_000_000


class Phone:
    def __init__(self, server: ServerProcess, person: str = "zhangwei") -> None:
        answer = enrol(server.url, server.issue_code(person))
        self.device, self.token = answer["device"], answer["token"]
        self.site = answer["site"]["id"]
        self.replica = Replica(device=self.device)

    def transport(self, server: ServerProcess, timeout: float = 120) -> HttpTransport:
        return HttpTransport(httpx.Client(base_url=server.url, timeout=timeout), self.token)

    def batch(self, prefix: str) -> list[str]:
        """BATCH new shifts in the outbox; their entry ids."""
        ids = [f"{prefix}-{i:03d}" for i in range(BATCH)]
        for i, entry in enumerate(ids):
            fields = {"site": self.site, "post": f"卡口 {i}", "start": START + i * HOUR, "kind": "day"}
            self.replica.put(entry, "shift", fields, now())
        return ids


def fresh_pull(server: ServerProcess, device: str, token: str) -> list[Any]:
    """Everything a phone that never synced gets (paging to the end), in the order received."""
    replica, received = Replica(device=device), []
    with httpx.Client(base_url=server.url, timeout=60) as client:
        transport = HttpTransport(client, token)
        while True:
            answer = transport(replica.request(now()))
            replica.receive(answer, now())
            received += answer.entries
            if not answer.more:
                return received


def send_in_thread(transport: HttpTransport, body: dict) -> tuple[threading.Thread, dict]:
    outcome: dict[str, Any] = {}

    def send() -> None:
        try:
            outcome["answer"] = transport(body)
        except Exception as err:  # noqa: BLE001 - a killed server: reset, refused, 5xx...
            outcome["error"] = err

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread, outcome


def crash_and_recover(server: ServerProcess, rounds: int, budget_s: float) -> list[str]:
    writer, reader = Phone(server), Phone(server)
    transport = writer.transport(server)

    # How long a batch takes here, so the kills below land before, inside and after it.
    warm = writer.batch("warm")
    started = time.monotonic()
    answer = transport(writer.replica.request(now()))
    batch_s = time.monotonic() - started
    writer.replica.receive(answer, now())
    sync_to_the_end(writer.replica, transport, now)
    transport.client.close()
    assert writer.replica.outbox == []
    assert len({e.id for e in fresh_pull(server, reader.device, reader.token)} & set(warm)) == BATCH

    outcomes = []
    deadline = time.monotonic() + budget_s
    lost, committed_at = 0.0, 1.5 * batch_s  # the longest delay that lost, the shortest that committed
    for n in range(rounds):
        if n and time.monotonic() > deadline:
            break
        if committed_at - lost < 0.01:  # the machine's pace changed: look around again
            lost, committed_at = max(0.0, lost - 0.2 * batch_s), committed_at + 0.2 * batch_s
        delay = (lost + committed_at) / 2
        ids = writer.batch(f"crash{n}")
        body = writer.replica.request(now())
        sender = writer.transport(server)
        thread, outcome = send_in_thread(sender, body)
        time.sleep(delay)
        server.kill()
        thread.join(60)
        assert not thread.is_alive(), "the request never ended after the server was killed"
        sender.client.close()
        server.start()

        # All or nothing: a phone that never synced sees 0 or 500 of the batch, never some.
        pulled = [e for e in fresh_pull(server, reader.device, reader.token) if e.id in set(ids)]
        assert len(pulled) in (0, BATCH), (
            f"killed {delay:.3f} s into a batch: a fresh phone pulls {len(pulled)} of its {BATCH} entries"
        )
        committed = len(pulled) == BATCH
        lost, committed_at = (lost, delay) if committed else (delay, committed_at)
        if "answer" in outcome:
            heard: SyncResponse = outcome["answer"]
            assert committed, "the server answered for a batch that is not in the database"
            assert {r.status for r in heard.results} == {"applied"}
        outcomes.append("answered" if "answer" in outcome else "committed" if committed else "lost")

        # The phone never heard an answer (it died too, or the answer did): it sends its
        # outbox again, and the batch completes.
        retry = writer.transport(server)
        answer = retry(writer.replica.request(now()))
        writer.replica.receive(answer, now())
        sync_to_the_end(writer.replica, retry, now)
        statuses = {(r.status, r.first) for r in answer.results}
        assert len(answer.results) == BATCH
        assert statuses == ({("duplicate", "applied")} if committed else {("applied", None)}), statuses
        assert writer.replica.outbox == [], "the retried batch left changes in the outbox"
        retry.client.close()

        pulled = [e for e in fresh_pull(server, reader.device, reader.token) if e.id in set(ids)]
        assert sorted(e.id for e in pulled) == ids, "after the retry, every entry is there exactly once"
        assert all(e.fields["post"] == f"卡口 {int(e.id[-3:])}" and not e.deleted for e in pulled)
    return outcomes


def test_a_batch_is_all_or_nothing_when_the_server_is_killed(tmp_path: Path) -> None:
    server = ServerProcess(sqlite_url(tmp_path), tmp_path / "server.log").start()
    try:
        outcomes = crash_and_recover(server, rounds=5, budget_s=45)
    finally:
        server.stop()
    assert outcomes


@pytest.mark.postgres
def test_a_batch_is_all_or_nothing_when_the_server_is_killed_on_postgresql(tmp_path: Path) -> None:
    with postgres_database() as url:
        server = ServerProcess(url, tmp_path / "server.log").start()
        try:
            outcomes = crash_and_recover(server, rounds=4, budget_s=40)
        finally:
            server.stop()
    assert outcomes
