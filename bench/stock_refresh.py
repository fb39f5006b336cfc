"""What keeping a site's stock costs a write as its ledger grows (server/services/stock_levels.py).

Fills a database with one site's ledger of N supply movements over the last year (among other
sites' movements), then writes one more movement the way a push does (`assign_seq`, naming it
new), in a transaction rolled back after, and takes the median of 21 writes of each sort:
one after the ledger's latest movement, which the row carries on, and one a month late, which
makes the ledger be read whole again.

Run: python -m bench.stock_refresh [--sizes 1000,10000] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from bench import county_fill, workload
from server import db
from server.models import Entry
from server.services.sync_sequence import assign_seq
from tests.support.databases import postgres_database, sqlite_url

DAY = 86_400_000
SITE, OTHERS = "s1", [f"s{n}" for n in range(2, 12)]
RUNS = 21


def ledger(size: int, seed: int = 1) -> Iterator[dict]:
    """`size` movements at SITE over the last year, and as many at ten other sites, in time order."""
    rng, now = random.Random(seed), int(time.time() * 1000)
    for seq in range(1, 2 * size + 1):
        at = now - 365 * DAY + seq * (365 * DAY // (2 * size + 1))
        site = SITE if seq % 2 else rng.choice(OTHERS)
        yield county_fill.entry_row(rng, seq, "supply", f"{site}w", site, at, [SITE, *OTHERS])


async def write_one(maker: db.Sessions, late: bool) -> float:
    """Seconds for `assign_seq` of one new movement at SITE: now, or a month ago."""
    async with maker() as session:
        at = int(time.time() * 1000) - (30 * DAY if late else 0)
        moment = datetime.fromtimestamp(at / 1000, UTC)
        item, unit = workload.ITEMS[0]
        fields = {"site": SITE, "item": item, "unit": unit, "movement": "used", "quantity": 1, "at": at}
        entry = Entry(id=f"bench-{at}", kind="supply", schema=1, site_id=SITE, author_id="w", subject_id="w",
                      device_id="d", fields=fields, stamps={name: f"{at:013d}-0000-d" for name in fields},
                      deleted=False, flags=[], device_times={}, seq=0, created_at=moment, updated_at=moment)
        session.add(entry)
        started = time.perf_counter()
        await assign_seq(session, [entry], appended={entry.id})
        took = time.perf_counter() - started
        await session.rollback()
        return took


async def measure(url: str, size: int) -> tuple[float, float]:
    """The medians of RUNS writes of each sort, the first of each not counted (it compiles)."""
    await county_fill.insert_entries(url, ledger(size))
    engine = db.create_engine(url)
    try:
        maker = db.session_maker(engine)
        found = []
        for late in (False, True):
            await write_one(maker, late)
            found.append(statistics.median([await write_one(maker, late) for _ in range(RUNS)]))
        return found[0], found[1]
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.stock_refresh", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--databases", default="sqlite")
    args = parser.parse_args()
    for name in args.databases.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            with contextlib.ExitStack() as stack:
                url = (sqlite_url(Path(stack.enter_context(tempfile.TemporaryDirectory()))) if name == "sqlite"
                       else stack.enter_context(postgres_database()))
                asyncio.run(_migrate(url))
                carried, again = asyncio.run(measure(url, size))
            print(f"{name}, a ledger of {size:,} movements: a write after its latest {carried * 1000:.1f} ms, "
                  f"a late one {again * 1000:.1f} ms")


async def _migrate(url: str) -> None:
    engine = db.create_engine(url)
    try:
        await db.migrate(engine)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
