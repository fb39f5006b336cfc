"""Correcting times from phones whose clocks lie (docs/sync-protocol.md §7). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync.clock import parse, shift_wall
from sync.entries import FieldError, Kind

CLOCK_CORRECTED = "clock_corrected"
TIME_SUSPECT = "time_suspect"
DAY_MS = 24 * 3_600_000


@dataclass(frozen=True)
class Correction:
    offset: int  # server_now - device_time, ms (K1)
    now: int
    tolerance: int

    @property
    def device_time(self) -> int:
        return self.now - self.offset

    @property
    def clock_wrong(self) -> bool:
        return abs(self.offset) > self.tolerance  # K2

    def from_wrong_clock(self, value: int) -> bool:
        """K3: only the phone's wrong clock can have made this time. A clock that is behind
        cannot have made a time ahead of its own `device_time` (that came from the clock it
        remembers, or from a right one); a right clock cannot have made one ahead of now."""
        if not self.clock_wrong:
            return False
        if self.offset > 0:
            return value <= self.device_time
        return value > self.now + self.tolerance

    def stamp(self, stamp: str) -> str:
        """K3 and K3a: the stamp the server stores."""
        if self.from_wrong_clock(parse(stamp).wall):
            stamp = shift_wall(stamp, self.offset)
        wall = parse(stamp).wall
        if wall > self.now + self.tolerance:
            stamp = shift_wall(stamp, self.now - wall)
        return stamp

    def times(self, kind: Kind, fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """K3: corrected time fields, and the phone's own values of those it corrected. The times
        of one change were typed against one clock: when the wrong clock made any of them, all
        move together, so a shift's start and end keep their order (a moved end that lands in
        the future is then refused by K5, not kept before its start)."""
        times = {name: fields[name] for name in kind.time_fields if isinstance(fields.get(name), int)}
        if not any(self.from_wrong_clock(value) for value in times.values()):
            return fields, {}
        corrected = {**fields, **{name: max(0, value + self.offset) for name, value in times.items()}}
        return corrected, times

    def future_errors(self, kind: Kind, fields: dict[str, Any]) -> list[FieldError]:
        """K5: a time later than now (plus the tolerance) is refused, field by field."""
        return [
            FieldError(name, "in_future", "this time is later than now; check the time and the phone's clock")
            for name in kind.time_fields
            if isinstance(fields.get(name), int) and fields[name] > self.now + self.tolerance
        ]


def suspect_times(kind: Kind, fields: dict[str, Any], stamp: str, enrolled: int) -> list[str]:
    """K6: times a change set that look made by a clock that was wrong and was put right before
    the sync (so K2 saw nothing): more than a day before the phone was enrolled, or more than a
    day from the change's stamp (a day: a shift recorded late is not suspect). The stamp comes from the HLC, which never goes below what the phone last
    received (C2), so a time from before its last good sync is caught by the second rule."""
    wall = parse(stamp).wall
    return [
        name
        for name in kind.time_fields
        if isinstance(fields.get(name), int)
        and (fields[name] < enrolled - DAY_MS or abs(fields[name] - wall) > DAY_MS)
    ]
