"""Pushing (docs/sync-protocol.md §5, S1-S8): a batch of changes from one device, applied in
the caller's transaction. The merge itself is `sync.merge` (pure); this module loads and stores
around it. Comments cite the steps of the spec.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import ChangeLog, Conflict, Device, Entry, Site
from server.policy import NOT_YOURS, Principal, device_write_errors
from server.services.clock_correction import CLOCK_CORRECTED, TIME_SUSPECT, Correction, suspect_times
from server.services.server_clock import ServerClock
from server.services.sync_sequence import assign_seq
from sync import ledger
from sync.clock import parse
from sync.entries import KINDS, FieldError, check_entry, check_fields, upgrade
from sync.merge import Edit, State, merge
from sync.protocol import Candidate, Change, Result, SyncRequest, change_decoder, error_path

CHANGE_ID_TAKEN = FieldError("id", "taken", "this change id cannot be used; make the change again")
REVIEW_AGAIN = "review_again"  # an approved shift's times changed on the phone (§6 M8)
_loose = msgspec.json.Decoder(dict)


def _rejected(change_id: str, *errors: FieldError) -> Result:
    return Result(id=change_id, status="rejected", errors=list(errors))


def _peek(raw: msgspec.Raw, name: str) -> str:
    try:
        value = _loose.decode(raw).get(name)
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
        self.known: dict[str, tuple[int, list[str]]] = {}  # its seq and flags before this batch
        self.spoiled: set[str] = set()  # entries the phone cannot fold: see `foldable`
        self.answered: list[tuple[Result, str]] = []  # results with the entry each changed

    async def apply(self, index: int, raw: msgspec.Raw) -> Result:
        try:  # S2
            change = change_decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError) as err:
            path, reason = error_path(err) if isinstance(err, msgspec.ValidationError) else ("$", str(err))
            self.spoiled.add(_peek(raw, "entry"))
            return _rejected(_peek(raw, "id"), FieldError(f"$.changes[{index}]{path[1:]}", "invalid", reason))
        seen = await self._claim(change, raw)  # S3
        if seen is not None:
            self.spoiled.add(change.entry)
            return seen
        result = await self._decide(change)
        if result.status != "applied":
            self.spoiled.add(change.entry)
        self.answered.append((result, change.entry))
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
        if change.entry not in self.touched and row is not None:
            self.known[change.entry] = (row.seq, list(row.flags))
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
            self.spoiled.add(change.entry)
        if device_times or stamp != change.stamp or change.schema != kind.current:
            self.spoiled.add(change.entry)  # the phone's copy would differ from the stored one
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
        for result, entry_id in self.answered:
            if result.status in ("applied", "conflict"):
                result.seq = self.touched[entry_id].seq

    def foldable(self, after: int | None) -> dict[str, int]:
        """The entries whose pull the phone can do without (§4 fold): each with the seq it got.
        Every change to it applied as sent (no conflict, rejection, duplicate, corrected clock,
        send-back or schema upgrade), its flags unchanged, and the phone held what it was
        merged into: it is new, or the phone had pulled it (seq at most the cursor, no reset).
        The phone's fold makes it its own (author, device): so only its own entries fold."""
        if after is None:
            return {}
        fold = {}
        for entry_id, row in self.touched.items():
            if entry_id in self.spoiled or row.author_id != self.who.person_id or row.device_id != self.who.device_id:
                continue
            seq, flags = self.known.get(entry_id, (None, []))
            if (seq is None or seq <= after) and row.flags == flags:
                fold[entry_id] = row.seq
        return fold


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
    session: AsyncSession, who: Principal, request: SyncRequest, correction: Correction, clock: ServerClock,
    after: int | None = None,
) -> tuple[list[Result], dict[str, int]]:
    """Apply a batch; answer its results, and (if the phone folds) the entries it need not pull.
    `after` is the seq the phone's cursor holds, None if its pull starts over (a reset)."""
    device = await session.get(Device, who.device_id)
    batch = Push(session, who, correction, clock, device)
    results = [await batch.apply(i, raw) for i, raw in enumerate(request.changes)]
    await batch.finish()
    await session.execute(
        update(Device)
        .where(Device.id == who.device_id)
        .values(clock_offset_ms=correction.offset, last_sync_at=batch.now, app_version=request.app or None)
    )
    return results, batch.foldable(after) if request.fold else {}
