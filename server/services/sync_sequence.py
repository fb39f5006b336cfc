"""Sequence numbers (docs/sync-protocol.md §5.1, S8): every write of an entry gives it the next
value of one counter, taken last in the writing transaction so cursors never skip."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Entry, SyncCounter


async def assign_seq(session: AsyncSession, rows: list[Entry]) -> None:
    """§5.1: take the next seq values last, so the counter's row lock is held only to commit."""
    await session.flush()
    if not rows:
        return
    top = await session.scalar(
        update(SyncCounter)
        .where(SyncCounter.id == 1)
        .values(value=SyncCounter.value + len(rows))
        .returning(SyncCounter.value)
    )
    for seq, row in enumerate(rows, start=top - len(rows) + 1):
        row.seq = seq
    await session.flush()
