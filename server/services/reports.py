"""What the township screens show, read from the same entries the phones sent."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Conflict, Entry, Person, Site
from server.policy import Principal, require, visible_sites
from server.services.csv_export import csv_chunks


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


async def shifts_by_site(session: AsyncSession, who: Principal, limit: int | None = 500) -> list[SiteShifts]:
    require(who, "shifts.read")
    sites = {
        s.id: SiteShifts(s.id, s.name)
        for s in await session.scalars(select(Site).where(visible_sites(who)).order_by(Site.id))
    }
    rows = await session.execute(
        select(Entry, Person.name)
        .join(Person, Person.id == Entry.author_id)
        .join(Site, Site.id == Entry.site_id)
        .where(Entry.kind == "shift", Entry.deleted.is_(False), visible_sites(who))
        .order_by(Entry.updated_at.desc())
        .limit(limit)
    )
    pairs = rows.all()
    open_fields: dict[str, list[str]] = {}
    if pairs:
        found = await session.execute(
            select(Conflict.entry_id, Conflict.field).where(
                Conflict.entry_id.in_([e.id for e, _ in pairs]), Conflict.resolved_at.is_(None)
            )
        )
        for entry_id, name in found:
            open_fields.setdefault(entry_id, []).append(name)
    for entry, worker in pairs:
        f = entry.fields
        hours = None if f.get("end") is None else round((f["end"] - f["start"]) / 3_600_000, 1)
        site = sites[entry.site_id]
        site.shifts.append(
            ShiftRow(
                id=entry.id,
                worker=worker,
                post=f.get("post", ""),
                kind=f.get("kind", "day"),
                start=f["start"],
                end=f.get("end"),
                hours=hours,
                approval=f.get("approval", "pending"),
                flags=list(entry.flags),
                conflicts=open_fields.get(entry.id, []),
                device_times=dict(entry.device_times or {}),
                note=f.get("note", ""),
                approval_note=f.get("approval_note", ""),
            )
        )
    for site in sites.values():
        site.shifts.sort(key=lambda s: s.start, reverse=True)
    return list(sites.values())


CSV_HEADER = ["站点 Site", "姓名 Name", "岗位 Post", "班次 Kind", "开始 Start", "结束 End", "时长(小时) Hours",
              "审核 Approval", "提示 Notes"]


def shifts_csv(sites: list[SiteShifts], when, label) -> Iterator[str]:
    rows: list[list[object]] = [CSV_HEADER]
    for site in sites:
        for s in site.shifts:
            notes = "时间已校正" if "clock_corrected" in s.flags else ""
            rows.append([site.name, s.worker, s.post, label(s.kind), when(s.start), when(s.end),
                         "" if s.hours is None else s.hours, label(s.approval), notes])
    return csv_chunks(rows)
