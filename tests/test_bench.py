"""The benchmarks' own parts work: the workload is deterministic and valid, the county filler
writes rows the server would, and the budget table says pass and fail rightly. Nothing is timed."""

from __future__ import annotations

import random
from collections import Counter

import msgspec
from sqlalchemy import func, select

from bench import county_fill, workload
from bench.run import Row, table
from server.models import Conflict, Entry, StockLevel, SyncCounter, derived_columns
from server.services import stock_levels
from sync.entries import KINDS
from tests.support.aio import run
from tests.support.databases import sqlite_url
from tests.support.world import in_session

NOW = 1_764_000_000_000


def entries_of(seed: int) -> list[tuple[int, str, dict]]:
    work = workload.phones(seed, count=20, entries=50)
    return [e for phone in work for e in phone.entries(NOW, workload.sites(work))]


def test_the_same_seed_gives_the_same_workload_and_another_seed_another() -> None:
    assert entries_of(7) == entries_of(7)
    assert entries_of(7) != entries_of(8)


def test_each_phones_entries_come_in_the_order_they_were_made() -> None:
    for phone in workload.phones(3, count=5, entries=40):
        made = [at for at, *_ in phone.entries(NOW, ["bs00"])]
        assert made == sorted(made) and len(set(made)) > 1


def test_the_workload_is_the_mix_and_every_entry_is_valid() -> None:
    entries = entries_of(1)
    kinds = Counter(kind for _, kind, _ in entries)
    assert set(kinds) == {"shift", "supply", "checkin"}
    assert kinds["shift"] > kinds["supply"] > kinds["checkin"]
    for at, kind, fields in entries:
        msgspec.convert(fields, KINDS[kind].struct)  # raises on an invalid entry
        assert KINDS[kind].check(fields) == []
        assert max(fields.get(name) or 0 for name in KINDS[kind].time_fields) < NOW  # none in the future
        assert all(abs(fields[name] - at) < workload.DAY for name in KINDS[kind].time_fields
                   if name in fields)  # recorded when made: not suspect (§7 K6)
        if fields.get("movement") == "transferred":
            assert fields["to_site"] != fields["site"]


def test_county_rows_set_every_column_and_the_derived_ones() -> None:
    place = county_fill.county(workers=30, townships=2, sites_per_township=3)
    rows = list(county_fill.county_rows(place, 400, NOW))
    columns = {c.name for c in Entry.__table__.columns}
    assert all(set(row) == columns for row in rows)
    assert all(row[name] == value for row in rows for name, value in derived_columns(row["fields"]).items())
    assert [row["seq"] for row in rows] == list(range(1, 401))
    for row in rows:
        msgspec.convert(row["fields"], KINDS[row["kind"]].struct)
    assert any(row["to_site"] for row in rows)


def test_the_filler_numbers_entries_after_the_sync_counter(tmp_path) -> None:
    url = sqlite_url(tmp_path)
    place = county_fill.county(workers=20, townships=1, sites_per_township=2)
    run(county_fill.add_people(url, place))

    async def bump(session) -> None:  # as if 5 entries had arrived by sync
        counter = await session.get(SyncCounter, 1)
        counter.value = 5

    run(in_session(url, bump))
    rows = county_fill.county_rows(place, 300, NOW)
    assert run(county_fill.insert_entries(url, rows, conflicts=1.0)) == 300

    async def check(session) -> tuple:
        seqs = (await session.execute(select(func.min(Entry.seq), func.max(Entry.seq)))).one()
        live_shifts = select(func.count()).where(Entry.kind == "shift", Entry.deleted.is_(False))
        return (tuple(seqs), (await session.get(SyncCounter, 1)).value,
                await session.scalar(select(func.count()).select_from(Conflict)),
                await session.scalar(live_shifts))

    seqs, counter, conflicts, live_shifts = run(in_session(url, check))
    assert seqs == (6, 305) and counter == 305
    assert conflicts == live_shifts > 0

    async def stock(session) -> tuple[dict, dict]:
        """The stock table as filled, and as the server's rule makes it from the movements."""
        table = {(r.site_id, r.item): r.stock for r in await session.scalars(select(StockLevel))}
        found = await session.scalars(select(Entry).where(Entry.kind == "supply", Entry.deleted.is_(False)))
        moves = [stock_levels.movement(e.id, e.fields, e.stamps) for e in found]
        return table, {(row["site_id"], row["item"]): row["stock"] for row in stock_levels.levels_of(moves)}

    table, ruled = run(in_session(url, stock))
    assert table == ruled and table  # the supplies page reads the table: a filler must fill it


def test_the_table_passes_ceilings_and_floors_rightly() -> None:
    rows = [
        Row("cpu", "≤ 0.1 ms", 0.05, 0.1, True, "0.05 ms"),
        Row("rate", "≥ 10,000", 5_000, 10_000, False, "5,000/s"),
        Row("p99", "< 1 s", 1.0, 1, True, "1.00 s", strict=True),
        Row("errors", "0", 0, 0, True, "0"),
        Row("fast but failing", "< 200 ms", 0.1, 200, True, "HTTP 500", strict=True, also=False),
        Row("unmeasured", "< 1 s", None, 1, True, "not reachable"),
        Row("no answer", "< 200 ms", 30_000, 200, True, "> 30 s", strict=True, also=False, lower_bound=True),
    ]
    assert [r.passed for r in rows] == [True, False, False, True, False, False, False]
    assert [r.ratio for r in rows[:4]] == [0.5, 2.0, 1.0, 0.0]
    printed = table(rows).splitlines()
    assert len(printed) == 2 + len(rows)
    assert printed[2].endswith("| 0.50 | pass |") and printed[3].endswith("| 2.00 | FAIL |")
    assert printed[-2].endswith("| – | FAIL |") and printed[-1].endswith("| > 150.00 | FAIL |")


def test_the_fillers_ids_follow_from_the_seed() -> None:
    assert workload.new_id(random.Random(3)) == workload.new_id(random.Random(3))
