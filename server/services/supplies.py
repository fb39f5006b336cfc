"""Stock per site and item, days left at the recent rate of use, and open requests.

Read from the same ledger the phones keep; the arithmetic is `sync.ledger` (pure).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.models import Entry, Person, Site, StockLevel
from server.policy import Principal, require, visible_sites
from server.services import stock_levels
from server.services.paging import Page, batches
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


async def supplies_by_site(session: AsyncSession, who: Principal, now: int, page: Page | None = None) -> list[SiteSupplies]:
    """Each site's stock (kept up to date by server/services/stock_levels.py) and a page of the
    township's requests, the latest first."""
    require(who, "supplies.read")
    page = page or Page()
    sites = {s.id: SiteSupplies(s.id, s.name) for s in await session.scalars(
        select(Site).where(visible_sites(who)).order_by(Site.id))}
    levels = await session.scalars(select(StockLevel).where(StockLevel.site_id.in_(sites)))
    for level in levels:
        per_day = stock_levels.per_day(level, now)
        sites[level.site_id].stock.append(StockLine(level.item, level.unit, level.stock,
                                                    ledger.days_left(level.stock, per_day), per_day))
    for site in sites.values():  # what runs out first, first (sync/ledger.py)
        site.stock.sort(key=lambda line: ledger.running_out_first(vars(line)))
    requests = await page.rows(session, _requests(who).order_by(Entry.seq.desc()))
    for entry, person in requests:
        sites[entry.site_id].requests.append(_request_line(entry, person))
    return list(sites.values())


def _requests(who: Principal) -> Select:
    return (select(Entry, Person.name).join(Person, Person.id == Entry.author_id)
            .join(Site, Site.id == Entry.site_id)
            .where(Entry.kind == "request", Entry.deleted.is_(False), visible_sites(who)))


def _request_line(entry: Entry, person: str) -> RequestLine:
    f = entry.fields
    return RequestLine(entry.id, f["item"], f["quantity"], f["unit"], bool(f.get("urgent")), f.get("status", "open"),
                       person, f["at"], f.get("note", ""), "sms" in entry.flags)


MOVEMENTS_HEADER = ["站点 Site", "物资 Item", "类型 Movement", "数量 Quantity", "单位 Unit", "调往 To site",
                    "时间 Time", "登记人 Recorded by", "备注 Note"]
REQUESTS_HEADER = ["站点 Site", "物资 Item", "数量 Quantity", "单位 Unit", "紧急 Urgent", "状态 Status",
                   "申领人 Requested by", "时间 Time", "备注 Note", "短信 By SMS"]


def movements_rows(maker: async_sessionmaker[AsyncSession], who: Principal, when, label) -> AsyncIterator[list]:
    """Every movement of the ledgers the supplies page counts: the sites' own and transfers
    into them, in the order they were recorded, read in keyset batches of `seq` as the
    download goes (so the first rows leave at once)."""
    require(who, "supplies.read")
    names = select(Site.id).where(visible_sites(who))
    statement = (
        select(Entry.site_id, Entry.fields, Person.name, Entry.seq).join(Person, Person.id == Entry.author_id)
        .where(Entry.kind == "supply", Entry.deleted.is_(False))
        .where(or_(Entry.site_id.in_(names), Entry.to_site.in_(names)))
        .order_by(Entry.seq)
    )

    async def rows() -> AsyncIterator[list]:
        yield MOVEMENTS_HEADER
        async with maker() as session:
            site_names = dict((await session.execute(select(Site.id, Site.name))).all())
        async for site, f, person, _ in batches(maker, statement, lambda row: Entry.seq > row.seq):
            to_site = f.get("to_site")
            yield [site_names.get(site, site), f["item"], label(f["movement"]), f["quantity"], f["unit"],
                   site_names.get(to_site, to_site or ""), when(f["at"]), person, f.get("note", "")]

    return rows()


def requests_rows(maker: async_sessionmaker[AsyncSession], who: Principal, when, label) -> AsyncIterator[list]:
    """Every request of the township's sites, the latest recorded first, in keyset batches."""
    require(who, "supplies.read")
    statement = _requests(who).add_columns(Site.name).order_by(Entry.seq.desc())

    async def rows() -> AsyncIterator[list]:
        yield REQUESTS_HEADER
        async for entry, person, site in batches(maker, statement, lambda row: Entry.seq < row[0].seq):
            r = _request_line(entry, person)
            yield [site, r.item, r.quantity, r.unit, "是" if r.urgent else "", label(r.status), r.person,
                   when(r.at), r.note, "是" if r.by_sms else ""]

    return rows()
