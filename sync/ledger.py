"""The supply ledger (docs/sync-protocol.md §6 M6). Pure; the twin of pwa/js/ledger.js.

Movements are immutable and nobody edits a shared number, so counts never conflict: stock is
derived. Stock of an item at a site = the last stocktake count + the movements after it. Both
twins pass the shared vectors in tests/vectors/ledger.json.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

OUTGOING = frozenset({"used", "issued", "transferred"})
CONSUMED = frozenset({"used", "issued"})
DAY_MS = 86_400_000
RATE_DAYS = 14  # the recent rate of use is taken over at most this many days
LOW_DAYS = 3  # fewer days left than this is shown as running low

Movement = Mapping[str, Any]  # a `supply` entry's fields, with its `id` and `stamp` (of `at`)


def order_key(movement: Movement) -> tuple[int, str, str]:
    """The one order of a ledger: by `at`, then by stamp (the order they were recorded in, as the
    clock saw it), then by id, so movements in the same millisecond count the same everywhere."""
    return movement["at"], movement.get("stamp") or "", movement.get("id") or ""


def counts_at(movement: Movement, site: str) -> bool:
    """A movement of `site`'s ledger: made there, or a transfer to it."""
    return movement["site"] == site or (movement["movement"] == "transferred" and movement.get("to_site") == site)


def signed_quantity(movement: Movement, site: str) -> float:
    """How a movement changes the stock at `site` (0 for a stocktake)."""
    kind, quantity = movement["movement"], movement["quantity"]
    if kind == "received":
        return quantity if movement["site"] == site else 0
    if kind == "transferred" and movement.get("to_site") == site and movement["site"] != site:
        return quantity
    if kind in OUTGOING and movement["site"] == site:
        return -quantity
    return 0


def stock(movements: Iterable[Movement], site: str) -> float:
    """Stock at `site` from its movements of one item, in any order (sorted here)."""
    return carry(0, sorted(movements, key=order_key), site)


def carry(total: float, ordered: Iterable[Movement], site: str) -> float:
    """The stock `total` carried on through movements that all come after the ones it counts,
    in order: the last stocktake sets it, the rest add to it."""
    for movement in ordered:
        if movement["movement"] == "stocktake" and movement["site"] == site:
            total = movement["quantity"]
        else:
            total += signed_quantity(movement, site)
    return total


def per_day(movements: Iterable[Movement], site: str, now: int) -> float:
    """The recent rate of use: used and issued at `site` in the last RATE_DAYS days, per day,
    over fewer days when the item's ledger is younger (at least one day), so a new site is not
    told its stock lasts longer than it will (docs/decisions.md)."""
    ordered = sorted(movements, key=order_key)
    if not ordered:
        return 0
    since = now - RATE_DAYS * DAY_MS
    used = 0
    for m in ordered:
        if m["site"] == site and m["movement"] in CONSUMED and since < m["at"] <= now:
            used += m["quantity"]
    span = min(RATE_DAYS, max(1, (now - ordered[0]["at"]) / DAY_MS))
    return used / span


def days_left(current: float, rate: float) -> float | None:
    """Days the stock lasts at `rate` a day (None: no recent use)."""
    if rate <= 0:
        return None
    return max(0, current) / rate


def stock_by_item(movements: Iterable[Movement], site: str, now: int) -> list[dict[str, Any]]:
    """Each item's stock at `site`, its rate of use, days left and how many of its movements are
    not yet synced (`pending`, the phone's own); the item running out first comes first."""
    by_item: dict[str, list[Movement]] = {}
    for m in movements:
        if counts_at(m, site):
            by_item.setdefault(m["item"], []).append(m)
    rows = []
    for item, moves in by_item.items():
        moves.sort(key=order_key)
        current, rate = stock(moves, site), per_day(moves, site, now)
        rows.append({"item": item, "unit": moves[-1]["unit"], "stock": current, "per_day": rate,
                     "days_left": days_left(current, rate), "unsynced": sum(bool(m.get("pending")) for m in moves)})
    rows.sort(key=running_out_first)
    return rows


def running_out_first(row: Mapping[str, Any]) -> tuple[bool, float, str]:
    """The order of a site's items: the one running out first first, those not in use last."""
    return row["days_left"] is None, row["days_left"] or 0, row["item"]


def concurrent_stocktake(new: Movement, latest_id: str | None, latest: Movement | None) -> bool:
    """M6: a stocktake that did not know the latest one, and counts differently, conflicts."""
    if latest is None or latest_id is None or new.get("follows") == latest_id:
        return False
    return latest["quantity"] != new["quantity"]
