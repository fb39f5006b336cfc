"""What the township screens show, read from the same entries the phones sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.models import Conflict, Entry, Person, Site
from server.policy import Principal, require, visible_sites
from server.services.paging import Page

BATCH = 2_000  # rows an export reads from the database at a time


@dataclass
class ShiftRow:
    id: str
    worker: str
    post: str
    kind: str
    start: int
    end: int | None
    hours: float | None
    approval: str
    flags: list[str]
    conflicts: list[str]
    device_times: dict[str, int] = field(default_factory=dict)  # the phone's own, when corrected


@dataclass
class SiteShifts:
    id: str
    name: str
    shifts: list[ShiftRow] = field(default_factory=list)


def _shifts(who: Principal) -> Select:
    return (
        select(Entry, Person.name, Site.name)
        .join(Person, Person.id == Entry.author_id)
        .join(Site, Site.id == Entry.site_id)
        .where(Entry.kind == "shift", Entry.deleted.is_(False), visible_sites(who))
    )


def _row(entry: Entry, worker: str, conflicts: list[str]) -> ShiftRow:
    f = entry.fields
    hours = None if f.get("end") is None else round((f["end"] - f["start"]) / 3_600_000, 1)
    return ShiftRow(id=entry.id, worker=worker, post=f.get("post", ""), kind=f.get("kind", "day"),
                    start=f["start"], end=f.get("end"), hours=hours, approval=f.get("approval", "pending"),
                    flags=list(entry.flags), conflicts=conflicts, device_times=dict(entry.device_times or {}))


async def shifts_by_site(session: AsyncSession, who: Principal, page: Page | None = None) -> list[SiteShifts]:
    """A page of the township's shifts, the latest start first, under their sites (the sites
    with a shift on this page, in order)."""
    require(who, "shifts.read")
    page = page or Page()
    pairs = await page.rows(session, _shifts(who).order_by(Entry.start.desc(), Entry.id.desc()))
    open_fields: dict[str, list[str]] = {}
    if pairs:
        found = await session.execute(
            select(Conflict.entry_id, Conflict.field).where(
                Conflict.entry_id.in_([e.id for e, *_ in pairs]), Conflict.resolved_at.is_(None)
            )
        )
        for entry_id, name in found:
            open_fields.setdefault(entry_id, []).append(name)
    sites: dict[str, SiteShifts] = {}
    for entry, worker, site in pairs:
        sites.setdefault(entry.site_id, SiteShifts(entry.site_id, site)).shifts.append(
            _row(entry, worker, open_fields.get(entry.id, [])))
    return [sites[key] for key in sorted(sites)]


CSV_HEADER = ["站点 Site", "姓名 Name", "岗位 Post", "班次 Kind", "开始 Start", "结束 End", "时长(小时) Hours",
              "审核 Approval", "提示 Notes"]


def shifts_csv_rows(maker: async_sessionmaker[AsyncSession], who: Principal, when, label) -> AsyncIterator[list]:
    """Every shift of the township's sites, site by site and in time order, read in batches as
    the download goes (csv_export.csv_stream)."""
    require(who, "shifts.read")
    statement = _shifts(who).order_by(Entry.site_id, Entry.start, Entry.id).execution_options(yield_per=BATCH)

    async def rows() -> AsyncIterator[list]:
        yield CSV_HEADER
        async with maker() as session:
            async for entry, worker, site in await session.stream(statement):
                s = _row(entry, worker, [])
                notes = "时间已校正" if "clock_corrected" in s.flags else ""
                yield [site, s.worker, s.post, label(s.kind), when(s.start), when(s.end),
                       "" if s.hours is None else s.hours, label(s.approval), notes]

    return rows()
