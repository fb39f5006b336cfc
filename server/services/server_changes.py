"""The server's own changes to entries (staff edits, follow-ups, a send-back to review, §6 M8):
logged like a phone's, and the flags that tell the phone about them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from server.models import ChangeLog
from server.services.server_clock import ServerClock
from sync.entries import Kind

REVIEW_AGAIN = "review_again"  # an approved shift's times changed on the phone (§6 M8)
STAFF_TIMES = "staff_times"  # staff set the entry's times; the phone says so until it sets them again


def server_change_row(clock: ServerClock, entry_id: str, stamp: str, moment: datetime, body: dict) -> dict[str, Any]:
    """The record of a change the server made itself (a staff edit, a follow-up, a send-back to
    review): logged like a phone's, under the server's node, applied with its stamp."""
    return {
        "id": str(uuid.uuid4()),
        "device_id": clock.node,
        "entry_id": entry_id,
        "body": msgspec.json.encode({**body, "stamp": stamp}).decode(),
        "result": {"status": "applied", "stamp": stamp},
        "received_at": moment,
    }


def server_change(clock: ServerClock, entry_id: str, stamp: str, moment: datetime, body: dict) -> ChangeLog:
    return ChangeLog(**server_change_row(clock, entry_id, stamp, moment, body))


def times_moved(kind: Kind, before: dict[str, str], after: dict[str, str]) -> bool:
    """Whether a merge set any time field of the entry (its stamp changed): `STAFF_TIMES`."""
    return any(before.get(name) != after.get(name) for name in kind.time_fields)
