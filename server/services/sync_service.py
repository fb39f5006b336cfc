"""POST /api/sync on the server: push a batch, then pull a page (docs/sync-protocol.md §5).

The merge itself is `sync.merge` (pure); this module loads and stores around it. Comments cite
the steps of the spec.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import Select, and_, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from server import db
from server.models import ChangeLog, Conflict, Device, Entry, Site, SyncCounter
from server.policy import NOT_YOURS, Principal, device_scope, device_write_errors
from server.services import stock_levels, test_hooks
from server.services.clock_correction import CLOCK_CORRECTED, TIME_SUSPECT, Correction, suspect_times
from server.services.server_clock import ServerClock
from sync import ledger
from sync.clock import parse
from sync.entries import KINDS, FieldError, check_entry, check_fields, upgrade
from sync.merge import Edit, State, merge
from sync.protocol import (
    Candidate,
    Change,
    Result,
    SyncRequest,
    SyncResponse,
    change_decoder,
    error_path,
)
from sync.protocol import Entry as WireEntry

RETRIES = 3
CHANGE_ID_TAKEN = FieldError("id", "taken", "this change id cannot be used; make the change again")
REVIEW_AGAIN = "review_again"  # an approved shift's times changed on the phone (§6 M8)
_peek = msgspec.json.Decoder(dict)


def _rejected(change_id: str, *errors: FieldError) -> Result:
    return Result(id=change_id, status="rejected", errors=list(errors))


def _peek_id(raw: msgspec.Raw) -> str:
    try:
        value = _peek.decode(raw).get("id")
    except (msgspec.DecodeError, RecursionError):
        return ""
    return value if isinstance(value, str) else ""


class Push:
    """One batch of changes from one device, applied inside one transaction (S1-S8)."""

    def __init__(
        self, session: AsyncSession, who: Principal, correction: Correction, clock: ServerClock, device: Device
    ) -> None:
        self.session = session
        self.who = who
        self.correction = correction
        self.clock = clock
        self.now = datetime.fromtimestamp(correction.now / 1000, UTC)
        self.enrolled = _millis(device.created_at)
        self.touched: dict[str, Entry] = {}

    async def apply(self, index: int, raw: msgspec.Raw) -> Result:
        try:  # S2
            change = change_decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError) as err:
            path, reason = error_path(err) if isinstance(err, msgspec.ValidationError) else ("$", str(err))
            return _rejected(_peek_id(raw), FieldError(f"$.changes[{index}]{path[1:]}", "invalid", reason))
        seen = await self._claim(change, raw)  # S3
        if seen is not None:
            return seen
        result = await self._decide(change)
        await self.session.execute(
            update(ChangeLog).where(ChangeLog.id == change.id).values(result=msgspec.to_builtins(result))
        )
        return result

    async def _claim(self, change: Change, raw: msgspec.Raw) -> Result | None:
        """Record the change id, or answer a change id already recorded: with its first result
        if this device sent it, and with nothing of another device's result if not."""
        dialect = self.session.bind.dialect.name
        insert = (postgresql if dialect == "postgresql" else sqlite).insert
        claimed = await self.session.execute(
            insert(ChangeLog)
            .values(
                id=change.id,
                device_id=self.who.device_id,
                entry_id=change.entry,
                body=bytes(raw).decode(),
                result={},
                received_at=self.now,
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )
        if claimed.rowcount == 1:
            return None
        stored, device = (
            await self.session.execute(
                select(ChangeLog.result, ChangeLog.device_id).where(ChangeLog.id == change.id)
            )
        ).one()
        if device != self.who.device_id and not await self._same_person(device):
            return _rejected(change.id, CHANGE_ID_TAKEN)
        first = msgspec.convert(stored, Result)
        return Result(
            id=change.id, status="duplicate", first=first.status, errors=first.errors, stamp=first.stamp
        )

    async def _same_person(self, device_id: str | None) -> bool:
        """A change recorded from another phone of the same person (re-enrolled after a lost
        answer, or an export imported) is that person's own: a duplicate, never "taken"."""
        person = await self.session.scalar(select(Device.person_id).where(Device.id == device_id))
        return person == self.who.person_id

    async def _entry(self, entry_id: str) -> Entry | None:
        if entry_id in self.touched:
            return self.touched[entry_id]
        return await self.session.get(Entry, entry_id, with_for_update=True)

    async def _site(self, site_id: Any) -> Site | None:
        return await self.session.get(Site, site_id) if isinstance(site_id, str) else None

    async def _decide(self, change: Change) -> Result:
        kind = KINDS.get(change.kind)
        if kind is None:
            return _rejected(change.id, FieldError("kind", "unknown_kind", f"unknown kind {change.kind!r}"))
        if change.schema not in kind.versions:
            return _rejected(
                change.id, FieldError("schema", "schema", f"{kind.name} has no schema {change.schema}")
            )
        errors = check_fields(kind, change.schema, change.fields)
        fields, base = upgrade(kind, change.schema, change.fields, change.base)  # S4
        row = await self._entry(change.entry)
        to_site = await self._site(fields.get("to_site"))
        errors += device_write_errors(self.who, kind, change.op, fields, row, to_site)
        if row is None and change.op == "delete":
            errors.append(NOT_YOURS)
        if errors:
            return _rejected(change.id, *errors)

        stamp = self.correction.stamp(change.stamp)  # S5
        fields, device_times = self.correction.times(kind, fields)
        errors = self.correction.future_errors(kind, fields)
        if errors:
            return _rejected(change.id, *errors)
        suspect = suspect_times(kind, fields, stamp, self.enrolled)
        current = None if row is None else State(fields=row.fields, stamps=row.stamps, deleted=row.deleted)
        outcome = merge(current, Edit(op=change.op, stamp=stamp, fields=fields, base=base))  # S6
        if not outcome.state.deleted:
            errors = check_entry(kind, outcome.state.fields)
            if errors:
                return _rejected(change.id, *errors)
        conflicts = dict(outcome.conflicts)
        if kind.name == "supply" and row is None and fields.get("movement") == "stocktake":
            conflicts.update(await self._stocktake_conflict(change.entry, fields, stamp))

        flags = set() if row is None else set(row.flags)
        if device_times or stamp != change.stamp:
            flags.add(CLOCK_CORRECTED)
        if suspect:
            flags.add(TIME_SUSPECT)
        if _pay_changed_after_approval(row, outcome.state):
            self._send_back_to_review(change, outcome.state)
            flags.add(REVIEW_AGAIN)
        self._store(change, row, outcome.state, sorted(flags), device_times)  # S7
        await self._record_conflicts(change.entry, conflicts)
        return Result(id=change.id, status="conflict" if conflicts else "applied", stamp=stamp)

    def _send_back_to_review(self, change: Change, state: State) -> None:
        """M8: the server, not the phone, sets the approval back to pending, with its own stamp
        (a server change like a staff edit), and logs it after the change that caused it."""
        stamp = self.clock.stamp(self.correction.now, list(state.stamps.values()))
        review = {"approval": "pending"}
        for name, value in review.items():
            state.fields[name], state.stamps[name] = value, stamp
        self.session.add(
            server_change(self.clock, change.entry, stamp, self.now, {"by": "server", "after": change.id, "fields": review})
        )

    async def _stocktake_conflict(self, entry_id: str, fields: dict[str, Any], stamp: str) -> dict:
        """M6: two stocktakes of one item at one site, neither knowing the other."""
        latest = next(
            (  # counts earlier in this batch are the latest: their seq is only given at the end
                row for row in reversed(self.touched.values())
                if row.kind == "supply" and not row.deleted and row.id != entry_id
                and row.fields.get("movement") == "stocktake"
                and row.site_id == fields["site"] and row.fields.get("item") == fields["item"]
            ),
            None,
        ) or await self.session.scalar(
            select(Entry)
            .where(Entry.kind == "supply", Entry.site_id == fields["site"], Entry.deleted.is_(False))
            .where(Entry.fields["item"].as_string() == fields["item"])
            .where(Entry.fields["movement"].as_string() == "stocktake")
            .where(Entry.id != entry_id)
            .order_by(Entry.seq.desc())
            .limit(1)
        )
        if latest is None or not ledger.concurrent_stocktake(fields, latest.id, latest.fields):
            return {}
        theirs = latest.stamps["quantity"]
        return {
            "quantity": [
                Candidate(value=latest.fields["quantity"], stamp=theirs, device=latest.device_id),
                Candidate(value=fields["quantity"], stamp=stamp, device=self.who.device_id or ""),
            ]
        }

    def _store(
        self, change: Change, row: Entry | None, state: State, flags: list[str], device_times: dict[str, Any]
    ) -> None:
        if row is None:
            row = Entry(
                id=change.entry,
                kind=change.kind,
                author_id=self.who.person_id,
                subject_id=self.who.person_id,
                device_id=self.who.device_id,
                created_at=self._made_at(state),
                seq=0,
            )
            self.session.add(row)
        row.schema = KINDS[change.kind].current
        row.site_id = state.fields.get("site", row.site_id)
        row.fields, row.stamps, row.deleted = state.fields, state.stamps, state.deleted
        row.flags = flags
        row.device_times = {**(row.device_times or {}), **device_times}
        row.updated_at = self.now
        self.touched[change.entry] = row

    def _made_at(self, state: State) -> datetime:
        """When an entry was made: its creating change's stamp (corrected, §7), not when it
        arrived. A check-in written offline before another phone was enrolled stays off that
        phone however late it syncs (docs/roles.md, "A new phone and wellbeing")."""
        wall = min((parse(stamp).wall for stamp in state.stamps.values()), default=self.correction.now)
        return min(self.now, datetime.fromtimestamp(wall / 1000, UTC))

    async def _record_conflicts(self, entry_id: str, conflicts: dict[str, list[Candidate]]) -> None:
        """M3: one open conflict per entry and field, gathering every candidate."""
        for name, candidates in conflicts.items():
            found = await self.session.scalar(
                select(Conflict).where(
                    Conflict.entry_id == entry_id, Conflict.field == name, Conflict.resolved_at.is_(None)
                )
            )
            new = [{**msgspec.to_builtins(c), "author": await self._author(c.device)} for c in candidates]
            if found is None:
                self.session.add(Conflict(entry_id=entry_id, field=name, candidates=new, opened_at=self.now))
            else:
                seen = {c["stamp"] for c in found.candidates}
                found.candidates = found.candidates + [c for c in new if c["stamp"] not in seen]

    async def _author(self, device_id: str) -> str:
        """Who wrote a candidate: the device's person, or "staff" for the server's own node."""
        if device_id == self.who.device_id:
            return self.who.person_id
        person = await self.session.scalar(select(Device.person_id).where(Device.id == device_id))
        return person or "staff"

    async def finish(self) -> None:
        """S8: give every touched entry the next seq values, holding the counter lock to commit."""
        await assign_seq(self.session, list(self.touched.values()))


def server_change(clock: ServerClock, entry_id: str, stamp: str, moment: datetime, body: dict) -> ChangeLog:
    """The record of a change the server made itself (a staff edit, a follow-up, a send-back to
    review): logged like a phone's, under the server's node, applied with its stamp."""
    return ChangeLog(
        id=str(uuid.uuid4()),
        device_id=clock.node,
        entry_id=entry_id,
        body=msgspec.json.encode({**body, "stamp": stamp}).decode(),
        result={"status": "applied", "stamp": stamp},
        received_at=moment,
    )


async def assign_seq(session: AsyncSession, rows: list[Entry]) -> None:
    """§5.1: take the next seq values last, so the counter's row lock is held only to commit."""
    await session.flush()
    if not rows:
        return
    top = await session.scalar(
        update(SyncCounter)
        .where(SyncCounter.id == 1)
        .values(value=SyncCounter.value + len(rows))
        .returning(SyncCounter.value)
    )
    for seq, row in enumerate(rows, start=top - len(rows) + 1):
        row.seq = seq
    await session.flush()
    await stock_levels.refresh(session, rows)  # under the counter's lock: writers take turns


def _millis(moment: datetime) -> int:
    if moment.tzinfo is None:  # SQLite gives naive datetimes back; they were stored in UTC
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


PAID_FIELDS = ("start", "end", "kind")  # what the subsidy sheet pays by: hours and the rate's kind


def _pay_changed_after_approval(row: Entry | None, state: State) -> bool:
    """M8: a device edit changed what an approved shift is paid by (its times or its kind)."""
    if row is None or row.kind != "shift" or row.fields.get("approval") != "approved" or state.deleted:
        return False
    return any(state.fields.get(name) != row.fields.get(name) for name in PAID_FIELDS)


async def push(
    session: AsyncSession, who: Principal, request: SyncRequest, correction: Correction, clock: ServerClock
) -> list[Result]:
    device = await session.get(Device, who.device_id)
    batch = Push(session, who, correction, clock, device)
    results = [await batch.apply(i, raw) for i, raw in enumerate(request.changes)]
    await batch.finish()
    await session.execute(
        update(Device)
        .where(Device.id == who.device_id)
        .values(clock_offset_ms=correction.offset, last_sync_at=batch.now, app_version=request.app or None)
    )
    return results


async def pull(session: AsyncSession, who: Principal, cursor: int, limit: int) -> tuple[list[WireEntry], str, bool]:
    """§5.1: entries after the cursor up to the committed counter, in seq order."""
    high = await session.scalar(select(SyncCounter.value).where(SyncCounter.id == 1))
    statement = pull_statement(who, cursor, high, limit + 1, session.bind.dialect.name)
    rows = (await session.scalars(statement)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    open_fields = await open_conflicts(session, [r.id for r in rows])
    entries = [to_wire(r, open_fields.get(r.id, [])) for r in rows]
    return entries, f"{rows[-1].seq if more else high}.{scope_of(who)}", more


def pull_statement(who: Principal, cursor: int, high: int, limit: int, dialect: str) -> Select:
    """The first `limit` entries of `who`'s scope in (cursor, high], by seq: each part of the
    scope read as an index range on seq, the parts merged in seq order, nothing sorted.

    SQLite merges a compound `ORDER BY seq LIMIT` by reading each part in index order, but
    would sort a limited subquery's rows again. PostgreSQL needs the limit inside each part to
    prefer that ordered index scan (a Merge Append) to a bitmap scan of all of it and a sort."""
    window = and_(Entry.seq > cursor, Entry.seq <= high)
    parts = [select(Entry).where(part, window) for part in device_scope(who)]
    if dialect == "postgresql":
        parts = [select(part.order_by(Entry.seq).limit(limit).subquery()) for part in parts]
    merged = union_all(*parts).subquery()
    return select(aliased(Entry, merged)).order_by(merged.c.seq).limit(limit)


def scope_of(who: Principal) -> str:
    """What a phone's pulls are scoped to (its person's site), as 8 hex digits in its cursor.
    The phone holds it, so a reset follows from what the phone has, even when the answer that
    said `reset` was lost (§4)."""
    return hashlib.sha256(f"site:{who.site_id or ''}".encode()).hexdigest()[:8]


def pull_from(cursor: str, who: Principal) -> int | None:
    """The seq to pull after, or None when the phone must reset: its cursor is of another
    scope (the person moved site) or of an app that did not write the scope."""
    if cursor == "0":
        return 0
    seq, _, scope = cursor.partition(".")
    return int(seq) if scope == scope_of(who) else None


async def open_conflicts(session: AsyncSession, entry_ids: list[str]) -> dict[str, list[str]]:
    if not entry_ids:
        return {}
    found: dict[str, list[str]] = {}
    rows = await session.execute(
        select(Conflict.entry_id, Conflict.field).where(
            Conflict.entry_id.in_(entry_ids), Conflict.resolved_at.is_(None)
        )
    )
    for entry_id, name in rows:
        found.setdefault(entry_id, []).append(name)
    return found


def to_wire(row: Entry, conflicts: list[str]) -> WireEntry:
    return WireEntry(
        id=row.id,
        kind=row.kind,
        schema=row.schema,
        site=row.site_id,
        author=row.author_id,
        device=row.device_id,
        fields=row.fields,
        stamps=row.stamps,
        seq=row.seq,
        deleted=row.deleted,
        conflicts=sorted(conflicts),
        flags=row.flags,
    )


async def run(
    maker: async_sessionmaker[AsyncSession],
    who: Principal,
    request: SyncRequest,
    correction: Correction,
    clock: ServerClock,
) -> SyncResponse:
    """Push in one transaction (retried whole on a deadlock or busy), then pull in a read."""
    for attempt in range(RETRIES):
        try:
            async with maker.begin() as session:
                results = await push(session, who, request, correction, clock)
                test_hooks.pause_at("before_commit", bool(request.changes))
            break
        except DBAPIError as err:
            if attempt == RETRIES - 1 or not _retryable(err):
                raise
    test_hooks.pause_at("after_commit", bool(request.changes))
    # A cursor of another scope (the person moved site) starts the pull over, and says so, so
    # the phone drops what it may no longer see (it keeps its outbox).
    after = pull_from(request.cursor, who)
    async with maker() as session:  # a read: on SQLite it does not queue behind the writers
        entries, cursor, more = await pull(session, who, after or 0, request.limit)
    reset = after is None
    return SyncResponse(
        results=results,
        entries=entries,
        cursor=cursor,
        more=more,
        server_time=correction.now,
        clock_offset=correction.offset,
        reset=reset,
    )


def _retryable(err: DBAPIError) -> bool:
    # A PostgreSQL deadlock or serialisation failure, or SQLite busy: the whole batch rolled back.
    return db.retryable(err)
