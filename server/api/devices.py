"""GET /api/devices: the asking person's phones, so each phone can show that a new one was
enrolled (docs/roles.md "A new phone and wellbeing")."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import Provide
from msgspec import Struct
from sqlalchemy import select

from server.deps import DeviceDep, MakerDep, provide_device
from server.models import Device
from server.services.enrolment import aware


class PhoneOut(Struct):
    id: str
    enrolled_at: int  # ms since the epoch
    revoked: bool
    this: bool  # the phone asking


class Phones(Struct):
    devices: list[PhoneOut]


class DevicesController(Controller):
    path = "/api/devices"
    dependencies = {"who": Provide(provide_device)}

    @get(operation_id="devices", summary="The phones enrolled for this phone's person, newest first")
    async def devices(self, who: DeviceDep, maker: MakerDep) -> Phones:
        async with maker() as session:
            rows = await session.scalars(
                select(Device).where(Device.person_id == who.person_id).order_by(Device.created_at.desc())
            )
            return Phones([
                PhoneOut(d.id, int(aware(d.created_at).timestamp() * 1000), d.revoked_at is not None,
                         d.id == who.device_id)
                for d in rows
            ])
