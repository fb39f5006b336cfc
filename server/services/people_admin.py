"""People as administrators manage them: add, edit, retire and reinstate (docs/roles.md).

Retiring a person revokes their phones (each then gets 401 at /api/sync and shows its enrol
screen, keeping its outbox), voids their codes (enrolment.enrol refuses them) and ends their
dashboard sessions (accounts.staff_principal refuses them). Their entries stay where they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Device, Person, Site, StaffAccount
from server.policy import Principal, require
from server.services.audit import Actor, record
from server.services.directory import (
    SITE_PEOPLE,
    Invalid,
    clean_name,
    clean_phone,
    clean_post,
    in_township,
    managed_person,
    new_id,
    open_site,
    phone_holder,
)


@dataclass
class PersonForm:
    """As typed on the form; `site` is a site id (ignored for township staff, who have none)."""

    name: str
    phone: str = ""
    site: str = ""
    post: str = ""


async def _checked(session: AsyncSession, who: Principal, form: PersonForm, person: Person | None) -> dict:
    """The person's new values, or Invalid naming the first field that is wrong."""
    values = {"name": clean_name(form.name), "phone": clean_phone(form.phone), "post": clean_post(form.post)}
    if person is None or person.role in SITE_PEOPLE:
        site = await open_site(session, who, form.site.strip()) if form.site.strip() else None
        if person is not None and person.site_id == form.site.strip():
            site = await session.get(Site, person.site_id)  # staying at a site is fine even once retired
        if site is None:
            raise Invalid("site", "请选择一个站点 / choose one of your sites")
        values["site_id"], values["township"] = site.id, site.township
    township = values.get("township") or person.township
    holder = await phone_holder(session, township, values["phone"])
    if holder is not None and (person is None or holder.id != person.id):
        raise Invalid("phone", f"手机号 {values['phone']} 已登记给 {holder.name} / this number is {holder.name}'s")
    return values


async def create_person(session: AsyncSession, who: Principal, form: PersonForm, now: datetime, address: str = "") -> Person:
    """A new worker at one of `who`'s sites (a site lead is a worker given a lead account)."""
    require(who, "people.manage")
    values = await _checked(session, who, form, None)
    person = Person(id=new_id("p"), role="worker", **values)
    session.add(person)
    await session.flush()
    await record(session, "person.created", Actor.of(who, address), now, subject=person.id, township=person.township,
                 name=person.name, site=person.site_id)
    return person


async def edit_person(
    session: AsyncSession, who: Principal, person_id: str, form: PersonForm, now: datetime, address: str = ""
) -> Person | None:
    """Change a person's name, phone number, post or site; a new site resets their phones'
    pulls as a move does. None: not a person of `who`'s township."""
    require(who, "people.manage")
    person = await managed_person(session, who, person_id, lock=True)
    if person is None:
        return None
    values = await _checked(session, who, form, person)
    changes = {k: [getattr(person, k), v] for k, v in values.items() if getattr(person, k) != v and k != "township"}
    if changes:
        for key, value in values.items():
            setattr(person, key, value)
        await record(session, "person.changed", Actor.of(who, address), now, subject=person.id,
                     township=person.township, **changes)
    return person


async def retire_person(session: AsyncSession, who: Principal, person_id: str, now: datetime, address: str = "") -> Person | None:
    require(who, "people.manage")
    if person_id == who.person_id:
        raise Invalid("person", "不能停用自己 / you cannot retire yourself")
    person = await managed_person(session, who, person_id, lock=True)
    if person is None or person.retired_at is not None:
        return person
    person.retired_at = now
    phones = list(await session.scalars(
        select(Device.id).where(Device.person_id == person.id, Device.revoked_at.is_(None))
    ))
    await session.execute(update(Device).where(Device.id.in_(phones)).values(revoked_at=now))
    await session.execute(update(StaffAccount).where(StaffAccount.person_id == person.id)
                          .values(session_version=StaffAccount.session_version + 1))
    await record(session, "person.retired", Actor.of(who, address), now, subject=person.id,
                 township=person.township, devices=phones)
    return person


async def reinstate_person(session: AsyncSession, who: Principal, person_id: str, now: datetime, address: str = "") -> Person | None:
    """Back on the roster: their account signs in again; phones need new codes (they stay revoked)."""
    require(who, "people.manage")
    person = await managed_person(session, who, person_id, lock=True)
    if person is None or person.retired_at is None:
        return person
    site = await session.get(Site, person.site_id) if person.site_id else None
    if site is not None and site.retired_at is not None:
        raise Invalid("site", f"站点 {site.name} 已停用，请先恢复站点 / the site {site.name} is retired: reinstate it first")
    person.retired_at = None
    await record(session, "person.reinstated", Actor.of(who, address), now, subject=person.id, township=person.township)
    return person


async def retired_people(session: AsyncSession, who: Principal) -> list[tuple[Person, str]]:
    """The retired people of `who`'s township, with their site's name ("" for township staff)."""
    require(who, "people.manage")
    rows = await session.execute(
        select(Person, Site.name).outerjoin(Site, Site.id == Person.site_id)
        .where(in_township(who, Person.township), Person.retired_at.is_not(None)).order_by(Person.name)
    )
    return [(person, site or "") for person, site in rows]


async def person_to_edit(session: AsyncSession, who: Principal, person_id: str) -> Person | None:
    require(who, "people.manage")
    return await managed_person(session, who, person_id)
