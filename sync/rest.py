"""The rest status a person's shifts give under the deployment's rest rules. Pure; the twin of
pwa/js/rest.js (`restStatus`); both pass tests/vectors/rest.json.

max_shift_hours: on duty longer than this, now; min_rest_hours: less rest between the last two
shifts; max_days_without_rest: days in a row with a shift, counted by the day a shift starts in
the deployment's zone, up to today or yesterday (today may not have started yet).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sync.days import day_of

HOUR = 3_600_000


def _day_number(ms: int, zone: str) -> int:
    return date.fromisoformat(day_of(ms, zone)).toordinal()


def rest_status(shifts: Iterable[Mapping[str, Any]], now: int, rules: Mapping[str, float],
                zone: str) -> dict[str, Any]:
    """`shifts`: the person's shifts' fields; `rules`: a RestRules as a dict."""
    started = sorted((s for s in shifts if isinstance(s.get("start"), int) and s["start"] <= now),
                     key=lambda s: s["start"])
    open_ = [s for s in started if s.get("end") is None]
    on_duty = now - open_[-1]["start"] if open_ else None
    rest = None
    if len(started) > 1:
        prev, last = started[-2:]
        if prev.get("end") is not None and last["start"] - prev["end"] >= 0:
            rest = last["start"] - prev["end"]  # an overlap is a mistake in the entries, not a rest
    days = {_day_number(s["start"], zone) for s in started}
    day = _day_number(now, zone)
    if day not in days:
        day -= 1
    n = 0
    while day - n in days:
        n += 1
    return {
        "on_duty": on_duty, "rest": rest, "days": n,
        "long": on_duty is not None and on_duty > rules["max_shift_hours"] * HOUR,
        "short": rest is not None and rest < rules["min_rest_hours"] * HOUR,
        "too_many": n >= rules["max_days_without_rest"],
    }
