"""Wellbeing on the dashboard: counts for staff, details for care staff only (docs/roles.md).

Each function asks the policy itself (`require`), whoever calls it; the queries are scoped to
the sites the person may see. A follow-up is written through the staff-edit path
(`staff_service.staff_create`): field checks, length bounds and a change record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Entry, Person, Site
from server.policy import Principal, require, visible_sites
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


async def _recent(session: AsyncSession, who: Principal, since: datetime):
    return (
        await session.execute(
            select(Entry, Site.name, Person.name)
            .join(Site, Site.id == Entry.site_id)
            .join(Person, Person.id == Entry.subject_id)
            .where(Entry.kind.in_(["checkin", "followup"]), Entry.deleted.is_(False), visible_sites(who))
            .where(Entry.updated_at >= since)
            .order_by(Entry.seq.desc())
        )
    ).all()


async def counts_by_site(session: AsyncSession, who: Principal) -> list[SiteCounts]:
    require(who, "wellbeing.counts")
    counts: dict[str, SiteCounts] = {}
    for entry, site, _ in await _recent(session, who, datetime.now(UTC) - WINDOW):
        if entry.kind != "checkin":
            continue
        c = counts.setdefault(site, SiteCounts(site))
        f = entry.fields
        if f.get("type") == "injury":
            c.injuries += 1
            continue
        c.checkins += 1
        c.tired += (f.get("fatigue") or 0) >= 4 or (f.get("sleep_hours") if f.get("sleep_hours") is not None else 8) < 5
        c.want_to_talk += bool(f.get("talk"))
    return sorted(counts.values(), key=lambda c: c.site)


async def details(session: AsyncSession, who: Principal) -> list[CheckinView]:
    require(who, "wellbeing.details")
    rows = await _recent(session, who, datetime.now(UTC) - 4 * WINDOW)
    checkins = {
        e.id: CheckinView(e.id, person, site, e.fields.get("at", 0), e.fields, by_sms="sms" in e.flags)
        for e, site, person in rows
        if e.kind == "checkin"
    }
    for entry, _, _ in rows:
        if entry.kind == "followup" and entry.fields.get("checkin") in checkins:
            checkins[entry.fields["checkin"]].followups.append(entry.fields)
    return sorted(checkins.values(), key=lambda c: c.at, reverse=True)


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


async def details_rows(session: AsyncSession, who: Principal, when) -> list[list[object]]:
    """The care page's check-ins (the last four weeks) as CSV rows: care staff only."""
    rows: list[list[object]] = [DETAILS_HEADER]
    for c in await details(session, who):
        f = c.fields
        kind = (f.get("injury_kind") or "exposure") if f.get("type") == "injury" else "checkin"
        followups = "\n".join(f"{when(u.get('at'))} {u.get('note', '')}"
                              + (f" → {u['next_step']}" if u.get("next_step") else "") for u in c.followups)
        rows.append([c.site, c.person, when(c.at), _TYPES[kind], _answer(f.get("fatigue")),
                     _answer(f.get("sleep_hours")), _answer(f.get("mood")), _answer(f.get("ate")),
                     _answer(f.get("rested")), "是" if f.get("talk") else "", f.get("note", ""), followups])
    return rows
