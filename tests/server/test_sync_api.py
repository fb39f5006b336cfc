"""POST /api/sync through Litestar's client, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json

import pytest

from sync.protocol import MAX_BODY
from tests.support.world import HOUR, START, World, shift


def test_a_shift_arrives_once_even_when_the_request_is_repeated(world: World) -> None:
    phone = world.phone()
    phone.replica.put("e1", "shift", shift(phone.site, end=START + 8 * HOUR), START + 8 * HOUR)
    request = phone.replica.request(START + 8 * HOUR)

    first = phone.transport(request)
    again = phone.transport(request)

    assert [r.status for r in first.results] == ["applied"]
    assert [(r.status, r.first) for r in again.results] == [("duplicate", "applied")]
    assert [e.id for e in first.entries] == ["e1"]
    assert again.entries == [] or [e.id for e in again.entries] == ["e1"]
    other = world.phone()
    other.sync(START)
    assert list(other.replica.entries) == ["e1"]


def test_the_pull_returns_only_what_changed_since_the_cursor(world: World) -> None:
    phone = world.phone()
    phone.replica.put("e1", "shift", shift(phone.site), START)
    phone.sync(START)
    cursor = phone.replica.cursor

    answer = phone.transport({"protocol": 1, "device_time": START, "cursor": cursor, "changes": []})

    assert answer.entries == []
    assert answer.cursor == cursor
    assert answer.more is False


def test_pulls_page_until_more_is_false(world: World) -> None:
    writer = world.phone()
    for i in range(7):
        writer.replica.put(f"e{i}", "shift", shift(writer.site, start=START + i), START)
    writer.sync(START)
    reader = world.phone()

    seen, cursor, pages = [], "0", 0
    while True:
        answer = reader.transport({"protocol": 1, "device_time": START, "cursor": cursor, "limit": 3})
        seen += [e.id for e in answer.entries]
        cursor, pages = answer.cursor, pages + 1
        if not answer.more:
            break

    assert sorted(seen) == [f"e{i}" for i in range(7)]
    assert pages == 3


def test_one_invalid_change_is_rejected_and_the_rest_apply(world: World) -> None:
    phone = world.phone()
    phone.replica.put("bad", "shift", shift(phone.site, start=START, end=START - HOUR), START)
    phone.replica.put("typo", "shift", {**shift(phone.site), "start": "8点"}, START)
    phone.replica.put("good", "shift", shift(phone.site), START)

    answer = phone.transport(phone.replica.request(START))

    statuses = {r.id: r for r in answer.results}
    by_entry = {c.entry: statuses[c.id] for c in phone.replica.outbox}
    assert by_entry["bad"].status == "rejected"
    assert [(e.field, e.code) for e in by_entry["bad"].errors] == [("end", "end_before_start")]
    assert by_entry["typo"].status == "rejected"
    assert by_entry["typo"].errors[0].field == "start"
    assert by_entry["good"].status == "applied"
    assert [e.id for e in answer.entries] == ["good"]


def test_a_rejected_change_stays_in_the_outbox_and_does_not_hold_back_later_ones(world: World) -> None:
    phone = world.phone()
    bad = phone.replica.put("bad", "shift", shift(phone.site, end=START - HOUR), START)
    phone.replica.put("good", "shift", shift(phone.site), START)

    phone.sync(START)

    assert [c.id for c in phone.replica.outbox] == [bad.id]
    assert phone.replica.rejected[bad.id].errors[0].code == "end_before_start"
    assert "good" in phone.replica.entries


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"approval": "approved"}, "approval", "staff_only"),
        ({"site": "chengnan"}, "site", "site"),
        ({"colour": "red"}, "colour", "unknown_field"),
    ],
)
def test_changes_a_phone_may_not_make_are_rejected_with_the_field(world: World, fields, field, code) -> None:
    phone = world.phone()
    phone.replica.put("e1", "shift", {**shift(phone.site), **fields}, START)

    answer = phone.transport(phone.replica.request(START))

    assert answer.results[0].status == "rejected"
    assert (field, code) in [(e.field, e.code) for e in answer.results[0].errors]


def test_a_phone_cannot_edit_another_persons_entry(world: World) -> None:
    owner, other = world.phone("zhangwei"), world.phone("lina")
    owner.replica.put("e1", "shift", shift(owner.site), START)
    owner.sync(START)
    other.replica.put("e1", "shift", {"post": "抢占"}, START)

    answer = other.transport(other.replica.request(START))

    assert answer.results[0].status == "rejected"
    assert answer.results[0].errors[0].code == "forbidden"


def test_an_unknown_kind_is_rejected_not_a_server_error(world: World) -> None:
    phone = world.phone()
    request = phone.replica.request(START)
    request["changes"] = [
        {"id": "c0ffee00-0000", "entry": "e1", "kind": "party", "schema": 1,
         "stamp": "1764000000000-0000-abc", "fields": {}, "base": {}}
    ]

    answer = phone.transport(request)

    assert answer.results[0].status == "rejected"
    assert answer.results[0].errors[0].code == "unknown_kind"


def test_an_undecodable_change_is_rejected_with_its_path(world: World) -> None:
    phone = world.phone()
    request = phone.replica.request(START)
    request["changes"] = [{"id": "c0ffee00-0001", "entry": "e1", "kind": "shift", "schema": "two"}]

    answer = phone.transport(request)

    assert answer.results[0].id == "c0ffee00-0001"
    assert answer.results[0].status == "rejected"
    assert answer.results[0].errors[0].field == "$.changes[0].schema"


def _post(world: World, token: str, body: bytes, **headers: str):
    return world.client.post(
        "/api/sync", content=body, headers={"authorization": f"Bearer {token}", **headers}
    )


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, None),
        (b'{"protocol": 1, "device_time": "soon"}', 400, "$.device_time"),
        (b'{"protocol": 1, "device_time": 1, "changes": {}}', 400, "$.changes"),
        (b'{"protocol": 1, "device_time": 1, "surprise": true}', 400, "$"),
        (b'{"protocol": 9, "device_time": 1}', 426, "$.protocol"),
        # §8: another version is told to update before strict decoding looks at its fields.
        (b'{"protocol": 2, "device_time": 1, "surprise": true, "cursor": {}}', 426, "$.protocol"),
        (b'{"protocol": true, "device_time": 1}', 400, "$.protocol"),
        # Bounded: a seq past 2^63, a time past the year 2286, JSON nested 5,000 deep.
        (b'{"protocol": 1, "device_time": 1, "cursor": "9223372036854775808"}', 400, "$.cursor"),
        (b'{"protocol": 1, "device_time": 1, "cursor": "42.zzzzzzzz"}', 400, "$.cursor"),
        (b'{"protocol": 1, "device_time": 18446744073709551615}', 400, "$.device_time"),
        (b'{"protocol": 1, "device_time": 1, "changes": [' + b"[" * 5000 + b"]" * 5000 + b"]}", 400, "$"),
        (b'{"protocol": 1, "device_time": 1, "changes": [{"fields": ' + b"[" * 5000 + b"]" * 5000 + b"}]}", 400, "$"),
    ],
)
def test_bad_envelopes_get_a_4xx_with_a_reason(world: World, body, status, field) -> None:
    phone = world.phone()

    answer = _post(world, phone.transport.token, body)

    assert answer.status_code == status
    problem = answer.json()
    assert problem["reason"]
    assert problem.get("field") == field


def test_an_oversized_body_gets_413(world: World) -> None:
    phone = world.phone()
    body = b'{"protocol": 1, "device_time": 1, "app": "' + b"x" * MAX_BODY + b'"}'

    answer = _post(world, phone.transport.token, body)

    assert answer.status_code == 413


def test_a_zip_bomb_gets_413(world: World) -> None:
    phone = world.phone()
    body = gzip.compress(b'{"protocol": 1, "device_time": 1, "app": "' + b" " * (4 * MAX_BODY) + b'"}')

    answer = _post(world, phone.transport.token, body, **{"content-encoding": "gzip"})

    assert answer.status_code == 413


@pytest.mark.parametrize(("body", "encoding"), [(b"\x1f\x8bnot gzip", "gzip"), (b"{}", "br")])
def test_a_bad_encoding_gets_415(world: World, body, encoding) -> None:
    phone = world.phone()

    answer = _post(world, phone.transport.token, body, **{"content-encoding": encoding})

    assert answer.status_code == 415


def test_gzip_both_ways(world: World) -> None:
    phone = world.phone()
    for i in range(20):
        phone.replica.put(f"e{i}", "shift", shift(phone.site, start=START + i, post="东门卡口" * 5), START)
    body = json.dumps(phone.replica.request(START)).encode()

    answer = _post(world, phone.transport.token, gzip.compress(body),
                   **{"content-encoding": "gzip", "accept-encoding": "gzip"})

    assert answer.status_code == 200
    assert answer.headers["content-encoding"] == "gzip"
    assert len(answer.json()["results"]) == 20


@pytest.mark.parametrize("token", ["", "Bearer nonsense"])
def test_without_a_valid_token_the_answer_is_401(world: World, token: str) -> None:
    answer = world.client.post("/api/sync", content=b'{"protocol":1,"device_time":1}',
                               headers={"authorization": token})

    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthorised"


def test_an_older_schema_is_accepted_and_upgraded(world: World) -> None:
    phone = world.phone()
    phone.replica.put("e1", "shift", {"site": phone.site, "post": "夜巡", "start": START, "night": True}, START, schema=1)

    phone.sync(START)

    entry = phone.replica.entries["e1"]
    assert entry.schema == 2
    assert entry.fields["kind"] == "night"
    assert "night" not in entry.fields


def test_urgent_entries_go_first_with_their_changes_in_order(world: World) -> None:
    phone = world.phone()
    phone.replica.put("s1", "shift", shift(phone.site), START)
    report = {"site": phone.site, "at": START, "type": "checkin"}
    phone.replica.put("hurt", "checkin", report, START)
    phone.replica.put("hurt", "checkin", {"type": "injury", "injury_kind": "exposure"}, START + 1)

    order = [(c["entry"], c["fields"].get("type")) for c in phone.replica.request(START)["changes"]]

    assert order == [("hurt", "checkin"), ("hurt", "injury"), ("s1", None)]


def test_a_cursor_without_the_phones_scope_starts_the_pull_over(world: World) -> None:
    """An app before 0.3 holds a bare seq: it cannot show which scope it was pulled in, so the
    server resets it once (§4)."""
    phone = world.phone()
    phone.replica.put("e1", "shift", shift(phone.site), START)
    phone.sync(START)
    seq, _, scope = phone.replica.cursor.partition(".")
    assert seq.isdigit() and len(scope) == 8

    bare = phone.transport({"protocol": 1, "device_time": START, "cursor": seq})
    scoped = phone.transport({"protocol": 1, "device_time": START, "cursor": phone.replica.cursor})

    assert bare.reset is True and [e.id for e in bare.entries] == ["e1"]
    assert scoped.reset is False and scoped.entries == []
