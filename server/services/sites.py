"""Sites as administrators manage them: create, rename, retire and reinstate, within their township.

A site's id is what phones write into every entry, so it never changes. A retired site takes no
new people, codes or transfers; its entries stay on every page and sheet. A site is retired only
once nobody works there any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Person, Site
from server.policy import Principal, require, visible_sites
from server.services.audit import Actor, record
from server.services.directory import Invalid, clean_id, clean_name, new_id


@dataclass
class SiteRow:
    site: Site
    people: int  # who works there and is not retired


async def sites_to_manage(session: AsyncSession, who: Principal) -> list[SiteRow]:
    require(who, "sites.manage")
    active = (
        select(Person.site_id, func.count().label("n")).where(Person.retired_at.is_(None))
        .group_by(Person.site_id).subquery()
    )
    rows = await session.execute(
        select(Site, func.coalesce(active.c.n, 0)).outerjoin(active, active.c.site_id == Site.id)
        .where(visible_sites(who)).order_by(Site.retired_at.is_not(None), Site.township, Site.id)
    )
    return [SiteRow(site, count) for site, count in rows]


def _township(who: Principal, typed: str) -> str:
    """An administrator's sites are in their township; a deployment-wide one names it."""
    if who.township != "*":
        return who.township
    township = clean_name(typed, "township")
    if township == "*":
        raise Invalid("township", "请写镇街名称 / name the township")
    return township


async def create_site(
    session: AsyncSession, who: Principal, site_id: str, name: str, township: str, now: datetime, address: str = ""
) -> Site:
    require(who, "sites.manage")
    site = Site(id=clean_id(site_id, "id") if site_id.strip() else new_id("site"), name=clean_name(name),
                township=_township(who, township))
    if await session.get(Site, site.id) is not None:
        raise Invalid("id", f"编号 {site.id} 已被使用 / the id {site.id} is taken")
    session.add(site)
    await session.flush()
    await record(session, "site.created", Actor.of(who, address), now, subject=site.id, township=site.township,
                 name=site.name)
    return site


async def _managed(session: AsyncSession, who: Principal, site_id: str) -> Site | None:
    return await session.scalar(select(Site).where(Site.id == site_id, visible_sites(who)).with_for_update())


async def edit_site(
    session: AsyncSession, who: Principal, site_id: str, name: str, township: str, now: datetime, address: str = ""
) -> Site | None:
    """Rename a site (a deployment-wide administrator may also move it to another township: its
    people go with it). None: not a site `who` manages."""
    require(who, "sites.manage")
    site = await _managed(session, who, site_id)
    if site is None:
        return None
    after = {"name": clean_name(name), "township": _township(who, township) if who.township == "*" else site.township}
    changes = {k: [getattr(site, k), v] for k, v in after.items() if getattr(site, k) != v}
    if changes:
        site.name, site.township = after["name"], after["township"]
        if "township" in changes:
            await session.execute(update(Person).where(Person.site_id == site.id).values(township=site.township))
        await record(session, "site.changed", Actor.of(who, address), now, subject=site.id, township=site.township,
                     **changes)
    return site


async def retire_site(session: AsyncSession, who: Principal, site_id: str, now: datetime, address: str = "") -> Site | None:
    require(who, "sites.manage")
    site = await _managed(session, who, site_id)
    if site is None or site.retired_at is not None:
        return site
    working = await session.scalar(
        select(func.count()).select_from(Person).where(Person.site_id == site.id, Person.retired_at.is_(None))
    )
    if working:
        raise Invalid("site", f"{site.name} 还有 {working} 人，请先调走或停用他们 / "
                              f"{working} people still work at {site.name}: move or retire them first")
    site.retired_at = now
    await record(session, "site.retired", Actor.of(who, address), now, subject=site.id, township=site.township)
    return site


async def reinstate_site(session: AsyncSession, who: Principal, site_id: str, now: datetime, address: str = "") -> Site | None:
    require(who, "sites.manage")
    site = await _managed(session, who, site_id)
    if site is not None and site.retired_at is not None:
        site.retired_at = None
        await record(session, "site.reinstated", Actor.of(who, address), now, subject=site.id, township=site.township)
    return site
