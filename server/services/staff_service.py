"""Edits made by township staff: resolving conflicts, approving shifts (§6 M4, M7).

A staff edit is a change like any other: stamped by the server's clock, based on the current
stamps, merged by `sync.merge`, logged, and given a new seq so the phones pull it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Conflict, Device, Entry, Person, Site
from server.policy import Principal, conflict_kinds, require, visible_sites
from server.services.clock_correction import TIME_SUSPECT
from server.services.paging import Page
from server.services.server_clock import ServerClock
from server.services.sync_service import REVIEW_AGAIN, assign_seq, server_change
from sync.entries import KINDS, FieldError, check_entry, check_fields
from sync.merge import DELETED, Edit, State, merge


class StaffEditError(Exception):
    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors


async def staff_edit(
    session: AsyncSession, entry: Entry, fields: dict[str, Any], who: Principal, clock: ServerClock, now: int
) -> None:
    kind = KINDS[entry.kind]
    errors = check_fields(kind, kind.current, {k: v for k, v in fields.items() if k != DELETED})
    if errors:
        raise StaffEditError(errors)
    stamp = clock.stamp(now, list(entry.stamps.values()))
    edit = Edit(op="put", stamp=stamp, fields=fields, base={name: entry.stamps.get(name) for name in fields})
    outcome = merge(State(fields=entry.fields, stamps=entry.stamps, deleted=entry.deleted), edit)
    if not outcome.state.deleted:
        errors = check_entry(kind, outcome.state.fields)
        if errors:
            raise StaffEditError(errors)
    moment = datetime.fromtimestamp(now / 1000, UTC)
    entry.fields, entry.stamps, entry.deleted = outcome.state.fields, outcome.state.stamps, outcome.state.deleted
    entry.updated_at = moment
    session.add(server_change(clock, entry.id, stamp, moment, {"by": who.person_id, "fields": fields}))
    await assign_seq(session, [entry])


async def staff_create(
    session: AsyncSession, kind_name: str, fields: dict[str, Any], who: Principal, subject_id: str,
    clock: ServerClock, now: int, seen: list[str] = (),
) -> Entry:
    """A new entry written by staff (a care follow-up): the same field checks, bounds and change
    record as `staff_edit`, on an entry of its own, stamped after every stamp in `seen`."""
    kind = KINDS[kind_name]
    errors = check_fields(kind, kind.current, fields) or check_entry(kind, fields)
    if errors:
        raise StaffEditError(errors)
    stamp = clock.stamp(now, list(seen))
    moment = datetime.fromtimestamp(now / 1000, UTC)
    entry = Entry(
        id=str(uuid.uuid4()), kind=kind.name, schema=kind.current, site_id=fields["site"],
        author_id=who.person_id,
        subject_id=subject_id, device_id=clock.node, fields=fields, stamps={name: stamp for name in fields},
        deleted=False, flags=[], device_times={}, seq=0, created_at=moment, updated_at=moment,
    )
    session.add(entry)
    session.add(server_change(clock, entry.id, stamp, moment, {"by": who.person_id, "fields": fields}))
    await assign_seq(session, [entry])
    return entry


async def resolve_conflict(
    session: AsyncSession, conflict_id: int, choice: int, who: Principal, clock: ServerClock, now: int
) -> Conflict:
    """Keep candidate `choice` of an open conflict; the choice supersedes every candidate."""
    require(who, "conflicts.resolve")
    conflict = await session.scalar(
        select(Conflict).join(Entry, Entry.id == Conflict.entry_id).join(Site, Site.id == Entry.site_id)
        .where(Conflict.id == conflict_id, visible_sites(who), Entry.kind.in_(conflict_kinds(who)))
        .with_for_update(of=Conflict)
    )
    if conflict is None or conflict.resolved_at is not None:
        raise StaffEditError([FieldError("conflict", "gone", "this conflict is already resolved")])
    if not 0 <= choice < len(conflict.candidates):
        raise StaffEditError([FieldError("choice", "invalid", "choose one of the candidates")])
    entry = await session.get(Entry, conflict.entry_id, with_for_update=True)
    await staff_edit(session, entry, {conflict.field: conflict.candidates[choice]["value"]}, who, clock, now)
    conflict.resolved_at = datetime.fromtimestamp(now / 1000, UTC)
    conflict.resolved_by = who.person_id
    return conflict


APPROVALS = {"approved", "returned"}


async def _shift(session: AsyncSession, who: Principal, entry_id: str) -> Entry:
    entry = await session.scalar(
        select(Entry).join(Site, Site.id == Entry.site_id)
        .where(Entry.id == entry_id, Entry.kind == "shift", visible_sites(who)).with_for_update(of=Entry)
    )
    if entry is None:
        raise StaffEditError([FieldError("entry", "gone", "no such shift in your township")])
    return entry


async def approve_shift(
    session: AsyncSession, who: Principal, entry_id: str, decision: str, note: str, clock: ServerClock, now: int
) -> Entry:
    require(who, "shifts.approve")
    if decision not in APPROVALS:
        raise StaffEditError([FieldError("decision", "invalid", "approve or return the shift")])
    entry = await _shift(session, who, entry_id)
    if decision == "approved" and entry.fields.get("end") is None:
        raise StaffEditError([FieldError("end", "required", "a shift still on duty cannot be approved yet")])
    await staff_edit(session, entry, {"approval": decision, "approval_note": note.strip()}, who, clock, now)
    entry.flags = [f for f in entry.flags if f != REVIEW_AGAIN]  # reviewed: approved or returned
    return entry


async def fix_shift_times(
    session: AsyncSession, who: Principal, entry_id: str, start: int, end: int | None, clock: ServerClock, now: int
) -> Entry:
    """§7 K3: staff put a shift's times right. A staff edit (fresh server stamp), so every phone
    pulls it; the phone's own times stay in `device_times`, and the time flag is cleared."""
    require(who, "shifts.approve")
    entry = await _shift(session, who, entry_id)
    future = [name for name, value in (("start", start), ("end", end)) if value is not None and value > now]
    if future:
        raise StaffEditError([FieldError(name, "in_future", "this time is later than now") for name in future])
    # A blank end leaves the end as it is: it never puts an ended shift back on duty.
    wanted = {"start": start} if end is None else {"start": start, "end": end}
    changed = {name: value for name, value in wanted.items() if entry.fields.get(name) != value}
    phone_values = {name: entry.fields.get(name) for name in changed if name not in (entry.device_times or {})}
    if changed:
        await staff_edit(session, entry, changed, who, clock, now)  # checked before anything changes
    entry.device_times = {**(entry.device_times or {}), **phone_values}
    entry.flags = [f for f in entry.flags if f != TIME_SUSPECT]
    if not changed:  # confirmed as they are: only the flag goes, and phones pull that
        await assign_seq(session, [entry])
    return entry


@dataclass
class CandidateView:
    index: int
    value: Any
    stamp: str
    device: str
    person: str


@dataclass
class ConflictView:
    id: int
    entry_id: str
    kind: str
    field: str
    site: str
    author: str
    current: Any
    candidates: list[CandidateView]


async def others_open_conflicts(session: AsyncSession, who: Principal) -> int:
    """How many open conflicts in `who`'s sites are for someone else's role (a count only)."""
    require(who, "conflicts.read")
    return await session.scalar(
        select(func.count()).select_from(Conflict).join(Entry, Entry.id == Conflict.entry_id)
        .join(Site, Site.id == Entry.site_id)
        .where(Conflict.resolved_at.is_(None), visible_sites(who), Entry.kind.not_in(conflict_kinds(who)))
    ) or 0


async def open_conflict_views(session: AsyncSession, who: Principal, page: Page | None = None) -> list[ConflictView]:
    """A page of the open conflicts `who` resolves, the oldest first."""
    require(who, "conflicts.read")
    rows = await (page or Page()).rows(
        session,
        select(Conflict, Entry, Person.name, Site.name)
        .join(Entry, Entry.id == Conflict.entry_id)
        .join(Person, Person.id == Entry.author_id)
        .join(Site, Site.id == Entry.site_id)
        .where(Conflict.resolved_at.is_(None), visible_sites(who), Entry.kind.in_(conflict_kinds(who)))
        .order_by(Conflict.opened_at, Conflict.id),
    )
    devices = {c["device"] for conflict, *_ in rows for c in conflict.candidates}
    names = dict(
        (
            await session.execute(
                select(Device.id, Person.name).join(Person, Person.id == Device.person_id).where(Device.id.in_(devices))
            )
        ).all()
    ) if devices else {}
    views = []
    for conflict, entry, author, site in rows:
        current = entry.deleted if conflict.field == DELETED else entry.fields.get(conflict.field)
        candidates = [
            CandidateView(i, c["value"], c["stamp"], c["device"], names.get(c["device"], c["device"]))
            for i, c in enumerate(conflict.candidates)
        ]
        views.append(
            ConflictView(conflict.id, entry.id, entry.kind, conflict.field, site or entry.site_id, author, current, candidates)
        )
    return views
