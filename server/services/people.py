"""People, their phones and enrolment codes, as staff manage them on the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Device, Person, Site
from server.policy import Principal, require, visible_sites
from server.services.audit import Actor, record
from server.services.paging import Page


@dataclass
class PersonView:
    id: str
    name: str
    role: str
    site_id: str | None
    site: str
    devices: list[Device] = field(default_factory=list)
    phone: str | None = None
    post: str | None = None


async def people_in_scope(session: AsyncSession, who: Principal, page: Page | None = None) -> list[PersonView]:
    """The people at the sites `who` sees, site by site (a page of them, if asked), with their
    phones; retired people left out (server/services/people_admin.py)."""
    statement = (select(Person, Site.name).join(Site, Site.id == Person.site_id)
                 .where(visible_sites(who), Person.retired_at.is_(None)).order_by(Site.id, Person.name, Person.id))
    rows = await page.rows(session, statement) if page else (await session.execute(statement)).all()
    people = {p.id: PersonView(p.id, p.name, p.role, p.site_id, site, phone=p.phone, post=p.post) for p, site in rows}
    if people:
        devices = await session.scalars(
            select(Device).where(Device.person_id.in_(people)).order_by(Device.created_at)
        )
        for device in devices:
            people[device.person_id].devices.append(device)
    return list(people.values())


async def sites_in_scope(session: AsyncSession, who: Principal) -> list[Site]:
    """The open sites `who` sees: where people can be moved and codes printed (not retired ones)."""
    return list(await session.scalars(
        select(Site).where(visible_sites(who), Site.retired_at.is_(None)).order_by(Site.id)
    ))


async def person_in_scope(session: AsyncSession, who: Principal, person_id: str) -> Person | None:
    """A person `who` may act on: at a site they see, and not retired (no codes, no moves)."""
    return await session.scalar(
        select(Person).join(Site, Site.id == Person.site_id)
        .where(Person.id == person_id, visible_sites(who), Person.retired_at.is_(None))
    )


async def revoke_device(
    session: AsyncSession, who: Principal, device_id: str, now: datetime, address: str = ""
) -> bool:
    require(who, "people.enrol")
    device = await session.get(Device, device_id, with_for_update=True)
    if device is None or await person_in_scope(session, who, device.person_id) is None:
        return False
    if device.revoked_at is None:
        device.revoked_at = now
        await record(session, "device.revoked", Actor.of(who, address), now, subject=device.person_id,
                     device=device.id)
    return True


async def label_device(
    session: AsyncSession, who: Principal, device_id: str, label: str, now: datetime, address: str = ""
) -> bool:
    """Name a phone ("张伟的旧手机"): conflict cards show the name instead of its id. A blank
    label clears it. False when the phone is not in `who`'s scope."""
    require(who, "people.enrol")
    device = await session.get(Device, device_id, with_for_update=True)
    if device is None or await person_in_scope(session, who, device.person_id) is None:
        return False
    label = label.strip() or None
    if label != device.label:
        await record(session, "device.labelled", Actor.of(who, address), now, subject=device.person_id,
                     device=device.id, label=label or "")
    device.label = label
    return True


async def move_person(
    session: AsyncSession, who: Principal, person_id: str, site_id: str, now: datetime, address: str = ""
) -> bool:
    """A worker moves to another site; their phones' next pulls follow (§5 scope)."""
    require(who, "people.manage")
    person = await person_in_scope(session, who, person_id)
    site = await session.scalar(select(Site).where(Site.id == site_id, visible_sites(who), Site.retired_at.is_(None)))
    if person is None or site is None:
        return False
    if person.site_id != site.id:
        await record(session, "person.moved", Actor.of(who, address), now, subject=person.id,
                     before=person.site_id, after=site.id)
    person.site_id, person.township = site.id, site.township
    return True
