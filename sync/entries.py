"""What an entry of each kind holds, per schema version, and how its fields are checked.

One msgspec Struct per kind and version. The newest version of each kind is what the server
stores; older versions are upgraded on arrival (docs/sync-protocol.md §10). Times are integer
milliseconds since the epoch, UTC.
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, Literal

import msgspec
from msgspec import Meta, Struct

Text = Annotated[str, Meta(max_length=2000)]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
Id = Annotated[str, Meta(min_length=1, max_length=64)]
Millis = Annotated[int, Meta(ge=0, le=9_999_999_999_999)]
Quantity = Annotated[float, Meta(ge=0, le=10_000_000)]
Upgraded = tuple[dict[str, Any], dict[str, Any]]  # (fields, base) of a change


class FieldError(Struct, frozen=True):
    field: str
    code: str
    reason: str


# -- shifts ---------------------------------------------------------------------------------


class ShiftV1(Struct, forbid_unknown_fields=True):
    """The first phone build had only a night toggle."""

    site: Id
    post: Name
    start: Millis
    end: Millis | None = None
    night: bool = False
    note: Text = ""


class Shift(Struct, forbid_unknown_fields=True):
    site: Id
    post: Name
    start: Millis
    end: Millis | None = None
    kind: Literal["day", "night", "on_call"] = "day"
    note: Text = ""
    approval: Literal["pending", "approved", "returned"] = "pending"
    approval_note: Text = ""


def _upgrade_shift_v1(fields: dict[str, Any], base: dict[str, Any]) -> Upgraded:
    fields, base = dict(fields), dict(base)
    if "night" in fields:
        fields["kind"] = "night" if fields.pop("night") else "day"
        base["kind"] = base.pop("night", None)
    return fields, base


def _check_shift(fields: dict[str, Any]) -> list[FieldError]:
    end, start = fields.get("end"), fields.get("start")
    if end is not None and start is not None and end < start:
        return [FieldError("end", "end_before_start", "the shift ends before it starts")]
    return []


# -- supplies -------------------------------------------------------------------------------

Movement = Literal["received", "used", "issued", "transferred", "stocktake"]


class Supply(Struct, forbid_unknown_fields=True):
    """One immutable movement in a site's ledger (or a stocktake count)."""

    site: Id
    item: Name
    unit: Annotated[str, Meta(min_length=1, max_length=20)]
    movement: Movement
    quantity: Quantity
    at: Millis
    to_site: Id | None = None
    follows: Id | None = None  # the latest stocktake the phone knew (docs §6 M6)
    note: Text = ""


def _check_supply(fields: dict[str, Any]) -> list[FieldError]:
    if fields.get("movement") == "transferred" and not fields.get("to_site"):
        return [FieldError("to_site", "required", "a transfer needs the site it goes to")]
    return []


class Request(Struct, forbid_unknown_fields=True):
    """A request for more supplies; staff set its status."""

    site: Id
    item: Name
    unit: Annotated[str, Meta(min_length=1, max_length=20)]
    quantity: Annotated[float, Meta(gt=0, le=10_000_000)]
    at: Millis
    urgent: bool = False
    note: Text = ""
    status: Literal["open", "approved", "delivered", "declined"] = "open"


# -- wellbeing ------------------------------------------------------------------------------


class Checkin(Struct, forbid_unknown_fields=True):
    """A wellbeing check-in, or (type "injury") an urgent injury or exposure report."""

    site: Id
    at: Millis
    type: Literal["checkin", "injury"] = "checkin"
    fatigue: Annotated[int, Meta(ge=1, le=5)] | None = None
    sleep_hours: Annotated[float, Meta(ge=0, le=24)] | None = None
    mood: Annotated[int, Meta(ge=1, le=5)] | None = None
    ate: bool | None = None
    rested: bool | None = None
    talk: bool = False
    injury_kind: Literal["injury", "exposure"] | None = None
    note: Text = ""


def checkin_answered(fields: dict[str, Any]) -> bool:
    """Whether a check-in answers at least one question; the phone's `answered` in
    pwa/js/views/wellbeing.js is the same rule (tests/vectors/checkin_answered.json).

    A question left unanswered is absent (or None), never False or 0, so care staff can tell
    "not answered" from "no". `talk` is a tick box: only True is an answer; a blank note is none.
    """
    note = fields.get("note")
    return (
        any(fields.get(name) is not None for name in ("fatigue", "sleep_hours", "mood", "ate", "rested"))
        or fields.get("talk") is True
        or bool(isinstance(note, str) and note.strip())
    )


def _check_checkin(fields: dict[str, Any]) -> list[FieldError]:
    if fields.get("type") == "injury":
        if not fields.get("injury_kind"):
            return [FieldError("injury_kind", "required", "say whether it was an injury or an exposure")]
    elif not checkin_answered(fields):
        return [FieldError("fatigue", "no_answer", "a check-in needs at least one question answered")]
    return []


class Followup(Struct, forbid_unknown_fields=True):
    """A care staff follow-up on a check-in; written on the dashboard, read by the worker."""

    site: Id
    checkin: Id
    at: Millis
    note: Text
    next_step: Text = ""


# -- the registry ---------------------------------------------------------------------------


class Kind(Struct, frozen=True):
    name: str
    versions: dict[int, type[Struct]]
    upgrades: dict[int, Callable[[dict[str, Any], dict[str, Any]], Upgraded]] = {}
    check: Callable[[dict[str, Any]], list[FieldError]] | None = None
    time_fields: tuple[str, ...] = ()
    staff_fields: frozenset[str] = frozenset()
    immutable: bool = False  # ledger movements: create or delete, never edit (§6 M6)
    device_writable: bool = True

    @property
    def current(self) -> int:
        return max(self.versions)

    @property
    def struct(self) -> type[Struct]:
        return self.versions[self.current]


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "shift",
            {1: ShiftV1, 2: Shift},
            upgrades={1: _upgrade_shift_v1},
            check=_check_shift,
            time_fields=("start", "end"),
            staff_fields=frozenset({"approval", "approval_note"}),
        ),
        Kind("supply", {1: Supply}, check=_check_supply, time_fields=("at",), immutable=True),
        Kind("request", {1: Request}, time_fields=("at",), staff_fields=frozenset({"status"})),
        Kind("checkin", {1: Checkin}, check=_check_checkin, time_fields=("at",)),
        Kind("followup", {1: Followup}, time_fields=("at",), device_writable=False),
    )
}

WELLBEING_KINDS = frozenset({"checkin", "followup"})
SITE_SHARED_KINDS = frozenset({"supply", "request"})


def _field_types(struct: type[Struct]) -> dict[str, msgspec.structs.FieldInfo]:
    return {f.name: f for f in msgspec.structs.fields(struct)}


_TYPES = {(k.name, v): _field_types(s) for k in KINDS.values() for v, s in k.versions.items()}
# The fields each kind's current version requires; structs.fields() costs ~65 µs a call.
_REQUIRED = {k.name: tuple(f.name for f in msgspec.structs.fields(k.struct) if f.required) for k in KINDS.values()}


def _reason(err: msgspec.ValidationError) -> str:
    return str(err).split(" - at `", 1)[0]


def _partial(struct: type[Struct]) -> type[Struct]:
    """The struct with every field optional: the fields one change sets, checked in one call."""
    return msgspec.defstruct(
        f"{struct.__name__}Fields",
        [(f.name, f.type | msgspec.UnsetType, msgspec.UNSET) for f in msgspec.structs.fields(struct)],
        forbid_unknown_fields=True,
    )


_PARTIAL = {(k.name, v): _partial(s) for k in KINDS.values() for v, s in k.versions.items()}


def check_fields(kind: Kind, schema: int, fields: dict[str, Any]) -> list[FieldError]:
    """Type-check the fields one change sets, before any merge (§5 S3): all at once, and one by
    one only to name every field that fails."""
    try:
        msgspec.convert(fields, _PARTIAL[(kind.name, schema)])
        return []
    except msgspec.ValidationError:
        pass
    types = _TYPES[(kind.name, schema)]
    errors = []
    for name, value in fields.items():
        info = types.get(name)
        if info is None:
            errors.append(FieldError(name, "unknown_field", f"{kind.name} has no field {name!r}"))
            continue
        try:
            msgspec.convert(value, info.type)
        except msgspec.ValidationError as err:
            errors.append(FieldError(name, "invalid", _reason(err)))
    return errors


def upgrade(kind: Kind, schema: int, fields: dict[str, Any], base: dict[str, Any]) -> Upgraded:
    """Bring a change of an older schema version up to the current one (§10)."""
    for version in range(schema, kind.current):
        fields, base = kind.upgrades[version](fields, base)
    return fields, base


def check_entry(kind: Kind, fields: dict[str, Any]) -> list[FieldError]:
    """Check a whole entry after the merge: required fields and rules across fields (§5 S6)."""
    errors = [
        FieldError(name, "required", f"{name} is required") for name in _REQUIRED[kind.name] if fields.get(name) is None
    ]
    if not errors and kind.check is not None:
        errors = kind.check(fields)
    return errors
