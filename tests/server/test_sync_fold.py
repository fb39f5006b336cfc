"""The folded answer (issue 11, item 3): a phone that sends `fold` is not sent back its own
changes when it can make the stored entry itself; and pages end by bytes, not by a count."""

from __future__ import annotations

import time

import msgspec
import pytest

from server.deps import device_principal
from server.services import sync_pull
from sync.merge import Edit, State, merge
from sync.protocol import PAGE_BYTES, SyncResponse
from sync.protocol import Entry as WireEntry
from tests.support.world import HOUR, Phone, World, shift



class _RawPage(msgspec.Struct):
    entries: list[msgspec.Raw]
    more: bool


@pytest.fixture
def now() -> int:
    """A minute ago by the server's clock: the phones' clocks agree with it (a time a day off
    would be flagged suspect), and the few seconds a test moves on stay in the past."""
    return time.time_ns() // 1_000_000 - 60_000


def _send(phone: Phone, now: int, fold: bool = True, **extra: object) -> SyncResponse:
    """One round trip of the phone's outbox, its answer stored as the phone stores it."""
    answer = phone.transport({**phone.replica.request(now), "fold": fold, **extra})
    return answer


def _folded(phone: Phone, answer: SyncResponse, sent: list) -> dict[str, WireEntry]:
    """The phone's fold rule (docs/sync-protocol.md §11): each applied result whose entry the
    answer left out becomes merge(the phone's copy, the change at the result's stamp)."""
    by_id = {change.id: change for change in sent}
    present = {entry.id for entry in answer.entries}
    records = dict(phone.replica.entries)
    for result in answer.results:
        change = by_id[result.id]
        if result.status != "applied" or result.seq is None or change.entry in present:
            continue
        record = records.get(change.entry)
        current = None if record is None else State(fields=dict(record.fields), stamps=dict(record.stamps),
                                                    deleted=record.deleted)
        state = merge(current, Edit(op=change.op, stamp=result.stamp, fields=change.fields, base=change.base)).state
        records[change.entry] = WireEntry(
            id=change.entry, kind=change.kind, schema=change.schema, site=state.fields["site"],
            author=phone.person, device=phone.replica.device, fields=state.fields, stamps=state.stamps,
            seq=result.seq, deleted=state.deleted, flags=[] if record is None else record.flags,
        )
    return records


def _stored(world: World, entry_id: str, now: int) -> WireEntry:
    """The entry as a fresh phone of the same person pulls it."""
    reader = world.phone()
    reader.sync(now)
    return reader.replica.entries[entry_id]


def test_a_new_entry_is_folded_and_the_phone_makes_what_the_server_stored(world: World, now: int) -> None:
    phone = world.phone()
    phone.sync(now)
    phone.replica.put("e1", "shift", shift(phone.site, start=now - 8 * HOUR, end=now), now)
    phone.replica.put("e1", "shift", {"post": "西门"}, now + 1)
    sent = list(phone.replica.outbox)

    answer = _send(phone, now + 2)

    assert [r.status for r in answer.results] == ["applied", "applied"]
    assert answer.entries == []
    assert answer.results[0].seq == answer.results[1].seq is not None
    assert _folded(phone, answer, sent)["e1"] == _stored(world, "e1", now)


def test_an_edit_of_an_entry_the_phone_pulled_is_folded(world: World, now: int) -> None:
    phone = world.phone()
    phone.replica.put("e1", "shift", shift(phone.site, start=now - HOUR), now)
    phone.sync(now)
    phone.replica.put("e1", "shift", {"end": now}, now + 1000)
    sent = list(phone.replica.outbox)

    answer = _send(phone, now + 2000)

    assert answer.entries == []
    assert _folded(phone, answer, sent)["e1"] == _stored(world, "e1", now)


def test_an_app_that_does_not_fold_gets_its_entries_back(world: World, now: int) -> None:
    phone = world.phone()
    phone.replica.put("e1", "shift", shift(phone.site, start=now - HOUR), now)

    answer = _send(phone, now, fold=False)

    assert [e.id for e in answer.entries] == ["e1"]
    assert answer.results[0].seq == answer.entries[0].seq


def test_a_conflict_is_sent_back(world: World, now: int) -> None:
    first, second = world.phone(), world.phone()
    first.replica.put("e1", "shift", shift(first.site, start=now - HOUR), now)
    first.sync(now)
    second.sync(now)
    first.replica.put("e1", "shift", {"post": "东门"}, now + 1000)
    second.replica.put("e1", "shift", {"post": "西门"}, now + 2000)
    second.sync(now + 3000)

    answer = _send(first, now + 3000)

    assert [r.status for r in answer.results] == ["conflict"]
    assert [(e.id, e.conflicts) for e in answer.entries] == [("e1", ["post"])]


def test_an_entry_another_phone_wrote_is_sent_even_when_this_phone_edits_it(world: World, now: int) -> None:
    first, second = world.phone(), world.phone()
    first.replica.put("e1", "shift", shift(first.site, start=now - HOUR), now)
    first.sync(now)
    second.sync(now)
    second.replica.put("e1", "shift", {"post": "西门"}, now + 1000)

    answer = _send(second, now + 2000)

    assert [r.status for r in answer.results] == ["applied"]
    assert [e.id for e in answer.entries] == ["e1"]  # its device stays the first phone's


def test_a_corrected_clock_is_sent_back(world: World, now: int) -> None:
    phone = world.phone()
    phone.replica.put("e1", "shift", shift(phone.site, start=now - 2 * HOUR), now + 5 * HOUR + 60_000)

    answer = _send(phone, now + 5 * HOUR + 60_000)  # the phone's clock is five hours ahead of the server's

    assert answer.results[0].stamp != phone.replica.outbox[0].stamp
    assert [e.id for e in answer.entries] == ["e1"]


def test_a_rejected_change_to_the_entry_sends_it_back(world: World, now: int) -> None:
    phone = world.phone()
    phone.replica.put("e1", "shift", shift(phone.site, start=now - HOUR), now)
    phone.replica.put("e1", "shift", {"end": now - 2 * HOUR}, now + 1)

    answer = _send(phone, now + 2)

    assert [r.status for r in answer.results] == ["applied", "rejected"]
    assert [e.id for e in answer.entries] == ["e1"]


def test_an_entry_the_phone_had_not_pulled_is_sent(world: World, now: int) -> None:
    phone = world.phone()
    phone.replica.put("e1", "shift", shift(phone.site, start=now - HOUR), now)
    phone.sync(now)
    phone.replica.put("e1", "shift", {"post": "西门"}, now + 1000)

    answer = _send(phone, now + 2000, cursor="0")  # as if its pull of e1 had been lost

    assert [e.id for e in answer.entries] == ["e1"]


def test_nothing_is_folded_when_the_pull_starts_over(world: World, now: int) -> None:
    phone = world.phone()
    phone.replica.put("e1", "shift", shift(phone.site, start=now - HOUR), now)

    answer = _send(phone, now, cursor="3.00000000")  # a cursor of another scope

    assert answer.reset is True
    assert [e.id for e in answer.entries] == ["e1"]


def test_an_entry_changed_after_the_push_is_pulled(world: World, now: int) -> None:
    first, second = world.phone(), world.phone()
    first.sync(now)
    second.sync(now)
    cursor = first.replica.cursor
    first.replica.put("e1", "shift", shift(first.site, start=now - HOUR), now)
    answer = _send(first, now + 1000)
    assert answer.entries == []
    second.sync(now + 1000)
    second.replica.put("e1", "shift", {"post": "西门"}, now + 2000)
    second.sync(now + 2000)

    async def pull(session):
        who = await device_principal(session, first.transport.token)
        return await sync_pull.pull(session, who, int(cursor.split(".")[0]), 5000, {"e1": answer.results[0].seq})

    # The pull of that answer, had the other phone been quicker:
    entries = [msgspec.json.decode(e, type=WireEntry) for e in world.session(pull)[0]]

    assert [(e.id, e.fields["post"]) for e in entries] == [("e1", "西门")]


def test_five_hundred_changes_take_one_round_trip(world: World, now: int) -> None:
    phone = world.phone()
    phone.sync(now)
    for i in range(500):
        phone.replica.put(f"e{i}", "shift", shift(phone.site, start=now - i * 1000), now)

    answer = _send(phone, now)

    assert {r.status for r in answer.results} == {"applied"}
    assert answer.entries == []
    assert answer.more is False


@pytest.mark.parametrize(("limit", "compact"), [(None, False), (None, True), (7, False)])
def test_a_page_ends_before_the_entry_that_would_take_its_answer_past_page_bytes(
    world: World, now: int, limit: int | None, compact: bool
) -> None:
    writer = world.phone()
    for i in range(200):  # about 2 KB each: 400 KB in all
        writer.replica.put(f"e{i:03}", "shift", {**shift(writer.site, start=now + i), "note": "记" * 600}, now)
    writer.sync(now)
    reader = world.phone()

    def ask(cursor: str) -> bytes:  # the answer as sent, unzipped
        request = {"protocol": 1, "device_time": now, "fold": True, "compact": compact, "cursor": cursor}
        sent = reader.transport.client.post("/api/sync", json=request | ({"limit": limit} if limit else {}),
                                            headers={"authorization": f"Bearer {reader.transport.token}"})
        return sent.content

    first = ask("0")
    rest = ask(msgspec.json.decode(first)["cursor"])
    sent_first, sent_rest = (msgspec.json.decode(body, type=_RawPage) for body in (first, rest))

    assert sent_first.more is True
    if limit:
        assert len(sent_first.entries) == limit
    else:  # the next entry and its comma would not have fitted (a compact one counts its seq from 0 there)
        assert len(first) <= PAGE_BYTES < len(first) + 1 + len(sent_rest.entries[0])
    seen = [msgspec.json.decode(e)[0 if compact else "id"] for e in sent_first.entries + sent_rest.entries]
    assert seen == sorted(set(seen))  # in order, none twice
    if not limit:
        assert sent_rest.more is False and len(seen) == 200


def test_a_page_counts_the_results_of_the_push_it_answers(world: World, now: int) -> None:
    writer = world.phone()
    for i in range(200):  # about 2 KB each: 400 KB in all
        writer.replica.put(f"e{i:03}", "shift", {**shift(writer.site, start=now + i), "note": "记" * 600}, now)
    writer.sync(now)
    reader = world.phone()
    for i in range(300):  # 300 results to answer, besides the page
        reader.replica.put(f"r{i:03}", "shift", shift(reader.site, start=now - HOUR - i * 60_000), now)

    request = {**reader.replica.request(now), "fold": True, "compact": False}
    sent = reader.transport.client.post("/api/sync", json=request,
                                        headers={"authorization": f"Bearer {reader.transport.token}"})
    answer = msgspec.json.decode(sent.content, type=SyncResponse)

    assert len(answer.results) == 300 and answer.more is True and answer.entries
    assert len(sent.content) <= PAGE_BYTES
