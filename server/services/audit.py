"""The audit log: security-relevant events, written in the same transaction as what they record.

Nothing in the dashboard edits or deletes an event; administrators read and export them
(docs/roles.md, "audit.read"). Events name people by id and never carry wellbeing contents.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.models import AuditEvent
from server.policy import Principal, require
from server.services.paging import batches

EVENTS = frozenset({
    # A code is spent by the enrolment it makes: "device.enrolled" records both, with who issued it.
    "code.issued", "code.refused", "code.void", "device.enrolled", "device.revoked", "device.labelled",
    "sign_in.ok", "sign_in.failed", "account.created", "person.moved", "settings.changed", "export",
    "conflict.resolved", "carried.uploaded",
    # Sites, people and accounts as administrators manage them (server/services/directory.py and
    # its neighbours): each with what changed.
    "site.created", "site.changed", "site.retired", "site.reinstated",
    "person.created", "person.changed", "person.retired", "person.reinstated", "roster.imported",
    "account.role_changed", "account.password_reset",
})


@dataclass(frozen=True)
class Actor:
    """Who did it: a dashboard user, a phone, the command line or nobody known; and from where."""

    id: str
    township: str = ""
    address: str = ""

    @classmethod
    def of(cls, who: Principal, address: str = "") -> Actor:
        return cls(f"device:{who.device_id}" if who.device_id else who.person_id, who.township, address)


async def record(
    session: AsyncSession, event: str, actor: Actor, now: datetime, subject: str = "",
    township: str | None = None, **detail: Any,
) -> None:
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    session.add(AuditEvent(
        at=now, event=event, actor=actor.id[:64], subject=subject[:200],
        township=(actor.township if township is None else township)[:100],
        address=actor.address[:64], detail=detail,
    ))


def _in_scope(who: Principal) -> Select:
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if who.township != "*":
        query = query.where(or_(AuditEvent.township == who.township, AuditEvent.township == ""))
    return query


async def recent(session: AsyncSession, who: Principal, limit: int = 500) -> list[AuditEvent]:
    """The newest events of the administrator's township (and those of no township: failed
    sign-ins and enrolments under unknown names or codes)."""
    require(who, "audit.read")
    return list(await session.scalars(_in_scope(who).limit(limit)))


CSV_HEADER = ["时间 time", "事件 event", "谁 actor", "对象 subject", "镇街 township", "地址 address", "详情 detail"]


def events_rows(maker: async_sessionmaker[AsyncSession], who: Principal, timezone) -> AsyncIterator[list]:
    """Every event `recent` would list, newest first, read in keyset batches as the download goes."""
    require(who, "audit.read")

    async def rows() -> AsyncIterator[list]:
        yield CSV_HEADER
        async for (e,) in batches(maker, _in_scope(who), lambda row: AuditEvent.id < row[0].id):
            yield [_when(e.at, timezone), e.event, e.actor, e.subject, e.township, e.address,
                   "; ".join(f"{k}={v}" for k, v in sorted(e.detail.items()))]

    return rows()


def _when(moment: datetime, timezone) -> str:
    from datetime import UTC

    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(timezone).strftime("%Y-%m-%d %H:%M:%S")


async def record_sign_in(
    session: AsyncSession, username: str, outcome: object, address: str, now: datetime
) -> None:
    """A sign-in and its outcome: an account (it worked) or the reason shown (it did not)."""
    from server.models import Person, StaffAccount

    if isinstance(outcome, StaffAccount):
        person = await session.get(Person, outcome.person_id)
        actor = Actor(outcome.person_id, person.township if person else "", address)
        await record(session, "sign_in.ok", actor, now, subject=username)
        return
    account = await session.scalar(select(StaffAccount).where(StaffAccount.username == username))
    person = await session.get(Person, account.person_id) if account else None
    # An unknown name has no township (every administrator sees the attempt), and may be a
    # password typed into the name box: it is kept only masked, its first character and length.
    await record(session, "sign_in.failed", Actor("anonymous", "", address), now,
                 subject=username if account else masked(username),
                 township=person.township if person else "", reason=str(outcome))


def masked(typed: str) -> str:
    return f"{typed[:1]}…({len(typed)})" if typed else ""


async def record_export(maker, who: Principal, name: str, address: str, now: datetime, **detail: Any) -> None:
    """An export of personal data, in a transaction of its own (the export itself only reads)."""
    async with maker.begin() as session:
        await record(session, "export", Actor.of(who, address), now, subject=name, **detail)
