"""The value a conflict's candidates started from (docs/sync-protocol.md §6 M3, M4).

A change names, per field, the stamp of the value it was made from (its `base`). When a change
conflicts, that stamp is found among the entry's logged changes (`changes`: each one's stored
stamp is in its result) and the value that change set is recorded with the conflict, so that
staff can see what both sides changed it from. Recorded when the conflict opens: later the
value may be overwritten, but the log would still hold it; this way the card needs no search.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import ChangeLog, Entry
from sync.clock import parse
from sync.entries import Kind, upgrade
from sync.merge import DELETED

_body = msgspec.json.Decoder(dict)


def never_set(name: str) -> dict[str, Any]:
    """The base of a field the change saw unset (no stamp): a tombstone's is "kept"."""
    return {"stamp": None, "value": False if name == DELETED else None}


async def value_at(
    session: AsyncSession, entry_id: str, kind: Kind, name: str, stamp: str | None
) -> dict | None:
    """{"stamp", "value"} of field `name` at `stamp`, or None when no logged change holds it."""
    if stamp is None:
        return never_set(name)
    rows = await session.execute(
        select(ChangeLog.body, ChangeLog.result).where(ChangeLog.entry_id == entry_id)
    )
    for body, result in rows:
        if result.get("stamp") == stamp and result.get("status") != "rejected":
            found = _value_in(_body.decode(body), kind, name, stamp)
            if found is not None:
                return {"stamp": stamp, "value": found[0]}
    return None


def _value_in(body: dict[str, Any], kind: Kind, name: str, stored: str) -> tuple[Any] | None:
    """(value,) that one logged change set for `name`, as the server stored it; None if unset."""
    if body.get("op") == "delete":
        return (True,) if name == DELETED else None
    fields = body.get("fields") or {}
    if "schema" in body:  # a phone's change, perhaps of an older schema (§10)
        fields, _ = upgrade(kind, body["schema"], fields, body.get("base") or {})
    if name not in fields:
        return None
    value = fields[name]
    # A phone's time the server corrected (§7 K3) moved as its stamp did: show it corrected.
    moved = parse(stored).wall - parse(body.get("stamp", stored)).wall
    if moved and name in kind.time_fields and isinstance(value, int):
        value = max(0, value + moved)
    return (value,)


async def stocktake_base(session: AsyncSession, fields: dict[str, Any]) -> dict[str, Any]:
    """M6: two counts of one item both started from the count the new one follows (if any)."""
    follows = fields.get("follows")
    earlier = await session.get(Entry, follows) if isinstance(follows, str) else None
    if earlier is None or earlier.kind != "supply" or earlier.site_id != fields.get("site"):
        return never_set("quantity")
    return {"stamp": earlier.stamps.get("quantity"), "value": earlier.fields.get("quantity")}
