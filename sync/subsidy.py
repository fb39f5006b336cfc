"""The work subsidy (工作补助) of a person's month: approved hours by kind, times the rates. Pure;
the twin of pwa/js/subsidy.js (`monthPay`, which sums and pays in the same order): the phone's
本月补助 and the township's sheet are one rule, with the shared vectors tests/vectors/subsidy.json.

Hours are summed as whole milliseconds per kind before anything is multiplied, so the sheet may
sum them in SQL (exact integers) and pay the totals with `pay`, and get what the phone gets."""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from sync.days import month_bounds

KINDS = ("day", "night", "on_call")
HOUR_MS = 3_600_000


def kind_of(shift: Mapping[str, Any]) -> str:
    """The rate a shift is paid at: a shift without a known kind is a day shift."""
    return shift.get("kind") if shift.get("kind") in KINDS else "day"


def month_pay(shifts: Iterable[Mapping[str, Any]], month: str, zone: str, rates: Mapping[str, float]) -> dict[str, Any]:
    """A shift counts, whole, in the month it starts in (the deployment's zone), once staff
    approved it and it has ended."""
    first, after = month_bounds(month, zone)
    ms = dict.fromkeys(KINDS, 0)
    for shift in shifts:
        start, end = shift.get("start"), shift.get("end")
        if (shift.get("approval") == "approved" and isinstance(start, int) and isinstance(end, int)
                and end >= start and first <= start < after):
            ms[kind_of(shift)] += end - start
    return pay(ms, rates)


def pay(ms: Mapping[str, int], rates: Mapping[str, float]) -> dict[str, Any]:
    """Hours by kind from milliseconds by kind, and the amount in yuan, rounded half up to the
    fen as the phone rounds (the kinds in KINDS order, so both languages add the same floats)."""
    hours = {kind: ms.get(kind, 0) / HOUR_MS for kind in KINDS}
    amount = sum(hours[kind] * rates[kind] for kind in KINDS)
    return {"hours": hours, "amount": math.floor(amount * 100 + 0.5) / 100}
