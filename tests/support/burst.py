"""Many phones syncing at once against a real server process (tests/server/test_load.py and
bench/burst.py share it). Phones are enrolled in the database directly: the enrolment endpoint
rightly limits one address to a few codes a minute."""

from __future__ import annotations

import asyncio
import gzip
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from server.demo import TOWNSHIP
from server.models import Person, Site
from server.services.enrolment import enrol, issue_code
from sync.protocol import CompactAnswer
from sync.replica import Replica
from tests.support.aio import run
from tests.support.world import HOUR, START, in_session, shift

WORKERS = ["zhangwei", "lina"]  # the demo's two frontline workers, one per site
_decode = msgspec.json.Decoder(CompactAnswer)  # replica.request asks for compact entries


@dataclass
class Phone:
    device: str
    token: str
    site: str


@dataclass
class Outcome:
    """One POST /api/sync: its status, how long it took, and its results by change id."""

    status: int
    seconds: float
    results: dict[str, str] = field(default_factory=dict)


def enrol_phones(database_url: str, count: int, people: bool = False) -> list[Phone]:
    """`count` phones enrolled now: of the demo's two workers, or (`people`) each of a person of
    its own, twenty people to a site, as a township's phones are."""

    async def work(session: AsyncSession) -> list[Phone]:
        phones, now = [], datetime.now(UTC)
        workers = WORKERS
        if people:
            workers = [f"burst{n:05d}" for n in range(count)]
            session.add_all(Site(id=f"burst-site{n // 20:04d}", name=f"站点{n // 20}", township=TOWNSHIP)
                            for n in range(0, count, 20))
            await session.flush()
            session.add_all(Person(id=person, name=person, role="worker", site_id=f"burst-site{n // 20:04d}",
                                   township=TOWNSHIP) for n, person in enumerate(workers))
            await session.flush()
        for n in range(count):
            code = await issue_code(session, workers[n % len(workers)], now)
            device, token, _person, site = await enrol(session, code, now)
            phones.append(Phone(device.id, token, site.id))
        return phones

    return run(in_session(database_url, work))


def batches(phone: Phone, count: int, size: int, tag: str = "b", start: int = START) -> list[bytes]:
    """`count` request bodies of `size` new shifts each, an hour apart from `start`, from a phone
    that has not pulled yet."""
    replica, now = Replica(device=phone.device), time.time_ns() // 1_000_000
    for i in range(count * size):
        replica.put(f"{tag}-{phone.device}-{i:04d}", "shift", shift(phone.site, start + i * HOUR), now)
    body = replica.request(now)
    return [
        msgspec.json.encode({**body, "changes": body["changes"][k * size:(k + 1) * size]})
        for k in range(count)
    ]


async def burst(base_url: str, work: list[tuple[Phone, bytes]], at_once: int) -> list[Outcome]:
    """Send every (phone, body) with at most `at_once` requests in flight."""
    gate = asyncio.Semaphore(at_once)
    limits = httpx.Limits(max_connections=at_once, max_keepalive_connections=at_once)
    async with httpx.AsyncClient(base_url=base_url, timeout=300, limits=limits) as client:

        async def send(phone: Phone, body: bytes) -> Outcome:
            headers = {"authorization": f"Bearer {phone.token}", "content-type": "application/json",
                       "content-encoding": "gzip"}
            async with gate:
                started = time.perf_counter()
                answer = await client.post("/api/sync", content=gzip.compress(body), headers=headers)
                outcome = Outcome(answer.status_code, time.perf_counter() - started)
            if answer.status_code == 200:
                outcome.results = {r.id: r.status for r in _decode.decode(answer.content).results}
            return outcome

        return await asyncio.gather(*(send(phone, body) for phone, body in work))
