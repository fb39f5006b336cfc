"""A phone hears only about what it may see (issue 9.13): whether an entry id exists elsewhere,
and what another device's change got, are not told."""

from __future__ import annotations

import msgspec

from tests.support.world import START, World, shift


def _raw_change(change_id: str, entry: str, op: str, kind: str = "shift", fields: dict | None = None) -> dict:
    return {"id": change_id, "entry": entry, "kind": kind, "schema": 2 if kind == "shift" else 1, "op": op,
            "stamp": f"{START:013d}-0000-dev", "fields": fields or {}, "base": {}}


def _push(phone, *changes: dict):
    return phone.transport({"protocol": 1, "device_time": START, "cursor": "0", "limit": 100,
                            "changes": list(changes)}).results


def test_deleting_someone_elses_entry_and_a_missing_one_answer_alike(world: World) -> None:
    lina, zhang = world.phone("lina"), world.phone("zhangwei")
    lina.replica.put("theirs", "shift", shift(lina.site), START)
    lina.sync(START)

    exists, missing = _push(zhang, _raw_change("d1", "theirs", "delete"),
                            _raw_change("d2", "nobody", "delete"))

    assert exists.status == missing.status == "rejected"
    assert msgspec.to_builtins(exists.errors) == msgspec.to_builtins(missing.errors)
    assert [e.field for e in exists.errors] == ["entry"]


def test_a_change_id_another_device_used_gets_nothing_of_its_result(world: World) -> None:
    lina, zhang = world.phone("lina"), world.phone("zhangwei")
    change = lina.replica.put("lina-shift", "shift", shift(lina.site), START)
    lina.sync(START)

    (answer,) = _push(zhang, {**msgspec.to_builtins(change), "entry": "mine", "fields": shift(zhang.site)})

    assert answer.status == "rejected"
    assert answer.stamp is None and answer.first is None
    assert [e.field for e in answer.errors] == ["id"]


def test_a_device_resending_its_own_change_gets_its_first_result(world: World) -> None:
    zhang = world.phone("zhangwei")
    change = zhang.replica.put("s1", "shift", shift(zhang.site), START)
    (first,) = _push(zhang, msgspec.to_builtins(change))

    (again,) = _push(zhang, msgspec.to_builtins(change))

    assert again.status == "duplicate" and again.first == "applied" and again.stamp == first.stamp


def test_a_change_another_phone_of_the_same_person_sent_is_a_duplicate_not_taken(world: World) -> None:
    """A phone re-enrolled after its answer was lost resends what the server already applied:
    its person's own change, so the first result comes back and nothing is made twice."""
    old = world.phone("zhangwei")
    change = old.replica.put("s1", "shift", shift(old.site), START)
    (first,) = _push(old, msgspec.to_builtins(change))
    new = world.phone("zhangwei")

    (again,) = _push(new, msgspec.to_builtins(change))

    assert again.status == "duplicate" and again.first == "applied" and again.stamp == first.stamp
