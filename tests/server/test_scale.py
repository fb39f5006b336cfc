"""A dashboard that stays fast at a million entries (issue 11, item 6): the columns pages filter
on, filled by the migration; every long list paged; every export streamed without an IN-list
of ids; stock kept per site and item, always equal to the whole ledger recomputed."""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server import db
from server.models import Conflict, Entry, Person, StockLevel
from server.services import stock_levels
from server.services.paging import PAGE_SIZE
from server.services.sync_sequence import assign_seq
from sync import ledger
from tests.support.aio import run
from tests.support.bulk import MADE, entry_row, insert_entries
from tests.support.world import HOUR, START, World, shift

DAY = 86_400_000
EXTRA = 20  # rows past the first page


# -- the columns --------------------------------------------------------------------------------


async def _migrate_a_0011_database(url: str) -> tuple[list, list]:
    engine = db.create_engine(url)

    def to_0011(connection) -> None:  # noqa: ANN001
        config = db.alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0011")

    rows = [("s1", "shift", '{"site": "s1", "post": "东门", "start": 1764000000000, "end": 1764028800000,'
                            ' "approval": "approved"}'),
            ("s2", "shift", '{"site": "s1", "post": "东门", "start": 1764100000000}'),
            ("m1", "supply", '{"site": "s1", "item": "口罩", "unit": "个", "movement": "stocktake",'
                             ' "quantity": 50, "at": 1764000000000}'),
            ("m2", "supply", '{"site": "s1", "item": "口罩", "unit": "个", "movement": "used",'
                             ' "quantity": 8, "at": 1764000001000}')]
    try:
        async with engine.begin() as conn:
            await conn.run_sync(to_0011)
            for entry_id, kind, fields in rows:
                await conn.execute(text(
                    "INSERT INTO entries (id, kind, schema, site_id, author_id, subject_id, device_id,"
                    " fields, stamps, deleted, flags, device_times, seq, created_at, updated_at)"
                    " VALUES (:id, :kind, 1, 's1', 'p1', 'p1', 'd1', :fields, '{}', false, '[]', '{}', 1, :at, :at)"
                ), {"id": entry_id, "kind": kind, "fields": fields, "at": MADE})
        await db.migrate(engine)
        async with engine.connect() as conn:
            shifts = (await conn.execute(select(Entry.id, Entry.start, Entry.end, Entry.approval)
                                         .order_by(Entry.id))).all()
            stock = (await conn.execute(select(StockLevel.site_id, StockLevel.item, StockLevel.stock))).all()
        return shifts, stock
    finally:
        await engine.dispose()


def test_the_migration_fills_a_shifts_times_and_approval_and_the_stock(database_url: str) -> None:
    shifts, stock = run(_migrate_a_0011_database(database_url))

    assert shifts == [("m1", None, None, None), ("m2", None, None, None),
                      ("s1", 1764000000000, 1764028800000, "approved"), ("s2", 1764100000000, None, None)]
    assert stock == [("s1", "口罩", 42)]


def test_the_columns_follow_a_staff_approval(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("d1", "shift", shift(phone.site, end=START + 8 * HOUR), START + 8 * HOUR)
    phone.sync(START + 8 * HOUR)
    world.client.post("/township/shifts/d1/approval", data={"decision": "approved", "_csrf_token": world.csrf()})

    [entry] = world.scalars(select(Entry).where(Entry.id == "d1"))
    assert (entry.start, entry.end, entry.approval) == (entry.fields["start"], entry.fields["end"], "approved")


# -- paging -------------------------------------------------------------------------------------


def _shifts(count: int) -> list[dict]:
    return [entry_row(f"x{n:04d}", "shift", {**shift("dongfeng", START - n * HOUR, START - n * HOUR + HOUR),
                                               "approval": "pending"}, "zhangwei", n + 1) for n in range(count)]


def _requests(count: int) -> list[dict]:
    return [entry_row(f"x{n:04d}", "request", {"site": "dongfeng", "item": "手套", "unit": "双", "quantity": 5,
                                                 "at": START + n}, "zhangwei", n + 1) for n in range(count)]


def _checkins(count: int) -> list[dict]:
    now = datetime.now(UTC)
    return [entry_row(f"x{n:04d}", "checkin", {"site": "dongfeng", "at": START + n, "fatigue": 3}, "zhangwei",
                      n + 1, created_at=now, updated_at=now) for n in range(count)]


async def _fill(session: AsyncSession, what: str, count: int) -> None:
    if what == "people":
        session.add_all(Person(id=f"x{n:04d}", name=f"人{n:04d}", role="worker", site_id="dongfeng",
                               township="城关镇") for n in range(count))
        return
    if what == "conflicts":
        await insert_entries(session, _shifts(count))
        await session.execute(insert(Conflict), [
            dict(entry_id=f"x{n:04d}", field="post", candidates=[{"value": "东门", "stamp": f"{START:013d}-0000-d", "device": "d"}],
                 opened_at=MADE) for n in range(count)])
        return
    await insert_entries(session, {"shifts": _shifts, "supplies": _requests, "wellbeing": _checkins}[what](count))


PAGES = {"shifts": ("/township/shifts", r'<tr data-entry-id="(x\d+)"'),
         "supplies": ("/township/supplies", r'<tr data-entry-id="(x\d+)"'),
         "people": ("/township/people", r'<tr data-person-id="([^"]+)"'),  # and the demo's
         "conflicts": ("/township/conflicts", r'data-conflict-id="\d+" data-entry-id="(x\d+)"'),
         "wellbeing": ("/township/wellbeing", r'<section class="checkin[^"]*" data-entry-id="(x\d+)"')}


@pytest.mark.parametrize("what", PAGES)
def test_a_long_list_comes_in_pages_that_neither_repeat_nor_skip(world: World, what: str) -> None:
    world.session(lambda session: _fill(session, what, PAGE_SIZE + EXTRA))
    if what == "wellbeing":
        world.account("care1", "care")
        world.sign_in("care1")
    path, shown = PAGES[what]

    first, second = world.client.get(path), world.client.get(path, params={"page": 2})

    assert first.status_code == second.status_code == 200
    ids = re.findall(shown, first.text), re.findall(shown, second.text)
    both = ids[0] + ids[1]
    assert len(ids[0]) == PAGE_SIZE and len(both) == len(set(both))
    assert sorted(i for i in both if i.startswith("x")) == [f"x{n:04d}" for n in range(PAGE_SIZE + EXTRA)]
    assert 'href="?page=2"' in first.text and "上一页" not in first.text
    assert 'href="?page=1"' in second.text and "下一页" not in second.text


def test_the_newest_shifts_come_first(world: World) -> None:
    world.session(lambda session: _fill(session, "shifts", PAGE_SIZE + EXTRA))

    ids = re.findall(PAGES["shifts"][1], world.client.get("/township/shifts").text)

    assert ids == [f"x{n:04d}" for n in range(PAGE_SIZE)]  # x0000 starts last


@pytest.mark.parametrize("page", ["0", "-1", "x", "1.5", "²", "100001"])
def test_a_page_that_cannot_be_is_a_400_naming_the_field(world: World, page: str) -> None:
    answer = world.client.get("/township/shifts", params={"page": page})

    assert answer.status_code == 400
    assert answer.json()["field"] == "page"


# -- exports ------------------------------------------------------------------------------------

MANY = 40_000  # more shifts than a statement can name by id (SQLite's 32,766 parameters)


def test_an_export_of_more_shifts_than_an_in_list_holds_streams_them_all(sqlite_database: str) -> None:
    """Read in keyset batches of (start, id): shifts that start together straddle the batches."""
    same_start = [{**row, "start": START - n // 3 * HOUR} for n, row in enumerate(_shifts(MANY))]
    with World.start(sqlite_database) as world:
        world.session(lambda session: insert_entries(session, same_start))

        answer = world.client.get("/township/export/shifts.csv")

    assert answer.status_code == 200
    assert "content-length" not in answer.headers  # streamed, not built whole first
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))
    assert len(rows) == MANY + 1
    assert rows[1][:3] == ["东风村", "张伟", "东门卡口"]


# -- stock --------------------------------------------------------------------------------------

SITES, ITEMS = ("dongfeng", "chengnan", "xinhua"), ("口罩", "手套")


def _random_movement(rng: random.Random, at: int) -> dict:
    site, kind = rng.choice(SITES), rng.choice(["received", "used", "issued", "transferred", "stocktake"])
    fields = {"site": site, "item": rng.choice(ITEMS), "unit": rng.choice(["个", "盒"]), "movement": kind,
              "quantity": rng.choice([1, 2.5, 10, 40]), "at": at}
    if kind == "transferred":
        fields["to_site"] = rng.choice([s for s in SITES if s != site])
    return fields


async def _write_randomly(
    session: AsyncSession, seed: int, in_order: bool = False
) -> tuple[list[dict], list[StockLevel]]:
    """Batches of random movements (and deletions), each written the way every write is
    (`assign_seq`, naming the new ones); then the whole ledger and the table. `in_order`: each
    movement later than those before it (as a site's phones mostly send them), so most batches
    carry their ledgers on; else at random times of the last 30 days."""
    rng, now = random.Random(seed), ledger_now()
    written: list[Entry] = []
    for batch in range(12):
        rows = []
        for n in range(rng.randrange(1, 15)):
            at = now - (12 - batch) * DAY + n * 60_000 if in_order else now - rng.randrange(30 * DAY) // 1000 * 1000
            fields = _random_movement(rng, at)
            row = Entry(id=f"m{batch}-{n}", kind="supply", schema=1, site_id=fields["site"], author_id="zhangwei",
                        subject_id="zhangwei", device_id="d", fields=fields, stamps={"at": f"{batch:013d}-{n:04x}-d"},
                        deleted=False, flags=[], device_times={}, seq=0, created_at=MADE, updated_at=MADE)
            session.add(row)
            rows.append(row)
        new = {row.id for row in rows}
        for gone in rng.sample(written, min(len(written), rng.randrange(3) * (not in_order or batch % 4 == 3))):
            gone.deleted = True
            rows.append(gone)
        await assign_seq(session, rows, appended=new)
        written += rows
    moves = [stock_levels.movement(e.id, e.fields, e.stamps) for e in written if not e.deleted]
    return moves, list(await session.scalars(select(StockLevel)))


def ledger_now() -> int:
    return stock_levels._now()


@pytest.mark.parametrize("in_order", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_the_stock_table_equals_the_whole_ledger_recomputed(world: World, seed: int, in_order: bool) -> None:
    moves, table = world.session(lambda session: _write_randomly(session, seed, in_order))
    now = ledger_now()

    kept = sorted((r.site_id, r.item, r.unit, r.stock, stock_levels.days_left(r, now)) for r in table)
    whole = sorted((site, r["item"], r["unit"], r["stock"], r["days_left"])
                   for site in SITES for r in ledger.stock_by_item(moves, site, now))
    assert kept == whole
    assert len(whole) > 1


@pytest.mark.parametrize("seed", range(20))
def test_a_ledger_carried_on_from_its_row_is_the_ledger_recomputed(seed: int) -> None:
    """`carried` works a row out from the row before and the new movements when they all come
    after its latest, exactly as `level` does from every movement; when one does not, it says
    it cannot."""
    rng, now = random.Random(seed), ledger_now()
    ats = sorted(now - rng.randrange(30 * DAY) for _ in range(rng.randrange(2, 30)))
    moves = [{**_random_movement(rng, at), "site": "s1", "item": "口罩", "id": f"m{n}", "stamp": f"{n:013d}-0-d"}
             for n, at in enumerate(ats)]
    cut = rng.randrange(2, len(moves) + 1)
    before = level_row(moves[:cut], now)

    if cut < len(moves):
        assert stock_levels.carried(before, moves[cut:], now) == stock_levels.level(moves, "s1", "口罩", now)
    late = {**moves[0], "id": "late", "at": moves[cut - 1]["at"] - 1}
    assert stock_levels.carried(before, [*moves[cut:], late], now) is None


def level_row(moves: list[dict], now: int) -> StockLevel:
    return StockLevel(**stock_levels.level(moves, "s1", "口罩", now))


def test_the_supplies_page_counts_no_row_twice(world: World) -> None:
    """The table holds one row per site and item, however many writes touched it."""
    world.session(lambda session: _write_randomly(session, 9))

    pairs = world.scalars(select(func.count()).select_from(StockLevel))
    distinct = world.scalars(select(func.count()).select_from(
        select(StockLevel.site_id, StockLevel.item).distinct().subquery()))
    assert pairs == distinct
