"""What the township screens show, read from the same entries the phones sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.models import Conflict, Entry, Person, Site
from server.policy import Principal, require, visible_sites
from server.services.paging import Page, batches


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
    note: str = ""  # the worker's
    approval_note: str = ""  # staff's reason for returning it


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
                    flags=list(entry.flags), conflicts=conflicts, device_times=dict(entry.device_times or {}),
                    note=f.get("note", ""), approval_note=f.get("approval_note", ""))


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
    """Every shift of the township's sites in the order they started, read in keyset batches as
    the download goes (csv_export.csv_stream): index ranges, so the first rows leave at once."""
    require(who, "shifts.read")
    f = Entry.fields
    statement = (
        select(Site.name, Person.name, f["post"].as_string(), f["kind"].as_string(), Entry.start, Entry.end,
               Entry.approval, Entry.flags, Entry.id)
        .join(Person, Person.id == Entry.author_id)
        .join(Site, Site.id == Entry.site_id)
        .where(Entry.kind == "shift", Entry.deleted.is_(False), visible_sites(who))
        .order_by(Entry.start, Entry.id)
    )

    def after(row) -> ColumnElement[bool]:  # noqa: ANN001
        return and_(Entry.start >= row.start, or_(Entry.start > row.start, Entry.id > row.id))

    async def rows() -> AsyncIterator[list]:
        yield CSV_HEADER
        async for site, worker, post, kind, start, end, approval, flags, _ in batches(maker, statement, after):
            hours = "" if end is None else round((end - start) / 3_600_000, 1)
            yield [site, worker, post or "", label(kind or "day"), when(start), when(end), hours,
                   label(approval or "pending"), "时间已校正" if "clock_corrected" in flags else ""]

    return rows()
