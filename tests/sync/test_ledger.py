"""The supply ledger (docs/sync-protocol.md §6 M6): the shared vectors, then properties. Stock is
derived, stocktakes may conflict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.ledger import concurrent_stocktake, days_left, stock, stock_by_item

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "ledger.json").read_text("utf-8"))


@pytest.mark.parametrize("vector", VECTORS, ids=[v["comment"] for v in VECTORS])
def test_ledger_vector(vector: dict) -> None:
    assert stock_by_item(vector["movements"], vector["site"], vector["now"]) == vector["expected"]


def test_the_vectors_cover_order_rate_and_unsynced_movements() -> None:
    comments = " ".join(v["comment"] for v in VECTORS)
    for topic in ("same millisecond", "young ledger", "window", "not yet synced", "run out first"):
        assert topic in comments

HERE, THERE = "s1", "s2"
quantities = st.integers(0, 1000)


def move(kind: str, quantity: int, at: int, site: str = HERE, **extra: object) -> dict:
    return {"site": site, "item": "口罩", "unit": "个", "movement": kind, "quantity": quantity, "at": at,
            **extra}


@st.composite
def ledgers(draw) -> list[dict]:
    """One item's movements seen from HERE, at distinct times, in any order: HERE's own movements,
    transfers in from THERE, and THERE's uses, counts and transfers elsewhere (none count HERE)."""
    times = draw(st.lists(st.integers(0, 10**6), unique=True, max_size=25))
    moves = []
    for at in times:
        kind = draw(st.sampled_from(["received", "used", "issued", "stocktake", "out", "in",
                                     "there_used", "there_stocktake", "there_out"]))
        q = draw(quantities)
        moves.append({
            "out": move("transferred", q, at, to_site=THERE),
            "in": move("transferred", q, at, site=THERE, to_site=HERE),
            "there_used": move("used", q, at, site=THERE),
            "there_stocktake": move("stocktake", q, at, site=THERE),
            "there_out": move("transferred", q, at, site=THERE, to_site="s3"),
        }.get(kind) or move(kind, q, at))
    return draw(st.permutations(moves))


def effect(m: dict, site: str) -> int:
    if m["movement"] == "transferred":
        return (m["to_site"] == site) * m["quantity"] - (m["site"] == site) * m["quantity"]
    if m["site"] != site:
        return 0
    return m["quantity"] if m["movement"] == "received" else -m["quantity"]


@given(ledgers())
def test_stock_is_the_last_stocktake_plus_the_signed_movements_after_it(moves: list[dict]) -> None:
    takes = [m for m in moves if m["movement"] == "stocktake" and m["site"] == HERE]
    last = max(takes, key=lambda m: m["at"], default=None)
    start, since = (0, -1) if last is None else (last["quantity"], last["at"])
    expected = start + sum(effect(m, HERE) for m in moves if m["at"] > since and m["movement"] != "stocktake")
    assert stock(moves, HERE) == expected


@given(ledgers())
def test_stock_does_not_depend_on_the_order_movements_arrive_in(moves: list[dict]) -> None:
    assert stock(moves, HERE) == stock(list(reversed(moves)), HERE)


@given(st.lists(st.tuples(st.sampled_from([HERE, THERE]), quantities), max_size=10), quantities)
def test_a_transfer_moves_stock_from_one_site_to_the_other(counts: list, quantity: int) -> None:
    moves = [move("stocktake", q, at, site=site) for at, (site, q) in enumerate(counts)]
    transfer = move("transferred", quantity, len(counts), site=HERE, to_site=THERE)
    assert stock([*moves, transfer], HERE) == stock(moves, HERE) - quantity
    assert stock([*moves, transfer], THERE) == stock(moves, THERE) + quantity


def test_a_stocktake_replaces_everything_before_it() -> None:
    moves = [move("received", 50, 1), move("used", 20, 2), move("stocktake", 12, 3), move("used", 2, 4)]
    assert stock(moves, HERE) == 10


def test_without_a_stocktake_stock_counts_from_zero() -> None:
    assert stock([move("received", 30, 1), move("issued", 5, 2)], HERE) == 25


def test_another_sites_stocktake_does_not_reset_this_sites_stock() -> None:
    assert stock([move("received", 30, 1), move("stocktake", 4, 2, site=THERE)], HERE) == 30


LATEST = move("stocktake", 40, 10)


@pytest.mark.parametrize(("new", "latest_id", "latest", "concurrent"), [
    pytest.param(move("stocktake", 35, 20), None, None, False,
                 id="the first stocktake"),
    pytest.param(move("stocktake", 35, 20, follows="t1"), "t1", LATEST, False,
                 id="one that knew the latest"),
    pytest.param(move("stocktake", 40, 20), "t1", LATEST, False,
                 id="one that did not know it but counts the same"),
    pytest.param(move("stocktake", 35, 20), "t1", LATEST, True,
                 id="one that did not know it and counts differently"),
    pytest.param(move("stocktake", 35, 20, follows="t0"), "t1", LATEST, True,
                 id="one that knew only an older one"),
])
def test_concurrent_stocktake_rules(
    new: dict, latest_id: str | None, latest: dict | None, concurrent: bool
) -> None:
    assert concurrent_stocktake(new, latest_id, latest) is concurrent


def test_days_left_is_stock_over_daily_use() -> None:
    assert days_left(30, 3) == 10


def test_days_left_is_unknown_without_recent_use() -> None:
    assert days_left(30, 0) is None


def test_a_receipt_at_another_site_does_not_count_here() -> None:
    movements = [{"movement": "received", "site": "s2", "quantity": 5, "at": 1, "item": "x"}]

    assert stock(movements, "s1") == 0


@given(st.permutations([
    move("stocktake", 10, 5, id="t", stamp="0000000000005-0001-aa"),
    move("used", 3, 5, id="u", stamp="0000000000005-0000-bb"),
    move("received", 4, 5, id="r", stamp="0000000000005-0000-bb"),
]))
def test_movements_in_the_same_millisecond_count_in_one_order_whatever_order_they_arrive_in(moves: list) -> None:
    assert stock(moves, HERE) == 10  # the stocktake was stamped last: it counted the others
