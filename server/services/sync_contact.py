"""A phone's contact (docs/sync-protocol.md §7 K1): when it last synced, its clock's offset and
its app, which every push records and a sync with nothing to push records only when due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Device
from server.policy import Principal
from server.services.clock_correction import Correction
from server.services.enrolment import aware
from sync.protocol import SyncRequest

CONTACT_EVERY_MS = 60_000  # a sync with nothing to push records the phone's contact this often
OFFSET_SLACK_MS = 1_000  # a clock offset that moved less is the network's jitter, not news


async def contact_due(session: AsyncSession, who: Principal, request: SyncRequest, correction: Correction) -> bool:
    """Whether a sync with nothing to push must still write the phone's contact (its last sync,
    clock offset and app, as `push` does): once a minute, or at once when its app or clock
    changed. A phone paging through a pull, or syncing often, then takes no write at all."""
    devices = Device.__table__.c
    found = (await session.execute(
        select(devices.last_sync_at, devices.app_version, devices.clock_offset_ms).where(devices.id == who.device_id)
    )).first()
    if found is None:
        return True
    last, app, offset = found
    return (last is None or millis(last) < correction.now - CONTACT_EVERY_MS or app != (request.app or None)
            or offset is None or abs(offset - correction.offset) > OFFSET_SLACK_MS)


def millis(moment: datetime) -> int:
    return int(aware(moment).timestamp() * 1000)
