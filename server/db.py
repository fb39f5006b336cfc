"""Engine, sessions and migrations.

Sessions come in two kinds (see `Sessions`): `maker()` reads, `maker.begin()` writes. On SQLite
a read is a deferred transaction (WAL lets it run beside the writer and never takes the write
lock), and the writers of one process queue on one asyncio lock, so only one connection at a time
asks SQLite for the write lock (BEGIN IMMEDIATE) instead of all of them polling it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 7_401_2020  # pg advisory lock key: one process migrates at a time
WRITE = "nuanxin_write"  # execution option: this connection's transactions write (BEGIN IMMEDIATE)
BUSY_TIMEOUT_MS = 30_000  # only another process can make a writer wait: ours queue on the lock

# JSON columns (an entry's fields, stamps, flags...) through msgspec: several times faster than
# the json module on every entry a push writes and a pull reads (issue 11).
JSON_CODEC = {
    "json_serializer": lambda value: msgspec.json.encode(value).decode(),
    "json_deserializer": msgspec.json.decode,
}

# One write queue per SQLite engine (PostgreSQL locks rows itself and needs none).
_write_locks: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


def create_engine(url: str) -> AsyncEngine:
    # hide_parameters: an error's message must not carry what a person typed into the log.
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True, hide_parameters=True, **JSON_CODEC)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, hide_parameters=True, **JSON_CODEC
    )
    _write_locks[engine.sync_engine] = asyncio.Lock()

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
        # Let SQLAlchemy's begin event below emit BEGIN, not the driver (SQLAlchemy docs,
        # "Serializable isolation / Savepoints / Transactional DDL" for aiosqlite).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: in WAL mode NORMAL may lose the last acknowledged commits on power loss, and an
        # acknowledged change is never lost. Its cost is measured in docs/benchmarks.md.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn) -> None:  # noqa: ANN001
        # A writer takes the write lock up front: a deferred transaction that upgrades to a
        # writer can fail with SQLITE_BUSY at once instead of waiting. A reader never upgrades.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")

    return engine


def retryable(err: DBAPIError) -> bool:
    """The whole transaction was rolled back by the database and may simply run again:
    a PostgreSQL deadlock (40P01) or serialisation failure (40001), or SQLite busy."""
    orig = err.orig
    if getattr(orig, "sqlstate", None) in {"40P01", "40001"}:
        return True
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF == sqlite3.SQLITE_BUSY  # extended codes (BUSY_SNAPSHOT...) too
    return "database is locked" in str(orig)


class Sessions(async_sessionmaker[AsyncSession]):
    """`maker()` for a session that only reads; `maker.begin()` for a transaction that writes."""

    def begin(self):  # noqa: ANN201 - an async context manager of AsyncSession, like the base
        return self._write()

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        engine = self.kw["bind"]
        lock = _write_locks.get(engine.sync_engine)
        if lock is None:
            async with super().begin() as session:
                yield session
            return
        # Queue before taking a pooled connection, so waiting writers hold none.
        async with lock, super().begin() as session:
            await session.connection(execution_options={WRITE: True})
            yield session


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision (§ operations: run at every start-up)."""

    def upgrade(connection) -> None:  # noqa: ANN001
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    # A writer from the start: on SQLite, two processes starting at once migrate one by one.
    async with engine.connect() as conn:
        conn = await conn.execution_options(**{WRITE: True})
        async with conn.begin():
            await conn.run_sync(upgrade)


def session_maker(engine: AsyncEngine) -> Sessions:
    return Sessions(engine, expire_on_commit=False)


async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with maker.begin() as session:
        yield session
