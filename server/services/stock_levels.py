"""Stock per site and item, kept up to date as movements are written (issue 11, item 6).

The supplies page reads the `stock_levels` table instead of every movement of every ledger.
The rule stays `sync.ledger` (the phone's twin): a write updates only the (site, item) ledgers
it touched, carried on from their rows when it only appends movements after their latest and
recomputed from all their movements when not, so a row always equals the whole ledger
recomputed (tests/server/test_scale.py). `refresh` is called by `assign_seq`, the one place
every entry write passes, after it takes the counter's lock: writers are serialised there, so
an update sees every movement committed before it.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable
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
    """The row of one (site, item) ledger: its stock by the rule, and the movements it keeps."""
    line = ledger.stock_by_item(moves, site, now)[0]
    return {"site_id": site, "item": item, "unit": line["unit"], "stock": line["stock"],
            "rate_moves": kept_moves(sorted(moves, key=ledger.order_key), now)}


def kept_moves(ordered: list[dict[str, Any]], now: int) -> list[dict[str, Any]]:
    """What a row keeps of its ledger's movements (in order): the first and the recent ones,
    which its rate of use can still count from `now` on (older ones never count again, since
    `now` only grows), and the latest, which a write after it carries the stock on from."""
    since = now - ledger.RATE_DAYS * ledger.DAY_MS
    kept = [ordered[0], *(m for m in ordered[1:-1] if m["at"] > since), *ordered[1:][-1:]]
    return [{name: m.get(name) for name in RATE_FIELDS} for m in kept]


def carried(row: Any, moves: list[dict[str, Any]], now: int) -> dict[str, Any] | None:
    """`level` of a ledger whose row is `row` and whose only change is `moves`, new movements,
    worked out from the row alone when they all come after its latest; None if they do not (or
    the row cannot tell its latest: it keeps one movement)."""
    ordered = sorted(moves, key=ledger.order_key)
    if len(row.rate_moves) < 2 or ledger.order_key(ordered[0]) <= ledger.order_key(row.rate_moves[-1]):
        return None
    return {"site_id": row.site_id, "item": row.item, "unit": ordered[-1]["unit"],
            "stock": ledger.carry(row.stock, ordered, row.site_id),
            "rate_moves": kept_moves([*row.rate_moves, *ordered], now)}


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


async def refresh(session: AsyncSession, rows: Iterable[Entry], appended: Collection[str] = ()) -> None:
    """Recompute the ledgers the written entries touch (deleted ones too: they leave it).
    A ledger touched only by movements new in this write (`appended`: their ids) that come
    after all it had is carried on from its row (`carried`); the others are recomputed from one
    read of their sites' movements of those items."""
    touched: dict[tuple[str, str], list[dict[str, Any]] | None] = {}  # None: recompute
    for row in rows:
        if row.kind != "supply":
            continue
        m = movement(row.id, row.fields, row.stamps)
        for site in {m.get("site"), m.get("to_site")} - {None}:
            pair, moves = (site, m["item"]), touched.get((site, m["item"]), [])
            if moves is None or row.id not in appended or row.deleted:
                touched[pair] = None
            elif ledger.counts_at(m, site):
                touched[pair] = [*moves, m]
            else:
                touched[pair] = moves
    if not touched:
        return
    now = _now()
    levels = {}
    for kept in await _rows(session, [pair for pair, moves in touched.items() if moves]):
        found = carried(kept, touched[(kept.site_id, kept.item)], now)
        if found is not None:
            levels[(kept.site_id, kept.item)] = found
    again = sorted(pair for pair in touched if pair not in levels)
    levels.update({(row["site_id"], row["item"]): row for row in await _recomputed(session, again, now)})
    await session.execute(delete(StockLevel).where(
        or_(*(and_(StockLevel.site_id == site, StockLevel.item == item) for site, item in sorted(touched)))))
    if levels:
        await session.execute(insert(StockLevel), [levels[pair] for pair in sorted(levels)])


async def _rows(session: AsyncSession, pairs: list[tuple[str, str]]) -> list[Any]:
    if not pairs:
        return []
    table = StockLevel.__table__.c
    return list(await session.execute(
        select(table.site_id, table.item, table.stock, table.rate_moves)
        .where(or_(*(and_(table.site_id == site, table.item == item) for site, item in sorted(pairs))))
    ))


async def _recomputed(session: AsyncSession, pairs: list[tuple[str, str]], now: int) -> list[dict[str, Any]]:
    """The rows of these ledgers from all their movements, read at once (a ledger with none
    left has no row)."""
    if not pairs:
        return []
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
    return [level(moves, site, item, now) for (site, item), moves in sorted(ledgers.items()) if moves]


def _now() -> int:
    return time.time_ns() // 1_000_000
