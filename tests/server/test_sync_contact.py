"""A sync with nothing to push records the phone's contact (last sync, clock offset, app) once a
minute, or at once when its app or clock changed, and otherwise writes nothing
(sync_contact.contact_due): a phone paging through a pull takes no write lock."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update

from server.models import Device
from tests.support.world import Phone, World


def _now() -> int:
    return time.time_ns() // 1_000_000


def _device(world: World, phone: Phone) -> Device:
    [device] = world.scalars(select(Device).where(Device.id == phone.replica.device))
    return device


def _set_last_sync(world: World, phone: Phone, moment) -> None:  # noqa: ANN001 - a datetime
    async def work(session) -> None:  # noqa: ANN001
        await session.execute(update(Device).where(Device.id == phone.replica.device).values(last_sync_at=moment))

    world.session(work)


def test_a_sync_within_the_minute_writes_nothing_and_one_after_it_does(world: World) -> None:
    phone = world.phone("lina")
    phone.sync(_now())
    first = _device(world, phone).last_sync_at
    assert first is not None

    phone.sync(_now())
    assert _device(world, phone).last_sync_at == first

    _set_last_sync(world, phone, first - timedelta(seconds=61))
    phone.sync(_now())
    assert _device(world, phone).last_sync_at > first


def test_a_new_app_or_a_moved_clock_is_recorded_at_once(world: World) -> None:
    phone = world.phone("lina")
    phone.sync(_now())
    before = _device(world, phone)

    now = _now()
    phone.replica.receive(phone.transport(phone.replica.request(now, app="9.9.9")), now)
    assert _device(world, phone).app_version == "9.9.9"

    phone.sync(_now() - 10 * 60_000)  # the phone's clock went ten minutes back
    moved = _device(world, phone)
    assert moved.clock_offset_ms - before.clock_offset_ms > 9 * 60_000
    assert moved.app_version == "py"
