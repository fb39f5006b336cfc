"""A batch is all or nothing when the server dies in the middle of it (docs/sync-protocol.md §5).

A real server process takes a batch of 500 shift changes from a phone and is killed with SIGKILL
at two points it cannot miss: with the batch written but not committed, and with it committed
but not answered. The server stops itself there (SIGSTOP, a test-only pause enabled by
`NUANXIN_TEST_STOP_AT` in its environment, server/services/test_hooks.py); the test sees it stop
and kills it. Restarted on the same database, the server must hold none of the 500 entries in
the first case and all of them in the second (a fresh phone of the same person pulls 0 or 500),
and the phone's retry of the same batch must complete with every entry present exactly once:
each result `applied` in the first case, `duplicate` of an applied change in the second. Both
outcomes are asserted, on SQLite and PostgreSQL; nothing depends on timing.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync.client import HttpTransport, enrol
from sync.client import sync as sync_to_the_end
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


def kill_when_stopped(server: ServerProcess, sender: threading.Thread) -> None:
    """Wait for the server to stop itself at its pause point, then kill it there. A server that
    answers instead (it has no pause point) fails the test rather than hanging it."""
    seen: list[int] = []
    stopped = threading.Event()

    def watch() -> None:
        seen.append(os.waitpid(server.process.pid, os.WUNTRACED)[1])
        stopped.set()

    threading.Thread(target=watch, daemon=True).start()
    while not stopped.wait(0.1):
        assert sender.is_alive(), "the server answered the batch instead of stopping at its pause point"
    assert os.WIFSTOPPED(seen[0]), f"the server ended instead of stopping: {server.log()[-2000:]}"
    server.kill()


def restart(server: ServerProcess, stop_at: str | None = None) -> None:
    server.stop()
    server.env = {"NUANXIN_TEST_STOP_AT": stop_at} if stop_at else {}
    server.start()


def crash_and_recover(server: ServerProcess, writer: Phone, reader: Phone, stop_at: str) -> str:
    """Kill the server at `stop_at` in the middle of a batch; check and retry. What was lost."""
    restart(server, stop_at)
    ids = writer.batch(stop_at)
    sender = writer.transport(server)
    thread, outcome = send_in_thread(sender, writer.replica.request(now()))
    kill_when_stopped(server, thread)
    thread.join(60)
    assert not thread.is_alive(), "the request never ended after the server was killed"
    assert "error" in outcome, "the phone heard an answer from a server killed before answering"
    sender.client.close()
    restart(server)

    # All or nothing: a phone that never synced sees 0 or 500 of the batch, never some.
    pulled = [e for e in fresh_pull(server, reader.device, reader.token) if e.id in set(ids)]
    assert len(pulled) in (0, BATCH), f"killed at {stop_at}: a fresh phone pulls {len(pulled)} of {BATCH} entries"
    committed = len(pulled) == BATCH

    # The phone never heard an answer: it sends its outbox again, and the batch completes.
    retry = writer.transport(server)
    answer = retry(writer.replica.request(now()))
    writer.replica.receive(answer, now())
    sync_to_the_end(writer.replica, retry, now)
    retry.client.close()
    statuses = {(r.status, r.first) for r in answer.results}
    assert len(answer.results) == BATCH
    assert statuses == ({("duplicate", "applied")} if committed else {("applied", None)}), statuses
    assert writer.replica.outbox == [], "the retried batch left changes in the outbox"

    pulled = [e for e in fresh_pull(server, reader.device, reader.token) if e.id in set(ids)]
    assert sorted(e.id for e in pulled) == ids, "after the retry, every entry is there exactly once"
    assert all(e.fields["post"] == f"卡口 {int(e.id[-3:])}" and not e.deleted for e in pulled)
    return "committed" if committed else "lost"


def both_kills(url: str, log: Path) -> dict[str, str]:
    server = ServerProcess(url, log).start()
    try:
        writer, reader = Phone(server), Phone(server)
        return {point: crash_and_recover(server, writer, reader, point) for point in ("before_commit", "after_commit")}
    finally:
        server.stop()


EXPECTED = {"before_commit": "lost", "after_commit": "committed"}


def test_a_batch_is_all_or_nothing_when_the_server_is_killed(tmp_path: Path) -> None:
    assert both_kills(sqlite_url(tmp_path), tmp_path / "server.log") == EXPECTED


@pytest.mark.postgres
def test_a_batch_is_all_or_nothing_when_the_server_is_killed_on_postgresql(tmp_path: Path) -> None:
    with postgres_database() as url:
        assert both_kills(url, tmp_path / "server.log") == EXPECTED
