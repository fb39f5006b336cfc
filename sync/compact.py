"""Compact entries in a pull (docs/sync-protocol.md §4 `compact`), for a client that asks.

An entry's fields are usually all written by one change, on the author's phone, so its stamps
are one stamp repeated, naming the entry's own device; and the entries of a page come in seq
order. A compact entry is an array (sync.protocol.CompactEntry): that stamp once, without the
device, only the stamps that differ from it, `site` only when it is not `fields["site"]`, the
seq as the step from the entry before it, and no trailing defaults.

The server makes them (`compact`), the Python replica (`expand`) and the phone
(pwa/js/sync-apply.js `expand`) read them; one rule, with the vectors tests/vectors/compact.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.protocol import CompactEntry, Entry


def shared(names: Mapping[str, Any], stamps: dict[str, str]) -> tuple[str | None, dict[str, str]]:
    """(the stamp most of the fields carry, the first field's on a tie; the stamps that are not
    it), or (None, every stamp) when there are no fields or one has no stamp. `names`: the
    fields, or any mapping with their names as keys."""
    if names and stamps.keys() == names.keys() and len(set(stamps.values())) == 1:
        return next(iter(stamps.values())), {}  # the usual entry: one change wrote every field
    values = [stamps.get(name) for name in names]
    if not values or None in values:
        return None, stamps
    stamp = max(values, key=values.count)
    return stamp, {name: value for name, value in stamps.items() if value != stamp or name not in names}


def compact(entry: Entry, after: int, fields: Any = None) -> list[Any]:
    """`entry` as a compact entry, the entry before it in the answer at seq `after` (0 for the
    first). `fields`: what to send for its fields (the server splices the stored JSON)."""
    return compact_parts(entry.id, entry.kind, entry.schema, entry.fields.get("site") == entry.site,
                         entry.site, entry.author, entry.device, entry.fields, entry.stamps,
                         entry.seq - after, entry.deleted, entry.conflicts, entry.flags,
                         entry.fields if fields is None else fields)


def compact_parts(id: str, kind: str, schema: int, site_in_fields: bool, site: str, author: str, device: str,
                  names: Mapping[str, Any], stamps: dict[str, str], step: int, deleted: bool,
                  conflicts: list[str], flags: list[str], sent_fields: Any) -> list[Any]:
    """`compact` of an entry given as its parts, as the server reads them (`site_in_fields`:
    whether `site` is its fields' "site"; `names`: its fields, or a mapping with their names as
    keys; `step`: its seq less the one before)."""
    stamp, rest = shared(names, stamps)
    if stamp is not None and stamp.endswith("-" + device) and stamp.count("-") == 2:
        stamp = stamp[: -len(device) - 1]
    wire = [id, kind, schema, author, device, sent_fields, stamp, step,
            rest, None if site_in_fields else site, deleted, conflicts, flags]
    # Left out at the end: the items at their defaults ({}, None, False, [], []).
    keep = (13 if flags else 12 if conflicts else 11 if deleted
            else 10 if wire[9] is not None else 9 if rest else 8)
    return wire[:keep]


def expand(wire: CompactEntry, after: int) -> Entry:
    """The entry a compact entry stands for, the entry before it in the answer at seq `after`."""
    stamps = wire.stamps
    if wire.stamp is not None:
        stamp = wire.stamp if wire.stamp.count("-") == 2 else f"{wire.stamp}-{wire.device}"
        stamps = {**{name: stamp for name in wire.fields}, **wire.stamps}
    return Entry(
        id=wire.id, kind=wire.kind, schema=wire.schema,
        site=wire.fields.get("site") if wire.site is None else wire.site,
        author=wire.author, device=wire.device, fields=wire.fields, stamps=stamps, seq=after + wire.seq,
        deleted=wire.deleted, conflicts=wire.conflicts, flags=wire.flags,
    )


def held(entries: list[Entry] | list[CompactEntry]) -> list[Entry]:
    """An answer's entries as a client holds them, compact or not."""
    found: list[Entry] = []
    for entry in entries:
        compact_one = isinstance(entry, CompactEntry)
        found.append(expand(entry, found[-1].seq if found else 0) if compact_one else entry)
    return found
