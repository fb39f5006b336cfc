"""Wellbeing on the dashboard: counts for staff, details for care staff only (docs/roles.md).

Each function asks the policy itself (`require`), whoever calls it; the queries are scoped to
the sites the person may see. A follow-up is written through the staff-edit path
(`staff_service.staff_create`): field checks, length bounds and a change record.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.models import Entry, Person, Site
from server.policy import Principal, require, visible_sites
from server.services.paging import Page, batches
from server.services.server_clock import ServerClock
from server.services.staff_service import StaffEditError, staff_create
from sync.entries import FieldError

WINDOW = timedelta(days=7)


@dataclass
class SiteCounts:
    site: str
    checkins: int = 0
    tired: int = 0  # fatigue 4-5 or under 5 hours of sleep
    want_to_talk: int = 0
    injuries: int = 0


@dataclass
class CheckinView:
    id: str
    person: str
    site: str
    at: int
    fields: dict
    followups: list[dict] = field(default_factory=list)
    by_sms: bool = False  # its first copy arrived by SMS (docs/sms.md)


async def counts_by_site(session: AsyncSession, who: Principal) -> list[SiteCounts]:
    """The last week's check-ins per site, counted by the database: tired is a fatigue of 4-5 or
    under 5 hours of sleep; an injury report is counted apart."""
    require(who, "wellbeing.counts")
    f = Entry.fields
    injury = func.coalesce(f["type"].as_string(), "") == "injury"
    tired = or_(func.coalesce(f["fatigue"].as_float(), 0) >= 4, func.coalesce(f["sleep_hours"].as_float(), 8) < 5)

    def count(condition) -> ColumnElement[int]:  # noqa: ANN001
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    found = await session.execute(
        select(Site.name, count(~injury), count(and_(~injury, tired)),
               count(and_(~injury, f["talk"].as_boolean().is_(True))), count(injury))
        .join(Site, Site.id == Entry.site_id)
        .where(Entry.kind == "checkin", Entry.deleted.is_(False), visible_sites(who),
               Entry.updated_at >= datetime.now(UTC) - WINDOW)
        .group_by(Site.name).order_by(Site.name)
    )
    return [SiteCounts(*row) for row in found]


def _checkins(who: Principal, since: datetime) -> Select:
    return (
        select(Entry, Site.name, Person.name)
        .join(Site, Site.id == Entry.site_id)
        .join(Person, Person.id == Entry.subject_id)
        .where(Entry.kind == "checkin", Entry.deleted.is_(False), visible_sites(who), Entry.updated_at >= since)
        .order_by(Entry.seq.desc())
    )


async def _followups(session: AsyncSession, who: Principal, since: datetime,
                     checkins: list[str] | None = None) -> dict[str, list[dict]]:
    """The follow-ups of the window, by the check-in they follow (of `checkins` only, if given)."""
    statement = (
        select(Entry.fields).join(Site, Site.id == Entry.site_id)
        .where(Entry.kind == "followup", Entry.deleted.is_(False), visible_sites(who), Entry.updated_at >= since)
        .order_by(Entry.seq.desc())
    )
    if checkins is not None:
        statement = statement.where(Entry.fields["checkin"].as_string().in_(checkins))
    found: dict[str, list[dict]] = {}
    for fields in await session.scalars(statement):
        found.setdefault(fields.get("checkin"), []).append(fields)
    return found


def _view(entry: Entry, site: str, person: str, followups: dict[str, list[dict]]) -> CheckinView:
    return CheckinView(entry.id, person, site, entry.fields.get("at", 0), entry.fields,
                       followups.get(entry.id, []), by_sms="sms" in entry.flags)


async def details(session: AsyncSession, who: Principal, page: Page | None = None) -> list[CheckinView]:
    """A page of the last four weeks' check-ins, the latest synced first, with their follow-ups."""
    require(who, "wellbeing.details")
    page = page or Page()
    since = datetime.now(UTC) - 4 * WINDOW
    rows = await page.rows(session, _checkins(who, since).order_by(Entry.id))
    followups = await _followups(session, who, since, [e.id for e, *_ in rows]) if rows else {}
    return [_view(entry, site, person, followups) for entry, site, person in rows]


async def add_followup(
    session: AsyncSession, who: Principal, checkin_id: str, note: str, next_step: str, clock: ServerClock, now: int
) -> Entry:
    """A care follow-up is an entry of its own, linked to the check-in, pulled by the worker."""
    require(who, "followups.write")
    checkin = await session.scalar(
        select(Entry).join(Site, Site.id == Entry.site_id)
        .where(Entry.id == checkin_id, Entry.kind == "checkin", visible_sites(who))
    )
    if checkin is None:
        raise StaffEditError([FieldError("checkin", "gone", "no such check-in in your township")])
    if not note.strip():
        raise StaffEditError([FieldError("note", "required", "write what was done or agreed")])
    fields = {"site": checkin.site_id, "checkin": checkin.id, "at": now, "note": note.strip(), "next_step": next_step.strip()}
    return await staff_create(session, "followup", fields, who, checkin.subject_id, clock, now,
                              list(checkin.stamps.values()))


DETAILS_HEADER = ["站点 Site", "姓名 Name", "时间 Time", "类型 Type", "疲劳 Fatigue (1-5)", "睡眠(小时) Sleep hours",
                  "心情 Mood (1-5)", "按时就餐 Ate", "有休息场所 Rested", "希望有人聊聊 Wants to talk", "备注 Note",
                  "回访 Follow-ups"]
_TYPES = {"checkin": "打卡 check-in", "injury": "工作中受伤 injury", "exposure": "职业暴露 exposure"}


def _answer(value: object) -> object:
    """A question left unanswered stays blank, never 否 (as on the page)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def details_rows(maker: async_sessionmaker[AsyncSession], who: Principal, when) -> AsyncIterator[list]:
    """The care page's check-ins (the last four weeks) as CSV rows, read in keyset batches as
    the download goes: care staff only."""
    require(who, "wellbeing.details")
    since = datetime.now(UTC) - 4 * WINDOW

    async def rows() -> AsyncIterator[list]:
        yield DETAILS_HEADER
        async with maker() as session:
            followups = await _followups(session, who, since)
        found = batches(maker, _checkins(who, since), lambda row: Entry.seq < row[0].seq)
        async for entry, site, person in found:
            yield _details_row(_view(entry, site, person, followups), when)

    return rows()


def _details_row(c: CheckinView, when) -> list[object]:
    f = c.fields
    kind = (f.get("injury_kind") or "exposure") if f.get("type") == "injury" else "checkin"
    followups = "\n".join(f"{when(u.get('at'))} {u.get('note', '')}"
                          + (f" → {u['next_step']}" if u.get("next_step") else "") for u in c.followups)
    return [c.site, c.person, when(c.at), _TYPES[kind], _answer(f.get("fatigue")), _answer(f.get("sleep_hours")),
            _answer(f.get("mood")), _answer(f.get("ate")), _answer(f.get("rested")), "是" if f.get("talk") else "",
            f.get("note", ""), followups]
