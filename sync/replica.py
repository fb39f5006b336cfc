"""A client replica of the protocol (docs/sync-protocol.md §11), in memory and pure.

The Python twin of the phone's outbox and sync modules: the tests, the benchmarks and scripts
drive it. Time comes in as `now` (the device's own clock, in ms); ids come from `new_id`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import msgspec

from sync.clock import Clock
from sync.entries import KINDS
from sync.protocol import MAX_CHANGES, PROTOCOL, Change, Entry, Result, SyncResponse

TOLERANCE_MS = 120_000


def is_urgent(change: Change) -> bool:
    """P3: injury and exposure reports, urgent supply requests."""
    return (change.kind == "checkin" and change.fields.get("type") == "injury") or (
        change.kind == "request" and change.fields.get("urgent") is True
    )


@dataclass
class Replica:
    device: str
    clock: Clock = None  # type: ignore[assignment]
    offset: int = 0  # C4: server time minus this device's clock, as last measured
    cursor: str = "0"
    entries: dict[str, Entry] = field(default_factory=dict)
    outbox: list[Change] = field(default_factory=list)
    rejected: dict[str, Result] = field(default_factory=dict)  # change id -> its result
    new_id: Callable[[], str] = lambda: str(uuid.uuid4())

    def __post_init__(self) -> None:
        if self.clock is None:
            self.clock = Clock(self.device)

    # -- local edits (P1) --------------------------------------------------------------------

    def _known_stamps(self, entry_id: str) -> dict[str, str]:
        stamps = dict(self.entries[entry_id].stamps) if entry_id in self.entries else {}
        for change in self.outbox:
            if change.entry == entry_id and change.id not in self.rejected:
                stamps.update({name: change.stamp for name in change.fields})
                if change.op == "delete":
                    stamps["deleted"] = change.stamp
        return stamps

    def _stamp(self, now: int) -> str:
        self.clock, stamp = self.clock.send(now + self.offset)
        return stamp

    def put(self, entry_id: str, kind: str, fields: dict[str, Any], now: int, schema: int | None = None) -> Change:
        known = self._known_stamps(entry_id)
        change = Change(
            id=self.new_id(),
            entry=entry_id,
            kind=kind,
            schema=schema or KINDS[kind].current,
            stamp=self._stamp(now),
            op="put",
            fields=dict(fields),
            base={name: known.get(name) for name in fields},
        )
        self.outbox.append(change)
        return change

    def delete(self, entry_id: str, now: int) -> Change:
        view = self.view(entry_id)
        if view is None:
            raise KeyError(entry_id)
        change = Change(
            id=self.new_id(),
            entry=entry_id,
            kind=view["kind"],
            schema=KINDS[view["kind"]].current,
            stamp=self._stamp(now),
            op="delete",
            base=self._known_stamps(entry_id),
        )
        self.outbox.append(change)
        return change

    def discard(self, change_id: str) -> None:
        """The person gives up a rejected change (never done automatically, P4)."""
        self.outbox = [c for c in self.outbox if c.id != change_id]
        self.rejected.pop(change_id, None)

    # -- what the person sees ------------------------------------------------------------------

    def view(self, entry_id: str) -> dict[str, Any] | None:
        """Server state with pending (not rejected) changes laid over it in outbox order."""
        server = self.entries.get(entry_id)
        pending = [c for c in self.outbox if c.entry == entry_id and c.id not in self.rejected]
        if server is None and not pending:
            return None
        fields = dict(server.fields) if server else {}
        deleted = server.deleted if server else False
        kind = server.kind if server else pending[0].kind
        for change in pending:
            fields.update(change.fields)
            deleted = deleted or change.op == "delete"
        return {"kind": kind, "fields": fields, "deleted": deleted, "pending": bool(pending)}

    # -- syncing (P2-P6) -----------------------------------------------------------------------

    def request(self, now: int, app: str = "py") -> dict[str, Any]:
        sendable = [c for c in self.outbox if c.id not in self.rejected]
        # P3 with M2: entries with an urgent change go first, each entry's changes in order.
        urgent = {c.entry for c in sendable if is_urgent(c)}
        ordered = [c for c in sendable if c.entry in urgent] + [c for c in sendable if c.entry not in urgent]
        ordered = ordered[:MAX_CHANGES]
        return {
            "protocol": PROTOCOL,
            "app": app,
            "device_time": now + self.offset,
            "cursor": self.cursor,
            "changes": msgspec.to_builtins(ordered),
        }

    def receive(self, answer: SyncResponse, now: int) -> None:
        done = set()
        for result in answer.results:
            # A duplicate of a refused change is still refused (its first answer was lost).
            if result.status == "rejected" or result.first == "rejected":
                self.rejected[result.id] = result
            else:
                done.add(result.id)
        self.outbox = [c for c in self.outbox if c.id not in done]
        self.offset += answer.clock_offset
        corrected_now = now + self.offset
        if self.clock.wall > corrected_now + TOLERANCE_MS:
            # K4: a clock that ran ahead must not keep stamping the future.
            self.clock = Clock(self.device, corrected_now, 0)
        if answer.reset:
            self.entries = {}
        for entry in answer.entries:
            self.entries[entry.id] = entry
            for stamp in entry.stamps.values():
                self.clock = self.clock.receive(stamp, corrected_now)
        self.cursor = answer.cursor

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.outbox if c.id not in self.rejected]
