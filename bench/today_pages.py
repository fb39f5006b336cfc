"""How long the first page (today's overview) and the daily report take for a busy township
(issue 10, items 3 and 4).

Fills a database with one township of 20 sites and 400 workers over 30 days: a shift a day per
worker, five items' movements at each site each day, a check-in a day per worker, each entry
with the change it arrived with. Then times `today.overview` and `daily.daily_report` in the
process (no HTTP), three runs each, and prints the fastest.

Run: python -m bench.today_pages [--databases sqlite,postgresql]   (figures go to docs/benchmarks.md)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from server import db
from server.models import ChangeLog, Entry, Person, Site, derived_columns
from server.policy import Principal
from server.services import daily, today
from tests.support.databases import postgres_database, sqlite_url

SITES, WORKERS, DAYS, ITEMS = 20, 400, 30, 5
HOUR = 3_600_000
NOW = datetime(2026, 3, 31, 4, tzinfo=UTC)  # 12:00 in Shanghai
ZONE = "Asia/Shanghai"
STAFF = Principal("bench", "bench", "staff", None, "城关镇")
CARE = Principal("bench", "bench", "care", None, "城关镇")


def _entries() -> list[dict]:
    now = int(NOW.timestamp() * 1000)
    rows = []
    for day in range(DAYS):
        base = now - (DAYS - day) * 24 * HOUR
        for w in range(WORKERS):
            site = f"s{w % SITES}"
            start = base + (w % 12) * HOUR
            rows.append(("shift", f"sh{day}-{w}", f"p{w}", {"site": site, "post": "卡口", "start": start,
                                                             "end": start + 8 * HOUR, "kind": "day"}, start))
            rows.append(("checkin", f"c{day}-{w}", f"p{w}", {"site": site, "at": start, "fatigue": 1 + w % 5}, start))
        for s in range(SITES):
            for i in range(ITEMS):
                movement = "received" if day % 7 == 0 else "used"
                rows.append(("supply", f"m{day}-{s}-{i}", f"p{s}", {
                    "site": f"s{s}", "item": f"item{i}", "unit": "个", "movement": movement,
                    "quantity": 100 if movement == "received" else 12, "at": base + HOUR}, base + HOUR))
    out = []
    for kind, entry_id, person, fields, made in rows:
        moment = datetime.fromtimestamp(made / 1000, UTC)
        out.append(dict(id=entry_id, kind=kind, schema=2 if kind == "shift" else 1, site_id=fields["site"],
                        author_id=person, subject_id=person, device_id="d", fields=fields, stamps={}, deleted=False,
                        flags=[], device_times={}, seq=len(out) + 1, created_at=moment,
                        updated_at=moment + timedelta(minutes=5), **derived_columns(fields)))
    return out


async def _fill(url: str) -> None:
    engine = db.create_engine(url)
    await db.migrate(engine)
    entries = _entries()
    async with db.session_maker(engine).begin() as session:
        await session.execute(insert(Site), [{"id": f"s{s}", "name": f"第{s}村", "township": "城关镇"}
                                             for s in range(SITES)])
        await session.execute(insert(Person), [{"id": f"p{w}", "name": f"工作者{w}", "role": "worker",
                                                    "site_id": f"s{w % SITES}", "township": "城关镇"}
                                                   for w in range(WORKERS)])
        for chunk in range(0, len(entries), 5000):
            part = entries[chunk:chunk + 5000]
            await session.execute(insert(Entry), part)
            await session.execute(insert(ChangeLog), [{
                "id": f"ch-{e['id']}", "device_id": "d", "entry_id": e["id"], "body": "{}",
                "result": {"status": "applied"}, "received_at": e["updated_at"]} for e in part])
    await engine.dispose()
    print(f"  {len(entries):,} entries")


async def _time(url: str) -> None:
    engine = db.create_engine(url)
    maker = db.session_maker(engine)
    since = NOW - timedelta(days=1)
    day = (NOW - timedelta(days=1)).astimezone().date().isoformat()
    for name, who, work in (
        ("overview (staff)", STAFF, lambda s, who: today.overview(s, who, NOW, ZONE, since)),
        ("overview (care)", CARE, lambda s, who: today.overview(s, who, NOW, ZONE, since)),
        ("daily report", STAFF, lambda s, who: daily.daily_report(s, who, day, ZONE, NOW)),
    ):
        best = float("inf")
        for _ in range(3):
            async with maker() as session:
                began = time.perf_counter()
                await work(session, who)
                best = min(best, time.perf_counter() - began)
        print(f"  {name}: {best * 1000:.0f} ms")
    await engine.dispose()


async def _run(url: str) -> None:
    await _fill(url)
    await _time(url)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", default="sqlite")
    for name in parser.parse_args().databases.split(","):
        print(f"== {name} ==")
        with contextlib.ExitStack() as stack:
            if name == "sqlite":
                url = sqlite_url(Path(stack.enter_context(tempfile.TemporaryDirectory())))
            else:
                url = stack.enter_context(postgres_database())
            asyncio.run(_run(url))


if __name__ == "__main__":
    main()
