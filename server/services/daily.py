"""The daily report for the level above: staffing, stock and usage, requests, alerts and urgent
reports of one day in the deployment's time zone, per site, from the entries as they stand.

A figure is marked late when an entry it counts first arrived after the day's deadline (its end
plus the township's grace hours, `Alerts.grace_hours`): a report sent upward at the deadline
showed a different number. The rules are the shared ones: days (sync/days.py), rest
(sync/rest.py), stock and days left (sync/ledger.py), urgency (sync/outbox.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import ChangeLog, Conflict, Entry, Site
from server.policy import Principal, require, visible_sites
from server.services import deployment
from server.services.csv_export import csv_chunks
from server.services.today import DAY, first_arrived, millis, rest_alerts, shift_span, shifts_of
from sync import ledger
from sync.outbox import is_urgent


@dataclass
class ItemDay:
    item: str
    unit: str
    received: float  # received, and transferred in from another site
    used: float  # used and issued (ledger.CONSUMED)
    stock: float  # at the end of the day
    days_left: float | None  # at the end of the day, at the rate of use then
    late: bool = False


@dataclass
class SiteDay:
    id: str
    name: str
    shifts: int = 0  # shifts that started on the day
    people: int = 0
    hours: float = 0  # of those shifts that have ended
    still_open: int = 0  # of those shifts that have no end yet
    rest_alerts: int = 0  # people with a rest alert at the end of the day
    staffing_late: bool = False
    items: list[ItemDay] = field(default_factory=list)
    requests: int = 0
    urgent_requests: int = 0
    open_requests: int = 0  # of the day's requests, still open now
    requests_late: bool = False
    conflicts: int = 0  # opened on the day
    injuries: int = 0
    exposures: int = 0
    urgent_late: bool = False


@dataclass
class DailyReport:
    day: str
    sites: list[SiteDay]
    deadline: datetime  # entries first arriving after this are late for the day
    final: bool  # the deadline has passed


def day_bounds(day: str, zone: str) -> tuple[int, int]:
    """[start, end) of a calendar day in `zone`, in ms (a DST day is 23 or 25 hours)."""
    first = date.fromisoformat(day)
    tz = ZoneInfo(zone)
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(first + timedelta(days=1), time(), tz)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


async def daily_report(session: AsyncSession, who: Principal, day: str, zone: str, now: datetime) -> DailyReport:
    require(who, "reports.read")
    settings = await deployment.load(session, who.township)
    start, end = day_bounds(day, zone)
    deadline = datetime.fromtimestamp(end / 1000, now.tzinfo) + timedelta(hours=settings.alerts.grace_hours)
    sites = {s.id: SiteDay(s.id, s.name) for s in await session.scalars(
        select(Site).where(visible_sites(who)).order_by(Site.id))}
    ids = list(sites)
    lookback = start - (settings.rest.max_days_without_rest + 1) * DAY
    at = millis("at")
    supplies = and_(Entry.kind == "supply", Entry.deleted.is_(False), at < end,
                    or_(Entry.site_id.in_(ids), Entry.to_site.in_(ids)))
    of_the_day = and_(Entry.kind.in_(["request", "checkin"]), Entry.deleted.is_(False), Entry.site_id.in_(ids),
                      at >= start, at < end)
    shifts = and_(shift_span(lookback, end), Entry.site_id.in_(ids))
    # An entry that first arrived after the deadline was last changed after it too: the cheap
    # column test goes first.
    late = set(await session.scalars(
        select(first_arrived(Entry.updated_at > deadline, or_(supplies, of_the_day, shifts)).having(
            func.min(ChangeLog.received_at) > deadline).subquery().c.entry_id)))

    _staffing(sites, [pair for pair in await shifts_of(session, who, lookback, end) if pair[0].site_id in sites],
              late, start, end, min(end - 1, int(now.timestamp() * 1000)), settings.rest, zone)
    _stock(sites, await session.scalars(select(Entry).where(supplies)), late, start, end)
    for entry in await session.scalars(select(Entry).where(of_the_day)):
        site, f = sites[entry.site_id], entry.fields
        if entry.kind == "request":
            site.requests += 1
            site.urgent_requests += is_urgent("request", f)
            site.open_requests += f.get("status", "open") == "open"
            site.requests_late |= entry.id in late
        elif is_urgent("checkin", f):
            if f.get("injury_kind") == "exposure":
                site.exposures += 1
            else:
                site.injuries += 1
            site.urgent_late |= entry.id in late
    opened = await session.execute(
        select(Entry.site_id, func.count()).select_from(Conflict).join(Entry, Entry.id == Conflict.entry_id)
        .where(Entry.site_id.in_(ids), Conflict.opened_at >= datetime.fromtimestamp(start / 1000, now.tzinfo),
               Conflict.opened_at < datetime.fromtimestamp(end / 1000, now.tzinfo))
        .group_by(Entry.site_id))
    for site, count in opened:
        sites[site].conflicts = count
    return DailyReport(day, list(sites.values()), deadline, now > deadline)


def _staffing(sites: dict[str, SiteDay], shifts: list, late: set[str], start: int, end: int, at: int,
              rules: deployment.RestRules, zone: str) -> None:
    people: dict[str, set[str]] = defaultdict(set)
    for entry, _ in shifts:
        f, site = entry.fields, sites[entry.site_id]
        if not start <= f["start"] < end:
            continue
        site.shifts += 1
        people[site.id].add(entry.author_id)
        if f.get("end") is None:
            site.still_open += 1
        else:
            site.hours += (f["end"] - f["start"]) / 3_600_000
        site.staffing_late |= entry.id in late
    for site in sites.values():
        site.people = len(people[site.id])
        site.hours = round(site.hours, 1)
    late_people = {e.author_id for e, _ in shifts if e.id in late}
    for person, (site, _) in rest_alerts(shifts, at, rules, zone).items():
        sites[site].rest_alerts += 1
        # A late shift of someone with an alert changed the alert count.
        sites[site].staffing_late |= person in late_people


def _stock(sites: dict[str, SiteDay], movements, late: set[str], start: int, end: int) -> None:
    by_site: dict[str, list[dict]] = defaultdict(list)
    for entry in movements:
        movement = {**entry.fields, "id": entry.id, "stamp": entry.stamps.get("at"), "late": entry.id in late}
        for site in {movement["site"], movement.get("to_site")} & sites.keys():
            by_site[site].append(movement)
    for site_id, moves in by_site.items():
        for row in ledger.stock_by_item(moves, site_id, end):
            mine = [m for m in moves if m["item"] == row["item"] and ledger.counts_at(m, site_id)]
            today = [m for m in mine if start <= m["at"] < end]
            sites[site_id].items.append(ItemDay(
                row["item"], row["unit"],
                received=sum(max(0, ledger.signed_quantity(m, site_id)) for m in today),
                used=sum(m["quantity"] for m in today if m["site"] == site_id and m["movement"] in ledger.CONSUMED),
                stock=row["stock"], days_left=row["days_left"], late=any(m["late"] for m in mine)))
    for site in sites.values():
        site.items.sort(key=lambda i: i.item)


CSV_HEADER = ["日期 Day", "站点 Site", "类别 Section", "项目 Figure", "数值 Value", "迟到数据 Late data"]
LATE = "迟到 late"


def report_rows(report: DailyReport, qty) -> Iterator[list[object]]:
    yield CSV_HEADER
    for s in report.sites:
        def row(section: str, figure: str, value: object, late: bool) -> list[object]:
            return [report.day, s.name, section, figure, value, LATE if late else ""]  # noqa: B023

        yield row("人员 Staffing", "班次 Shifts", s.shifts, s.staffing_late)
        yield row("人员 Staffing", "人数 People", s.people, s.staffing_late)
        yield row("人员 Staffing", "时长(小时) Hours", s.hours, s.staffing_late)
        yield row("人员 Staffing", "仍在值班 Still on duty", s.still_open, s.staffing_late)
        yield row("提醒 Alerts", "休息提醒 Rest alerts", s.rest_alerts, s.staffing_late)
        yield row("提醒 Alerts", "新冲突 Conflicts opened", s.conflicts, False)
        for i in s.items:
            yield row("物资 Stock", f"{i.item} 入库 received ({i.unit})", qty(i.received), i.late)
            yield row("物资 Stock", f"{i.item} 使用 used ({i.unit})", qty(i.used), i.late)
            yield row("物资 Stock", f"{i.item} 日终库存 stock ({i.unit})", qty(i.stock), i.late)
            days = "" if i.days_left is None else qty(round(i.days_left, 1))
            yield row("物资 Stock", f"{i.item} 可用天数 days left", days, i.late)
        yield row("申领 Requests", "申领 Requests", s.requests, s.requests_late)
        yield row("申领 Requests", "紧急 Urgent", s.urgent_requests, s.requests_late)
        yield row("申领 Requests", "待处理 Still open", s.open_requests, s.requests_late)
        yield row("紧急报告 Urgent reports", "受伤 Injuries", s.injuries, s.urgent_late)
        yield row("紧急报告 Urgent reports", "职业暴露 Exposures", s.exposures, s.urgent_late)


def report_csv(report: DailyReport, qty) -> Iterator[str]:
    return csv_chunks(report_rows(report, qty))
