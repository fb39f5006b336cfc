"""A pull cursor never skips a row, with writers racing on two server processes (§5.1).

Two real server processes share one PostgreSQL database. Writer phones of both demo workers
push batches of new, edited and deleted shifts to both processes at once, while a reader phone of
the same person as most writers pulls without pause, alternating between the processes (mostly
whole pages, which keep it at the head where a late commit would slip by; some small ones).
A batch that commits late must never commit with a `seq` below a cursor already handed out: if
it did, the reader would step over it and never see it.

At the end, after a final complete pull, every version of every entry anybody was ever shown
(writers see versions too, in their own pulls) must have reached the reader, or a later version
of the same entry must have; the final version of every entry the reader may see must have
reached it exactly once; and no `seq` may reach it twice. The run is bounded in batches and in
time; nothing asserts on timing.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import or_, select

from server.models import Entry
from server.services.enrolment import issue_code
from sync.client import HttpTransport, SyncError, enrol
from sync.entries import SITE_SHARED_KINDS
from sync.protocol import SyncResponse
from sync.replica import Replica
from tests.support.aio import run
from tests.support.databases import postgres_database
from tests.support.server_process import ServerProcess
from tests.support.world import HOUR, START, in_session

pytestmark = pytest.mark.postgres

BATCHES = 25  # per writer
WRITERS = [("zhangwei", 0), ("zhangwei", 1), ("zhangwei", 0), ("lina", 1), ("lina", 0)]  # (person, server)
WRITE_SECONDS = 25
SMALL_PAGE = 7  # every third pull: the cursor is then the last row's seq, not the counter
POSTS = ["东门卡口", "西门", "北门", "南门"]


def now() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Phone:
    person: str
    site: str
    replica: Replica
    transports: list[HttpTransport]
    applied: dict[str, str] = field(default_factory=dict)  # change id -> entry id
    versions: set[tuple[str, int]] = field(default_factory=set)  # (entry, seq) it was shown
    errors: list[str] = field(default_factory=list)

    @classmethod
    def enrol(cls, servers: list[ServerProcess], url: str, person: str, home: int) -> Phone:
        code = run(in_session(url, lambda session: issue_code(session, person, datetime.now(UTC))))
        answer = enrol(servers[home].url, code)
        transports = [
            HttpTransport(httpx.Client(base_url=s.url, timeout=60), answer["token"])
            for s in servers[home:] + servers[:home]
        ]
        return cls(person, answer["site"]["id"], Replica(device=answer["device"]), transports)

    def take(self, answer: SyncResponse) -> None:
        self.replica.receive(answer, now())
        self.versions |= {(e.id, e.seq) for e in answer.entries}


def write(phone: Phone, seed: int, deadline: float) -> None:
    """Batches of new shifts, edits and deletes, to either process; each synced to the end."""
    rng = random.Random(seed)
    for batch in range(BATCHES):
        if time.monotonic() > deadline:
            return
        for i in range(rng.randint(1, 30)):
            mine = [e.id for e in phone.replica.entries.values() if e.kind == "shift" and not e.deleted]
            roll = rng.random()
            if mine and roll < 0.3:
                phone.replica.put(rng.choice(mine), "shift",
                                  {"post": rng.choice(POSTS), "note": f"{seed}-{batch}-{i}"}, now())
            elif mine and roll < 0.35:
                phone.replica.delete(rng.choice(mine), now())
            else:
                start = START + rng.randint(0, 99) * HOUR
                fields = {"site": phone.site, "post": rng.choice(POSTS), "start": start, "kind": "day"}
                phone.replica.put(f"w{seed}-{batch}-{i}", "shift", fields, now())
        home = (batch + seed) % 2
        try:
            while True:  # sync to the end, keeping every answer
                pending = {c.id: c.entry for c in phone.replica.pending}
                body = phone.replica.request(now())
                if pending and rng.random() < 0.2:
                    answer = race(phone, body, home)
                else:
                    answer = phone.transports[home](body)
                for result in answer.results:
                    if result.status in ("applied", "conflict"):
                        phone.applied[result.id] = pending[result.id]
                    elif result.status == "rejected":
                        phone.errors.append(f"rejected {result}")
                phone.take(answer)
                if not answer.more and not phone.replica.pending:
                    break
        except (SyncError, httpx.HTTPError) as err:
            phone.errors.append(f"batch {batch}: {err}")
            return


def race(phone: Phone, body: dict, home: int) -> SyncResponse:
    """The same request to both processes at once, as an impatient retry through a load balancer
    would send it (S3): each change is taken by one, and the other answers `duplicate` with the
    same first result. The phone hears the answer from `home`."""
    answers: dict[int, SyncResponse | Exception] = {}

    def send(server: int) -> None:
        try:
            answers[server] = phone.transports[server](body)
        except Exception as err:  # noqa: BLE001 - reported below, in the writer's thread
            answers[server] = err

    threads = [threading.Thread(target=send, args=(server,)) for server in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for answer in answers.values():
        if isinstance(answer, Exception):
            raise answer
    for one, other in zip(answers[0].results, answers[1].results, strict=True):
        taken, again = (one, other) if other.status == "duplicate" else (other, one)
        if taken.status == "duplicate" or again.status != "duplicate" or (again.first, again.stamp) != (
            taken.status, taken.stamp
        ):
            phone.errors.append(f"change {one.id} sent to both processes at once: {one} and {other}")
    phone.versions |= {(e.id, e.seq) for e in answers[1 - home].entries}
    return answers[home]


def seq_of(cursor: str) -> int:
    """The seq inside the server's cursor `<seq>.<scope>` (opaque to phones; read here, white-box)."""
    return int(cursor.partition(".")[0])


@dataclass
class Reader:
    phone: Phone
    cursor: str = "0"
    received: list[tuple[str, int]] = field(default_factory=list)  # (entry, seq) in arrival order
    problems: list[str] = field(default_factory=list)
    pulls: int = 0

    def pull(self, server: int, limit: int) -> SyncResponse:
        request = {"protocol": 1, "device_time": now(), "cursor": self.cursor, "limit": limit, "changes": []}
        answer = self.phone.transports[server](request)
        self.pulls += 1
        seqs = [e.seq for e in answer.entries]
        if seqs != sorted(set(seqs)) or (seqs and seqs[0] <= seq_of(self.cursor)):
            self.problems.append(f"cursor {self.cursor}: page out of order or not after the cursor: {seqs}")
        if seq_of(answer.cursor) < seq_of(self.cursor) or (seqs and seq_of(answer.cursor) < seqs[-1]):
            self.problems.append(f"cursor went from {self.cursor} to {answer.cursor} after seqs {seqs}")
        self.received += [(e.id, e.seq) for e in answer.entries]
        self.cursor = answer.cursor
        return answer

    def follow(self, writers: list[threading.Thread], limit_pulls: int = 20_000) -> None:
        """Pull without pause while anybody writes, alternating between the two processes; mostly
        whole pages, which keep the reader at the head, where a late commit would slip by."""
        while any(t.is_alive() for t in writers) and self.pulls < limit_pulls:
            self.pull(self.pulls % 2, SMALL_PAGE if self.pulls % 3 == 2 else 200)

    def to_the_end(self) -> None:
        while self.pull(self.pulls % 2, 200).more:
            pass


def visible_entries(url: str, person: str, site: str) -> dict[str, int]:
    """What the reader's person may see, straight from the database: entry id -> final seq."""

    async def work(session):
        shared = Entry.kind.in_(SITE_SHARED_KINDS) & (Entry.site_id == site)
        mine = or_(Entry.subject_id == person, shared)
        return dict((await session.execute(select(Entry.id, Entry.seq).where(mine))).all())

    return run(in_session(url, work))


def test_a_reader_misses_no_row_while_two_processes_commit_out_of_order(tmp_path: Path) -> None:
    with postgres_database() as url:
        servers: list[ServerProcess] = []
        phones: list[Phone] = []
        try:
            for n in range(2):  # one after the other: each migrates and seeds at start-up
                servers.append(ServerProcess(url, tmp_path / f"server{n}.log").start())
            reader = Reader(Phone.enrol(servers, url, "zhangwei", 0))
            writers = [Phone.enrol(servers, url, person, home) for person, home in WRITERS]
            phones = [reader.phone, *writers]

            deadline = time.monotonic() + WRITE_SECONDS
            threads = [
                threading.Thread(target=write, args=(phone, seed, deadline), daemon=True)
                for seed, phone in enumerate(writers)
            ]
            for thread in threads:
                thread.start()
            reader.follow(threads)
            for thread in threads:
                thread.join(120)
            assert not any(t.is_alive() for t in threads), "a writer never finished"
            reader.to_the_end()
            final = visible_entries(url, "zhangwei", reader.phone.site)
        finally:
            for server in servers:
                server.stop()
            for phone in phones:
                for transport in phone.transports:
                    transport.client.close()

    assert not [e for w in writers for e in w.errors], [e for w in writers for e in w.errors][:5]
    assert not reader.problems, reader.problems[:5]
    received = Counter(reader.received)
    newest: dict[str, int] = {}
    for entry, seq in reader.received:
        newest[entry] = max(seq, newest.get(entry, 0))

    # No seq twice: each is one version of one entry, handed out once.
    seqs = Counter(seq for _, seq in reader.received)
    assert sorted(s for s, n in seqs.items() if n > 1)[:5] == [], "the reader received these seqs twice"
    # The final version of everything the reader may see, exactly once.
    missed = sorted((s, e, received[(e, s)]) for e, s in final.items() if received[(e, s)] != 1)
    assert not missed, f"{len(missed)} final versions not received once: {missed[:5]} (seq, id, times)"
    # Every version anybody was shown reached the reader, or a later one of the same entry did.
    shown = {v for w in writers if w.person == "zhangwei" for v in w.versions}
    skipped = {(e, s) for e, s in shown if newest.get(e, 0) < s}
    assert not skipped, f"the cursor stepped over {len(skipped)} versions, e.g. {sorted(skipped)[:5]}"
    # Every change a writer of the reader's person got `applied` for is in what it received.
    applied = {entry for w in writers if w.person == "zhangwei" for entry in w.applied.values()}
    assert applied and applied <= set(newest), sorted(applied - set(newest))[:5]
    assert sum(len(w.applied) for w in writers) > 0
