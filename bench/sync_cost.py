"""What syncing costs on the wire and in time, through a real server process.

- bytes up and down for one new shift, and for a week offline (50 shifts, 20 movements, 7
  check-ins), gzip on;
- round trips for a fresh phone pulling N entries (pages of 200);
- pushes per second for batches of 100 shifts, SQLite and (if reachable) PostgreSQL;
- batches of 500 new shifts sent with `fold` (issue 11): the server process's CPU per pushed
  entry (its own /proc counters, so on PostgreSQL the database's share is not in it), bytes per
  entry up and down, and round trips.

Run: python -m bench.sync_cost   (writes nothing; copy the figures into docs/benchmarks.md)
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from sync.client import HttpTransport, enrol, sync
from sync.replica import Replica
from tests.support.databases import postgres_available, postgres_database, sqlite_url
from tests.support.server_process import ServerProcess

DAY = 86_400_000


def _phone(server: ServerProcess, person: str = "zhangwei") -> tuple[Replica, HttpTransport]:
    client = httpx.Client(base_url=server.url, timeout=60)
    answer = enrol(server.url, server.issue_code(person), client)
    return Replica(device=answer["device"]), HttpTransport(client, answer["token"])


def _shift(site: str, start: int) -> dict:
    return {"site": site, "post": "东门卡口", "start": start, "end": start + 8 * 3_600_000, "kind": "day"}


def wire_costs(server: ServerProcess) -> None:
    replica, transport = _phone(server)
    sync(replica, transport)
    now = int(time.time() * 1000)
    before = (transport.bytes_sent, transport.bytes_received)
    replica.put(str(uuid.uuid4()), "shift", _shift("dongfeng", now), now)
    sync(replica, transport)
    print(f"one shift: {transport.bytes_sent - before[0]} B up, {transport.bytes_received - before[1]} B down, 1 round trip")

    before = (transport.bytes_sent, transport.bytes_received)
    for day in range(7):
        start = now - (7 - day) * DAY
        for i in range(7):
            replica.put(str(uuid.uuid4()), "shift", _shift("dongfeng", start + i * 3_600_000), start)
        for _ in range(3):
            replica.put(str(uuid.uuid4()), "supply", {"site": "dongfeng", "item": "医用外科口罩", "unit": "个",
                                                      "movement": "used", "quantity": 20, "at": start}, start)
        replica.put(str(uuid.uuid4()), "checkin", {"site": "dongfeng", "at": start, "fatigue": 3, "sleep_hours": 6,
                                                   "mood": 3, "ate": True, "rested": True}, start)
    trips = sync(replica, transport)
    print(f"a week offline (49 shifts, 21 movements, 7 check-ins): {transport.bytes_sent - before[0]} B up, "
          f"{transport.bytes_received - before[1]} B down, {trips} round trip(s)")

    fresh, fresh_transport = _phone(server)
    trips = sync(fresh, fresh_transport)
    print(f"a new phone pulling {len(fresh.entries)} entries: {fresh_transport.bytes_received} B down, {trips} round trip(s)")


def push_rate(server: ServerProcess, label: str, batches: int = 20, size: int = 100) -> None:
    replica, transport = _phone(server)
    sync(replica, transport)
    now = int(time.time() * 1000)
    timings = []
    for b in range(batches):
        for i in range(size):
            replica.put(str(uuid.uuid4()), "shift", _shift("dongfeng", now + (b * size + i) * 1000), now)
        started = time.perf_counter()
        sync(replica, transport)
        timings.append(time.perf_counter() - started)
    median = statistics.median(timings)
    print(f"{label}: batch of {size} new shifts pushed and acknowledged in {median * 1000:.0f} ms median "
          f"({size / median:.0f} changes/s), {batches} batches")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used (Linux /proc; fields 14 and 15 of stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def push_cost(server: ServerProcess, label: str, batches: int = 6, size: int = 500) -> None:
    replica, transport = _phone(server)
    sync(replica, transport)
    now = int(time.time() * 1000)
    cpu = sent = received = trips = 0.0
    for b in range(batches):
        for i in range(size):
            start = now - 9 * 3_600_000 - (b * size + i) * 1000
            replica.put(str(uuid.uuid4()), "shift", _shift("dongfeng", start), now)
        before = (_cpu_seconds(server.process.pid), transport.bytes_sent, transport.bytes_received)
        answer = transport({**replica.request(int(time.time() * 1000)), "fold": True})
        cpu += _cpu_seconds(server.process.pid) - before[0]
        sent += transport.bytes_sent - before[1]
        received += transport.bytes_received - before[2]
        trips += 1
        assert {r.status for r in answer.results} == {"applied"}, answer.results[:3]
        replica.receive(answer, int(time.time() * 1000))
        while answer.more:  # not expected: each batch should be one round trip
            answer = transport({**replica.request(int(time.time() * 1000)), "fold": True})
            replica.receive(answer, int(time.time() * 1000))
            trips += 1
    entries = batches * size
    print(f"{label}: {batches} batches of {size} new shifts with fold: server CPU {cpu / entries * 1000:.3f} ms "
          f"per entry (clock ticks of {1000 / os.sysconf('SC_CLK_TCK'):.0f} ms), {sent / entries:.1f} B up + "
          f"{received / entries:.1f} B down = {(sent + received) / entries:.1f} B per entry, "
          f"{trips / batches:.2f} round trip(s) per batch")


@contextlib.contextmanager
def running(url: str, directory: Path):
    server = ServerProcess(url, directory / "server.log").start()
    try:
        yield server
    finally:
        server.stop()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        with running(sqlite_url(directory), directory) as server:
            wire_costs(server)
            push_rate(server, "SQLite")
            push_cost(server, "SQLite")
        if postgres_available():
            with postgres_database() as url, running(url, directory) as server:
                push_rate(server, "PostgreSQL")
                push_cost(server, "PostgreSQL")


if __name__ == "__main__":
    main()
