"""The monthly subsidy sheet (月度补助发放表): approved hours by kind, times the township's rates."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Entry, Person, Site
from server.policy import Principal, require, visible_sites
from server.services import deployment
from server.services.csv_export import csv_chunks
from sync.subsidy import KINDS, month_pay


@dataclass
class SubsidyRow:
    person: str
    site: str
    hours: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))
    amount: float = 0.0


DAY_MS = 86_400_000


def month_window(month: str, zone: str) -> tuple[int, int]:
    """The milliseconds of `month` in `zone`, widened by a day each side: the database picks
    the candidates by the indexed `start` column, and the shared rule decides (`counts`)."""
    year, number = int(month[:4]), int(month[5:7])
    first = datetime(year, number, 1, tzinfo=ZoneInfo(zone))
    after = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=ZoneInfo(zone))
    return int(first.timestamp() * 1000) - DAY_MS, int(after.timestamp() * 1000) + DAY_MS


async def sheet(session: AsyncSession, who: Principal, month: str, timezone: str) -> list[SubsidyRow]:
    """Each person's pay for the month at a site, at the rates of the site's township, by the rule
    the phone's estimate follows (sync/subsidy.py): approved, ended shifts that started in the
    month in the deployment's time zone.

    The database selects the month's approved, ended shifts by their columns (an index range of
    `start`), reading no JSON but the shift's kind; the amounts are the shared rule's, shift by
    shift, since a sum in SQL would round differently."""
    require(who, "subsidy.read")
    low, high = month_window(month, timezone)
    found = await session.execute(
        select(Entry.author_id, Person.name, Site.name, Site.township, Entry.start, Entry.end,
               Entry.fields["kind"].as_string())
        .join(Person, Person.id == Entry.author_id)
        .join(Site, Site.id == Entry.site_id)
        .where(Entry.kind == "shift", Entry.deleted.is_(False), Entry.approval == "approved",
               Entry.start >= low, Entry.start < high, Entry.end.is_not(None), visible_sites(who))
    )
    shifts: dict[tuple[str, str, str, str], list[dict]] = {}
    for author, person, site, township, start, end, kind in found:  # a month: read at once
        shifts.setdefault((author, person, site, township), []).append(
            {"approval": "approved", "start": start, "end": end, "kind": kind})
    rates: dict[str, dict[str, float]] = {}
    people = []
    for (_, person, site, township), theirs in shifts.items():
        if township not in rates:
            rates[township] = msgspec.to_builtins((await deployment.load(session, township)).rates)
        pay = month_pay(theirs, month, timezone, rates[township])
        if any(pay["hours"].values()):
            people.append(SubsidyRow(person, site, {k: round(v, 2) for k, v in pay["hours"].items()}, pay["amount"]))
    return sorted(people, key=lambda r: (r.site, r.person))


def sheet_csv(rows: list[SubsidyRow], month: str) -> Iterator[str]:
    return csv_chunks([
        [f"月度补助发放表 {month}"],
        ["站点", "姓名", "白班小时", "夜班小时", "备勤小时", "补助金额(元)", "签字"],
        *([r.site, r.person, r.hours["day"], r.hours["night"], r.hours["on_call"], f"{r.amount:.2f}", ""]
          for r in rows),
        ["合计", "", "", "", "", f"{sum(r.amount for r in rows):.2f}", ""],
    ])
