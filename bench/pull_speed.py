"""How fast a new phone pulls its scope from a county-sized database (issue 11, item 4).

Fills a database with 50,000 entries in one worker's scope (their own shifts and check-ins,
their site's supply ledger with transfers other sites sent it) among 200,000 of other people
and sites, then times `sync_pull.pull` page after page from cursor 0 (pages of 200, in the
process: no HTTP), and prints the plan of the first page's statement.

Run: python -m bench.pull_speed [--databases sqlite,postgresql]   (figures go to docs/benchmarks.md)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert, text, update

from server import db
from server.models import Entry, SyncCounter
from server.policy import Principal
from server.services import sync_pull
from tests.support.databases import postgres_database, sqlite_url

IN_SCOPE, OTHERS, PAGE = 50_000, 200_000, 200
SITE, PERSON, DEVICE = "s0", "p0", "d0"
ENROLLED = datetime(2026, 1, 1, tzinfo=UTC)


def _row(seq: int) -> dict:
    """Entry `seq`: every fifth is in the worker's scope, in a mix of the branches of it."""
    mine = seq % 5 == 0
    n = seq // 5 if mine else seq
    person, site, kind, fields = f"p{seq % 5000 + 1}", f"s{seq % 400 + 1}", "shift", {}
    if mine and n % 10 < 5:
        person, site = PERSON, SITE  # own shift (or check-in)
        kind = "checkin" if n % 10 == 4 else "shift"
    elif mine and n % 10 < 9:
        site, kind = SITE, "supply"  # another worker's movement at this site
    elif mine:
        kind, fields = "supply", {"movement": "transferred", "to_site": SITE}  # sent to this site
    row = dict(id=f"e{seq}", kind=kind, schema=1, site_id=site, author_id=person, subject_id=person,
               device_id=DEVICE if person == PERSON else "dx", fields=fields, stamps={}, deleted=False,
               flags=[], device_times={}, seq=seq, created_at=ENROLLED + timedelta(seconds=seq),
               updated_at=ENROLLED)
    if "to_site" in Entry.__table__.c:
        row["to_site"] = fields.get("to_site")
    return row


async def _fill(engine) -> None:  # noqa: ANN001
    total = IN_SCOPE * 5
    async with engine.begin() as conn:
        for start in range(1, total + 1, 5000):
            batch = [_row(seq) for seq in range(start, min(start + 5000, total + 1))]
            await conn.execute(insert(Entry), batch)
        await conn.execute(update(SyncCounter).where(SyncCounter.id == 1).values(value=total))
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE entries"))


async def _plan(engine, maker, who: Principal) -> str:  # noqa: ANN001
    seen: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:  # noqa: ANN001
        if "FROM entries" in statement and not statement.startswith("EXPLAIN"):
            seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    async with maker() as session:
        await sync_pull.pull(session, who, 0, PAGE)
    event.remove(engine.sync_engine, "before_cursor_execute", capture)
    statement, parameters = seen[0]
    async with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            return "\n".join(f"{row[0]:>3} {row[1]:>3} {row[3]}" for row in rows)
        rows = await conn.exec_driver_sql("EXPLAIN ANALYZE " + statement, parameters)
        return "\n".join(row[0] for row in rows)


async def _measure(url: str) -> None:
    engine = db.create_engine(url)
    try:
        await db.migrate(engine)
        await _fill(engine)
        maker = db.session_maker(engine)
        who = Principal(person_id=PERSON, name="bench", role="worker", site_id=SITE, township="t",
                        device_id=DEVICE, enrolled_at=ENROLLED)
        print(await _plan(engine, maker, who))
        pulled, pages, cursor, began = 0, 0, 0, time.perf_counter()
        while True:
            async with maker() as session:
                entries, wire_cursor, more = await sync_pull.pull(session, who, cursor, PAGE)
            pulled, pages = pulled + len(entries), pages + 1
            cursor = int(wire_cursor.partition(".")[0])
            if not more:
                break
        took = time.perf_counter() - began
        print(f"{engine.dialect.name}: {pulled} entries in {pages} pages, {took:.2f} s, "
              f"{pulled / took:,.0f} entries/s")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", default="sqlite,postgresql")
    names = parser.parse_args().databases.split(",")
    for name in names:
        with contextlib.ExitStack() as stack:
            if name == "sqlite":
                url = sqlite_url(Path(stack.enter_context(tempfile.TemporaryDirectory())))
            else:
                url = stack.enter_context(postgres_database())
            asyncio.run(_measure(url))


if __name__ == "__main__":
    main()
