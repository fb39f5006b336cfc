"""A county-year in a database, fast, then the dashboard timed against a real server process.

    .venv/bin/python -m bench.county_fill [--database-url URL] [--entries 1000000] [--workers 5000]
                                          [--timeout 60]

Fills about 5,000 workers at ~300 sites in 20 townships, and a year of their entries in the
realistic mix (60% shifts, most approved; 24% supply movements, transfers among a township's
sites; 15% check-ins; 1% requests), a few open conflicts, with Core `executemany` in batches:
every column `derived_columns` names is set, and `seq` follows the entries' order from the sync
counter, as the server would have handed it out. Then it starts `nuanxin serve` on that
database and times each dashboard page and export of the budget table (first byte and whole
answer), as the development administrator, who sees every township.

Without `--database-url` it fills a new SQLite file in a temporary directory; with one it must
be an empty database (it is migrated first), and is left filled. Never part of the test suite.
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, select, text, update

from bench.workload import DAY, fields, new_id, pick
from server import db
from server.models import Conflict, Entry, Person, Site, StockLevel, SyncCounter, derived_columns
from server.services import stock_levels
from sync.entries import KINDS

TOWNSHIPS = ("城关镇", "东关镇", "西关镇", "南湖镇", "北山镇", "青石镇", "白沙镇", "红旗镇", "新河镇", "柳林镇",
             "杨家镇", "马坊镇", "石桥镇", "龙泉镇", "黄土镇", "高庄镇", "双井镇", "三里镇", "五里镇", "长岭镇")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
COUNTY_MIX = (("shift", 60), ("supply", 24), ("checkin", 15), ("request", 1))
APPROVAL = (("approved", 85), ("pending", 12), ("returned", 3))
BATCH = 10_000


@dataclass
class County:
    sites: list[tuple[str, str, str]]  # id, name, township
    people: list[tuple[str, str, str, str | None, str]]  # id, name, role, site, township
    workers: list[tuple[str, str, str]]  # id, site, township


def county(workers: int = 5000, townships: int = 20, sites_per_township: int = 15, seed: int = 1) -> County:
    rng = random.Random(seed)
    sites = [(f"t{t:02d}s{s:02d}", f"{TOWNSHIPS[t % len(TOWNSHIPS)]}第{s + 1}站", TOWNSHIPS[t % len(TOWNSHIPS)])
             for t in range(townships) for s in range(sites_per_township)]
    people, crew = [], []
    for n in range(workers):
        site, _name, township = rng.choice(sites)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(("", *GIVEN))
        people.append((f"w{n:05d}", name, "worker", site, township))
        crew.append((f"w{n:05d}", site, township))
    for t, township in enumerate(TOWNSHIPS[:townships]):
        people.append((f"staff{t:02d}", f"{township}干部", "staff", None, township))
        people.append((f"care{t:02d}", f"{township}心理", "care", None, township))
    return County(sites, people, crew)


def stamp(at: int, device: str, n: int = 0) -> str:
    return f"{at:013d}-{n:04x}-{device}"


def entry_row(rng: random.Random, seq: int, kind: str, person: str, site: str, at: int,
              township_sites: list[str]) -> dict:
    """One entries row as the server stores it after a phone's push, for a Core insert."""
    device = f"d{person}"
    found = fields(kind, rng, site, at, township_sites)
    if kind == "shift":
        found["approval"] = pick(rng, APPROVAL)
    elif kind == "request":
        found["status"] = rng.choice(("open", "approved", "delivered"))
    moment = datetime.fromtimestamp(at / 1000, UTC)
    return {"id": new_id(rng), "kind": kind, "schema": KINDS[kind].current, "site_id": site,
            "author_id": person, "subject_id": person, "device_id": device, "fields": found,
            "stamps": {name: stamp(at, device) for name in found}, "deleted": rng.random() < 0.01,
            "flags": [], "device_times": {}, "seq": seq, "created_at": moment, "updated_at": moment,
            **derived_columns(found)}


async def insert_entries(url: str, rows: Iterator[dict], conflicts: float = 0.0, seed: int = 1) -> int:
    """Insert `rows` (their `seq` counted from 1) after the counter's value, move the counter
    past them, open a conflict on the end of a `conflicts` share of the shifts, and fill the stock
    table from the movements, as the server keeps it (server/services/stock_levels.py)."""
    rng = random.Random(seed)
    engine = db.create_engine(url)
    count, moves = 0, []
    try:
        async with engine.begin() as conn:
            base = await conn.scalar(select(SyncCounter.value).where(SyncCounter.id == 1))
            batch: list[dict] = []
            for row in rows:
                row["seq"] += base
                batch.append(row)
                if row["kind"] == "supply" and not row["deleted"]:
                    moves.append(stock_levels.movement(row["id"], row["fields"], row["stamps"]))
                if len(batch) == BATCH:
                    count += await _insert(conn, batch, rng, conflicts)
                    batch = []
            if batch:
                count += await _insert(conn, batch, rng, conflicts)
            levels = stock_levels.levels_of(moves)
            for start in range(0, len(levels), BATCH):
                await conn.execute(insert(StockLevel), levels[start:start + BATCH])
            await conn.execute(update(SyncCounter).where(SyncCounter.id == 1).values(value=base + count))
        async with engine.begin() as conn:  # the planner's statistics, as a live database has them
            await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return count


async def _insert(conn, batch: list[dict], rng: random.Random, share: float) -> int:
    await conn.execute(insert(Entry), batch)
    opened = [
        {"entry_id": row["id"], "field": "end", "opened_at": row["updated_at"], "resolved_at": None,
         "resolved_by": None, "candidates": [
             {"value": row["fields"]["end"], "stamp": row["stamps"]["end"], "device": row["device_id"],
              "author": row["author_id"]},
             {"value": row["fields"]["end"] + 3_600_000, "stamp": row["stamps"]["end"], "device": "dlead",
              "author": "lead"}]}
        for row in batch if row["kind"] == "shift" and not row["deleted"] and rng.random() < share
    ]
    if opened:
        await conn.execute(insert(Conflict), opened)
    return len(batch)


async def add_people(url: str, place: County) -> None:
    engine = db.create_engine(url)
    try:
        await db.migrate(engine)
        async with engine.begin() as conn:
            await conn.execute(insert(Site), [{"id": i, "name": n, "township": t} for i, n, t in place.sites])
            await conn.execute(insert(Person), [{"id": i, "name": n, "role": r, "site_id": s, "township": t}
                                                for i, n, r, s, t in place.people])
    finally:
        await engine.dispose()


def county_rows(place: County, entries: int, end: int, seed: int = 1) -> Iterator[dict]:
    """A year of entries up to `end` (ms), in the order they arrived; a worker's entries are
    at their own site, a transfer goes to another site of the same township."""
    rng = random.Random(seed)
    by_township: dict[str, list[str]] = {}
    for site, _name, township in place.sites:
        by_township.setdefault(township, []).append(site)
    start, span = end - 365 * DAY, 365 * DAY
    for n in range(entries):
        person, site, township = rng.choice(place.workers)
        at = start + span * n // entries
        yield entry_row(rng, n + 1, pick(rng, COUNTY_MIX), person, site, at, by_township[township])


def fill(url: str, entries: int, workers: int, seed: int = 1) -> County:
    place = county(workers, seed=seed)
    asyncio.run(add_people(url, place))
    end = int(time.time() * 1000)
    asyncio.run(insert_entries(url, county_rows(place, entries, end, seed), conflicts=0.002, seed=seed))
    return place


# -- timing the dashboard ---------------------------------------------------------------------------


@dataclass
class Timing:
    status: int | None  # None: no answer within the timeout
    first_byte: float  # seconds
    total: float
    size: int  # bytes of the body as sent


def time_get(base_url: str, path: str, timeout: float) -> Timing:
    """Time one GET: until the first byte of the body, and until the last."""
    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        started = time.perf_counter()
        first, size = None, 0
        try:
            with client.stream("GET", path) as answer:
                for chunk in answer.iter_raw():
                    if first is None:
                        first = time.perf_counter() - started
                    size += len(chunk)
                status = answer.status_code
        except httpx.TimeoutException:
            return Timing(None, timeout, timeout, size)
        total = time.perf_counter() - started
        return Timing(status, total if first is None else first, total, size)


def time_page(base_url: str, path: str, timeout: float, repeat: int = 3) -> Timing:
    """The median of `repeat` tries after one to warm up; a page far over budget is tried once."""
    first = time_get(base_url, path, timeout)
    if first.status != 200 or first.total > 2:
        return first
    tries = [time_get(base_url, path, timeout) for _ in range(repeat)]
    return Timing(tries[-1].status, statistics.median(t.first_byte for t in tries),
                  statistics.median(t.total for t in tries), tries[-1].size)


def pages(month: str) -> dict[str, str]:
    return {
        "subsidy": f"/township/subsidy?month={month}",
        "shifts_csv": "/township/export/shifts.csv",
        "supplies": "/township/supplies",
        "people": "/township/people",
    }


def last_month() -> str:
    return (datetime.now(UTC).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def time_dashboard(url: str, log: Path, timeout: float) -> dict[str, Timing]:
    """Each page on a server of its own: a page that timed out keeps its server busy."""
    from tests.support.server_process import ServerProcess

    found = {}
    for name, path in pages(last_month()).items():
        server = ServerProcess(url, log, demo=False).start()
        try:
            found[name] = time_page(server.url, path, timeout)
        finally:
            server.stop()
    return found


def measure(
    url: str, entries: int, workers: int, timeout: float, log: Path
) -> tuple[dict[str, Timing], float]:
    """Fill, then time; returns the timings and how long the fill took (s)."""
    began = time.perf_counter()
    fill(url, entries, workers)
    filled = time.perf_counter() - began
    return time_dashboard(url, log, timeout), filled


@contextlib.contextmanager
def database(url: str | None) -> Iterator[tuple[str, Path]]:
    """The database given (left filled), or a new SQLite file removed afterwards."""
    from tests.support.databases import sqlite_url

    with tempfile.TemporaryDirectory() as tmp:
        yield url or sqlite_url(Path(tmp)), Path(tmp)


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.county_fill", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=5000)
    parser.add_argument("--timeout", type=float, default=60, help="seconds before a page counts as failed")
    args = parser.parse_args()
    with database(args.database_url) as (url, directory):
        timings, filled = measure(url, args.entries, args.workers, args.timeout, directory / "server.log")
    print(f"filled {args.entries:,} entries for {args.workers:,} workers in {filled:.0f} s")
    print("| page | status | first byte | whole | bytes |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, t in timings.items():
        print(f"| {name} | {t.status or 'timeout'} | {t.first_byte * 1000:.0f} ms | {t.total * 1000:.0f} ms "
              f"| {t.size:,} |")


if __name__ == "__main__":
    main()
