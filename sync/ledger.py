"""The supply ledger (docs/sync-protocol.md §6 M6). Pure.

Movements are immutable and nobody edits a shared number, so counts never conflict: stock is
derived. Stock of an item at a site = the last stocktake count + the movements after it.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

OUTGOING = frozenset({"used", "issued", "transferred"})

Movement = Mapping[str, Any]  # the fields of a `supply` entry


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
    """Stock at `site` from its movements of one item, in any order: sorted here by time, and
    at the same millisecond a stocktake first (it counts what was there before the others)."""
    total = 0.0
    for movement in sorted(movements, key=lambda m: (m["at"], m["movement"] != "stocktake")):
        if movement["movement"] == "stocktake" and movement["site"] == site:
            total = movement["quantity"]
        else:
            total += signed_quantity(movement, site)
    return total


def days_left(current: float, used_recently: float, days: int) -> float | None:
    """Days the stock lasts at the average daily use of the last `days` days (None: no use)."""
    if used_recently <= 0:
        return None
    return current / (used_recently / days)


def concurrent_stocktake(new: Movement, latest_id: str | None, latest: Movement | None) -> bool:
    """M6: a stocktake that did not know the latest one, and counts differently, conflicts."""
    if latest is None or latest_id is None or new.get("follows") == latest_id:
        return False
    return latest["quantity"] != new["quantity"]
