"""Phones enrol with a short single-use code and then carry a long random token.

Codes and tokens are stored only as SHA-256 hashes: a token has 256 random bits, so a fast hash
is enough (passwords, which people choose, get a memory-hard KDF instead).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Device, EnrolCode, Person, Site
from server.policy import Principal

CODE_DIGITS = 8
CODE_TTL = timedelta(days=3)
DEVICE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code if ch.isdigit())


async def issue_code(session: AsyncSession, person_id: str, now: datetime) -> str:
    """A code staff hand to one worker, e.g. read out over the phone."""
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    session.add(EnrolCode(code_hash=digest(code), person_id=person_id, expires_at=now + CODE_TTL))
    return code


class EnrolmentError(Exception):
    pass


class OtherPersonError(EnrolmentError):
    def __init__(self, name: str):
        super().__init__(f"this code is for {name}; sync or export this phone's waiting entries first")
        self.name = name


async def enrol(
    session: AsyncSession, code: str, now: datetime, expect_person: str | None = None
) -> tuple[Device, str, Person, Site | None]:
    """Spend a code on a new device; return the device and its token (shown only this once)."""
    found = await session.get(EnrolCode, digest(normalise_code(code)), with_for_update=True)
    if found is None or found.used_at is not None or _aware(found.expires_at) < now:
        raise EnrolmentError("this code is unknown, used or expired; ask your township for a new one")
    person = await session.get(Person, found.person_id)
    if expect_person is not None and person.id != expect_person:
        raise OtherPersonError(person.name)  # the code stays unspent
    found.used_at = now
    token = secrets.token_urlsafe(32)
    device = Device(
        id="".join(secrets.choice(DEVICE_ALPHABET) for _ in range(10)),
        person_id=found.person_id,
        token_hash=digest(token),
        created_at=now,
        sms_key=secrets.token_urlsafe(32),  # sent to the phone with GET /api/config (docs/sms.md)
    )
    session.add(device)
    site = await session.get(Site, person.site_id) if person.site_id else None
    return device, token, person, site


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def device_principal(session: AsyncSession, token: str) -> Principal | None:
    row = (
        await session.execute(
            select(Device, Person)
            .join(Person, Person.id == Device.person_id)
            .where(Device.token_hash == digest(token), Device.revoked_at.is_(None))
        )
    ).first()
    if row is None:
        return None
    device, person = row
    return Principal(
        person_id=person.id,
        name=person.name,
        role=person.role,
        site_id=person.site_id,
        township=person.township,
        device_id=device.id,
    )
