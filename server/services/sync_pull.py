"""Pulling (docs/sync-protocol.md §5.1, §11): a page of the entries after a phone's cursor, in
seq order, up to the committed counter."""

from __future__ import annotations

import hashlib

import msgspec

from sqlalchemy import Select, and_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.models import Conflict, Entry, SyncCounter
from server.policy import Principal, device_scope
from sync.protocol import PAGE_BYTES
from sync.protocol import Entry as WireEntry

CHUNK = 1000  # rows read at a time while a page fills: about PAGE_BYTES of typical entries
_encode = msgspec.json.Encoder().encode


async def pull(
    session: AsyncSession, who: Principal, cursor: int, limit: int, fold: dict[str, int] | None = None
) -> tuple[list[WireEntry], str, bool]:
    """§5.1: entries after the cursor up to the committed counter, in seq order, until their JSON
    reaches PAGE_BYTES or `limit` of them. An entry in `fold` at the seq given there is the
    phone's own change, folded in by the phone itself (§4): passed over unless a conflict is open
    on it."""
    fold = fold or {}
    high = await session.scalar(select(SyncCounter.value).where(SyncCounter.id == 1))
    entries: list[WireEntry] = []
    size, last, more = 0, cursor, True
    while more and size < PAGE_BYTES and len(entries) < limit:
        want = min(limit - len(entries), CHUNK) + len(fold)
        rows = (await session.scalars(pull_statement(who, last, high, want + 1, session.bind.dialect.name))).all()
        more = len(rows) > want
        rows = rows[:want]
        open_fields = await open_conflicts(session, [r.id for r in rows])
        for row in rows:
            if size >= PAGE_BYTES or len(entries) == limit:
                more = True
                break
            last = row.seq
            if fold.get(row.id) == row.seq and row.id not in open_fields:
                continue
            entry = to_wire(row, open_fields.get(row.id, []))
            entries.append(entry)
            size += len(_encode(entry))
    return entries, f"{last if more else high}.{scope_of(who)}", more


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
