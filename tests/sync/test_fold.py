"""The phone folds its own accepted changes in when the answer leaves out their echo (§4 fold):
the shared vectors (tests/vectors/fold.json, also run in Chromium), then the replica."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import msgspec
import pytest

from sync.client import HttpTransport, sync
from sync.protocol import Change, Entry, SyncResponse
from sync.replica import Replica, folded
from tests.support.databases import sqlite_url
from tests.support.world import HOUR, World, shift

VECTORS = Path(__file__).parents[1] / "vectors"
FOLD = json.loads((VECTORS / "fold.json").read_text("utf-8"))


def now() -> int:
    return time.time_ns() // 1_000_000


def recent(minutes: int = 0) -> int:
    """A shift start some hours ago: nothing the server would correct or flag (§7 K6)."""
    return now() - 10 * HOUR + minutes * 60_000


@pytest.mark.parametrize("vector", FOLD, ids=[v["comment"] for v in FOLD])
def test_fold_vector(vector: dict) -> None:
    held = None if vector["held"] is None else msgspec.convert(vector["held"], Entry)
    for step in vector["folds"]:
        change = msgspec.convert(step["change"], Change)
        held = folded(held, change, step["stamp"], step["seq"], vector["me"]["person"], vector["me"]["device"])
    assert msgspec.structs.asdict(held) == vector["expected"]


def test_folding_leaves_what_the_phone_held_untouched() -> None:
    vector = FOLD[1]
    held = msgspec.convert(vector["held"], Entry)
    before = msgspec.to_builtins(held)
    step = vector["folds"][0]
    folded(held, msgspec.convert(step["change"], Change), step["stamp"], step["seq"], "p1", "bb22")
    assert msgspec.to_builtins(held) == before


# -- a phone and the server ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    with World.start(sqlite_url(tmp_path_factory.mktemp("fold"))) as world:
        yield world


@dataclass
class Heard:
    """A transport that keeps every request and answer."""

    link: HttpTransport
    requests: list[dict] = field(default_factory=list)
    answers: list[SyncResponse] = field(default_factory=list)

    def __call__(self, request: dict) -> SyncResponse:
        self.requests.append(request)
        self.answers.append(self.link(request))
        return self.answers[-1]


def folding_phone(world: World, person: str = "zhangwei") -> tuple[Replica, Heard]:
    phone = world.phone(person)
    phone.replica.person = person
    return phone.replica, Heard(phone.transport)


def fresh_pull(world: World, person: str = "zhangwei") -> dict[str, Entry]:
    phone = world.phone(person)
    sync(phone.replica, phone.transport)
    return phone.replica.entries


def test_a_phone_converges_without_the_echo(world: World) -> None:
    """500 changes in one request: new shifts, an edit and a delete of our own, and an edit of a
    shift another phone of the person made. One round trip; the answer echoes only that last one
    (it is the other phone's: our fold would make it ours) and carries the seq of each; the phone
    folds the rest in and holds what a fresh phone pulls."""
    other, other_link = folding_phone(world)
    other.put("fold-theirs", "shift", shift("dongfeng", recent()), now())
    sync(other, other_link)
    phone, link = folding_phone(world)
    sync(phone, link)
    phone.put("fold-mine", "shift", shift("dongfeng", recent(), post="西门"), now())
    sync(phone, link)
    phone.put("fold-mine", "shift", {"note": "带水"}, now())
    for i in range(496):
        phone.put(f"fold{i:03d}", "shift", shift("dongfeng", recent(i), recent(i) + 30_000), now())
    phone.put("fold-theirs", "shift", {"note": "换班"}, now())
    phone.put("fold-gone", "shift", shift("dongfeng", recent()), now())
    phone.delete("fold-gone", now())
    link.requests.clear()
    link.answers.clear()

    trips = sync(phone, link)

    [request], [answer] = link.requests, link.answers
    assert trips == 1 and request["fold"] is True and "limit" not in request
    assert len(request["changes"]) == 500 and {r.status for r in answer.results} == {"applied"}
    assert all(r.seq for r in answer.results), "an applied result says no seq"
    ours = {c["entry"] for c in request["changes"]}
    assert ours & {e.id for e in answer.entries} == {"fold-theirs"}, "the answer echoed our own changes"
    pulled = fresh_pull(world)
    assert phone.outbox == []
    assert {k: phone.entries[k] for k in ours} == {k: pulled[k] for k in ours}
    assert phone.entries["fold-mine"].fields["note"] == "带水" and phone.entries["fold-gone"].deleted


def test_a_phone_whose_change_the_server_altered_takes_the_answer(world: World) -> None:
    """A change the server merged with another phone's edit comes back whole, and wins."""
    first, first_link = folding_phone(world)
    second, second_link = folding_phone(world)
    first.put("fold-both", "shift", shift("dongfeng", recent()), now())
    sync(first, first_link)
    sync(second, second_link)
    first.put("fold-both", "shift", {"post": "北门"}, now())
    second.put("fold-both", "shift", {"note": "带水"}, now())
    sync(first, first_link)

    sync(second, second_link)

    held = second.entries["fold-both"]
    assert (held.fields["post"], held.fields["note"]) == ("北门", "带水")
    assert held == fresh_pull(world)["fold-both"]


def test_a_new_phone_pulls_hundreds_of_entries_in_one_page(world: World) -> None:
    """Pages are sized by bytes (about 256 KB), not by 200 entries: 300 shifts are one page."""
    phone, link = folding_phone(world, "lina")
    for i in range(300):
        phone.put(f"page{i:03d}", "shift", shift("chengnan", recent(i)), now())
    sync(phone, link)

    fresh, fresh_link = folding_phone(world, "lina")
    trips = sync(fresh, fresh_link)

    assert trips == 1 and "limit" not in fresh_link.requests[0]
    assert {f"page{i:03d}" for i in range(300)} <= {e.id for e in fresh_link.answers[0].entries}
