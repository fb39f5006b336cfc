"""A client replica of the protocol (docs/sync-protocol.md §11), in memory and pure.

The Python twin of the phone's outbox and sync modules: the tests, the benchmarks and scripts
drive it. Time comes in as `now` (the device's own clock, in ms); a change's id is its stamp, as on the
phone, unless `new_id` is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import msgspec

from sync.clock import Clock
from sync.compact import held as pulled_entries
from sync.constants import CLOCK_TOLERANCE_MS
from sync.entries import KINDS
from sync.merge import Edit, State, merge
from sync.outbox import is_urgent, overlay, urgent_first
from sync.protocol import MAX_CHANGES, PROTOCOL, Change, CompactAnswer, Entry, Result, SyncResponse


def folded(held: Entry | None, change: Change, stamp: str, seq: int, person: str, device: str) -> Entry:
    """§4 fold, the twin of pwa/js/sync-apply.js `fold`: what a phone holds of an entry once its
    own change was applied and left out of the answer. The server stored the same merge."""
    state = merge(
        None if held is None else State(fields=held.fields, stamps=held.stamps, deleted=held.deleted),
        Edit(op=change.op, stamp=stamp, fields=change.fields, base=change.base),
    ).state
    return Entry(
        id=change.entry,
        kind=held.kind if held else change.kind,
        schema=change.schema,
        site=state.fields.get("site", held.site if held else ""),
        author=held.author if held else person,
        device=held.device if held else device,
        fields=state.fields,
        stamps=state.stamps,
        seq=seq,
        deleted=state.deleted,
        conflicts=list(held.conflicts) if held else [],
        flags=list(held.flags) if held else [],
    )


@dataclass
class Replica:
    device: str
    # The person this phone is enrolled for. A replica that knows it folds: it asks the server
    # to leave out the echo of its own changes and folds them in itself (§4). One that does not
    # cannot name the author of its new entries, and gets the echo as older apps do.
    person: str | None = None
    clock: Clock = None  # type: ignore[assignment]
    offset: int = 0  # C4: server time minus this device's clock, as last measured
    cursor: str = "0"
    entries: dict[str, Entry] = field(default_factory=dict)
    outbox: list[Change] = field(default_factory=list)
    rejected: dict[str, Result] = field(default_factory=dict)  # change id -> its result
    urgent: set[str] = field(default_factory=set)  # ids of urgent changes (P3), as the phone marks them
    # Change ids: by default the change's own stamp, as the phone makes them (§4 "Ids"): unique,
    # since a node never issues a stamp twice, and nearly free on the wire beside the stamp.
    new_id: Callable[[], str] | None = None

    def __post_init__(self) -> None:
        if self.clock is None:
            self.clock = Clock(self.device)

    # -- local edits (P1) --------------------------------------------------------------------

    def _overlay(self, entry_id: str, rejected: bool = True) -> dict[str, Any] | None:
        server = self.entries.get(entry_id)
        changes = [
            {"kind": c.kind, "op": c.op, "stamp": c.stamp, "fields": c.fields, "base": c.base, "n": n,
             "status": "rejected" if c.id in self.rejected else "pending"}
            for n, c in enumerate(self.outbox)
            if c.entry == entry_id and (rejected or c.id not in self.rejected)
        ]
        if server is None and not changes:
            return None
        shown = None if server is None else {"kind": server.kind, "fields": server.fields, "stamps": server.stamps,
                                            "deleted": server.deleted, "conflicts": server.conflicts}
        return overlay(shown, changes)

    def _known_stamps(self, entry_id: str) -> dict[str, str]:
        """What the phone's edits are made from: the overlay of the changes not refused."""
        known = self._overlay(entry_id, rejected=False)
        return known["stamps"] if known else {}

    def _stamp(self, now: int) -> str:
        self.clock, stamp = self.clock.send(now + self.offset)
        return stamp

    def _change_id(self, stamp: str) -> str:
        return self.new_id() if self.new_id else stamp

    def put(
        self, entry_id: str | None, kind: str, fields: dict[str, Any], now: int, schema: int | None = None
    ) -> Change:
        """A local edit; `entry_id` None makes a new entry, whose id is its first change's."""
        shown = self._overlay(entry_id, rejected=False) if entry_id else None
        known = shown["stamps"] if shown else {}
        stamp = self._stamp(now)
        change_id = self._change_id(stamp)
        change = Change(
            id=change_id,
            entry=entry_id or change_id,
            kind=kind,
            schema=schema or KINDS[kind].current,
            stamp=stamp,
            op="put",
            fields=dict(fields),
            base={name: known.get(name) for name in fields},
        )
        self.outbox.append(change)
        if is_urgent(kind, {**(shown["fields"] if shown else {}), **fields}):
            self.urgent.add(change.id)
        return change

    def delete(self, entry_id: str, now: int) -> Change:
        view = self.view(entry_id)
        if view is None:
            raise KeyError(entry_id)
        stamp = self._stamp(now)
        change = Change(
            id=self._change_id(stamp),
            entry=entry_id,
            kind=view["kind"],
            schema=KINDS[view["kind"]].current,
            stamp=stamp,
            op="delete",
            base=self._known_stamps(entry_id),
        )
        self.outbox.append(change)
        return change

    def discard(self, change_id: str) -> None:
        """The person gives up a rejected change (never done automatically, P4)."""
        self.outbox = [c for c in self.outbox if c.id != change_id]
        self.rejected.pop(change_id, None)
        self.urgent.discard(change_id)

    # -- what the person sees ------------------------------------------------------------------

    def view(self, entry_id: str) -> dict[str, Any] | None:
        """The entry as the phone shows it (sync/outbox.py `overlay`), or None."""
        return self._overlay(entry_id)

    # -- syncing (P2-P6) -----------------------------------------------------------------------

    def request(self, now: int, app: str = "py") -> dict[str, Any]:
        sendable = [c for c in self.outbox if c.id not in self.rejected]
        ordered = urgent_first(sendable, lambda c: c.id in self.urgent, lambda c: c.entry)[:MAX_CHANGES]
        request = {
            "protocol": PROTOCOL,
            "app": app,
            "device_time": now + self.offset,
            "cursor": self.cursor,
            "changes": msgspec.to_builtins(ordered),
            "compact": True,
        }
        return {**request, "fold": True} if self.person else request

    def receive(self, answer: SyncResponse | CompactAnswer, now: int) -> None:
        sent = {c.id: c for c in self.outbox}
        done = set()
        for result in answer.results:
            # A duplicate of a refused change is still refused (its first answer was lost).
            if result.status == "rejected" or result.first == "rejected":
                self.rejected[result.id] = result
            else:
                done.add(result.id)
        self.outbox = [c for c in self.outbox if c.id not in done]
        self.urgent -= done
        self.offset += answer.clock_offset
        corrected_now = now + self.offset
        if self.clock.wall > corrected_now + CLOCK_TOLERANCE_MS:
            # K4: a clock that ran ahead must not keep stamping the future.
            self.clock = Clock(self.device, corrected_now, 0)
        if answer.reset:
            self.entries = {}
        pulled = pulled_entries(answer.entries)
        echoed = {entry.id for entry in pulled}
        for result in answer.results:
            change = sent.get(result.id)
            # Its echo left out: fold the change into what the phone holds, in batch order (§4).
            if change and result.status == "applied" and result.seq and change.entry not in echoed:
                held = self.entries.get(change.entry)
                self.entries[change.entry] = folded(held, change, result.stamp, result.seq, self.person, self.device)
        for entry in pulled:
            self.entries[entry.id] = entry
            for stamp in entry.stamps.values():
                self.clock = self.clock.receive(stamp, corrected_now)
        self.cursor = answer.cursor

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.outbox if c.id not in self.rejected]
