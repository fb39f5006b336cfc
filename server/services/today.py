"""Today, on the first page: per site, who is on duty and who was in the last 24 hours, rest
alerts, open conflicts, items running out, requests waiting, urgent reports, silent phones, and
entries that arrived late since the person last looked.

Each part asks the policy itself (`require`), and the page shows a part only to a role that
may read the page it summarises. The rules are the shared ones: rest (sync/rest.py), stock and
days left (sync/ledger.py through services/supplies.py), urgency (sync/outbox.py), the
township's thresholds (services/deployment.py `Alerts`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import BigInteger, ColumnElement, and_, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import ChangeLog, Conflict, Device, Entry, Person, Site, StaffAccount
from server.policy import Principal, allowed, conflict_kinds, require, visible_sites
from server.services import deployment
from server.services.supplies import StockLine, supplies_by_site
from sync.outbox import is_urgent
from sync.rest import rest_status

HOUR = 3_600_000
DAY = 24 * HOUR
RECENT = DAY  # "who was on duty in the last 24 hours"
NO_LOOK = timedelta(days=1)  # a first look lists what arrived late in the last day


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive times


@dataclass
class Duty:
    person: str
    post: str
    start: int
    end: int | None


@dataclass
class RestAlert:
    person: str
    long: bool
    short: bool
    too_many: bool
    on_duty: int | None  # ms
    rest: int | None  # ms
    days: int


@dataclass
class UrgentReport:
    person: str
    kind: str  # injury, exposure
    at: int


@dataclass
class SilentPhone:
    person: str
    device: str
    last_sync: datetime | None


@dataclass
class SiteToday:
    id: str
    name: str
    on_duty: list[Duty] = field(default_factory=list)
    recent: list[Duty] = field(default_factory=list)
    rest_alerts: list[RestAlert] = field(default_factory=list)
    conflicts: int = 0
    running_out: list[StockLine] = field(default_factory=list)
    requests_waiting: int = 0
    urgent_requests: int = 0
    urgent_reports: int = 0
    urgent_details: list[UrgentReport] = field(default_factory=list)  # care staff only
    silent_phones: list[SilentPhone] = field(default_factory=list)
    late: dict[str, int] = field(default_factory=dict)  # kind -> entries that arrived late


@dataclass
class Overview:
    sites: list[SiteToday]
    alerts: deployment.Alerts
    since: datetime  # late entries are listed from here: the last look
    shows: frozenset[str]  # the parts this person sees


def millis(name: str) -> ColumnElement[int]:
    """A time field of an entry's JSON fields, for the database to filter on (ms outgrow the
    32-bit integer `as_integer` casts to on PostgreSQL)."""
    return cast(Entry.fields[name].as_string(), BigInteger)


def shift_span(start: int, end: int) -> ColumnElement[bool]:
    """Shifts that overlap [start, end) or are still open, by their fields (JSON), so that the
    database filters them; a real column may replace these expressions later."""
    begins, ends = millis("start"), millis("end")
    return and_(Entry.kind == "shift", Entry.deleted.is_(False), begins < end, or_(ends.is_(None), ends >= start))


async def _sites(session: AsyncSession, who: Principal) -> dict[str, SiteToday]:
    found = await session.scalars(select(Site).where(visible_sites(who)).order_by(Site.id))
    return {s.id: SiteToday(s.id, s.name) for s in found}


async def shifts_of(session: AsyncSession, who: Principal, start: int, end: int) -> list[tuple[Any, str]]:
    """The shifts of `who`'s sites that overlap [start, end) or are open, with their worker: rows
    of id, site_id, author_id and fields (only what the rules read: fewer JSON columns to decode)."""
    require(who, "shifts.read")
    rows = await session.execute(
        select(Entry.id, Entry.site_id, Entry.author_id, Entry.fields, Person.name)
        .join(Person, Person.id == Entry.author_id)
        .join(Site, Site.id == Entry.site_id).where(shift_span(start, end), visible_sites(who))
    )
    return [(row, row.name) for row in rows]


def rest_alerts(shifts: list[tuple[Any, str]], now: int, rules: deployment.RestRules,
                zone: str) -> dict[str, tuple[str, RestAlert]]:
    """Each person's rest status from their shifts as they stood at `now`, for those with an
    alert: person id -> (the site of their latest shift, the alert)."""
    by_person: dict[str, list[tuple[Any, str]]] = defaultdict(list)
    for entry, name in shifts:
        by_person[entry.author_id].append((entry, name))
    found = {}
    for person, theirs in by_person.items():
        # A shift that ended after `now` was still on duty then.
        fields = [{"start": e.fields["start"],
                   "end": e.fields.get("end") if (e.fields.get("end") or 0) <= now else None} for e, _ in theirs]
        status = rest_status(fields, now, msgspec.to_builtins(rules), zone)
        if status["long"] or status["short"] or status["too_many"]:
            latest, name = max(theirs, key=lambda pair: pair[0].fields["start"])
            found[person] = (latest.site_id, RestAlert(name, status["long"], status["short"], status["too_many"],
                                                       status["on_duty"], status["rest"], status["days"]))
    return found


async def conflicts_by_site(session: AsyncSession, who: Principal) -> dict[str, int]:
    """Open conflicts per site, of the kinds `who` resolves (policy.conflict_kinds)."""
    require(who, "conflicts.read")
    rows = await session.execute(
        select(Entry.site_id, func.count()).select_from(Conflict).join(Entry, Entry.id == Conflict.entry_id)
        .join(Site, Site.id == Entry.site_id)
        .where(Conflict.resolved_at.is_(None), visible_sites(who), Entry.kind.in_(conflict_kinds(who)))
        .group_by(Entry.site_id)
    )
    return dict(rows.all())


async def urgent_reports(session: AsyncSession, who: Principal, since: int) -> list[tuple[str, UrgentReport]]:
    """Injury and exposure reports made since `since`: (site, report). Who made them is for
    care staff only; everyone else gets the same list with no names (counts)."""
    require(who, "wellbeing.counts")
    rows = await session.execute(
        select(Entry, Person.name).join(Person, Person.id == Entry.subject_id).join(Site, Site.id == Entry.site_id)
        .where(Entry.kind == "checkin", Entry.deleted.is_(False), visible_sites(who),
               millis("at") >= since)
    )
    named = allowed(who, "wellbeing.details")
    return [(e.site_id, UrgentReport(name if named else "", e.fields.get("injury_kind") or "injury", e.fields["at"]))
            for e, name in rows if is_urgent("checkin", e.fields)]


async def silent_phones(session: AsyncSession, who: Principal, now: datetime,
                        hours: float) -> list[tuple[str, SilentPhone]]:
    """Phones not revoked that have not synced for more than `hours` (or never, since enrolled
    that long ago), by their person's site."""
    require(who, "people.read")
    before = now - timedelta(hours=hours)
    rows = await session.execute(
        select(Device, Person).join(Person, Person.id == Device.person_id).join(Site, Site.id == Person.site_id)
        .where(Device.revoked_at.is_(None), visible_sites(who),
               or_(Device.last_sync_at < before, and_(Device.last_sync_at.is_(None), Device.created_at < before)))
        .order_by(Device.last_sync_at)
    )
    return [(p.site_id, SilentPhone(p.name, d.id, d.last_sync_at and _utc(d.last_sync_at))) for d, p in rows]


def in_sites(who: Principal) -> ColumnElement[bool]:
    """Entries of the sites `who` sees (policy.visible_sites, as a subquery of site ids)."""
    return Entry.site_id.in_(select(Site.id).where(visible_sites(who)))


def first_arrived(*where: ColumnElement[bool]):
    """(entry id, when its first copy arrived) of the entries `where` selects: an entry arrived
    with the first change the server received for it. A subquery, so any number of entries
    costs one statement; add `.having(...)` to keep the late ones only."""
    chosen = select(Entry.id).where(*where)
    return (select(ChangeLog.entry_id, func.min(ChangeLog.received_at).label("arrived"))
            .where(ChangeLog.entry_id.in_(chosen)).group_by(ChangeLog.entry_id))


async def late_since(session: AsyncSession, who: Principal, since: datetime,
                     late_hours: float) -> list[tuple[str, str]]:
    """Entries that first arrived after `since` more than `late_hours` after they were made
    (`created_at`, the corrected time of their first stamp): (site, kind) of each. Counts only,
    so wellbeing counts like the rest."""
    require(who, "overview.read")
    arrivals = first_arrived(in_sites(who), Entry.updated_at > since).having(
        func.min(ChangeLog.received_at) > since).subquery()
    rows = await session.execute(
        select(Entry.site_id, Entry.kind, Entry.created_at, arrivals.c.arrived)
        .join(arrivals, arrivals.c.entry_id == Entry.id)
    )
    late = timedelta(hours=late_hours)
    return [(site, kind) for site, kind, made, arrived in rows if _utc(arrived) - _utc(made) > late]


async def last_look(session: AsyncSession, who: Principal, now: datetime) -> tuple[datetime, bool]:
    """When `who` last opened the overview (a day ago, the first time), and whether they have an
    account to note this look on (`note_look`; the development user has none)."""
    require(who, "overview.read")
    account = await session.get(StaffAccount, who.person_id)
    if account is None or account.last_look_at is None:
        return now - NO_LOOK, account is not None
    return _utc(account.last_look_at), True


async def note_look(session: AsyncSession, who: Principal, now: datetime) -> None:
    """A short write of its own, after the reads: the overview itself takes no write lock."""
    require(who, "overview.read")
    await session.execute(update(StaffAccount).where(StaffAccount.person_id == who.person_id).values(last_look_at=now))


async def overview(session: AsyncSession, who: Principal, now: datetime, zone: str, since: datetime) -> Overview:
    require(who, "overview.read")
    settings = await deployment.load(session, who.township)
    alerts, sites, ms = settings.alerts, await _sites(session, who), _ms(now)
    shows = {"late"}
    if allowed(who, "shifts.read"):
        shows |= {"duty", "rest"}
        lookback = (settings.rest.max_days_without_rest + 1) * DAY
        shifts = await shifts_of(session, who, ms - lookback, ms + 1)
        for entry, name in shifts:
            f = entry.fields
            if entry.site_id not in sites or f["start"] > ms:
                continue
            duty = Duty(name, f.get("post", ""), f["start"], f.get("end"))
            if duty.end is None:
                sites[entry.site_id].on_duty.append(duty)
            elif duty.end >= ms - RECENT:
                sites[entry.site_id].recent.append(duty)
        for site, alert in rest_alerts(shifts, ms, settings.rest, zone).values():
            if site in sites:
                sites[site].rest_alerts.append(alert)
    if allowed(who, "conflicts.read"):
        shows.add("conflicts")
        for site, count in (await conflicts_by_site(session, who)).items():
            sites[site].conflicts = count
    if allowed(who, "supplies.read"):
        shows |= {"stock", "requests"}
        for supplies in await supplies_by_site(session, who, ms):
            site = sites[supplies.id]
            site.running_out = [s for s in supplies.stock
                                if s.days_left is not None and s.days_left < alerts.days_left]
            waiting = [r for r in supplies.requests if r.status == "open"]
            site.requests_waiting, site.urgent_requests = len(waiting), sum(r.urgent for r in waiting)
    if allowed(who, "wellbeing.counts"):
        shows.add("urgent")
        for site, report in await urgent_reports(session, who, ms - RECENT):
            sites[site].urgent_reports += 1
            if report.person:
                sites[site].urgent_details.append(report)
    if allowed(who, "people.read"):
        shows.add("phones")
        for site, phone in await silent_phones(session, who, now, alerts.silent_hours):
            sites[site].silent_phones.append(phone)
    for site, kind in await late_since(session, who, since, alerts.late_hours):
        late = sites[site].late
        late[kind] = late.get(kind, 0) + 1
    for site in sites.values():
        site.on_duty.sort(key=lambda d: d.start)
        site.recent.sort(key=lambda d: -d.start)
    return Overview(list(sites.values()), alerts, since, frozenset(shows))
