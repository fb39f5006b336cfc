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
        .where(or_(Entry.site_id.in_(sites), Entry.fields["to_site"].as_string().in_(sites)))
    )
    by_site: dict[str, list[dict]] = defaultdict(list)
    for entry in movements:
        movement = {**entry.fields, "id": entry.id, "stamp": entry.stamps.get("at")}
        for site in {movement["site"], movement.get("to_site")} & sites.keys():
            by_site[site].append(movement)
    for site, moves in by_site.items():  # what runs out first, first (sync/ledger.py)
        sites[site].stock = [StockLine(r["item"], r["unit"], r["stock"], r["days_left"])
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
