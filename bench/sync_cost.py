"""What syncing costs, from the deterministic phone workload, through a real server process.

- push: each phone of the workload (50 × 200 entries, bench/workload.py) catches up, then pushes
  its entries in one request, one phone after another: bytes up and down of that request, the
  server process's CPU time for it, round trips;
- ingest: the same workload on a fresh database, 10 phones at a time: entries/s and 5xx;
- pull: a phone enrolled afresh pulls its whole scope (10,000 and 50,000 entries among others
  at other sites): bytes, requests, and entries/s of the server's answers (the Python replica's
  own bookkeeping between requests is not counted).

The phones send `fold: true` when the protocol has that field (sync/protocol.py SyncRequest), and
`compact: true` where the Python replica does (sync/replica.py `request`).

Run: python -m bench.sync_cost [--quick]   (python -m bench.run prints these against the budgets)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench import county_fill, workload
from server.models import Person, Site
from server.services.enrolment import enrol, issue_code
from sync.client import HttpTransport, SyncError, sync
from sync.protocol import SyncRequest
from sync.replica import Replica
from tests.support.aio import run
from tests.support.databases import sqlite_url
from tests.support.server_process import ServerProcess
from tests.support.world import in_session

FOLD = "fold" in SyncRequest.__struct_fields__  # servers before the folded push refuse the field
TOWNSHIP = "城关镇"


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and its descendants (Linux /proc)."""
    tick, parents, times = os.sysconf("SC_CLK_TCK"), {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            after = stat.read_text().rpartition(")")[2].split()
            parents[int(stat.parent.name)] = int(after[1])
            times[int(stat.parent.name)] = (int(after[11]) + int(after[12])) / tick
    tree, grown = {pid}, True
    while grown:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree, grown = tree | more, bool(more)
    return sum(times.get(p, 0.0) for p in tree)


class BenchTransport(HttpTransport):
    """The phone's transport, counting requests, the answers' bytes once unzipped, and the time
    spent waiting for answers."""

    def __init__(self, client: httpx.Client, token: str) -> None:
        super().__init__(client, token)
        self.requests, self.bytes_decoded, self.seconds = 0, 0, 0.0
        client.event_hooks["response"] = [self._count]

    def _count(self, answer: httpx.Response) -> None:
        answer.read()
        self.requests += 1
        self.bytes_decoded += len(answer.content)

    def __call__(self, request: dict):
        started = time.perf_counter()
        try:
            return super().__call__({**request, "fold": True} if FOLD else request)
        finally:
            self.seconds += time.perf_counter() - started


@dataclass
class Phone:
    replica: Replica
    transport: BenchTransport
    work: workload.PhoneWork | None = None

    @classmethod
    def open(cls, server: ServerProcess, device: str, token: str, work: workload.PhoneWork | None = None
             ) -> Phone:
        # A phone that knows its person folds its own changes in, and its ids are its stamps, as
        # the app's (§4).
        replica = Replica(device=device, person=work.person if work else None)
        return cls(replica, BenchTransport(httpx.Client(base_url=server.url, timeout=300), token), work)


def enrol_people(
    url: str, people: list[tuple[str, str]], sites: list[str], days_ago: int = 0
) -> list[tuple[str, str]]:
    """Migrate, add `sites` and `people` (id, site), and enrol a phone for each, `days_ago`:
    (device, token)."""

    async def work(session) -> list[tuple[str, str]]:
        session.add_all(Site(id=s, name=s, township=TOWNSHIP) for s in sites)
        await session.flush()
        session.add_all(Person(id=p, name=p, role="worker", site_id=s, township=TOWNSHIP) for p, s in people)
        await session.flush()
        now, phones = datetime.now(UTC) - timedelta(days=days_ago), []
        for person, _site in people:
            enrolled = await enrol(session, await issue_code(session, person, now), now)
            phones.append((enrolled.device.id, enrolled.token))
        return phones

    return run(in_session(url, work, migrate=True))


@contextlib.contextmanager
def workload_server(
    directory: Path, work: list[workload.PhoneWork]
) -> Iterator[tuple[ServerProcess, list[Phone]]]:
    """A fresh SQLite database with the workload's people, a server on it, and their phones,
    enrolled before the workload's entries were made, each caught up (nothing to pull yet)."""
    url = sqlite_url(directory)
    devices = enrol_people(url, [(p.person, p.site) for p in work], workload.sites(work), workload.DAYS + 1)
    server = ServerProcess(url, directory / "server.log", demo=False).start()
    try:
        phones = [Phone.open(server, device, token, p) for (device, token), p in zip(devices, work)]
        for phone in phones:
            sync(phone.replica, phone.transport)
        yield server, phones
    finally:
        server.stop()


@dataclass
class Push:
    entries: int = 0
    up: int = 0
    down: int = 0
    cpu: float = 0.0  # server CPU seconds
    trips: int = 0
    rejected: int = 0


def push_pass(server: ServerProcess, phones: list[Phone]) -> Push:
    """Each phone makes its entries offline, each stamped when made; then one phone after
    another catches up (its outbox set aside) and pushes every entry, counted alone."""
    figures, now = Push(), int(time.time() * 1000)
    sites = sorted({p.work.site for p in phones})
    for phone in phones:
        make(phone, now, sites)
    for phone in phones:
        waiting, phone.replica.outbox = phone.replica.outbox, []
        sync(phone.replica, phone.transport)
        phone.replica.outbox = waiting
        sent, received = phone.transport.bytes_sent, phone.transport.bytes_received
        cpu = cpu_seconds(server.process.pid)
        while phone.replica.pending:  # 200 changes go in one request (MAX_CHANGES is 500)
            answer = phone.transport(phone.replica.request(now))
            phone.replica.receive(answer, now)
            figures.trips += 1
            figures.rejected += sum(r.status == "rejected" for r in answer.results)
        figures.cpu += cpu_seconds(server.process.pid) - cpu
        figures.up += phone.transport.bytes_sent - sent
        figures.down += phone.transport.bytes_received - received
        figures.entries += len(phone.work.items)
    return figures


def make(phone: Phone, now: int, sites: list[str]) -> None:
    """The phone's workload, each entry stamped at the moment it was made (a phone's clock was
    right all along: no entry is `time_suspect`, §7 K6)."""
    for at, kind, found in phone.work.entries(now, sites):
        phone.replica.put(None, kind, found, at)


def round_trips(phone: Phone, changes: int = 500, seed: int = 2) -> int:
    """Round trips for a caught-up phone to push `changes` new entries and hear it is done."""
    now = int(time.time() * 1000)
    sync(phone.replica, phone.transport)
    more = workload.PhoneWork(phone.work.person, phone.work.site, workload.phones(seed, 1, changes)[0].items)
    for _at, kind, found in more.entries(now, [phone.work.site]):
        phone.replica.put(None, kind, found, now)
    return sync(phone.replica, phone.transport)


@dataclass
class Ingest:
    entries: int
    seconds: float
    server_errors: int
    rejected: int


def ingest(phones: list[Phone], at_once: int = 10) -> Ingest:
    """Every phone pushes its entries, `at_once` phones at a time; timed from first to last."""
    now = int(time.time() * 1000)
    sites = sorted({p.work.site for p in phones})
    for phone in phones:
        make(phone, now, sites)

    def push(phone: Phone) -> tuple[int, int]:
        try:
            sync(phone.replica, phone.transport)
        except SyncError as err:
            return int(err.status >= 500), len(phone.replica.outbox)
        return 0, len(phone.replica.rejected)

    started = time.perf_counter()
    with ThreadPoolExecutor(at_once) as pool:
        outcomes = list(pool.map(push, phones))
    seconds = time.perf_counter() - started
    return Ingest(sum(len(p.work.items) for p in phones), seconds,
                  sum(e for e, _ in outcomes), sum(n for _, n in outcomes))


@dataclass
class Pull:
    entries: int
    requests: int
    up: int
    down: int  # as sent (gzip)
    decoded: int  # the answers' JSON, unzipped
    seconds: float  # waiting for answers


def scope_rows(focus: list[tuple[str, str, int]], others: int, seed: int = 1) -> Iterator[dict]:
    """For each (person, site, n): n entries in that phone's scope (60% its own shifts, the rest
    supply movements at its site by colleagues and transfers to it from other sites), and
    `others` entries of people at other sites, interleaved. No check-ins: a new phone does not
    see those made before it was enrolled (policy.device_scope)."""
    rng = random.Random(seed)
    elsewhere = [f"po{n:02d}" for n in range(40)]
    plan = [(person, site) for person, site, n in focus for _ in range(n)] + [None] * others
    rng.shuffle(plan)
    end = int(time.time() * 1000)
    for seq, mine in enumerate(plan, 1):
        at = end - (len(plan) - seq) * 60_000
        if mine is None:
            site = rng.choice(elsewhere)
            person = f"{site}w{rng.randrange(15)}"
            kind = workload.pick(rng, workload.MIX)
            yield county_fill.entry_row(rng, seq, kind, person, site, at, elsewhere)
            continue
        person, site = mine
        roll = rng.random()
        if roll < 0.6:
            yield county_fill.entry_row(rng, seq, "shift", person, site, at, [])
        elif roll < 0.95:
            yield county_fill.entry_row(rng, seq, "supply", f"{site}c{rng.randrange(15)}", site, at, [site])
        else:
            row = county_fill.entry_row(rng, seq, "supply", "pox", rng.choice(elsewhere), at, [site])
            row["fields"].update(movement="transferred", to_site=site)
            row.update(to_site=site)
            yield row


def pull_figures(directory: Path, sizes: list[int], others: int) -> dict[int, Pull]:
    """Fill one database with a scope of each size (and `others`), then a new phone per scope
    pulls all of it through a server process."""
    url = sqlite_url(directory)
    focus = [(f"pf{n}", f"ps{n}", n) for n in sizes]
    devices = enrol_people(url, [(p, s) for p, s, _ in focus], [s for _, s, _ in focus])
    run(county_fill.insert_entries(url, scope_rows(focus, others)))
    server = ServerProcess(url, directory / "server.log", demo=False).start()
    try:
        found = {}
        for (device, token), size in zip(devices, sizes):
            phone = Phone.open(server, device, token)
            sync(phone.replica, phone.transport)
            t = phone.transport
            found[size] = Pull(len(phone.replica.entries), t.requests, t.bytes_sent, t.bytes_received,
                               t.bytes_decoded, t.seconds)
        return found
    finally:
        server.stop()


@dataclass
class Figures:
    push: Push
    trips_500: int
    ingest: Ingest
    pulls: dict[int, Pull]


def measure(
    phones: int = 50, entries: int = 200, pulls: tuple[int, ...] = (10_000, 50_000), seed: int = 1
) -> Figures:
    work, began = workload.phones(seed, phones, entries), time.perf_counter()

    def done(part: str) -> None:
        print(f"  {part}: {time.perf_counter() - began:.0f} s", flush=True)

    with tempfile.TemporaryDirectory() as a, workload_server(Path(a), work) as (server, ready):
        pushed = push_pass(server, ready)
        trips = round_trips(ready[0])
    done("push, one phone at a time")
    with tempfile.TemporaryDirectory() as b, workload_server(Path(b), work) as (_server, ready):
        ingested = ingest(ready)
    done("and ingest, 10 phones at a time")
    with tempfile.TemporaryDirectory() as c:
        pulled = pull_figures(Path(c), list(pulls), others=sum(pulls))
    done("and fresh phones' pulls")
    return Figures(pushed, trips, ingested, pulled)


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.sync_cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="10 phones × 50 entries; pulls of 2,000 and 5,000")
    args = parser.parse_args()
    f = measure(10, 50, (2_000, 5_000)) if args.quick else measure()
    p = f.push
    print(f"fold: {FOLD}")
    print(f"push, one phone at a time: {p.entries} entries, {p.up} B up, {p.down} B down, "
          f"{p.trips} round trips, {p.cpu * 1000 / p.entries:.3f} ms server CPU per entry, "
          f"{p.rejected} rejected")
    print(f"a caught-up phone pushing 500 changes: {f.trips_500} round trip(s)")
    i = f.ingest
    print(f"ingest, 10 phones at a time: {i.entries / i.seconds:,.0f} entries/s, {i.server_errors} 5xx, "
          f"{i.rejected} rejected")
    for size, pull in f.pulls.items():
        print(f"fresh phone pulling {pull.entries} (scope of {size}): {pull.requests} requests, "
              f"{pull.down} B down ({pull.decoded} B unzipped), {pull.up} B up, "
              f"{pull.entries / pull.seconds:,.0f} entries/s")


if __name__ == "__main__":
    main()
