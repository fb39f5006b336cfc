"""The monthly subsidy sheet (月度补助发放表): approved hours by kind, times the rates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Entry, Person, Site
from server.policy import Principal, visible_sites
from server.services.csv_export import write_csv
from server.services.deployment import Rates

KINDS = ("day", "night", "on_call")


@dataclass
class SubsidyRow:
    person: str
    site: str
    hours: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))
    amount: float = 0.0


def month_bounds(month: str, timezone: str) -> tuple[int, int]:
    """The first and the last millisecond (exclusive) of "YYYY-MM" in the deployment's zone."""
    year, number = (int(part) for part in month.split("-"))
    tz = ZoneInfo(timezone)
    start = datetime(year, number, 1, tzinfo=tz)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=tz)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


async def sheet(session: AsyncSession, who: Principal, month: str, timezone: str, rates: Rates) -> list[SubsidyRow]:
    """Approved, ended shifts that started in the month, per person (a shift counts in the month
    it started in, whole)."""
    first, last = month_bounds(month, timezone)
    rows = await session.execute(
        select(Entry, Person.name, Site.name)
        .join(Person, Person.id == Entry.author_id)
        .join(Site, Site.id == Entry.site_id)
        .where(Entry.kind == "shift", Entry.deleted.is_(False), visible_sites(who))
    )
    people: dict[str, SubsidyRow] = {}
    for entry, person, site in rows:
        f = entry.fields
        if f.get("approval") != "approved" or f.get("end") is None or not first <= f["start"] < last:
            continue
        row = people.setdefault(entry.author_id, SubsidyRow(person, site))
        kind = f.get("kind", "day")
        hours = (f["end"] - f["start"]) / 3_600_000
        row.hours[kind] += hours
        row.amount += hours * getattr(rates, kind)
    for row in people.values():
        row.hours = {k: round(v, 2) for k, v in row.hours.items()}
        row.amount = round(row.amount, 2)
    return sorted(people.values(), key=lambda r: (r.site, r.person))


def sheet_csv(rows: list[SubsidyRow], month: str) -> str:
    return write_csv([
        [f"月度补助发放表 {month}"],
        ["站点", "姓名", "白班小时", "夜班小时", "备勤小时", "补助金额(元)", "签字"],
        *([r.site, r.person, r.hours["day"], r.hours["night"], r.hours["on_call"], f"{r.amount:.2f}", ""]
          for r in rows),
        ["合计", "", "", "", "", f"{sum(r.amount for r in rows):.2f}", ""],
    ])
