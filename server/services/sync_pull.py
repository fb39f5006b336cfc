"""Pulling (docs/sync-protocol.md §5.1, §11): a page of the entries after a phone's cursor, in
seq order, up to the committed counter."""

from __future__ import annotations

import hashlib

from sqlalchemy import Select, and_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.models import Conflict, Entry, SyncCounter
from server.policy import Principal, device_scope
from sync.protocol import Entry as WireEntry


async def pull(session: AsyncSession, who: Principal, cursor: int, limit: int) -> tuple[list[WireEntry], str, bool]:
    """§5.1: entries after the cursor up to the committed counter, in seq order."""
    high = await session.scalar(select(SyncCounter.value).where(SyncCounter.id == 1))
    statement = pull_statement(who, cursor, high, limit + 1, session.bind.dialect.name)
    rows = (await session.scalars(statement)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    open_fields = await open_conflicts(session, [r.id for r in rows])
    entries = [to_wire(r, open_fields.get(r.id, [])) for r in rows]
    return entries, f"{rows[-1].seq if more else high}.{scope_of(who)}", more


def pull_statement(who: Principal, cursor: int, high: int, limit: int, dialect: str) -> Select:
    """The first `limit` entries of `who`'s scope in (cursor, high], by seq: each part of the
    scope read as an index range on seq, the parts merged in seq order, nothing sorted.

    SQLite merges a compound `ORDER BY seq LIMIT` by reading each part in index order, but
    would sort a limited subquery's rows again. PostgreSQL needs the limit inside each part to
    prefer that ordered index scan (a Merge Append) to a bitmap scan of all of it and a sort."""
    window = and_(Entry.seq > cursor, Entry.seq <= high)
    parts = [select(Entry).where(part, window) for part in device_scope(who)]
    if dialect == "postgresql":
        parts = [select(part.order_by(Entry.seq).limit(limit).subquery()) for part in parts]
    merged = union_all(*parts).subquery()
    return select(aliased(Entry, merged)).order_by(merged.c.seq).limit(limit)


def scope_of(who: Principal) -> str:
    """What a phone's pulls are scoped to (its person's site), as 8 hex digits in its cursor.
    The phone holds it, so a reset follows from what the phone has, even when the answer that
    said `reset` was lost (§4)."""
    return hashlib.sha256(f"site:{who.site_id or ''}".encode()).hexdigest()[:8]


def pull_from(cursor: str, who: Principal) -> int | None:
    """The seq to pull after, or None when the phone must reset: its cursor is of another
    scope (the person moved site) or of an app that did not write the scope."""
    if cursor == "0":
        return 0
    seq, _, scope = cursor.partition(".")
    return int(seq) if scope == scope_of(who) else None


async def open_conflicts(session: AsyncSession, entry_ids: list[str]) -> dict[str, list[str]]:
    if not entry_ids:
        return {}
    found: dict[str, list[str]] = {}
    rows = await session.execute(
        select(Conflict.entry_id, Conflict.field).where(
            Conflict.entry_id.in_(entry_ids), Conflict.resolved_at.is_(None)
        )
    )
    for entry_id, name in rows:
        found.setdefault(entry_id, []).append(name)
    return found


def to_wire(row: Entry, conflicts: list[str]) -> WireEntry:
    return WireEntry(
        id=row.id,
        kind=row.kind,
        schema=row.schema,
        site=row.site_id,
        author=row.author_id,
        device=row.device_id,
        fields=row.fields,
        stamps=row.stamps,
        seq=row.seq,
        deleted=row.deleted,
        conflicts=sorted(conflicts),
        flags=row.flags,
    )
