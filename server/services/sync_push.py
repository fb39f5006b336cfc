"""Pushing (docs/sync-protocol.md §5, S1-S8): a batch of changes from one device, applied in
the caller's transaction. The merge itself is `sync.merge` (pure); this module loads and stores
around it. Comments cite the steps of the spec.

The batch is set-based: its change ids are claimed in one statement, every entry it touches is
read in one, the changes are decided in memory in batch order, and the results, conflicts and
entries are written in bulk at the end, each entry once and with its seq.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from server import bulk
from server.models import ChangeLog, Conflict, Device, Entry, Site, derived_columns
from server.policy import NOT_YOURS, Principal, device_write_errors
from server.services.clock_correction import CLOCK_CORRECTED, TIME_SUSPECT, Correction, suspect_times
from server.services.conflict_base import stocktake_base, value_at
from server.services.server_changes import REVIEW_AGAIN, STAFF_TIMES, server_change_row, times_moved
from server.services.server_clock import ServerClock
from server.services.sync_contact import millis
from server.services.sync_sequence import assign_seq
from sync import ledger
from sync.clock import STAMP_RE, parse
from sync.entries import KINDS, FieldError, check_entry, check_fields, upgrade
from sync.merge import Edit, State, merge
from sync.protocol import Candidate, Change, Result, SyncRequest, change_decoder, error_path

CHANGE_ID_TAKEN = FieldError("id", "taken", "this change id cannot be used; make the change again")
_loose = msgspec.json.Decoder(dict)
_ENTRIES = Entry.__table__
_CHANGES = ChangeLog.__table__
_CONFLICTS = Conflict.__table__
# M6: the latest stocktake of an item at a site, but for the entries named (built once: making
# it is most of its cost).
_LATEST_STOCKTAKE = (
    select(_ENTRIES.c.id, _ENTRIES.c.fields, _ENTRIES.c.stamps, _ENTRIES.c.device_id)
    .where(_ENTRIES.c.kind == "supply", _ENTRIES.c.site_id == bindparam("site"), _ENTRIES.c.deleted.is_(False))
    .where(_ENTRIES.c.fields["item"].as_string() == bindparam("item"))
    .where(_ENTRIES.c.fields["movement"].as_string() == "stocktake")
    .where(_ENTRIES.c.id.not_in(bindparam("skip", expanding=True)))
    .order_by(_ENTRIES.c.seq.desc())
    .limit(1)
)
_WRITTEN = ("schema", "site_id", "fields", "stamps", "deleted", "flags", "device_times", "updated_at", "seq")


def _rejected(change_id: str, *errors: FieldError) -> Result:
    return Result(id=change_id, status="rejected", errors=list(errors))


def _peek(raw: msgspec.Raw, name: str) -> str:
    try:
        value = _loose.decode(raw).get(name)
    except (msgspec.DecodeError, RecursionError):
        return ""
    return value if isinstance(value, str) else ""


class Row:
    """An entry as this batch will write it: the columns of `Entry`, without the ORM's cost per
    row. Policy and seq read it as they would an Entry (`assign_seq` sets its seq)."""

    __slots__ = ("id", "kind", "schema", "site_id", "author_id", "subject_id", "device_id", "fields", "stamps",
                 "deleted", "flags", "device_times", "seq", "created_at", "updated_at", "new", "was")

    def __init__(self, **columns: Any) -> None:
        self.new = False
        self.was: tuple[int, list[str]] | None = None  # seq and flags before the batch; None if new
        for name, value in columns.items():
            setattr(self, name, value)

    def columns(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__[:-2]} | derived_columns(self.fields)


class Push:
    """One batch of changes from one device, applied inside one transaction (S1-S8): `decide`
    answers every change, `finish` writes what was decided."""

    def __init__(
        self, session: AsyncSession, who: Principal, correction: Correction, clock: ServerClock, enrolled: datetime,
        mark: frozenset[str] = frozenset(),
    ) -> None:
        self.session = session
        self.who = who
        self.mark = mark  # flags every entry the batch writes gets (a file carried by hand: `carried`)
        self.correction = correction
        self.clock = clock
        self.now = datetime.fromtimestamp(correction.now / 1000, UTC)
        self.enrolled = millis(enrolled)
        self.stored: dict[str, Row] = {}  # the entries the batch names, as they were before it
        self.touched: dict[str, Row] = {}  # the entries it changes, in the order first changed
        self.answered: list[tuple[Result, str]] = []  # each decided change's result and its entry
        self.spoiled: set[str] = set()  # entries the phone cannot fold: see `foldable`
        self.conflicts: dict[tuple[str, str], list[Candidate]] = {}
        self.bases: dict[tuple[str, str], dict | None] = {}  # what a conflict's candidates started from
        self.review: list[dict[str, Any]] = []  # the server's own changes (M8), logged with the batch
        self.persons: dict[str, str | None] = {who.device_id or "": who.person_id}
        self.conn: AsyncConnection | None = None

    async def _connection(self) -> AsyncConnection:
        if self.conn is None:
            self.conn = await self.session.connection()
        return self.conn

    async def _execute(self, statement: Any, params: Any = None) -> Any:
        """Core statements on the session's connection: no ORM flush or identity map per row."""
        return await (await self._connection()).execute(statement, params)

    async def decide(self, raws: list[msgspec.Raw]) -> list[Result]:
        """S2-S6 for the whole batch, in its order; nothing but the change ids is written yet."""
        decoded: list[Change | Result] = []
        for index, raw in enumerate(raws):
            try:  # S2
                decoded.append(change_decoder.decode(raw))
            except (msgspec.ValidationError, msgspec.DecodeError, RecursionError) as err:
                path, reason = error_path(err) if isinstance(err, msgspec.ValidationError) else ("$", str(err))
                self.spoiled.add(_peek(raw, "entry"))
                error = FieldError(f"$.changes[{index}]{path[1:]}", "invalid", reason)
                decoded.append(_rejected(_peek(raw, "id"), error))
        changes = {c.id: (c, raws[i]) for i, c in reversed(list(enumerate(decoded))) if isinstance(c, Change)}
        await self._persons([_node(i) for change, _ in changes.values() for i in (change.id, change.entry)])
        taken = {i for i in changes if not self._ours(i)}  # refused as a used id would be, unclaimed
        claimed = await self._claim({i: c for i, c in changes.items() if i not in taken})  # S3
        earlier = await self._recorded([i for i in changes if i not in claimed and i not in taken])
        await self._load({change.entry for change, _ in changes.values()})
        sites = await self._sites({c.fields.get("to_site") for c, _ in changes.values()})
        first: dict[str, Result] = {}
        results = []
        for item in decoded:
            if isinstance(item, Result):
                results.append(item)
                continue
            if item.id in taken:
                self.spoiled.add(item.entry)
                results.append(_rejected(item.id, CHANGE_ID_TAKEN))
                continue
            if item.id in first or item.id not in claimed:
                self.spoiled.add(item.entry)
                results.append(await self._seen(item.id, first.get(item.id) or earlier[item.id]))
                continue
            result = first[item.id] = await self._decide(item, sites)
            if result.status != "applied":
                self.spoiled.add(item.entry)
            self.answered.append((result, item.entry))
            results.append(result)
        return results

    async def _claim(self, changes: dict[str, tuple[Change, msgspec.Raw]]) -> set[str]:
        """Record every change id in one statement (in id order, so two batches wait for each
        other rather than deadlock); the ones already recorded are not returned."""
        if not changes:
            return set()
        dialect = self.session.bind.dialect.name
        insert = (postgresql if dialect == "postgresql" else sqlite).insert
        rows = [
            {"id": change.id, "device_id": self.who.device_id, "entry_id": change.entry, "body": bytes(raw).decode(),
             "result": {}, "received_at": self.now}
            for change, raw in (changes[i] for i in sorted(changes))
        ]
        statement = insert(_CHANGES).on_conflict_do_nothing(index_elements=["id"]).returning(_CHANGES.c.id)
        return set((await self._execute(statement, rows)).scalars())

    async def _recorded(self, change_ids: list[str]) -> dict[str, tuple[dict, str | None]]:
        """The first result and device of change ids recorded before this batch."""
        if not change_ids:
            return {}
        found = await self._execute(
            select(_CHANGES.c.id, _CHANGES.c.result, _CHANGES.c.device_id).where(_CHANGES.c.id.in_(change_ids))
        )
        recorded = {change_id: (result, device) for change_id, result, device in found}
        await self._persons([device for _, device in recorded.values()])
        return recorded

    async def _seen(self, change_id: str, first: Result | tuple[dict, str | None]) -> Result:
        """A change id already recorded: answered with its first result if a phone of this
        person sent it, and with nothing of another person's result if not (S3)."""
        if isinstance(first, tuple):
            stored, device = first
            if self.persons.get(device or "") != self.who.person_id:
                return _rejected(change_id, CHANGE_ID_TAKEN)
            first = msgspec.convert(stored, Result)
        return Result(id=change_id, status="duplicate", first=first.status, errors=first.errors, stamp=first.stamp)

    def _ours(self, some_id: str) -> bool:
        """An id that is a stamp (§4 "Ids") names the phone that made it: only that phone's
        person may use it. Any other id (a UUID of an older app) is anyone's to claim."""
        node = _node(some_id)
        return node is None or self.persons.get(node) == self.who.person_id

    async def _persons(self, device_ids: list[str | None]) -> None:
        """Whose phone each device is (a change from another phone of this person is theirs)."""
        unknown = {d for d in device_ids if d is not None and d not in self.persons}
        if unknown:
            found = await self._execute(select(Device.id, Device.person_id).where(Device.id.in_(unknown)))
            self.persons.update({device: None for device in unknown} | dict(found.all()))

    async def _load(self, entry_ids: set[str]) -> None:
        """Every entry the batch touches, in one read (locked on PostgreSQL, in id order)."""
        if not entry_ids:
            return
        found = await self._execute(
            select(_ENTRIES).where(_ENTRIES.c.id.in_(entry_ids)).order_by(_ENTRIES.c.id).with_for_update()
        )
        self.stored = {row.id: Row(**{name: getattr(row, name) for name in Row.__slots__[:-2]}) for row in found}

    async def _sites(self, site_ids: set[Any]) -> dict[str, Site]:
        named = [s for s in site_ids if isinstance(s, str)]
        if not named:
            return {}
        return {site.id: site for site in await self.session.scalars(select(Site).where(Site.id.in_(named)))}

    def _row(self, entry_id: str) -> Row | None:
        if entry_id in self.touched:
            return self.touched[entry_id]
        return self.stored.get(entry_id)

    async def _decide(self, change: Change, sites: dict[str, Site]) -> Result:
        kind = KINDS.get(change.kind)
        if kind is None:
            return _rejected(change.id, FieldError("kind", "unknown_kind", f"unknown kind {change.kind!r}"))
        if change.schema not in kind.versions:
            return _rejected(
                change.id, FieldError("schema", "schema", f"{kind.name} has no schema {change.schema}")
            )
        errors = check_fields(kind, change.schema, change.fields)
        fields, base = upgrade(kind, change.schema, change.fields, change.base)  # S4
        row = self._row(change.entry)
        to_site = fields.get("to_site")
        errors += device_write_errors(
            self.who, kind, change.op, fields, row, sites.get(to_site) if isinstance(to_site, str) else None,
            claimable=self._ours(change.entry),
        )
        if row is None and change.op == "delete" and NOT_YOURS not in errors:
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
        bases = {
            name: await value_at(self.session, change.entry, kind, name, base.get(name)) for name in conflicts
        }
        if kind.name == "supply" and row is None and fields.get("movement") == "stocktake":
            counted = await self._stocktake_conflict(change.entry, fields, stamp)
            conflicts.update(counted)
            bases.update({name: await stocktake_base(self.session, fields) for name in counted})

        flags = set() if row is None else set(row.flags)
        if device_times or stamp != change.stamp:
            flags.add(CLOCK_CORRECTED)
        if suspect:
            flags.add(TIME_SUSPECT)
        flags |= self.mark
        if row is not None and times_moved(kind, row.stamps, outcome.state.stamps):
            flags.discard(STAFF_TIMES)  # the phone set a time since staff did
        if _pay_changed_after_approval(row, outcome.state):
            self._send_back_to_review(change, outcome.state)
            flags.add(REVIEW_AGAIN)
            self.spoiled.add(change.entry)
        if device_times or stamp != change.stamp or change.schema != kind.current:
            self.spoiled.add(change.entry)  # the phone's copy would differ from the stored one
        self._store(change, row, outcome.state, sorted(flags), device_times)  # S7, written by `finish`
        for name, candidates in conflicts.items():
            self.conflicts.setdefault((change.entry, name), []).extend(candidates)
            self.bases.setdefault((change.entry, name), bases.get(name))
        return Result(id=change.id, status="conflict" if conflicts else "applied", stamp=stamp)

    def _send_back_to_review(self, change: Change, state: State) -> None:
        """M8: the server, not the phone, sets the approval back to pending, with its own stamp
        (a server change like a staff edit), and logs it after the change that caused it."""
        stamp = self.clock.stamp(self.correction.now, list(state.stamps.values()))
        review = {"approval": "pending"}
        for name, value in review.items():
            state.fields[name], state.stamps[name] = value, stamp
        self.review.append(
            server_change_row(
                self.clock, change.entry, stamp, self.now, {"by": "server", "after": change.id, "fields": review}
            )
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
        )
        if latest is None:  # those touched are seen above as they are now
            found = await self._execute(_LATEST_STOCKTAKE, {
                "site": fields["site"], "item": fields["item"], "skip": [entry_id, *self.touched]
            })
            latest = found.first()
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
        self, change: Change, row: Row | None, state: State, flags: list[str], device_times: dict[str, Any]
    ) -> None:
        if row is None:
            row = Row(
                id=change.entry,
                kind=change.kind,
                author_id=self.who.person_id,
                subject_id=self.who.person_id,
                device_id=self.who.device_id,
                created_at=self._made_at(state),
                site_id=None,
                device_times={},
                seq=0,
            )
            row.new = True
        elif change.entry not in self.touched:
            row.was = (row.seq, list(row.flags))
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
        first = min(state.stamps.values(), default=None)  # stamps sort as strings (sync/clock.py)
        wall = self.correction.now if first is None else parse(first).wall
        return min(self.now, datetime.fromtimestamp(wall / 1000, UTC))

    async def finish(self) -> None:
        """S7-S8: write the results and the server's own changes, give every touched entry the
        next seq values (holding the counter's lock to commit), write each entry once, with its
        seq, and the conflicts on them."""
        conn = await self._connection()
        await bulk.update(conn, _CHANGES, "id", [
            {"id": result.id, "result": msgspec.to_builtins(result)} for result, _ in self.answered
        ])
        await bulk.insert(conn, _CHANGES, self.review)
        rows = list(self.touched.values())

        async def write() -> None:  # each entry once, with the seq just given
            await bulk.insert(conn, _ENTRIES, [row.columns() for row in rows if row.new])
            await bulk.update(conn, _ENTRIES, "id", [
                {"id": row.id, **{name: getattr(row, name) for name in _WRITTEN}, **derived_columns(row.fields)}
                for row in rows if not row.new
            ])

        await assign_seq(self.session, rows, write, {row.id for row in rows if row.new})
        await self._record_conflicts()  # after the entries they name (a new entry's, too)
        for result, entry_id in self.answered:
            if result.status in ("applied", "conflict"):
                result.seq = self.touched[entry_id].seq

    async def _record_conflicts(self) -> None:
        """M3: one open conflict per entry and field, gathering every candidate; its base is the
        value the change that opened it started from (server/services/conflict_base.py)."""
        if not self.conflicts:
            return
        await self._persons([c.device for candidates in self.conflicts.values() for c in candidates])
        found = await self._execute(
            select(_CONFLICTS.c.id, _CONFLICTS.c.entry_id, _CONFLICTS.c.field, _CONFLICTS.c.candidates).where(
                _CONFLICTS.c.entry_id.in_({entry_id for entry_id, _ in self.conflicts}),
                _CONFLICTS.c.resolved_at.is_(None),
            )
        )
        open_ = {(entry_id, name): (conflict_id, candidates) for conflict_id, entry_id, name, candidates in found}
        opened, grown = [], []
        for (entry_id, name), candidates in self.conflicts.items():
            conflict_id, gathered = open_.get((entry_id, name), (None, []))
            seen = {c["stamp"] for c in gathered}
            more = []
            for c in candidates:
                if c.stamp not in seen:
                    seen.add(c.stamp)
                    more.append({**msgspec.to_builtins(c), "author": self.persons.get(c.device) or "staff"})
            if conflict_id is None:
                opened.append({"entry_id": entry_id, "field": name, "candidates": more, "opened_at": self.now,
                               "base": self.bases.get((entry_id, name))})
            elif more:
                grown.append({"conflict_id": conflict_id, "candidates": gathered + more})
        if opened:
            await self._execute(_CONFLICTS.insert(), opened)
        if grown:
            await self._execute(update(_CONFLICTS).where(_CONFLICTS.c.id == bindparam("conflict_id")), grown)

    async def foldable(self, after: int | None) -> dict[str, int]:
        """The entries whose pull the phone can do without (§4 fold): each with the seq it got.
        Every change to it applied as sent (no conflict, rejection, duplicate, corrected clock,
        send-back or schema upgrade), its flags unchanged, no conflict open on it, and the phone
        held what it was merged into: it is new, or the phone had pulled it (seq at most the
        cursor, no reset). The phone's fold makes it its own (author, device) with no conflict:
        so only its own entries fold."""
        if after is None:
            return {}
        fold = {}
        for entry_id, row in self.touched.items():
            if entry_id in self.spoiled or row.author_id != self.who.person_id or row.device_id != self.who.device_id:
                continue
            seq, flags = row.was or (None, [])
            if (seq is None or seq <= after) and row.flags == flags:
                fold[entry_id] = row.seq
        older = [entry_id for entry_id in fold if not self.touched[entry_id].new]  # a new one has none open
        if older:
            found = await self._execute(
                select(_CONFLICTS.c.entry_id)
                .where(_CONFLICTS.c.entry_id.in_(older), _CONFLICTS.c.resolved_at.is_(None))
            )
            for entry_id in found.scalars():
                fold.pop(entry_id, None)
        return fold


def _node(some_id: str) -> str | None:
    """The device that made an id that is a stamp; None for any other id."""
    match = STAMP_RE.match(some_id)
    return match[3] if match else None


PAID_FIELDS = ("start", "end", "kind")  # what the subsidy sheet pays by: hours and the rate's kind


def _pay_changed_after_approval(row: Row | None, state: State) -> bool:
    """M8: a device edit changed what an approved shift is paid by (its times or its kind)."""
    if row is None or row.kind != "shift" or row.fields.get("approval") != "approved" or state.deleted:
        return False
    return any(state.fields.get(name) != row.fields.get(name) for name in PAID_FIELDS)


async def push(
    session: AsyncSession, who: Principal, request: SyncRequest, correction: Correction, clock: ServerClock,
    after: int | None = None, mark: frozenset[str] = frozenset(),
) -> tuple[list[Result], dict[str, int]]:
    """Apply a batch; answer its results, and (if the phone folds) the entries it need not pull.
    `after` is the seq the phone's cursor holds, None if its pull starts over (a reset); `mark`,
    flags for every entry the batch writes."""
    now = datetime.fromtimestamp(correction.now / 1000, UTC)
    devices = Device.__table__
    enrolled = (await (await session.connection()).execute(  # Core: no ORM synchronisation to work out
        update(devices)
        .where(devices.c.id == who.device_id)
        .values(clock_offset_ms=correction.offset, last_sync_at=now, app_version=request.app or None)
        .returning(devices.c.created_at)
    )).scalar_one()
    batch = Push(session, who, correction, clock, enrolled, mark)
    results = await batch.decide(request.changes)
    await batch.finish()
    return results, await batch.foldable(after) if request.fold else {}
