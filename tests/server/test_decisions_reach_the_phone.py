"""The loop back to the worker (issue 10, 5): a shift is returned with a reason the phone pulls,
the worker's note is shown to staff, and a staff fix of a shift's times shows on the phone while
the phone's own times stay on the dashboard. Through real syncs of enrolled phones."""

from __future__ import annotations

from tests.support.world import HOUR, START, World, shift

REASON = "结束时间不对，请按签到表改正"


def _row(world: World, entry: str) -> str:
    return world.client.get("/township/shifts").text.split(f'data-entry-id="{entry}"', 1)[1].split("</tr>", 1)[0]


def _decide(world: World, entry: str, decision: str, note: str | None = None):
    form = {"decision": decision, "_csrf_token": world.csrf()}
    if note is not None:
        form["note"] = note
    return world.client.post(f"/township/shifts/{entry}/approval", data=form, follow_redirects=False)


def test_a_returned_shift_carries_its_reason_to_the_phone(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("s1", "shift", {**shift(phone.site, end=START + 8 * HOUR), "note": "替李娜值班"},
                      START + 8 * HOUR)
    phone.sync(START + 8 * HOUR)
    assert "替李娜值班" in _row(world, "s1"), "the worker's note is not shown to staff"

    answer = _decide(world, "s1", "returned", f"  {REASON} ")
    phone.sync(START + 9 * HOUR)

    assert answer.status_code == 303
    held = phone.replica.entries["s1"]
    assert (held.fields["approval"], held.fields["approval_note"]) == ("returned", REASON)
    assert REASON in _row(world, "s1")


def test_a_shift_is_not_returned_without_a_reason(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("s1", "shift", shift(phone.site, end=START + 8 * HOUR), START + 8 * HOUR)
    phone.sync(START + 8 * HOUR)

    answers = [_decide(world, "s1", "returned", note) for note in (None, "   ")]
    phone.sync(START + 9 * HOUR)

    assert [a.status_code for a in answers] == [400, 400]
    assert all(a.json()["field"] == "note" for a in answers)
    assert phone.replica.entries["s1"].fields.get("approval", "pending") == "pending"


def test_approving_a_returned_shift_clears_the_reason_on_the_phone(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("s1", "shift", shift(phone.site, end=START + 8 * HOUR), START + 8 * HOUR)
    phone.sync(START + 8 * HOUR)
    _decide(world, "s1", "returned", REASON)

    assert _decide(world, "s1", "approved").status_code == 303
    phone.sync(START + 9 * HOUR)

    assert phone.replica.entries["s1"].fields["approval"] == "approved"
    assert phone.replica.entries["s1"].fields["approval_note"] == ""


def test_a_phone_cannot_write_the_reason_itself(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("s1", "shift", {**shift(phone.site), "approval_note": "已核实"}, START)

    answer = phone.transport(phone.replica.request(START))

    assert answer.results[0].status == "rejected"
    assert ("approval_note", "staff_only") in [(e.field, e.code) for e in answer.results[0].errors]


def test_a_staff_fix_of_the_times_shows_on_the_phone_until_the_phone_sets_them_again(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("s1", "shift", shift(phone.site, end=START + 8 * HOUR), START + 8 * HOUR)
    phone.sync(START + 8 * HOUR)

    # START is 2025-11-25 00:00 in Asia/Shanghai: staff make it 01:00-07:00.
    fixed = world.client.post("/township/shifts/s1/times", follow_redirects=False, data={
        "start": "2025-11-25T01:00", "end": "2025-11-25T07:00", "_csrf_token": world.csrf()})
    phone.sync(START + 9 * HOUR)

    assert fixed.status_code == 303
    held = phone.replica.entries["s1"]
    assert (held.fields["start"], held.fields["end"]) == (START + HOUR, START + 7 * HOUR)
    assert "staff_times" in held.flags
    assert "手机记录" in _row(world, "s1"), "the phone's own times are no longer shown to staff"

    phone.replica.put("s1", "shift", {"end": START + 6 * HOUR}, START + 10 * HOUR)
    phone.sync(START + 10 * HOUR)

    assert phone.replica.entries["s1"].fields["end"] == START + 6 * HOUR
    assert "staff_times" not in phone.replica.entries["s1"].flags


def test_an_edit_of_the_note_keeps_the_staff_fix_shown(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("s1", "shift", shift(phone.site, end=START + 8 * HOUR), START + 8 * HOUR)
    phone.sync(START + 8 * HOUR)
    world.client.post("/township/shifts/s1/times", data={
        "start": "2025-11-25T01:00", "end": "2025-11-25T07:00", "_csrf_token": world.csrf()})
    phone.sync(START + 9 * HOUR)

    phone.replica.put("s1", "shift", {"note": "已知悉"}, START + 10 * HOUR)
    phone.sync(START + 10 * HOUR)

    assert "staff_times" in phone.replica.entries["s1"].flags
