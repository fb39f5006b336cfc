"""A new value staff type to resolve a conflict (docs/sync-protocol.md §6 M4): the input the
card offers for the field, and the typed text read back into the field's type. The result is
then checked like any staff edit (`staff_edit`: the kind's schema, then the whole entry)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import inspect

from sync.entries import KINDS, FieldError
from sync.merge import DELETED

# Ids of other rows (and the tombstone): a typed id could point anywhere, so only a
# candidate may be kept for these.
CANDIDATES_ONLY = frozenset({DELETED, "site", "to_site", "follows", "checkin"})
LOCAL_TIME = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


@dataclass(frozen=True)
class ValueInput:
    """How the card asks for a new value: an <input> type, or a <select>'s choices."""

    type: str  # datetime-local, number, text, select
    choices: tuple[Any, ...] = ()
    optional: bool = False


def _field_type(kind: str, name: str) -> tuple[inspect.Type, bool]:
    struct = KINDS[kind].struct
    info = next(f for f in inspect.type_info(struct).fields if f.name == name)
    found = info.type
    if isinstance(found, inspect.UnionType):
        others = [t for t in found.types if not isinstance(t, inspect.NoneType)]
        return others[0], True
    return found, False


def value_input(kind: str, name: str) -> ValueInput | None:
    """The input for a new value of `name`, or None: keep a candidate only."""
    if name in CANDIDATES_ONLY or name not in KINDS[kind].struct.__struct_fields__:
        return None
    found, optional = _field_type(kind, name)
    if name in KINDS[kind].time_fields:
        return ValueInput("datetime-local", optional=optional)
    if isinstance(found, inspect.LiteralType):
        return ValueInput("select", tuple(found.values), optional)
    if isinstance(found, inspect.BoolType):
        return ValueInput("select", (True, False), optional)
    if isinstance(found, (inspect.IntType, inspect.FloatType)):
        return ValueInput("number", optional=optional)
    return ValueInput("text", optional=optional)


def parse_local(text: str, timezone: str) -> int:
    """A local time of the deployment's zone ("2025-11-24T08:00") as epoch milliseconds."""
    moment = datetime.strptime(text.strip(), LOCAL_TIME)
    return int(moment.replace(tzinfo=ZoneInfo(timezone)).timestamp() * 1000)


def parse_value(kind: str, name: str, text: str, timezone: str) -> tuple[Any, list[FieldError]]:
    """The typed text as a value of field `name`, or the errors (named by the field)."""
    wanted = value_input(kind, name)
    if wanted is None:
        return None, [FieldError(name, "candidates_only", "keep one of the candidates for this field")]
    text = text.strip()
    if not text and wanted.type != "text":
        if wanted.optional:
            return None, []
        return None, [FieldError(name, "required", f"{name} needs a value")]
    try:
        if wanted.type == "datetime-local":
            return parse_local(text, timezone), []
        if wanted.type == "select":
            by_text = {str(c).lower(): c for c in wanted.choices}
            if text.lower() not in by_text:
                listed = ", ".join(map(str, wanted.choices))
                return None, [FieldError(name, "invalid", f"choose one of {listed}")]
            return by_text[text.lower()], []
        if wanted.type == "number":
            found, _ = _field_type(kind, name)
            number = int(text) if isinstance(found, inspect.IntType) else float(text)
            if not math.isfinite(number):
                raise ValueError(text)
            return number, []
    except ValueError:
        reason = "a number is needed"
        if wanted.type == "datetime-local":
            reason = "a time looks like 2025-11-24T08:00"
        return None, [FieldError(name, "invalid", reason)]
    return text, []
