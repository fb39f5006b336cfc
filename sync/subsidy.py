"""The work subsidy (工作补助) of a person's month: approved hours by kind, times the rates. Pure;
the twin of pwa/js/subsidy.js (`monthPay`): the phone's 本月补助 and the township's sheet are one
rule, with the shared vectors tests/vectors/subsidy.json."""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from sync.days import month_of

KINDS = ("day", "night", "on_call")
HOUR_MS = 3_600_000


def counts(shift: Mapping[str, Any], month: str, zone: str) -> bool:
    """A shift counts, whole, in the month it starts in (the deployment's zone), once staff
    approved it and it has ended."""
    start, end = shift.get("start"), shift.get("end")
    return (shift.get("approval") == "approved" and isinstance(start, int) and isinstance(end, int)
            and end >= start and month_of(start, zone) == month)


def month_pay(shifts: Iterable[Mapping[str, Any]], month: str, zone: str, rates: Mapping[str, float]) -> dict[str, Any]:
    """Hours by kind and the amount in yuan, rounded half up to the fen as the phone rounds."""
    hours = dict.fromkeys(KINDS, 0.0)
    amount = 0.0
    for shift in shifts:
        if not counts(shift, month, zone):
            continue
        kind = shift.get("kind") if shift.get("kind") in KINDS else "day"
        h = (shift["end"] - shift["start"]) / HOUR_MS
        hours[kind] += h
        amount += h * rates[kind]
    return {"hours": hours, "amount": math.floor(amount * 100 + 0.5) / 100}
