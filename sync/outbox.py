"""What the person sees of an entry and what goes first: the outbox rules the phone and the
Python replica share (docs/sync-protocol.md §11 P1, P3). Pure; the twin of pwa/js/outbox.js
(`overlay`, `isUrgent`) and pwa/js/sync-transport.js (`urgentFirst`). Both pass tests/vectors/outbox.json.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence, TypeVar

from sync.merge import is_sequential

C = TypeVar("C")


def is_urgent(kind: str, fields: Mapping[str, Any]) -> bool:
    """P3: injury and exposure reports, urgent supply requests. `fields` are the entry's as they
    will be after the change, so an edit of an injury report's note is urgent too."""
    return (kind == "checkin" and fields.get("type") == "injury") or (
        kind == "request" and fields.get("urgent") is True
    )


def urgent_first(changes: Sequence[C], urgent: Callable[[C], bool], entry: Callable[[C], str]) -> list[C]:
    """P3 with M2: every change of an entry with an urgent change goes first, each entry's changes
    keeping the order they were made in."""
    hurry = {entry(c) for c in changes if urgent(c)}
    return [c for c in changes if entry(c) in hurry] + [c for c in changes if entry(c) not in hurry]


def overlay(server: Mapping[str, Any] | None, changes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The entry as shown: the server's state with its changes (`status` pending or rejected,
    numbered `n`) laid over it in outbox order, and its sync state. A rejected put is shown (the
    person sees what was refused) but counts for nothing else; a rejected delete is not applied.
    A pending change made from a value the server no longer holds will merge as concurrent."""
    fields = dict(server["fields"]) if server else {}
    stamps = dict(server["stamps"]) if server else {}
    deleted = bool(server and server.get("deleted"))
    conflict = bool(server and server.get("conflicts"))
    rejected = False
    pending = 0
    for c in sorted(changes, key=lambda c: c["n"]):
        if c["status"] == "rejected":
            rejected = True
            if c["op"] == "put":
                fields.update(c.get("fields") or {})
            continue
        pending += 1
        touched = list(c.get("fields") or {}) if c["op"] == "put" else list(stamps)
        base = c.get("base") or {}
        if any(stamps.get(f) and not is_sequential(stamps[f], base.get(f), c["stamp"]) for f in touched):
            conflict = True
        if c["op"] == "put":
            for name, value in (c.get("fields") or {}).items():
                fields[name], stamps[name] = value, c["stamp"]
        else:
            deleted, stamps["deleted"] = True, c["stamp"]
    state = "rejected" if rejected else "conflict" if conflict else "local" if pending else "synced"
    return {
        "kind": server["kind"] if server else changes[0]["kind"],
        "fields": fields, "stamps": stamps, "deleted": deleted, "state": state,
        "pending": pending > 0, "is_new": server is None,
    }
