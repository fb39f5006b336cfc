"""The hybrid logical clock (docs/sync-protocol.md §2): the shared vectors, then properties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.clock import Clock, Stamp, parse

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "clock.json").read_text("utf-8"))
SEQUENCES = [v for v in VECTORS if "ops" in v]
ORDERINGS = [v for v in VECTORS if "stamps" in v]

MAX_WALL = 9_000_000_000_000  # leaves room for carries without a 14th digit
walls = st.integers(0, MAX_WALL)
counters = st.integers(0, 0xFFFF)
nodes = st.from_regex(r"[a-z0-9]{1,32}", fullmatch=True)
stamps = st.builds(Stamp, walls, counters, nodes)
clocks = st.builds(Clock, nodes, walls, counters)


def run(vector: dict) -> list[dict]:
    clock, outcomes = Clock(**vector["clock"]), []
    for op in vector["ops"]:
        if op["op"] == "send":
            clock, stamp = clock.send(op["now"])
            outcomes.append({"stamp": stamp, "wall": clock.wall, "counter": clock.counter})
        else:
            clock = clock.receive(op["stamp"], op["now"])
            outcomes.append({"wall": clock.wall, "counter": clock.counter})
    return outcomes


def test_the_vectors_cover_sequences_and_orderings() -> None:
    assert len(SEQUENCES) >= 12 and len(ORDERINGS) >= 3


@pytest.mark.parametrize("vector", SEQUENCES, ids=[v["comment"] for v in SEQUENCES])
def test_clock_vector(vector: dict) -> None:
    assert run(vector) == vector["expected"]


@pytest.mark.parametrize("vector", ORDERINGS, ids=[v["comment"] for v in ORDERINGS])
def test_ordering_vector(vector: dict) -> None:
    assert sorted(vector["stamps"]) == vector["expected"]
    assert sorted(vector["stamps"], key=parse) == vector["expected"]


@given(stamps)
def test_a_stamp_survives_formatting_and_parsing(stamp: Stamp) -> None:
    assert parse(str(stamp)) == stamp


@given(st.lists(stamps, min_size=2, max_size=20))
def test_stamps_sort_as_strings_exactly_as_wall_counter_node_tuples(tuples: list[Stamp]) -> None:
    assert sorted(str(s) for s in tuples) == [str(s) for s in sorted(tuples)]


@given(stamps, stamps)
def test_comparing_two_stamps_as_strings_agrees_with_their_tuples(a: Stamp, b: Stamp) -> None:
    assert (str(a) < str(b)) == (a < b)
    assert (str(a) == str(b)) == (a == b)


@given(clocks, st.lists(walls, min_size=1, max_size=30))
def test_send_is_strictly_increasing_whatever_now_does(clock: Clock, nows: list[int]) -> None:
    issued = []
    for now in nows:
        clock, stamp = clock.send(now)
        issued.append(stamp)
    assert all(a < b for a, b in zip(issued, issued[1:]))


@given(clocks, stamps, walls, walls)
def test_after_receiving_a_stamp_the_next_send_is_greater(
    clock: Clock, remote: Stamp, now: int, later: int
) -> None:
    _, stamp = clock.receive(str(remote), now).send(later)
    assert stamp > str(remote)


@given(clocks, st.lists(st.one_of(walls.map(lambda n: ("send", n, None)),
                                  st.tuples(st.just("receive"), walls, stamps)), max_size=30))
def test_every_send_follows_everything_the_clock_issued_or_saw(clock: Clock, ops: list) -> None:
    latest = None
    for op, now, remote in ops:
        if op == "send":
            clock, stamp = clock.send(now)
            assert latest is None or stamp > latest
            latest = stamp
        else:
            clock = clock.receive(str(remote), now)
            latest = max(latest or "", str(remote))


@given(clocks, walls)
def test_sending_never_moves_the_wall_backwards_or_behind_now(clock: Clock, now: int) -> None:
    after, stamp = clock.send(now)
    assert after.wall >= max(clock.wall, now)
    assert parse(stamp) == Stamp(after.wall, after.counter, clock.node)


@pytest.mark.parametrize("text", ["", "1764382740000-0000", "176438274000-0000-a", "1764382740000-000G-a",
                                  "1764382740000-0000-A", "1764382740000-0000-" + "a" * 33])
def test_something_that_is_not_a_stamp_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse(text)
