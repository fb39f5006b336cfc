"""A phone hears only about what it may see (issue 9.13): whether an entry id exists elsewhere,
and what another device's change got, are not told."""

from __future__ import annotations

import msgspec
from sqlalchemy import select

from server.models import Entry
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


def test_ids_that_are_another_persons_stamps_answer_alike_used_or_not(world: World) -> None:
    """Since app 0.5 a phone's ids are its stamps (§4 "Ids"), which can be guessed: an id that is
    a stamp of another person's phone is refused the same whether or not it is used, and is not
    spent."""
    lina, zhang = world.phone("lina"), world.phone("zhangwei")
    made = lina.replica.put(None, "shift", shift(lina.site), START)
    lina.sync(START)
    unused = f"{START + 1:013d}-0000-{lina.replica.device}"
    assert made.id == made.entry == made.stamp and made.stamp.endswith(lina.replica.device)

    def put(change_id: str, entry: str) -> dict:
        return {**_raw_change(change_id, entry, "put", fields=shift(zhang.site)), "base": dict.fromkeys(shift(zhang.site))}

    used_entry, unused_entry, used_change, unused_change, used_gone, unused_gone = _push(
        zhang, put("z1", made.entry), put("z2", unused), put(made.id, "z-entry-1"), put(unused, "z-entry-2"),
        _raw_change("z3", made.entry, "delete"), _raw_change("z4", unused, "delete"))

    assert used_entry.status == unused_entry.status == used_change.status == unused_change.status == "rejected"
    assert msgspec.to_builtins(used_entry.errors) == msgspec.to_builtins(unused_entry.errors)
    assert [e.field for e in used_entry.errors] == ["entry"]
    assert msgspec.to_builtins(used_change.errors) == msgspec.to_builtins(unused_change.errors)
    assert [e.field for e in used_change.errors] == ["id"]
    assert msgspec.to_builtins(used_gone.errors) == msgspec.to_builtins(unused_gone.errors)
    assert [e.field for e in used_gone.errors] == ["entry"]
    # Lina's phone sends that id later: it was not spent, and it is hers.
    (hers,) = _push(lina, {**_raw_change(unused, unused, "put", fields=shift(lina.site)),
                           "base": dict.fromkeys(shift(lina.site))})
    assert hers.status == "applied"


def test_a_persons_new_phone_sends_what_their_old_phone_made(world: World) -> None:
    """A phone enrolled again keeps its outbox (§9): its changes' ids are stamps of the old
    device, which is the same person's."""
    old = world.phone("zhangwei")
    change = old.replica.put(None, "shift", shift(old.site), START)
    new = world.phone("zhangwei")

    (answer,) = _push(new, msgspec.to_builtins(change))

    assert answer.status == "applied"
    assert world.scalars(select(Entry.author_id).where(Entry.id == change.entry)) == ["zhangwei"]
