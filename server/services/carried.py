"""A phone's file, carried by hand (docs/sync-protocol.md "A phone's file carried by hand").

A worker whose phone never finds signal exports what waits on it (我的 → 导出我的数据); township
staff upload that file on the dashboard. Its waiting changes are pushed as that phone's, through
the same `sync_push.push` as POST /api/sync, so each change id is applied once: uploading
the file again, or the phone sending the same changes when it finds signal, answers `duplicate`
with the first result, and the phone then drops them from its outbox (§11 P4). The entries they
touched are flagged `carried`. The file holds no secret (the export leaves out the token), so
the uploader vouches for it: only staff of the phone's own township may upload it, and the
audit log records who did.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Device, Person
from server.policy import Principal, require
from server.services import sync_push
from server.services.audit import Actor, record
from server.services.clock_correction import Correction
from server.services.enrolment import phone_principal
from server.services.people import person_in_scope
from server.services.server_clock import ServerClock
from sync.entries import FieldError
from sync.protocol import MAX_CHANGES, MAX_MILLIS, PROTOCOL, StampStr, SyncRequest, Uuid, error_path

CARRIED = "carried"  # on an entry a carried file created or changed
MAX_FILE = 8 * 1024 * 1024  # a phone's whole export: its pulled entries too, not only the outbox
MAX_CARRIED = 20_000  # changes waiting in one file
Millis = Annotated[int, Meta(ge=0, le=MAX_MILLIS)]


class CarriedChange(Struct):
    """An outbox change as the phone keeps it (pwa/js/outbox.js): the wire change (§4) and its
    bookkeeping (`n`, `urgent`, `created`, ... are not read)."""

    id: Uuid
    entry: Uuid
    kind: Annotated[str, Meta(max_length=20)]
    schema: Annotated[int, Meta(ge=1)]
    stamp: StampStr
    op: Literal["put", "delete"] = "put"
    fields: dict[str, Any] = {}
    base: dict[str, StampStr | None] = {}
    status: Literal["pending", "rejected"] = "pending"

    def wire(self) -> dict[str, Any]:
        out = {"id": self.id, "entry": self.entry, "kind": self.kind, "schema": self.schema, "op": self.op,
               "stamp": self.stamp, "base": self.base}
        return {**out, "fields": self.fields} if self.op == "put" else out


class PersonRef(Struct):
    id: Annotated[str, Meta(min_length=1, max_length=64)]


class FileMeta(Struct):
    device: Annotated[str, Meta(pattern=r"^[a-z0-9]{1,32}$")]
    person: PersonRef
    offset: Annotated[int, Meta(ge=-MAX_MILLIS, le=MAX_MILLIS)] | None = None  # C4, as last measured


class PhoneFile(Struct):
    """pwa/js/views/me.js `exportData`; its pulled `entries` are not read (the server has them)."""

    format: Literal["nuanxin-export"]
    version: Literal[1]
    exported_at: Millis
    meta: FileMeta
    outbox: Annotated[list[CarriedChange], Meta(max_length=MAX_CARRIED)]


_decoder = msgspec.json.Decoder(PhoneFile)


class CarriedRefused(Exception):
    """A file that is not taken: the status, the field at fault and why."""

    def __init__(self, status: int, field: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.field, self.reason = status, field, reason


@dataclass
class Outcome:
    person: str
    device: str
    revoked: bool
    counts: dict[str, int]
    rejected: list[tuple[str, list[FieldError]]] = field(default_factory=list)  # (kind, errors)


def decode(body: bytes) -> PhoneFile:
    if len(body) > MAX_FILE:
        raise CarriedRefused(413, "file", f"a phone's file is at most {MAX_FILE // 1024 // 1024} MB")
    try:
        return _decoder.decode(body)
    except msgspec.ValidationError as err:
        path, reason = error_path(err)
        raise CarriedRefused(400, path, reason) from None
    except (msgspec.DecodeError, RecursionError) as err:
        raise CarriedRefused(400, "file", f"not a phone's export (导出我的数据): {err}") from None


def file_correction(phone_file: PhoneFile, now: int, tolerance: int) -> Correction:
    """The clock correction of a file (§7). Its stamps come from the phone's corrected clock
    (C4, with the offset of its last sync), and how long the file was carried is unknown, so
    nothing can be measured but this: the phone's clock at the export cannot have been later
    than now. By how much it was, at least, its times are moved back (K3); a clock that was
    behind cannot be told from a file carried for days, and its times are believed (K6 still
    flags those more than a day off their stamps). Stamps past now are pulled back (K3a) and
    times in the future refused (K5), as in any sync."""
    exported = phone_file.exported_at + (phone_file.meta.offset or 0)
    return Correction(offset=min(0, now - exported), now=now, tolerance=tolerance)


async def upload(
    session: AsyncSession, who: Principal, body: bytes, clock: ServerClock, now: datetime, tolerance: int,
    address: str = "",
) -> Outcome:
    """Apply a phone's file as that phone's sync would; refuse it whole if it is not one."""
    require(who, "carried.upload")
    phone_file = decode(body)
    found = (await session.execute(
        select(Device, Person).join(Person, Person.id == Device.person_id).where(Device.id == phone_file.meta.device)
    )).first()
    # An unknown phone and another township's are refused alike: nothing is told of other townships.
    if found is None or await person_in_scope(session, who, found[1].id) is None:
        raise CarriedRefused(404, "$.meta.device", "no phone of your township has this id")
    device, person = found
    if phone_file.meta.person.id != person.id:
        raise CarriedRefused(400, "$.meta.person.id", "the file names another person than its phone's")
    phone = phone_principal(device, person)  # a revoked phone's file still counts: the entries are the worker's
    kept = {"clock_offset_ms": device.clock_offset_ms, "last_sync_at": device.last_sync_at,
            "app_version": device.app_version}
    now_ms = int(now.timestamp() * 1000)
    correction = file_correction(phone_file, now_ms, tolerance)
    waiting = [c for c in phone_file.outbox if c.status != "rejected"]  # answered already; the phone holds them
    kinds = {c.id: c.kind for c in waiting}
    outcome = Outcome(person.id, device.id, device.revoked_at is not None, Counter())
    for start in range(0, len(waiting), MAX_CHANGES):
        request = SyncRequest(
            protocol=PROTOCOL, device_time=correction.device_time, app=device.app_version or "",
            changes=[msgspec.Raw(msgspec.json.encode(c.wire())) for c in waiting[start:start + MAX_CHANGES]],
        )
        results, _ = await sync_push.push(session, phone, request, correction, clock, mark=frozenset({CARRIED}))
        for result in results:
            outcome.counts[result.status] += 1
            if result.status == "rejected":
                outcome.rejected.append((kinds.get(result.id, ""), list(result.errors)))
    # A file is not a sync: the phone's last contact and clock offset stay as they were.
    await session.execute(update(Device).where(Device.id == device.id).values(**kept))
    outcome.counts = dict(outcome.counts)
    await record(session, "carried.uploaded", Actor.of(who, address), now, subject=person.id,
                 township=person.township, device=device.id, revoked=outcome.revoked,
                 sha256=hashlib.sha256(body).hexdigest(), **outcome.counts)
    return outcome
