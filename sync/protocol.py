"""Wire messages of POST /api/sync (docs/sync-protocol.md §4). JSON, decoded with msgspec.

The request envelope is strict; each change inside it is decoded on its own (§5 S2), so one bad
change is rejected with its path while the rest of the batch applies.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from sync.entries import FieldError

PROTOCOL = 1
MAX_CHANGES = 500
MAX_PAGE = 5000  # entries a phone may ask for in one page; PAGE_BYTES is what usually ends a page
PAGE_BYTES = 262_144  # a page's whole answer stays within this (but for a page of one entry larger)
MAX_BODY = 1024 * 1024
MAX_MILLIS = 9_999_999_999_999  # 13 digits, as in a stamp: the year 2286
# 18 digits stay below 2^63 (a BIGINT); the scope is 8 hex digits (sync_pull.scope_of). A
# cursor without a scope (apps before 0.3) is answered with a reset.
CURSOR_PATTERN = r"^\d{1,18}(\.[0-9a-f]{8})?$"

Uuid = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]  # client-made; UUIDs in practice
StampStr = Annotated[str, Meta(pattern=r"^\d{13}-[0-9a-f]{4}-[a-z0-9]{1,32}$")]
Status = Literal["applied", "conflict", "rejected", "duplicate"]


class Change(Struct, forbid_unknown_fields=True, omit_defaults=True):
    id: Uuid
    entry: Uuid
    kind: str
    schema: Annotated[int, Meta(ge=1)]
    stamp: StampStr
    op: Literal["put", "delete"] = "put"
    fields: dict[str, Any] = {}
    base: dict[str, StampStr | None] = {}

    def __post_init__(self) -> None:
        missing = set(self.fields) - set(self.base)
        if missing:
            raise ValueError(f"base must name every field set; missing {sorted(missing)}")
        if self.op == "delete" and self.fields:
            raise ValueError("a delete sets no fields")


class SyncRequest(Struct, forbid_unknown_fields=True):
    protocol: Literal[1]  # PROTOCOL; another version is answered 426 before this decoding (§8)
    device_time: Annotated[int, Meta(ge=0, le=MAX_MILLIS)]
    app: Annotated[str, Meta(max_length=40)] = ""
    # Opaque to the phone: "0", or the last seq it pulled and the scope it was pulled in (§4).
    cursor: Annotated[str, Meta(pattern=CURSOR_PATTERN)] = "0"
    limit: Annotated[int, Meta(ge=1, le=MAX_PAGE)] = MAX_PAGE
    changes: Annotated[list[msgspec.Raw], Meta(max_length=MAX_CHANGES)] = []
    # The phone folds its own applied changes into its copies (§11), so the answer need not echo
    # them; older apps do not send it and get every pushed entry back.
    fold: bool = False
    # The client reads compact entries (§4, sync/compact.py): arrays with one stamp for the
    # fields that share it. Older apps do not send it and get objects with every field's stamp.
    compact: bool = False


class Result(Struct, omit_defaults=True):
    id: str
    status: Status
    stamp: str | None = None
    errors: list[FieldError] = []
    first: Status | None = None
    seq: int | None = None  # applied and conflict: the seq the entry got in this push


class Candidate(Struct, frozen=True):
    value: Any
    stamp: str
    device: str


# gc=False (Entry, CompactEntry): a client decodes a pull's tens of thousands of them, and they
# hold only decoded JSON, never a cycle, so the collector need not track (and walk) them.
class Entry(Struct, omit_defaults=True, gc=False):
    id: str
    kind: str
    schema: int
    site: str
    author: str
    device: str
    fields: dict[str, Any]
    stamps: dict[str, str]
    seq: int
    deleted: bool = False
    conflicts: list[str] = []
    flags: list[str] = []


class CompactEntry(Struct, array_like=True, gc=False):
    """An entry in the answer to a request with `compact` (§4, sync/compact.py): an array in this
    order, its trailing items left out where they are at their defaults."""

    id: str
    kind: str
    schema: int
    author: str
    device: str
    fields: dict[str, Any]
    stamp: str | None  # the stamp its fields share; without "-device" when it is `device`'s
    seq: int  # its seq less the seq of the entry before it in the answer (the first: less 0)
    stamps: dict[str, str] = {}  # the stamps that are not `stamp`
    site: str | None = None  # None: fields["site"]
    deleted: bool = False
    conflicts: list[str] = []
    flags: list[str] = []


class SyncResponse(Struct):
    results: list[Result]
    entries: list[Entry]
    cursor: str
    more: bool
    server_time: int
    clock_offset: int
    reset: bool = False  # drop every pulled entry before storing these (the scope changed)


class CompactAnswer(SyncResponse):
    """A SyncResponse as a client that sent `compact` reads it."""

    entries: list[CompactEntry]


class Enrolment(Struct, forbid_unknown_fields=True):
    code: Annotated[str, Meta(min_length=4, max_length=32)]
    # A phone still holding someone's unsynced changes names them: a code for anyone else is
    # refused (409) without being spent, so those changes are never sent as another person's.
    expect_person: Annotated[str, Meta(max_length=64)] | None = None


class Problem(Struct, omit_defaults=True):
    """The body of every 4xx answer (§8)."""

    error: str
    reason: str
    field: str | None = None


class Version(Struct):
    """Only the protocol version of a request, read before anything else (§10: 426 first)."""

    protocol: Any = None


version_decoder = msgspec.json.Decoder(Version)
request_decoder = msgspec.json.Decoder(SyncRequest)
change_decoder = msgspec.json.Decoder(Change)


def error_path(err: msgspec.ValidationError) -> tuple[str, str]:
    """Split msgspec's message into (path, reason): "Expected int - at `$.x`"."""
    text = str(err)
    if " - at `" in text:
        reason, path = text.rsplit(" - at `", 1)
        return path.rstrip("`"), reason
    return "$", text
