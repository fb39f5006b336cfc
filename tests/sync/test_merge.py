"""The field merge (docs/sync-protocol.md §6): the shared vectors, then properties."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.merge import Edit, State, merge

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "merge.json").read_text("utf-8"))

W = 1_764_382_740_000
FIELDS = ("post", "note", "kind")
values = st.sampled_from(["东门卡口", "西门卡口", "", None, 1])


def state(data: dict | None) -> State | None:
    return None if data is None else msgspec.convert(data, State)


def outcome(current: dict | None, edit: dict) -> dict:
    return msgspec.to_builtins(merge(state(current), msgspec.convert(edit, Edit)))


def stamp(offset: int, counter: int, node: str) -> str:
    return f"{W + offset:013d}-{counter:04x}-{node}"


def test_the_vectors_cover_every_merge_rule() -> None:
    for rule in ("M1", "M2", "M3", "M4", "M5"):
        assert any(v["comment"].startswith(rule) for v in VECTORS), rule


@pytest.mark.parametrize("vector", VECTORS, ids=[v["comment"] for v in VECTORS])
def test_merge_vector(vector: dict) -> None:
    assert outcome(vector["current"], vector["edit"]) == vector["expected"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["comment"] for v in VECTORS])
def test_merge_leaves_the_current_state_untouched(vector: dict) -> None:
    current = state(vector["current"])
    before = copy.deepcopy(msgspec.to_builtins(current))
    merge(current, msgspec.convert(vector["edit"], Edit))
    assert msgspec.to_builtins(current) == before


# -- properties -----------------------------------------------------------------------------

def stamps_on(device: str) -> st.SearchStrategy[str]:
    return st.builds(stamp, st.integers(-1000, 1000), st.integers(0, 3), st.just(device))


@st.composite
def starts(draw) -> State | None:
    """None, or an entry whose fields phone aa11 set."""
    if draw(st.booleans()):
        return None
    names = draw(st.sets(st.sampled_from(FIELDS), min_size=1))
    return State(fields={n: draw(values) for n in names},
                 stamps={n: stamp(draw(st.integers(-1000, 1000)), 0, "aa11") for n in names})


@st.composite
def puts(draw, start: State | None, device: str) -> Edit:
    """A put made from `start` on `device`, at any time its clock says."""
    names = draw(st.sets(st.sampled_from(FIELDS), min_size=1))
    seen = {} if start is None else start.stamps
    return Edit(op="put", stamp=draw(stamps_on(device)),
                fields={n: draw(values) for n in names}, base={n: seen.get(n) for n in names})


@st.composite
def concurrent_puts(draw) -> tuple[State | None, Edit, Edit]:
    start = draw(starts())
    return start, draw(puts(start, "bb22")), draw(puts(start, "cc33"))


def copy_of(current: State | None) -> State | None:
    return None if current is None else msgspec.convert(msgspec.to_builtins(current), State)


@given(concurrent_puts())
def test_merge_is_deterministic(case: tuple) -> None:
    start, edit, _ = case
    assert merge(copy_of(start), edit) == merge(copy_of(start), edit)


@given(concurrent_puts())
def test_two_concurrent_edits_converge_in_either_order(case: tuple) -> None:
    start, one, two = case
    one_two = merge(merge(copy_of(start), one).state, two).state
    two_one = merge(merge(copy_of(start), two).state, one).state
    assert one_two.fields == two_one.fields
    assert one_two.stamps == two_one.stamps
    assert one_two.deleted == two_one.deleted is False


@given(concurrent_puts())
def test_concurrent_edits_conflict_exactly_on_the_fields_where_their_values_differ(case: tuple) -> None:
    start, one, two = case
    differ = {f for f in one.fields.keys() & two.fields.keys() if one.fields[f] != two.fields[f]}
    for first, second in ((one, two), (two, one)):
        after_first = merge(copy_of(start), first)
        after_second = merge(after_first.state, second)
        assert after_first.conflicts == {}
        assert set(after_second.conflicts) == differ
        assert after_second.status == ("conflict" if differ else "applied")


@given(concurrent_puts())
def test_the_higher_stamp_wins_a_field_both_edits_set(case: tuple) -> None:
    start, one, two = case
    winner = max(one, two, key=lambda e: e.stamp)
    final = merge(merge(copy_of(start), one).state, two).state
    for name in one.fields.keys() & two.fields.keys():
        assert (final.fields[name], final.stamps[name]) == (winner.fields[name], winner.stamp)


@given(st.data())
def test_a_delete_and_an_edit_it_did_not_see_end_deleted_with_the_edit_kept_in_either_order(data) -> None:
    start = data.draw(starts().filter(lambda s: s is not None))
    edit = data.draw(puts(start, "bb22"))
    delete = Edit(op="delete", stamp=data.draw(stamps_on("cc33")), fields={},
                  base=dict(start.stamps))
    for first, second in ((edit, delete), (delete, edit)):
        result = merge(merge(copy_of(start), first).state, second)
        assert result.state.deleted is True
        assert {n: result.state.fields[n] for n in edit.fields} == edit.fields
        assert set(result.conflicts) == {"deleted"}
