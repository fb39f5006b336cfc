"""The field-level merge (docs/sync-protocol.md §6). Pure: no clock reads, no storage.

`merge` takes an entry's current state (or None) and one change, and returns the new state, the
status of the change, and the conflict candidates it raised. The rule deciding whether an edit
is sequential or concurrent lives in `is_sequential`, and nowhere else.
"""

from __future__ import annotations

from typing import Any, Literal

from msgspec import Struct, structs

from sync.clock import node_of
from sync.protocol import Candidate

DELETED = "deleted"


class State(Struct):
    """An entry as the server stores it: field values, per-field stamps, tombstone."""

    fields: dict[str, Any]
    stamps: dict[str, str]
    deleted: bool = False


class Edit(Struct):
    """The part of a change the merge needs."""

    op: Literal["put", "delete"]
    stamp: str
    fields: dict[str, Any]
    base: dict[str, str | None]


class Outcome(Struct):
    state: State
    status: Literal["applied", "conflict"]
    conflicts: dict[str, list[Candidate]]


def is_sequential(current: str, base: str | None, stamp: str) -> bool:
    """M2: an edit follows the current value if it was made from it, or by the same device."""
    return current == base or node_of(current) == node_of(stamp)


def _candidate(value: Any, stamp: str) -> Candidate:
    return Candidate(value=value, stamp=stamp, device=node_of(stamp))


def _set(state: State, name: str, value: Any, stamp: str) -> None:
    if name == DELETED:
        state.deleted = value
    else:
        state.fields[name] = value
    state.stamps[name] = stamp


def _merge_field(
    state: State, name: str, value: Any, stamp: str, base: str | None, conflicts: dict
) -> None:
    current = state.stamps.get(name)
    if current is None or is_sequential(current, base, stamp):  # M1, M2
        _set(state, name, value, stamp)
        return
    old = state.fields.get(name) if name != DELETED else state.deleted  # M3
    if old != value:
        conflicts[name] = [_candidate(old, current), _candidate(value, stamp)]
    if stamp > current:
        _set(state, name, value, stamp)


def _unseen_edit(state: State, edit: Edit) -> str | None:
    """M5: the newest stamp of a field edited by another device after the deleter saw it."""
    unseen = [
        stamp
        for name, stamp in state.stamps.items()
        if name != DELETED and not is_sequential(stamp, edit.base.get(name), edit.stamp)
    ]
    return max(unseen, default=None)


def merge(current: State | None, edit: Edit) -> Outcome:
    state = (
        State(fields={}, stamps={})
        if current is None
        else structs.replace(current, fields=dict(current.fields), stamps=dict(current.stamps))
    )
    conflicts: dict[str, list[Candidate]] = {}
    if edit.op == "delete":
        unseen = _unseen_edit(state, edit)
        if unseen is not None and not state.deleted:
            # The tombstone stands, the edit it did not see stays in the fields (M5).
            conflicts[DELETED] = [_candidate(False, unseen), _candidate(True, edit.stamp)]
            state.deleted, state.stamps[DELETED] = True, max(edit.stamp, state.stamps.get(DELETED, ""))
        else:
            _merge_field(state, DELETED, True, edit.stamp, edit.base.get(DELETED), conflicts)
    else:
        tombstone = state.stamps.get(DELETED)
        if state.deleted and tombstone and not is_sequential(tombstone, edit.base.get(DELETED), edit.stamp):
            conflicts[DELETED] = [_candidate(True, tombstone), _candidate(False, edit.stamp)]
        for name, value in edit.fields.items():
            _merge_field(state, name, value, edit.stamp, edit.base.get(name), conflicts)
    return Outcome(state=state, status="conflict" if conflicts else "applied", conflicts=conflicts)
