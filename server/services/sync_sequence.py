"""Sequence numbers (docs/sync-protocol.md §5.1, S8): every write of an entry gives it the next
value of one counter, taken last in the writing transaction so cursors never skip."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Entry, SyncCounter
from server.services import stock_levels


async def assign_seq(
    session: AsyncSession, rows: list[Entry | Any], write: Callable[[], Awaitable[None]] | None = None,
    appended: Collection[str] = (),
) -> None:
    """§5.1: take the next seq values last, so the counter's row lock is held only to commit;
    store the rows with them (`write`; by default the ORM's flush), then keep what is derived
    from stored entries up to date (stock levels), under that lock, so writers take turns.

    `rows` are ORM entries, or a push's rows (`sync_push.Row`, the same column attributes),
    which the push's `write` stores once, with their seq; `appended`, the ids of those that are
    new (stock_levels.refresh carries a ledger on from its row when only new movements touch it)."""
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
    await (write or session.flush)()
    await stock_levels.refresh(session, rows, appended)
