"""Phones whose clocks lie (docs/sync-protocol.md §7, docs/sync-examples.md §3)."""

from __future__ import annotations


from sqlalchemy import select

from server.deps import now_ms
from server.models import Device, Entry
from sync.clock import parse
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
