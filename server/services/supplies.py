"""Stock per site and item, days left at the recent rate of use, and open requests.

Read from the same ledger the phones keep; the arithmetic is `sync.ledger` (pure).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Entry, Person, Site
from server.policy import Principal, require, visible_sites
from sync import ledger


@dataclass
class StockLine:
    item: str
    unit: str
    stock: float
    days_left: float | None
    per_day: float = 0  # the recent rate of use (sync/ledger.py)


@dataclass
class RequestLine:
    id: str
    item: str
    quantity: float
    unit: str
    urgent: bool
    status: str
    person: str
    at: int
    note: str
    by_sms: bool = False  # its first copy arrived by SMS (docs/sms.md)


@dataclass
class SiteSupplies:
    id: str
    name: str
    stock: list[StockLine] = field(default_factory=list)
    requests: list[RequestLine] = field(default_factory=list)


async def supplies_by_site(session: AsyncSession, who: Principal, now: int) -> list[SiteSupplies]:
    require(who, "supplies.read")
    sites = {s.id: SiteSupplies(s.id, s.name) for s in await session.scalars(
        select(Site).where(visible_sites(who)).order_by(Site.id))}
    movements = await session.scalars(
        select(Entry).where(Entry.kind == "supply", Entry.deleted.is_(False))
        .where(or_(Entry.site_id.in_(sites), Entry.to_site.in_(sites)))
    )
    by_site: dict[str, list[dict]] = defaultdict(list)
    for entry in movements:
        movement = {**entry.fields, "id": entry.id, "stamp": entry.stamps.get("at")}
        for site in {movement["site"], movement.get("to_site")} & sites.keys():
            by_site[site].append(movement)
    for site, moves in by_site.items():  # what runs out first, first (sync/ledger.py)
        sites[site].stock = [StockLine(r["item"], r["unit"], r["stock"], r["days_left"], r["per_day"])
                             for r in ledger.stock_by_item(moves, site, now)]
    requests = await session.execute(
        select(Entry, Person.name).join(Person, Person.id == Entry.author_id)
        .where(Entry.kind == "request", Entry.deleted.is_(False), Entry.site_id.in_(sites))
    )
    for entry, person in requests:
        f = entry.fields
        sites[entry.site_id].requests.append(RequestLine(
            entry.id, f["item"], f["quantity"], f["unit"], bool(f.get("urgent")), f.get("status", "open"),
            person, f["at"], f.get("note", ""), "sms" in entry.flags))
    for site in sites.values():
        site.requests.sort(key=lambda r: (r.status != "open", not r.urgent, -r.at))
    return list(sites.values())


MOVEMENTS_HEADER = ["站点 Site", "物资 Item", "类型 Movement", "数量 Quantity", "单位 Unit", "调往 To site",
                    "时间 Time", "登记人 Recorded by", "备注 Note"]
REQUESTS_HEADER = ["站点 Site", "物资 Item", "数量 Quantity", "单位 Unit", "紧急 Urgent", "状态 Status",
                   "申领人 Requested by", "时间 Time", "备注 Note", "短信 By SMS"]


async def movements_rows(session: AsyncSession, who: Principal, when, label) -> list[list[object]]:
    """Every movement of the ledgers the supplies page counts: the sites' own and transfers
    into them."""
    require(who, "supplies.read")
    names = {s.id: s.name for s in await session.scalars(select(Site).where(visible_sites(who)))}
    found = await session.execute(
        select(Entry, Person.name).join(Person, Person.id == Entry.author_id)
        .where(Entry.kind == "supply", Entry.deleted.is_(False))
        .where(or_(Entry.site_id.in_(names), Entry.to_site.in_(names)))
    )
    rows: list[list[object]] = [MOVEMENTS_HEADER]
    for entry, person in sorted(found, key=lambda pair: (pair[0].site_id, pair[0].fields["at"])):
        f = entry.fields
        to_site = f.get("to_site")
        rows.append([names.get(entry.site_id, entry.site_id), f["item"], label(f["movement"]), f["quantity"],
                     f["unit"], names.get(to_site, to_site or ""), when(f["at"]), person, f.get("note", "")])
    return rows


def requests_rows(sites: list[SiteSupplies], when, label) -> list[list[object]]:
    rows: list[list[object]] = [REQUESTS_HEADER]
    for site in sites:
        rows += [[site.name, r.item, r.quantity, r.unit, "是" if r.urgent else "", label(r.status), r.person,
                  when(r.at), r.note, "是" if r.by_sms else ""] for r in site.requests]
    return rows
