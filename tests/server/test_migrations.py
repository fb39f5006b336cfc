"""The migrated schema is the models' schema, on SQLite and on PostgreSQL (issue 12, item 7).

A model changed without a migration (or a migration that differs from its model) fails here,
before it reaches a township's database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from server import db
from server.models import Base
from tests.support.aio import run


async def _differences(url: str) -> list:
    engine = db.create_engine(url)
    try:
        await db.migrate(engine)
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync_conn: compare_metadata(
                MigrationContext.configure(sync_conn, opts={"compare_type": True, "compare_server_default": True}),
                Base.metadata,
            ))
    finally:
        await engine.dispose()


def test_the_migrations_build_exactly_the_models(database_url: str) -> None:
    assert run(_differences(database_url)) == []
