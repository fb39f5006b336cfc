"""Edits made by township staff: resolving conflicts, approving shifts (§6 M4, M7).

A staff edit is a change like any other: stamped by the server's clock, based on the current
stamps, merged by `sync.merge`, logged, and given a new seq so the phones pull it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Conflict, Device, Entry, Person, Site
from server.policy import Principal, conflict_kinds, require, visible_sites
from server.services.clock_correction import TIME_SUSPECT
from server.services.conflict_values import ValueInput, parse_value, value_input
from server.services.paging import Page
from server.services.server_changes import REVIEW_AGAIN, STAFF_TIMES, server_change, times_moved
from server.services.server_clock import ServerClock
from server.services.sync_sequence import assign_seq
from sync.entries import KINDS, FieldError, check_entry, check_fields
from sync.merge import DELETED, Edit, State, merge


class StaffEditError(Exception):
    """An edit the rules refuse as things stand (a 409): the shift is still on duty, say."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors


class BadInput(StaffEditError):
    """What staff typed is wrong whatever the state (a 400): a missing reason, a bad value."""


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
    if times_moved(kind, entry.stamps, outcome.state.stamps):
        entry.flags = sorted({*entry.flags, STAFF_TIMES})  # the phone shows who set its times
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


@dataclass(frozen=True)
class NewValue:
    """M4's other resolution: a value staff type, read in the deployment's time zone."""

    text: str
    timezone: str


async def resolve_conflict(
    session: AsyncSession, conflict_id: int, choice: int | NewValue, who: Principal, clock: ServerClock,
    now: int,
) -> Conflict:
    """Keep candidate `choice` of an open conflict, or set a new value (§6 M4); either way the
    server's change supersedes every candidate, and the phones pull it."""
    require(who, "conflicts.resolve")
    conflict = await session.scalar(
        select(Conflict).join(Entry, Entry.id == Conflict.entry_id).join(Site, Site.id == Entry.site_id)
        .where(Conflict.id == conflict_id, visible_sites(who), Entry.kind.in_(conflict_kinds(who)))
        .with_for_update(of=Conflict)
    )
    if conflict is None or conflict.resolved_at is not None:
        raise StaffEditError([FieldError("conflict", "gone", "this conflict is already resolved")])
    entry = await session.get(Entry, conflict.entry_id, with_for_update=True)
    if isinstance(choice, NewValue):
        value = _new_value(entry, conflict.field, choice, now)
        try:
            await staff_edit(session, entry, {conflict.field: value}, who, clock, now)
        except StaffEditError as err:  # the kind's schema refused what was typed
            raise BadInput(err.errors) from None
    elif not 0 <= choice < len(conflict.candidates):
        raise BadInput([FieldError("choice", "invalid", "choose one of the candidates")])
    else:
        kept = conflict.candidates[choice]["value"]
        await staff_edit(session, entry, {conflict.field: kept}, who, clock, now)
    conflict.resolved_at = datetime.fromtimestamp(now / 1000, UTC)
    conflict.resolved_by = who.person_id
    return conflict


def _new_value(entry: Entry, name: str, typed: NewValue, now: int) -> Any:
    value, errors = parse_value(entry.kind, name, typed.text, typed.timezone)
    if not errors and name in KINDS[entry.kind].time_fields and isinstance(value, int) and value > now:
        errors = [FieldError(name, "in_future", "this time is later than now")]
    if errors:
        raise BadInput(errors)
    return value


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
    if decision == "returned" and not note.strip():
        # The worker reads it on the phone: a shift returned without a reason cannot be fixed.
        raise BadInput([FieldError("note", "required", "say why the shift is returned")])
    entry = await _shift(session, who, entry_id)
    if decision == "approved" and entry.fields.get("end") is None:
        raise StaffEditError([FieldError("end", "required", "a shift still on duty cannot be approved yet")])
    # approval_note is a staff-only field (bounded like any text, sync/entries.py): the
    # phone pulls it with the decision. Approving clears a former reason.
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
    stamp: str  # when it was made: its wall time, in the deployment's zone on the card
    device: str
    person: str
    phone: str  # the label staff gave the phone, else a short id; the dashboard for staff's own


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
    what: list[tuple[str, Any]] = field(default_factory=list)  # which entry: its post, item, movement…
    base: dict[str, Any] | None = None  # {"stamp", "value"} both started from; None: not recorded
    new_value: ValueInput | None = None  # how to type a new value, or None: keep a candidate only


# What names an entry on a card, per kind (the conflicting field itself aside).
SUMMARY = {
    "shift": ("post", "start", "end"),
    "supply": ("item", "unit", "movement", "quantity"),
    "request": ("item", "unit", "quantity", "status"),
    "checkin": ("type", "at"),
    "followup": ("at",),
}
SERVER_PHONE = "镇街工作台 Dashboard"


def phone_label(device_id: str, label: str | None) -> str:
    """A phone as staff know it: the label they gave it, or the end of its id."""
    return label or f"手机 Phone …{device_id[-4:]}"


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
    candidates = [c for conflict, *_ in rows for c in conflict.candidates]
    phones = {
        device: (label, person)
        for device, label, person in await session.execute(
            select(Device.id, Device.label, Person.name).join(Person, Person.id == Device.person_id)
            .where(Device.id.in_({c["device"] for c in candidates}))
        )
    } if candidates else {}
    authors = dict(
        (await session.execute(
            select(Person.id, Person.name).where(Person.id.in_({c.get("author") for c in candidates}))
        )).all()
    ) if candidates else {}
    views = []
    for conflict, entry, author, site in rows:
        current = entry.deleted if conflict.field == DELETED else entry.fields.get(conflict.field)
        views.append(ConflictView(
            conflict.id, entry.id, entry.kind, conflict.field, site or entry.site_id, author, current,
            [_candidate(i, c, phones, authors) for i, c in enumerate(conflict.candidates)],
            what=[(n, entry.fields[n]) for n in SUMMARY.get(entry.kind, ())
                  if n != conflict.field and n in entry.fields],
            base=conflict.base,
            new_value=value_input(entry.kind, conflict.field),
        ))
    return views


def _candidate(index: int, c: dict[str, Any], phones: dict, authors: dict[str, str]) -> CandidateView:
    device = c["device"]
    if device in phones:
        label, owner = phones[device]
        phone = phone_label(device, label)
    else:  # the server's own node: a staff edit
        phone, owner = SERVER_PHONE, "镇街工作人员 Staff"
    return CandidateView(index, c["value"], c["stamp"], device, authors.get(c.get("author"), owner), phone)
