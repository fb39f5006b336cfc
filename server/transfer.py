"""Copying a whole deployment: `nuanxin backup`, `nuanxin restore` and `nuanxin migrate-to`.

One copy routine serves all three. It copies every table of the models in foreign-key order
inside one read snapshot of the source and one transaction on the target, then checks the
copy before committing: the same number of rows in every table, the same sync cursor
(`sync_counter`, which every phone's pull position is measured against), and no entry beyond
it. A target that holds any row is refused: a copy never merges into or overwrites data.

A backup is a SQLite file whatever the source: from SQLite it is SQLite's own online backup
(writers carry on), from PostgreSQL a copy in one REPEATABLE READ snapshot. It opens with the
`sqlite3` tool, and `nuanxin restore` puts it into either kind of database.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, Integer, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from server import db
from server.models import Base, Entry, SyncCounter

CHUNK = 1000


class TransferError(Exception):
    """A copy that cannot or must not go ahead; the message says what to do."""


def async_url(url: str) -> str:
    """Accept the URLs people type (postgresql://…, sqlite:///…) as well as the drivers' own."""
    parsed = make_url(url)
    driver = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}.get(parsed.drivername)
    return parsed.set(drivername=driver).render_as_string(hide_password=False) if driver else url


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    return Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None


async def _counts(conn: AsyncConnection) -> dict[str, int]:
    counts = {table.name: await conn.scalar(select(func.count()).select_from(table))
              for table in Base.metadata.sorted_tables}
    counts["sync cursor"] = await conn.scalar(select(SyncCounter.value).where(SyncCounter.id == 1)) or 0
    return counts


async def _refuse_unless_empty(conn: AsyncConnection, where: str) -> None:
    names = await conn.run_sync(lambda sync_conn: inspect(sync_conn).get_table_names())
    for name in names:
        if name == "alembic_version":
            continue
        quoted = conn.dialect.identifier_preparer.quote(name)
        rows = await conn.scalar(text(f"SELECT count(*) FROM {quoted}"))
        if name == SyncCounter.__tablename__ and rows == 1:
            rows = await conn.scalar(text(f"SELECT count(*) FROM {quoted} WHERE value <> 0"))
        if rows:
            raise TransferError(f"{where} already holds data (table {name}); give an empty database")


def _row(values: dict, datetimes: set[str]) -> dict:
    """SQLite keeps times without their zone; they were written in UTC and say so again."""
    for name in datetimes:
        value = values[name]
        if isinstance(value, datetime):
            values[name] = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return values


async def _copy_rows(source: AsyncConnection, target: AsyncConnection) -> None:
    await target.execute(SyncCounter.__table__.delete())  # the migration's starting row
    for table in Base.metadata.sorted_tables:
        datetimes = {column.name for column in table.columns if isinstance(column.type, DateTime)}
        order = list(table.primary_key.columns)
        result = await source.stream(select(table).order_by(*order))
        async for chunk in result.mappings().partitions(CHUNK):
            await target.execute(table.insert(), [_row(dict(row), datetimes) for row in chunk])
    if target.dialect.name == "postgresql":
        # Explicit ids leave serial sequences behind; the next conflict must not reuse an id.
        for table in Base.metadata.sorted_tables:
            for column in table.primary_key.columns:
                if isinstance(column.type, Integer):
                    await target.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f"coalesce((SELECT max({column.name}) FROM {table.name}), 0) + 1, false) "
                        f"WHERE pg_get_serial_sequence('{table.name}', '{column.name}') IS NOT NULL"))


async def copy_database(source_url: str, target_url: str) -> dict[str, int]:
    """Copy every row from source to an empty target; the checked counts.

    The source is migrated to this version's schema first, as `nuanxin serve` would."""
    source_url, target_url = async_url(source_url), async_url(target_url)
    if (path := sqlite_path(source_url)) is not None and not path.is_file():
        raise TransferError(f"there is no database at {path}")
    if source_url == target_url:
        raise TransferError("the source and the target are the same database")
    source_engine, target_engine = db.create_engine(source_url), db.create_engine(target_url)
    try:
        await db.migrate(source_engine)
        async with target_engine.connect() as probe:
            await _refuse_unless_empty(probe, "the target database")
            await probe.rollback()
        await db.migrate(target_engine)
        snapshot = {"isolation_level": "REPEATABLE READ"} if source_engine.dialect.name == "postgresql" else {}
        async with source_engine.connect() as raw_source:
            source = await raw_source.execution_options(**snapshot)
            async with source.begin(), target_engine.begin() as target:
                await _refuse_unless_empty(target, "the target database")  # nobody wrote meanwhile
                await _copy_rows(source, target)
                wanted, copied = await _counts(source), await _counts(target)
                if wanted != copied:
                    raise TransferError(f"the copy does not match the source ({copied} ≠ {wanted}); nothing was kept")
                newest = await target.scalar(select(func.max(Entry.seq))) or 0
                if newest > copied["sync cursor"]:
                    raise TransferError(f"an entry has seq {newest} beyond the sync cursor {copied['sync cursor']}")
        return copied
    finally:
        await source_engine.dispose()
        await target_engine.dispose()


async def backup(source_url: str, destination: Path) -> dict[str, int]:
    """Write a backup of a running deployment to a new SQLite file; its counts."""
    if destination.exists():
        raise TransferError(f"{destination} exists; give a new file name (a backup never overwrites)")
    destination.parent.mkdir(parents=True, exist_ok=True)
    source_url = async_url(source_url)
    path = sqlite_path(source_url)
    if path is not None and not path.is_file():
        raise TransferError(f"there is no database at {path}")
    try:
        if path is None:
            return await copy_database(source_url, f"sqlite+aiosqlite:///{destination}")
        # SQLite's online backup: a consistent copy while the server keeps writing (WAL).
        with closing(sqlite3.connect(path, timeout=30)) as live, closing(sqlite3.connect(destination)) as copy:
            live.backup(copy)
            if copy.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise TransferError(f"the backup at {destination} failed its integrity check; try again")
        return await _file_counts(destination)
    except BaseException:
        destination.unlink(missing_ok=True)  # half a backup must not pass for one
        raise


async def _file_counts(path: Path) -> dict[str, int]:
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as conn:
            return await _counts(conn)
    finally:
        await engine.dispose()


async def restore(backup_file: Path, target_url: str) -> dict[str, int]:
    """Put a backup into an empty database (SQLite or PostgreSQL); the checked counts.

    The backup is migrated on a scratch copy first, so a backup made by an older version
    restores into a newer one; the backup file itself is never changed."""
    if not backup_file.is_file():
        raise TransferError(f"there is no backup at {backup_file}")
    with open(backup_file, "rb") as head:
        if head.read(16) != b"SQLite format 3\x00":
            raise TransferError(f"{backup_file} is not a Nuanxin backup (a SQLite file made by `nuanxin backup`)")
    with tempfile.TemporaryDirectory(prefix="nuanxin-restore-") as scratch:
        working = Path(scratch) / "backup.sqlite3"
        shutil.copyfile(backup_file, working)
        return await copy_database(f"sqlite+aiosqlite:///{working}", target_url)


def describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items())
