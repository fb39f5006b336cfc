"""The monthly subsidy sheet (月度补助发放表): approved hours by kind, times the township's rates."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Entry, Person, Site
from server.policy import Principal, visible_sites
from server.services import deployment
from sync.days import month_of

KINDS = ("day", "night", "on_call")


@dataclass
class SubsidyRow:
    person: str
    site: str
    hours: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))
    amount: float = 0.0


async def sheet(session: AsyncSession, who: Principal, month: str, timezone: str) -> list[SubsidyRow]:
    """Approved, ended shifts that started in the month in the deployment's time zone (sync/days.py,
    as the phone counts them), per person, at the rates of the site's township (a shift counts in
    the month it started in, whole)."""
    rows = await session.execute(
        select(Entry, Person.name, Site.name, Site.township)
        .join(Person, Person.id == Entry.author_id)
        .join(Site, Site.id == Entry.site_id)
        .where(Entry.kind == "shift", Entry.deleted.is_(False), visible_sites(who))
    )
    people: dict[str, SubsidyRow] = {}
    rates: dict[str, deployment.Rates] = {}
    for entry, person, site, township in rows:
        f = entry.fields
        if f.get("approval") != "approved" or f.get("end") is None or month_of(f["start"], timezone) != month:
            continue
        if township not in rates:
            rates[township] = (await deployment.load(session, township)).rates
        row = people.setdefault(entry.author_id, SubsidyRow(person, site))
        kind = f.get("kind", "day")
        hours = (f["end"] - f["start"]) / 3_600_000
        row.hours[kind] += hours
        row.amount += hours * getattr(rates[township], kind)
    for row in people.values():
        row.hours = {k: round(v, 2) for k, v in row.hours.items()}
        row.amount = round(row.amount, 2)
    return sorted(people.values(), key=lambda r: (r.site, r.person))


def sheet_csv(rows: list[SubsidyRow], month: str) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 with the Chinese intact only with a BOM
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f"月度补助发放表 {month}"])
    writer.writerow(["站点", "姓名", "白班小时", "夜班小时", "备勤小时", "补助金额(元)", "签字"])
    for r in rows:
        writer.writerow([r.site, r.person, r.hours["day"], r.hours["night"], r.hours["on_call"], f"{r.amount:.2f}", ""])
    writer.writerow(["合计", "", "", "", "", f"{sum(r.amount for r in rows):.2f}", ""])
    return out.getvalue()
