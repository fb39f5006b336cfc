"""Phones whose clocks lie (docs/sync-protocol.md §7, docs/sync-examples.md §3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from server.deps import now_ms
from server.models import Device, Entry
from server.services.clock_correction import Correction
from sync.clock import Stamp, parse
from tests.support.world import HOUR, World, shift

Y2K = 946_684_800_000  # the phone's clock: 2000-01-01 00:00 UTC


def test_a_phone_stuck_in_2000_has_its_shift_put_on_the_right_day_and_flagged(world: World) -> None:
    phone = world.phone("lina")
    phone.replica.put("e1", "shift", shift(phone.site, start=Y2K - HOUR), Y2K - HOUR)

    before = now_ms()
    phone.sync(Y2K)
    after = now_ms()

    entry = phone.replica.entries["e1"]
    assert before - HOUR - 1000 <= entry.fields["start"] <= after - HOUR + 1000
    assert "clock_corrected" in entry.flags
    assert before - HOUR - 1000 <= parse(entry.stamps["start"]).wall <= after
    [stored] = world.scalars(select(Entry).where(Entry.id == "e1"))
    [device] = world.scalars(select(Device).where(Device.id == stored.device_id))
    assert stored.device_times == {"start": Y2K - HOUR}
    assert device.clock_offset_ms >= before - Y2K


def test_the_phone_learns_the_offset_and_its_next_entries_need_no_correction(world: World) -> None:
    phone = world.phone("lina")
    phone.sync(Y2K)
    phone.replica.put("e2", "shift", shift(phone.site, start=Y2K + phone.replica.offset), Y2K)

    phone.sync(Y2K)

    assert "clock_corrected" not in phone.replica.entries["e2"].flags


def test_a_stamp_from_a_clock_that_ran_ahead_cannot_win_every_later_merge(world: World) -> None:
    honest, ahead = world.phone("zhangwei"), world.phone("zhangwei")
    honest.replica.put("e1", "shift", shift(honest.site, start=now_ms()), now_ms())
    honest.sync()
    ahead.sync()
    # The second phone's clock state ran years ahead earlier (its HLC remembers it), but
    # its wall clock is right now, so the request itself shows no offset.
    future = now_ms() + 5 * 365 * 24 * HOUR
    ahead.replica.clock, _ = ahead.replica.clock.send(future)
    ahead.replica.put("e1", "shift", {"post": "未来"}, now_ms())
    ahead.sync()

    stamp = ahead.replica.entries["e1"].stamps["post"]
    assert parse(stamp).wall <= now_ms() + 1000
    assert "clock_corrected" in ahead.replica.entries["e1"].flags


def test_after_one_correction_the_phone_stops_stamping_the_future(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.clock, _ = phone.replica.clock.send(now_ms() + 365 * 24 * HOUR)
    phone.replica.put("e1", "shift", shift(phone.site, start=now_ms()), now_ms())
    phone.sync()

    phone.replica.put("e2", "shift", shift(phone.site, start=now_ms()), now_ms())
    phone.sync()

    assert "clock_corrected" in phone.replica.entries["e1"].flags
    assert "clock_corrected" not in phone.replica.entries["e2"].flags


# -- only what came from the wrong clock is corrected (K3) ------------------------------------


def test_an_edit_stamped_from_the_remembered_clock_after_a_jump_back_does_not_win(world: World) -> None:
    """The phone synced with a good clock, then its clock jumped back to 2000. Its HLC remembers
    the good time, so its stamps are not from the wrong clock and must not gain 26 years (and
    then be clamped to the server's now, beating an edit made later on another phone)."""
    jumped, other = world.phone("zhangwei"), world.phone("zhangwei")
    good = now_ms() - 60_000  # a minute ago, within the tolerance: nothing is corrected
    jumped.replica.put("e1", "shift", shift(jumped.site, start=good - HOUR), good)
    jumped.sync(good)
    other.sync(now_ms() - 30_000)
    early = jumped.replica.put("e1", "shift", {"post": "西门"}, Y2K)  # the clock now says 2000
    later = other.replica.put("e1", "shift", {"post": "北门"}, now_ms() - 30_000)
    other.sync(now_ms() - 30_000)

    answer = jumped.transport(jumped.replica.request(Y2K))

    [result] = answer.results
    assert result.status == "conflict"
    assert result.stamp == early.stamp, "a stamp ahead of device_time was not made by the wrong clock"
    other.sync()
    assert other.replica.entries["e1"].fields["post"] == "北门", "the earlier edit beat the later one"
    assert other.replica.entries["e1"].stamps["post"] == later.stamp


def test_a_phone_that_learnt_an_offset_and_then_had_its_clock_put_right_keeps_its_times(world: World) -> None:
    phone = world.phone("lina")
    phone.sync(Y2K)  # learns an offset of some 26 years
    real = Y2K + phone.replica.offset
    made = phone.replica.put("e1", "shift", shift(phone.site, start=real - HOUR, end=real), Y2K)
    # The clock is put right; the phone still adds the offset it learnt, so it says 2051.
    right = now_ms()
    after = phone.replica.put("e2", "shift", shift(phone.site, start=right + phone.replica.offset - HOUR), right)

    answer = phone.transport(phone.replica.request(right))

    assert [r.status for r in answer.results] == ["applied", "applied"]
    assert answer.results[0].stamp == made.stamp, "an edit made with the good corrected clock was moved"
    stored = {e.id: e for e in answer.entries}
    assert (stored["e1"].fields["start"], stored["e1"].fields["end"]) == (real - HOUR, real)
    assert "clock_corrected" not in stored["e1"].flags
    # What the wrong (2051) clock made is corrected back to now.
    assert abs(stored["e2"].fields["start"] - (right - HOUR)) < 5_000
    assert abs(parse(answer.results[1].stamp).wall - parse(after.stamp).wall - answer.clock_offset) < 5_000
    assert "clock_corrected" in stored["e2"].flags


# -- times in the future are refused (K5) -------------------------------------------------------


def test_times_later_than_now_are_rejected_per_field_with_a_reason(world: World) -> None:
    phone = world.phone("zhangwei")
    now = now_ms()
    phone.replica.put("late", "shift", shift(phone.site, start=now - HOUR, end=now + 3 * HOUR), now)
    phone.replica.put("soon", "shift", shift(phone.site, start=now - HOUR, end=now + 60_000), now)

    answer = phone.transport(phone.replica.request(now))

    late, soon = answer.results
    assert late.status == "rejected"
    assert [(e.field, e.code) for e in late.errors] == [("end", "in_future")]
    assert late.errors[0].reason
    assert soon.status == "applied", "a minute ahead is within the clock tolerance"


# -- a clock put right just before the sync is still caught (K6), and staff fix it ------------


def _fix_times(world: World, entry: str, start: str, end: str):
    return world.client.post(
        f"/township/shifts/{entry}/times",
        data={"start": start, "end": end, "_csrf_token": world.csrf()},
        follow_redirects=False,
    )


def test_a_shift_recorded_in_2000_and_synced_after_the_clock_was_put_right_is_flagged(world: World) -> None:
    phone = world.phone("lina")
    phone.sync()  # enrolled and synced with a good clock
    phone.replica.put("y2k", "shift", shift(phone.site, start=Y2K - 8 * HOUR, end=Y2K), Y2K)
    phone.replica.put("fine", "shift", shift(phone.site, start=now_ms() - HOUR, end=now_ms()), now_ms())

    phone.sync()  # the clock was put right just before: the request shows no offset

    assert phone.replica.entries["y2k"].flags == ["time_suspect"]
    assert phone.replica.entries["fine"].flags == []
    page = world.client.get("/township/shifts")
    row = page.text.split('data-entry-id="y2k"', 1)[1].split("</tr>", 1)[0]
    assert "时间存疑" in row
    assert "时间存疑" not in page.text.split('data-entry-id="fine"', 1)[1].split("</tr>", 1)[0]


def test_staff_fix_a_shifts_times_and_every_phone_gets_them_with_the_phones_own_kept(world: World) -> None:
    phone = world.phone("lina")
    phone.sync()
    phone.replica.put("y2k", "shift", shift(phone.site, start=Y2K - 8 * HOUR, end=Y2K), Y2K)
    phone.sync()
    before = phone.replica.entries["y2k"].stamps["start"]

    answer = _fix_times(world, "y2k", "2025-11-24T08:00", "2025-11-24T16:00")
    phone.sync()

    assert answer.status_code == 303
    entry = phone.replica.entries["y2k"]
    # 08:00 and 16:00 in Asia/Shanghai are 00:00 and 08:00 UTC.
    assert (entry.fields["start"], entry.fields["end"]) == (1_763_942_400_000, 1_763_971_200_000)
    assert entry.flags == ["staff_times"]  # no longer suspect; the phone says staff set its times
    assert entry.stamps["start"] > before and parse(entry.stamps["start"]).node.startswith("srv")
    [stored] = world.scalars(select(Entry).where(Entry.id == "y2k"))
    assert stored.device_times == {"start": Y2K - 8 * HOUR, "end": Y2K}
    row = world.client.get("/township/shifts").text.split('data-entry-id="y2k"', 1)[1].split("</tr>", 1)[0]
    assert "手机记录" in row and "2000-01-01" in row
    other = world.phone("lina")
    other.sync()
    assert other.replica.entries["y2k"] == entry


def test_a_time_fix_with_a_blank_end_keeps_the_shift_ended(world: World) -> None:
    phone = world.phone("lina")
    phone.sync()
    phone.replica.put("y2k", "shift", shift(phone.site, start=Y2K - 8 * HOUR, end=Y2K), Y2K)
    phone.sync()
    end = phone.replica.entries["y2k"].fields["end"]

    answer = _fix_times(world, "y2k", "2000-01-01T01:00", "")  # Shanghai: 1999-12-31 17:00 UTC
    phone.sync()

    assert answer.status_code == 303, answer.text
    assert phone.replica.entries["y2k"].fields["start"] == Y2K - 7 * HOUR
    assert phone.replica.entries["y2k"].fields["end"] == end, "a blank end put an ended shift back on duty"


@pytest.mark.parametrize(
    ("start", "end", "status", "field"),
    [("yesterday", "", 400, "start"), ("2025-11-24T16:00", "2025-11-24T08:00", 409, "end"),
     ("2025-11-24T08:00", "2099-01-01T00:00", 409, "end")],
)
def test_a_bad_time_fix_is_refused_naming_the_field(world: World, start, end, status, field) -> None:
    phone = world.phone("lina")
    phone.replica.put("s1", "shift", shift(phone.site, start=now_ms() - HOUR), now_ms())
    phone.sync()

    answer = _fix_times(world, "s1", start, end)

    assert answer.status_code == status
    assert answer.json()["field"] == field


# -- the rule itself, pure (K3, K3a) --------------------------------------------------------------

walls = st.integers(0, 9_000_000_000_000)


@given(now=walls, device_time=walls, value=walls)
def test_a_value_is_moved_only_when_the_wrong_clock_alone_can_have_made_it(now: int, device_time: int, value: int) -> None:
    correction = Correction(offset=now - device_time, now=now, tolerance=120_000)
    stamp = str(Stamp(value, 0, "phone"))

    stored = parse(correction.stamp(stamp)).wall

    tolerance = 120_000
    assert stored <= now + tolerance, "K3a: no stamp is stored in the future"
    behind, ahead = device_time < now - tolerance, device_time > now + tolerance
    if value <= now + tolerance and (not (behind or ahead) or (behind and value > device_time) or ahead):
        assert stored == value, "a value the wrong clock cannot have made was moved"
    if behind and value <= device_time:
        assert stored == value + correction.offset, "a value the slow clock made was not corrected"
