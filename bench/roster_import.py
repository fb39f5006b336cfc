"""How long a township's largest roster takes to preview and import (`python -m bench.roster_import`).

A GBK file of 5,000 workers over 50 sites (the import's row limit), planned and applied through the
service on a fresh SQLite database, then the same file previewed again (every row unchanged).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from server import db
from server.models import Site
from server.policy import Principal
from server.services import roster_import

ADMIN = Principal(person_id="admin", name="管理员", role="admin", site_id=None, township="城关镇")
ROWS, SITES = roster_import.MAX_ROWS, 50


def roster() -> bytes:
    lines = ["姓名,手机号,站点,岗位"]
    lines += [f"工作者{n},139{n:08d},第{n % SITES}村,网格员" for n in range(ROWS)]
    return "\r\n".join(lines).encode("gbk")


async def measure(url: str) -> dict[str, float]:
    engine = db.create_engine(url)
    maker = db.session_maker(engine)
    raw, now = roster(), datetime.now(UTC)
    try:
        await db.migrate(engine)
        async with maker.begin() as session:
            session.add_all(Site(id=f"s{i}", name=f"第{i}村", township="城关镇") for i in range(SITES))
        times = {}
        start = time.perf_counter()
        async with maker() as session:
            shown = await roster_import.plan(session, ADMIN, raw)
        times["preview"] = time.perf_counter() - start
        start = time.perf_counter()
        async with maker.begin() as session:
            done = await roster_import.apply(session, ADMIN, raw, shown.fingerprint, now)
        times["import"] = time.perf_counter() - start
        start = time.perf_counter()
        async with maker() as session:
            again = await roster_import.plan(session, ADMIN, raw)
        times["preview again"] = time.perf_counter() - start
        assert done.count("new") == ROWS and again.count("unchanged") == ROWS
        return times
    finally:
        await engine.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'roster.sqlite3'}"
        times = asyncio.run(measure(url))
    size = len(roster())
    print(f"roster of {ROWS} rows, {size / 1024:.0f} KB in GBK, on SQLite:")
    for name, seconds in times.items():
        print(f"  {name}: {seconds:.2f} s")


if __name__ == "__main__":
    main()
