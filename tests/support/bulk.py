"""Entries written straight into the database, many at a time, as bulk (Core) writes must:
with the columns `models.derived_columns` names set from the fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Entry, derived_columns

MADE = datetime(2025, 11, 24, tzinfo=UTC)


def entry_row(entry_id: str, kind: str, fields: dict[str, Any], author: str, seq: int, **more: Any) -> dict:
    row = dict(id=entry_id, kind=kind, schema=1, site_id=fields["site"], author_id=author, subject_id=author,
               device_id="bulk", fields=fields, stamps={name: f"{seq:013d}-0000-bulk" for name in fields},
               deleted=False, flags=[], device_times={}, seq=seq, created_at=MADE, updated_at=MADE,
               **derived_columns(fields))
    return {**row, **more}


async def insert_entries(session: AsyncSession, rows: list[dict], batch: int = 5_000) -> None:
    for begin in range(0, len(rows), batch):
        await session.execute(insert(Entry), rows[begin:begin + batch])
