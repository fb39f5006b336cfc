"""The set-based push (issue 11, item 2) decides a batch as if its changes came one by one:
several changes to one entry, a change id twice, ids recorded before (this person's, and
another person's), rejections, a stocktake conflicting with a count earlier in the batch, and a
conflict with another phone. The same changes, once as one batch and once a request each, give
the same results and store the same entries and conflicts."""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import select

from server.models import Conflict
from tests.support.world import HOUR, Phone, World, shift


def _clock() -> int:
    """The phones' clocks agree with the server's: nothing in these batches is corrected."""
    return time.time_ns() // 1_000_000


def _stamp(wall: int, node: str) -> str:
    return f"{wall:013d}-0000-{node}"


def _change(change_id: str, entry: str, kind: str, stamp: str, fields: dict, base: dict | None = None,
            op: str = "put") -> dict[str, Any]:
    change = {"id": change_id, "entry": entry, "kind": kind, "schema": 2 if kind == "shift" else 1, "stamp": stamp,
              "op": op, "fields": fields}
    change["base"] = base if base is not None else {name: None for name in fields}
    return change


def _setup(p: str, phone: Phone, other_phone: Phone, stranger: Phone, now: int) -> dict[str, str]:
    """What is there before the batch: an entry of this phone's (e), one another phone of the
    same person edited since (c), a change id this phone sent (early), another person's (taken)."""
    node, other = phone.replica.device, other_phone.replica.device
    created = _stamp(now - 50_000, node)
    phone.transport({"protocol": 1, "device_time": _clock(), "changes": [
        _change(f"{p}early", f"{p}e", "shift", created, shift(phone.site, start=now - 5 * HOUR)),
        _change(f"{p}made-c", f"{p}c", "shift", created, shift(phone.site, start=now - 6 * HOUR)),
    ]})
    edited = _stamp(now - 40_000, other)
    other_phone.transport({"protocol": 1, "device_time": _clock(), "changes": [
        _change(f"{p}edit-c", f"{p}c", "shift", edited, {"post": "北门"}, {"post": created}),
    ]})
    stranger.transport({"protocol": 1, "device_time": _clock(), "changes": [
        _change(f"{p}taken", f"{p}x", "shift", _stamp(now - 50_000, stranger.replica.device),
                shift(stranger.site, start=now - 5 * HOUR)),
    ]})
    return {"created": created}


def _batch(p: str, phone: Phone, now: int, created: str) -> list[dict[str, Any]]:
    node = phone.replica.device
    t = [_stamp(now - 30_000 + i, node) for i in range(20)]
    item = f"口罩{p}"
    count = {"site": phone.site, "item": item, "unit": "个", "movement": "stocktake", "at": now - HOUR}
    second = _change(f"{p}2", f"{p}s", "shift", t[1], {"post": "西门"}, {"post": t[0]})
    return [
        _change(f"{p}1", f"{p}s", "shift", t[0], shift(phone.site, start=now - 3 * HOUR)),
        second,
        _change(f"{p}3", f"{p}s", "shift", t[2], {"end": now - 4 * HOUR}),  # ends before it starts
        _change(f"{p}4", f"{p}s", "shift", t[3], {"end": now - 2 * HOUR}),
        second,  # the same change twice in one batch
        {"id": f"{p}5", "entry": f"{p}s", "kind": "shift", "schema": "two", "stamp": t[4]},  # does not decode
        _change(f"{p}6", f"{p}n", "nope", t[5], {"a": 1}),
        _change(f"{p}early", f"{p}e", "shift", created, shift(phone.site, start=now - 5 * HOUR)),
        _change(f"{p}taken", f"{p}s", "shift", t[6], {"note": "抢"}, {"note": None}),
        _change(f"{p}7", f"{p}k1", "supply", t[7], {**count, "quantity": 100}),
        _change(f"{p}8", f"{p}k2", "supply", t[8], {**count, "quantity": 90}),  # M6: knew not of k1
        _change(f"{p}9", f"{p}c", "shift", t[9], {"post": "南门"}, {"post": created}),  # M3 with 北门
        _change(f"{p}10", f"{p}e", "shift", t[10], {"note": "晚到"}),
        _change(f"{p}11", f"{p}e", "shift", t[11], {}, {}, op="delete"),
        _change(f"{p}12", f"{p}gone", "shift", t[12], {}, {}, op="delete"),  # nothing to delete
        _change(f"{p}13", f"{p}s", "shift", t[13], {"post": "东门"}, {"post": t[1]}),
    ]


def _plain(value: Any, p: str) -> Any:
    """A value with the run's prefix taken out, to compare two runs."""
    if isinstance(value, str):
        return value.replace(p, "")
    if isinstance(value, dict):
        return {_plain(k, p): _plain(v, p) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, p) for v in value]
    return value


def test_a_batch_gives_what_its_changes_give_one_by_one(world: World) -> None:
    now = _clock() - 60_000
    phone, other_phone, stranger = world.phone(), world.phone(), world.phone("lina")
    runs = {}
    for p, one_by_one in (("A-", False), ("B-", True)):
        created = _setup(p, phone, other_phone, stranger, now)["created"]
        batch = _batch(p, phone, now, created)
        requests = [[change] for change in batch] if one_by_one else [batch]
        results = []
        for changes in requests:
            answer = phone.transport({"protocol": 1, "device_time": _clock(), "changes": changes})
            results += [(r.id, r.status, r.first, r.stamp, [(re.sub(r"\[\d+\]", "[]", e.field), e.code)
                                                             for e in r.errors]) for r in answer.results]
        reader = world.phone()
        reader.sync(now)
        entries = {e.id: (e.fields, e.stamps, e.deleted, e.flags, e.conflicts, e.device)
                   for e in reader.replica.entries.values() if e.id.startswith(p)}
        conflicts = world.scalars(select(Conflict).where(Conflict.entry_id.startswith(p)))
        runs[p] = _plain(
            {"results": results, "entries": entries,
             "conflicts": sorted((c.entry_id, c.field, c.candidates) for c in conflicts)}, p)

    assert [status for _, status, *_ in runs["A-"]["results"]] == [
        "applied", "applied", "rejected", "applied", "duplicate", "rejected", "rejected", "duplicate", "rejected",
        "applied", "conflict", "conflict", "applied", "applied", "rejected", "applied",
    ]
    assert {(c[0], c[1]) for c in runs["A-"]["conflicts"]} == {("k2", "quantity"), ("c", "post")}
    assert runs["A-"] == runs["B-"]
