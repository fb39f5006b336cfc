"""Pulling (docs/sync-protocol.md §5.1, §11): a page of the entries after a phone's cursor, in
seq order, up to the committed counter."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

import msgspec
from sqlalchemy import Select, Text, and_, bindparam, cast, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from server.models import Conflict, Entry, SyncCounter
from server.policy import Principal, device_scope, scope_values
from sync.compact import compact_parts
from sync.protocol import PAGE_BYTES
from sync.protocol import Entry as WireEntry

# A page's first read: the rows its room holds of entries of about the usual size, compact or
# not (212 and 501 bytes in bench/sync_cost.py's pulls), so that a page usually takes one read;
# then about as many as the room left holds of entries the size of those read.
USUAL_BYTES = {True: 210, False: 500}
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode
_names = msgspec.json.Decoder(dict[str, msgspec.Raw]).decode
_stamps = msgspec.json.Decoder(dict[str, str]).decode


async def pull(
    session: AsyncSession,
    who: Principal,
    cursor: int,
    limit: int,
    fold: dict[str, int] | None = None,
    compact: bool = False,
    room: int = PAGE_BYTES,
) -> tuple[list[msgspec.Raw], str, bool]:
    """§5.1: entries after the cursor up to the committed counter, in seq order, each as the JSON
    it is sent as, while they fit in `room` bytes of a JSON list (at least one entry a page) and
    are at most `limit`. An entry in `fold` still at the seq given there is the phone's own
    change, which the phone folds in itself (§4): left out. A seq names one write of one entry,
    so an entry changed since the push (a new seq) is sent. `compact`: compact entries (§4)."""
    high = await session.scalar(select(SyncCounter.value).where(SyncCounter.id == 1))
    # Built once for every phone of its shape (building it costs more than reading a page), and
    # run with this phone's values. The folded entries are read with the rest and left out here:
    # a statement that skipped them would be built anew each push.
    statement = pull_statement(who.site_id is not None, session.bind.dialect.name)
    values = {**scope_values(who), "high": high}
    fold = fold or {}
    entries: list[msgspec.Raw] = []
    size, last, more, full = 2, cursor, True, False  # 2: the list's brackets
    previous = 0  # the seq of the entry before, which a compact entry's seq is counted from
    first = max(room // USUAL_BYTES[compact], 1)  # at least one entry a page
    while more and not full and len(entries) < limit:
        fill = _rows_to_fill(room - size, size / len(entries)) if entries else first
        want = min(limit - len(entries), fill)
        values.update(after=last, rows=want + 1)
        rows = (await session.execute(statement, values)).all()
        more = len(rows) > want
        for row in rows[:want]:
            if fold.get(row[0]) == row[8]:
                last = row[8]
                continue
            conflicts = sorted(_decode(row[11])) if row[11] not in (None, "[]") else []
            sent = _encode(to_compact(row, conflicts, previous) if compact else to_wire(row, conflicts))
            if entries and size + 1 + len(sent) > room:  # 1: the comma before it
                more = full = True
                break
            entries.append(msgspec.Raw(sent))
            size += len(sent) + (len(entries) > 1)
            last = previous = row[8]
    return entries, f"{last if more else high}.{scope_of(who)}", more


def _rows_to_fill(room: int, average: float) -> int:
    """Rows to read next: a little more than `room` bytes of entries of `average` size, so that a
    page takes a read or two and reads few rows it has no room for."""
    return max(int(room / average * 1.1), 0) + 8


# Read by position (`to_wire`, `to_compact`): a Row's attributes cost more than the encoding.
_COLUMNS = ("id", "kind", "schema", "site_id", "author_id", "device_id", "fields", "stamps", "seq",
            "deleted", "flags")


@functools.cache
def pull_statement(has_site: bool, dialect: str) -> Select:
    """The first `:rows` entries of a phone's scope (`policy.device_scope`, run with its
    `scope_values`) in (`:after`, `:high`], by seq: each part of the scope read as an index
    range on seq, the parts merged in seq order, nothing sorted. Its JSON columns come as the
    text stored; after them, the names of the entry's open conflicts as a JSON list (None or
    "[]" when it has none), read with the row: a query of their own, once a read, cost more
    than these index look-ups.

    SQLite merges a compound `ORDER BY seq LIMIT` by reading each part in index order, but
    would sort a limited subquery's rows again. PostgreSQL needs the limit inside each part to
    prefer that ordered index scan (a Merge Append) to a bitmap scan of all of it and a sort."""
    rows = bindparam("rows")
    window = and_(Entry.seq > bindparam("after"), Entry.seq <= bindparam("high"))
    columns = [Entry.__table__.c[name] for name in _COLUMNS]
    parts = [select(*columns).where(part, window) for part in device_scope(has_site)]
    if dialect == "postgresql":
        parts = [select(part.order_by(Entry.seq).limit(rows).subquery()) for part in parts]
    merged = union_all(*parts).subquery()
    # The JSON columns as the text stored (PostgreSQL `json` keeps it as written): not decoded
    # only to be sent as they are (`to_wire`).
    read = [cast(merged.c[name], Text) if name in ("fields", "stamps", "flags") else merged.c[name]
            for name in _COLUMNS]
    if dialect != "postgresql":
        conflicts = _open_conflicts(merged.c.id, func.json_group_array)
        return select(*read, conflicts).order_by(merged.c.seq).limit(rows)
    # Looked up for the page's rows once limited: costed per row of the merge, the look-up moved
    # the planner off a part's ordered index scan.
    page = select(*read).order_by(merged.c.seq).limit(rows).subquery()
    return select(*page.c, _open_conflicts(page.c.id, func.json_agg)).order_by(page.c.seq)


def _open_conflicts(entry_id: ColumnElement[str], as_list: Callable) -> ScalarSelect:
    """The names of the entry's open conflicts, as a JSON list."""
    return select(cast(as_list(Conflict.field), Text)).where(
        Conflict.entry_id == entry_id, Conflict.resolved_at.is_(None)
    ).scalar_subquery()


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


def to_wire(row: tuple, conflicts: list[str]) -> WireEntry:
    """A row of `pull_statement` as sent: its JSON columns spliced in as the database holds them
    (msgspec.Raw; written by msgspec, server/db.py), not decoded only to be encoded again."""
    id_, kind, schema, site, author, device, fields, stamps, seq, deleted, flags, _ = row
    return WireEntry(id_, kind, schema, site, author, device, msgspec.Raw(fields), msgspec.Raw(stamps), seq,
                     deleted, conflicts, msgspec.Raw(flags) if flags != "[]" else [])


def to_compact(row: tuple, conflicts: list[str], previous: int) -> list:
    """A row of `pull_statement` as a compact entry (§4), the entry before it at seq `previous`;
    its fields spliced in as stored. Of the fields only their names and "site" are needed:
    their values are left as JSON text (msgspec.Raw), not decoded."""
    id_, kind, schema, site, author, device, fields, stamps, seq, deleted, flags, _ = row
    names = _names(fields)
    return compact_parts(id_, kind, schema, names.get("site") == msgspec.Raw(_encode(site)), site, author,
                         device, names, _stamps(stamps), seq - previous, deleted, conflicts,
                         _decode(flags) if flags != "[]" else [], msgspec.Raw(fields))
