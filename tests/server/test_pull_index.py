"""A pull reads its scope as ranges of seq in indexes, never all of a person's or a site's
entries and a sort (issue 11, item 4): the plan of the exact statement a pull issues, on
SQLite and PostgreSQL. And `to_site`, the column that makes it possible, follows the fields."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from alembic import command
from sqlalchemy import event, insert, select, text, update
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from server import db
from server.models import Entry, SyncCounter
from server.policy import Principal
from server.services import sync_pull
from tests.support.aio import run
from tests.support.world import START, World

ENROLLED = datetime(2026, 1, 1, tzinfo=UTC)
WHO = Principal(person_id="p0", name="p0", role="worker", site_id="s0", township="t", device_id="d0",
                enrolled_at=ENROLLED)
INDEXES = ("ix_entries_subject_seq", "ix_entries_kind_site_seq", "ix_entries_to_site_seq")
ROWS = 40_000


def _row(seq: int) -> dict:
    """One in ten is in p0's scope: their own shifts and check-ins, s0's supplies, transfers to
    s0. The rest, of 500 other people at 40 sites, are 60% shifts, 25% supplies, 15% check-ins."""
    person, site, fields = f"p{seq % 500 + 1}", f"s{seq % 40 + 1}", {}
    kind = "shift" if seq % 20 < 12 else "supply" if seq % 20 < 17 else "checkin"
    if seq % 10 == 0:
        person, site, kind = [("p0", "s0", "shift"), ("p0", "s0", "checkin"), ("p7", "s0", "supply"),
                              ("p8", "s3", "supply")][seq // 10 % 4]
        if site == "s3":
            fields = {"movement": "transferred", "to_site": "s0"}
    return dict(id=f"e{seq}", kind=kind, schema=1, site_id=site, author_id=person, subject_id=person,
                device_id="dx", fields=fields, stamps={}, deleted=False, flags=[], device_times={}, seq=seq,
                created_at=ENROLLED + timedelta(seconds=seq), updated_at=ENROLLED,
                to_site=fields.get("to_site"))


@contextlib.asynccontextmanager
async def _filled(url: str, rows: int) -> AsyncIterator[AsyncEngine]:
    """A migrated database holding `_row` 1 to `rows`, the counter past them, and the planner's
    statistics on PostgreSQL, as a live database has them."""
    engine = db.create_engine(url)
    try:
        await db.migrate(engine)
        async with engine.begin() as conn:
            await conn.execute(insert(Entry), [_row(seq) for seq in range(1, rows + 1)])
            await conn.execute(update(SyncCounter).where(SyncCounter.id == 1).values(value=rows))
            if conn.dialect.name == "postgresql":
                await conn.execute(text("ANALYZE entries"))
        yield engine
    finally:
        await engine.dispose()


async def _pull_and_plan(url: str) -> tuple[list[str], list[str]]:
    """Every id a new phone of p0 pulls, page by page, and the plan of the first page's statement."""
    async with _filled(url, ROWS) as engine:
        issued: list[tuple[str, object]] = []

        def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:  # noqa: ANN001
            if "FROM entries" in statement:
                issued.append((statement, parameters))

        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        pulled, cursor, more = [], 0, True
        while more:
            async with db.session_maker(engine)() as session:
                entries, wire_cursor, more = await sync_pull.pull(session, WHO, cursor, 200)
            pulled += [msgspec.json.decode(entry)["id"] for entry in entries]
            cursor = int(wire_cursor.partition(".")[0])
        event.remove(engine.sync_engine, "before_cursor_execute", capture)

        statement, parameters = issued[0]
        async with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                explained = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                plan = [row[3] for row in explained]
            else:
                plan = [row[0] for row in await conn.exec_driver_sql("EXPLAIN " + statement, parameters)]
        return pulled, plan


def test_a_pull_reads_each_part_of_its_scope_as_a_range_of_seq(database_url: str) -> None:
    pulled, plan = run(_pull_and_plan(database_url))

    assert pulled == [f"e{seq}" for seq in range(10, ROWS + 1, 10)]  # all of the scope, once, in order
    text_plan = "\n".join(plan)
    if database_url.startswith("sqlite"):
        for index in INDEXES:
            ranges = [line for line in plan if f"USING INDEX {index} (" in line and "seq>? AND seq<?" in line]
            assert ranges, text_plan
        assert not any(line.startswith("SCAN") or "TEMP B-TREE" in line for line in plan), text_plan
    else:
        for index in INDEXES:
            assert f"Index Scan using {index} on entries" in text_plan, text_plan
        assert "Merge Append" in text_plan, text_plan
        # (A follow-up's check-in is looked up among the person's own check-ins: a subplan.)
        assert "Seq Scan" not in text_plan, text_plan
        sort_node = re.compile(r"(^|->)\s*(Incremental )?Sort +\(", re.MULTILINE)
        assert not sort_node.search(text_plan), text_plan


async def _first_page(url: str, room: int) -> tuple[int, bool]:
    async with _filled(url, 100) as engine, db.session_maker(engine)() as session:
        entries, _, more = await sync_pull.pull(session, WHO, 0, 5000, compact=True, room=room)
    return len(entries), more


def test_a_page_without_room_for_an_entry_of_the_usual_size_still_sends_one(database_url: str) -> None:
    # Its first read is sized by the room (sync_pull.USUAL_BYTES): a push's results can leave little.
    assert run(_first_page(database_url, 20)) == (1, True)


OTHER = Principal(person_id="p8", name="p8", role="worker", site_id="s3", township="t", device_id="d8",
                  enrolled_at=ENROLLED)


async def _pulls(url: str, phones: list[Principal]) -> list[set[str]]:
    """What each phone pulls, one after another in one process (one statement serves them all)."""
    found = []
    async with _filled(url, 400) as engine:
        for who in phones:
            async with db.session_maker(engine)() as session:
                entries, _, _ = await sync_pull.pull(session, who, 0, 5000)
            found.append({msgspec.json.decode(entry)["author"] for entry in entries})
    return found


def test_one_statement_pulls_each_phones_own_scope(database_url: str) -> None:
    first, other, again = run(_pulls(database_url, [WHO, OTHER, WHO]))

    assert first == again == {"p0", "p7", "p8"}  # its own, its site's supplies, transfers sent to it
    assert "p0" not in other and "p8" in other


async def _run_without_values(url: str) -> None:
    engine = db.create_engine(url)
    try:
        await db.migrate(engine)
        async with db.session_maker(engine)() as session:
            statement = sync_pull.pull_statement(True, engine.dialect.name)
            await session.execute(statement, {"after": 0, "high": 10, "rows": 10})
    finally:
        await engine.dispose()


def test_the_scope_statement_is_refused_without_a_phones_values(database_url: str) -> None:
    with pytest.raises(StatementError, match="scope_"):
        run(_run_without_values(database_url))


def test_to_site_follows_the_fields_of_a_transfer(world: World) -> None:
    phone = world.phone("zhangwei")
    transfer = {"site": phone.site, "item": "医用外科口罩", "unit": "个", "movement": "transferred",
                "quantity": 20, "at": START, "to_site": "chengnan"}
    phone.replica.put("t1", "supply", transfer, START)
    phone.replica.put("u1", "supply", {**transfer, "movement": "used", "to_site": None}, START)
    phone.sync(START)

    rows = {row.id: row.to_site for row in world.scalars(select(Entry).where(Entry.id.in_(["t1", "u1"])))}
    assert rows == {"t1": "chengnan", "u1": None}


async def _migrate_a_0009_database(url: str) -> list[tuple[str, str | None]]:
    engine = db.create_engine(url)

    def to_0009(connection) -> None:  # noqa: ANN001
        config = db.alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0009")

    try:
        async with engine.begin() as conn:
            await conn.run_sync(to_0009)
            for entry_id, fields in (("t1", '{"movement": "transferred", "to_site": "xinhua"}'),
                                     ("u1", '{"movement": "used"}')):
                await conn.execute(text(
                    "INSERT INTO entries (id, kind, schema, site_id, author_id, subject_id, device_id,"
                    " fields, stamps, deleted, flags, device_times, seq, created_at, updated_at)"
                    " VALUES (:id, 'supply', 1, 's1', 'p1', 'p1', 'd1', :fields, '{}', false, '[]', '{}',"
                    " 1, :at, :at)"
                ), {"id": entry_id, "fields": fields, "at": ENROLLED})
        await db.migrate(engine)
        async with engine.connect() as conn:
            return sorted((await conn.execute(select(Entry.id, Entry.to_site))).all())
    finally:
        await engine.dispose()


def test_the_migration_fills_to_site_for_the_entries_already_stored(database_url: str) -> None:
    assert run(_migrate_a_0009_database(database_url)) == [("t1", "xinhua"), ("u1", None)]
