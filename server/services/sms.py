"""Urgent reports that arrive by SMS (docs/sms.md).

A message is recorded whatever becomes of it. One that parses, carries the device's code and is
within the time window is applied as that device's change, with the change id it carries,
through the same push as POST /api/sync (`sync_push.Push`): so whichever copy, SMS or data,
arrives second is a `duplicate` and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.models import Device, Person, SmsMessage
from server.policy import Principal
from server.services.clock_correction import Correction
from server.services.enrolment import phone_principal
from server.services.server_clock import ServerClock
from server.services.sync_push import Push
from server.settings import Settings
from sync import sms
from sync.entries import FieldError

SMS_FLAG = "sms"  # on an entry whose first copy came by SMS


@dataclass
class Outcome:
    """What the gateway is answered; `status` as a sync result, or `refused`."""

    status: str
    reason: str
    change: str | None = None
    errors: list[FieldError] = field(default_factory=list)


class Refused(Exception):
    pass


class ForPhone(msgspec.Struct):
    """What a phone needs to offer 用短信发送: where to send, and the key of its code."""

    number: str
    key: str


async def for_phone(session: AsyncSession, settings: Settings, who: Principal) -> ForPhone | None:
    """None while the feature is off: the phone then offers nothing."""
    if not settings.sms_enabled:
        return None
    key = await session.scalar(select(Device.sms_key).where(Device.id == who.device_id))
    return ForPhone(settings.sms_number, key) if key else None


async def _device(session: AsyncSession, device_id: str) -> tuple[Device, Principal]:
    row = (
        await session.execute(
            select(Device, Person).join(Person, Person.id == Device.person_id)
            .where(Device.id == device_id, Device.revoked_at.is_(None))
        )
    ).first()
    if row is None or not row[0].sms_key:
        raise Refused(f"no enrolled phone {device_id!r}")
    return row[0], phone_principal(*row)


def _parse(text: str) -> sms.Parsed:
    try:
        return sms.parse(text)
    except sms.SmsError as err:
        raise Refused(f"not a report: {err.reason}") from None


async def _apply(
    session: AsyncSession, settings: Settings, clock: ServerClock, message: sms.Parsed, now_ms: int
) -> Outcome:
    device, who = await _device(session, message.device)
    try:
        sms.verify(message, device.sms_key or "")
    except sms.SmsError as err:
        raise Refused(err.reason) from None
    if not sms.within_window(message, now_ms):
        raise Refused(f"the report is stamped more than {sms.WINDOW_MS // 86_400_000} days from the server's clock")
    # The stamp comes from the phone's corrected clock (§2 C4) and the message has no device
    # time to measure it by: no offset, but a stamp ahead of the server is still pulled back (K3a).
    correction = Correction(offset=0, now=now_ms, tolerance=settings.clock_tolerance_ms)
    push = Push(session, who, correction, clock, device)
    result = await push.apply(0, msgspec.Raw(msgspec.json.encode(message.change)))
    change_id = message.change["id"]
    if result.status in ("applied", "conflict"):
        entry = push.touched[message.change["entry"]]
        entry.flags = sorted({*entry.flags, SMS_FLAG})
    await push.finish()
    reasons = {
        "applied": "applied",
        "conflict": "applied; it conflicts with another edit, which staff will resolve",
        "rejected": "the report was read but refused: " + "; ".join(e.reason for e in result.errors),
        "duplicate": "this change had arrived already (by data or an earlier SMS): nothing changed",
    }
    return Outcome(result.status, reasons[result.status], change_id, list(result.errors))


async def receive(
    maker: async_sessionmaker[AsyncSession], settings: Settings, clock: ServerClock, sender: str, text: str,
    now_ms: int,
) -> Outcome:
    """Apply a message if it is a genuine report, and record it either way, in one transaction."""
    async with maker.begin() as session:
        device = None
        try:
            message = _parse(text)
            device = message.device
            outcome = await _apply(session, settings, clock, message, now_ms)
        except Refused as err:
            outcome = Outcome("refused", str(err))
        session.add(SmsMessage(
            received_at=datetime.fromtimestamp(now_ms / 1000, UTC), sender=sender[:40], text=text[:2000],
            device_id=device, change_id=outcome.change, status=outcome.status,
            reason=outcome.reason[:300],
        ))
    return outcome
