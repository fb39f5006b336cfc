"""The monthly subsidy sheet (月度补助发放表): approved hours by kind, times the township's rates."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import msgspec
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Entry, Person, Site
from server.policy import Principal, require, visible_sites
from server.services import deployment
from server.services.csv_export import csv_chunks
from sync.days import month_bounds
from sync.subsidy import KINDS, kind_of, pay


@dataclass
class SubsidyRow:
    person: str
    site: str
    hours: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))
    amount: float = 0.0


async def sheet(session: AsyncSession, who: Principal, month: str, timezone: str) -> list[SubsidyRow]:
    """Each person's pay for the month at a site, at the rates of the site's township, by the rule
    the phone's estimate follows (sync/subsidy.py): approved, ended shifts that started in the
    month in the deployment's time zone.

    The database sums each person's milliseconds by kind over an index range of `start` (exact
    integers, as `month_pay` sums them), and `pay` turns the totals into hours and yuan. A shift
    without an end, or ending before it starts, adds 0: tested in the sum, not as a filter, which
    the planner would misjudge (a third of the rows) and sort for."""
    require(who, "subsidy.read")
    first, after = month_bounds(month, timezone)
    summed = (
        select(Entry.author_id, Site.name.label("site"), Site.township, Entry.shift_kind,
               func.sum(case((Entry.end >= Entry.start, Entry.end - Entry.start), else_=0)).label("ms"))
        .join(Site, Site.id == Entry.site_id)
        .where(Entry.kind == "shift", Entry.deleted.is_(False), Entry.approval == "approved",
               Entry.start >= first, Entry.start < after, visible_sites(who))
        .group_by(Entry.author_id, Site.id, Site.name, Site.township, Entry.shift_kind)
        .subquery()
    )
    found = await session.execute(
        select(summed.c.author_id, Person.name, summed.c.site, summed.c.township, summed.c.shift_kind, summed.c.ms)
        .join(Person, Person.id == summed.c.author_id)
    )
    totals: dict[tuple[str, str, str, str], dict[str, int]] = {}
    for author, person, site, township, kind_name, ms in found:
        theirs = totals.setdefault((author, person, site, township), dict.fromkeys(KINDS, 0))
        theirs[kind_of({"kind": kind_name})] += int(ms)
    rates: dict[str, dict[str, float]] = {}
    people = []
    for (_, person, site, township), ms in totals.items():
        if township not in rates:
            rates[township] = msgspec.to_builtins((await deployment.load(session, township)).rates)
        paid = pay(ms, rates[township])
        if any(paid["hours"].values()):
            people.append(SubsidyRow(person, site, {k: round(v, 2) for k, v in paid["hours"].items()}, paid["amount"]))
    return sorted(people, key=lambda r: (r.site, r.person))


def sheet_csv(rows: list[SubsidyRow], month: str) -> Iterator[str]:
    return csv_chunks([
        [f"月度补助发放表 {month}"],
        ["站点", "姓名", "白班小时", "夜班小时", "备勤小时", "补助金额(元)", "签字"],
        *([r.site, r.person, r.hours["day"], r.hours["night"], r.hours["on_call"], f"{r.amount:.2f}", ""]
          for r in rows),
        ["合计", "", "", "", "", f"{sum(r.amount for r in rows):.2f}", ""],
    ])
