"""Stock per site and item, kept up to date as movements are written (issue 11, item 6).

The supplies page reads the `stock_levels` table instead of every movement of every ledger.
The rule stays `sync.ledger` (the phone's twin): a write recomputes, from all of their
movements, only the (site, item) ledgers it touched, so a row always equals the whole ledger
recomputed (tests/server/test_stock_levels.py). `refresh` is called by `assign_seq`, the one
place every entry write passes, after it takes the counter's lock: writers are serialised
there, so a recomputation sees every movement committed before it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Entry, StockLevel
from sync import ledger

RATE_FIELDS = ("site", "movement", "quantity", "at", "stamp", "id")  # what `ledger.per_day` reads


def movement(entry_id: str, fields: dict[str, Any], stamps: dict[str, Any]) -> dict[str, Any]:
    """A stored supply entry as `sync.ledger` takes a movement."""
    return {**fields, "id": entry_id, "stamp": stamps.get("at")}


def level(moves: list[dict[str, Any]], site: str, item: str, now: int) -> dict[str, Any]:
    """The row of one (site, item) ledger: its stock by the rule, and the movements its rate of
    use can still count from `now` on (the first, and the recent ones: older ones never count
    again, since `now` only grows)."""
    line = ledger.stock_by_item(moves, site, now)[0]
    ordered = sorted(moves, key=ledger.order_key)
    since = now - ledger.RATE_DAYS * ledger.DAY_MS
    kept = [ordered[0], *(m for m in ordered[1:] if m["at"] > since)]
    return {"site_id": site, "item": item, "unit": line["unit"], "stock": line["stock"],
            "rate_moves": [{name: m.get(name) for name in RATE_FIELDS} for m in kept]}


def levels_of(moves: Iterable[dict[str, Any]], now: int | None = None) -> list[dict[str, Any]]:
    """The rows of every ledger the movements make (filling the table from scratch)."""
    now = _now() if now is None else now
    ledgers: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for m in moves:
        if not all(name in m for name in ("site", "item", "movement", "quantity", "at")):
            continue  # never stored by a sync (its fields are checked whole), nor counted
        for site in {m["site"], m.get("to_site")} - {None}:
            if ledger.counts_at(m, site):
                ledgers.setdefault((site, m["item"]), []).append(m)
    return [level(found, site, item, now) for (site, item), found in ledgers.items()]


def per_day(row: StockLevel, now: int) -> float:
    """The ledger's recent rate of use (sync/ledger.py), from the movements the row keeps."""
    return ledger.per_day(row.rate_moves, row.site_id, now)


def days_left(row: StockLevel, now: int) -> float | None:
    return ledger.days_left(row.stock, per_day(row, now))


async def refresh(session: AsyncSession, rows: Iterable[Entry]) -> None:
    """Recompute the ledgers the written entries touch (deleted ones too: they leave it), from
    one read of their sites' movements of those items."""
    pairs = {(site, row.fields["item"]) for row in rows if row.kind == "supply"
             for site in {row.fields.get("site"), row.fields.get("to_site")} - {None}}
    if not pairs:
        return
    sites, items = sorted({site for site, _ in pairs}), sorted({item for _, item in pairs})
    entries = Entry.__table__.c  # Core, not the ORM: a site's movements are hundreds of rows
    found = await session.execute(
        select(entries.id, entries.fields, entries.stamps)
        .where(entries.kind == "supply", entries.deleted.is_(False),
               or_(entries.site_id.in_(sites), entries.to_site.in_(sites)))
        .where(entries.fields["item"].as_string().in_(items))
    )
    ledgers: dict[tuple[str, str], list[dict[str, Any]]] = {pair: [] for pair in pairs}
    for m in (movement(*row) for row in found):
        for site in {m.get("site"), m.get("to_site")} - {None}:
            if (site, m.get("item")) in ledgers and ledger.counts_at(m, site):
                ledgers[(site, m["item"])].append(m)
    await session.execute(delete(StockLevel).where(
        or_(*(and_(StockLevel.site_id == site, StockLevel.item == item) for site, item in sorted(pairs)))))
    now = _now()
    levels = [level(moves, site, item, now) for (site, item), moves in sorted(ledgers.items()) if moves]
    if levels:
        await session.execute(insert(StockLevel), levels)


def _now() -> int:
    return time.time_ns() // 1_000_000
