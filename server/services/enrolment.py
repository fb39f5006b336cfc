"""Phones enrol with a short single-use code and then carry a long random token.

Codes and tokens are stored only as SHA-256 hashes: a token has 256 random bits, so a fast hash
is enough (passwords, which people choose, get a memory-hard KDF instead). A code has 60 random
bits and every attempt is counted in the database (server/ratelimit.py); the arithmetic that
makes guessing hopeless is in docs/roles.md ("Enrolment codes").
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Device, EnrolCode, Person, Site
from server.policy import Principal
from server.services.audit import Actor, record

# Crockford's base 32: digits and capitals without I, L, O and U, so nothing reads as another
# character; what people mistype for them is mapped back in `normalise_code`.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12  # 60 bits, typed as three groups of four: 7KQ2-M9XD-4HTR
CODE_GROUP = 4
CODE_TTL = timedelta(days=3)
# Tries of a real code that do not spend it (the phone expected another person); then it is void.
CODE_ATTEMPTS = 3
DEVICE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def code_hash(code: str) -> str:
    """How a code is stored and looked up, however it was typed."""
    return digest(normalise_code(code))


def normalise_code(code: str) -> str:
    """As typed or read out: any case, spaces or dashes, O for 0, I or L for 1."""
    return "".join(ch for ch in code.upper() if ch.isascii() and ch.isalnum()).translate(_READ_AS)


def grouped(code: str) -> str:
    return "-".join(code[i : i + CODE_GROUP] for i in range(0, len(code), CODE_GROUP))


async def issue_code(
    session: AsyncSession, person_id: str, now: datetime, by: Actor = Actor("cli")
) -> str:
    """A code staff hand to one worker, e.g. read out over the phone (shown grouped)."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    session.add(EnrolCode(code_hash=code_hash(code), person_id=person_id, expires_at=now + CODE_TTL,
                          issued_by=by.id[:64], attempts=0))
    person = await session.get(Person, person_id)
    await record(session, "code.issued", by, now, subject=person_id,
                 township=person.township if person else by.township)
    return grouped(code)


UNKNOWN = "this code is unknown, used or expired; ask your township for a new one"


@dataclass
class Refusal:
    """Why a code did not enrol the phone. Nothing here names the code's person."""

    status: int
    reason: str
    error: str | None = None


class Enrolled(NamedTuple):
    device: Device
    token: str
    person: Person
    site: Site | None


async def enrol(
    session: AsyncSession, code: str, now: datetime, expect_person: str | None = None,
    actor: Actor = Actor("anonymous"),
) -> Enrolled | Refusal:
    """Spend a code on a new device; return the device and its token (shown only this once).

    A refusal is returned, not raised, so that the caller's transaction commits what it
    counted (a try of a real code, the audit event)."""
    found = await session.get(EnrolCode, code_hash(code), with_for_update=True)
    if found is None or found.used_at is not None or aware(found.expires_at) < now:
        await record(session, "code.refused", actor, now, township="", reason="unknown")
        return Refusal(400, UNKNOWN)
    person = await session.get(Person, found.person_id)
    if person.retired_at is not None:  # a retired person's codes are void (docs/roles.md)
        await record(session, "code.refused", actor, now, subject=person.id, township=person.township,
                     reason="retired")
        return Refusal(400, UNKNOWN)
    if expect_person is not None and person.id != expect_person:
        # The phone holds another person's waiting entries. Say only that this code is not
        # theirs: its person is named to nobody until the code is spent.
        found.attempts += 1
        await record(session, "code.refused", actor, now, subject=person.id, township=person.township,
                     reason="other_person", attempts=found.attempts)
        if found.attempts >= CODE_ATTEMPTS:
            found.used_at = now
            await record(session, "code.void", actor, now, subject=person.id, township=person.township)
        return Refusal(409, "this code is for someone else; sync or export this phone's waiting entries "
                       "first, then ask your township for a code", "other_person")
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
    await record(session, "device.enrolled", actor, now, subject=person.id, township=person.township,
                 device=device.id, code_issued_by=found.issued_by or "")
    site = await session.get(Site, person.site_id) if person.site_id else None
    return Enrolled(device, token, person, site)


def aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def device_principal(session: AsyncSession, token: str) -> Principal | None:
    row = (
        await session.execute(
            select(Device, Person)
            .join(Person, Person.id == Device.person_id)
            .where(Device.token_hash == digest(token), Device.revoked_at.is_(None), Person.retired_at.is_(None))
        )
    ).first()
    return None if row is None else phone_principal(*row)


def phone_principal(device: Device, person: Person) -> Principal:
    """Who a phone acts as: its person, on this device, enrolled when (the wellbeing scope)."""
    return Principal(
        person_id=person.id,
        name=person.name,
        role=person.role,
        site_id=person.site_id,
        township=person.township,
        device_id=device.id,
        enrolled_at=aware(device.created_at),
    )
