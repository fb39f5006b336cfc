"""Correcting times from phones whose clocks lie (docs/sync-protocol.md §7). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync.clock import parse, shift_wall
from sync.entries import Kind

CLOCK_CORRECTED = "clock_corrected"


@dataclass(frozen=True)
class Correction:
    offset: int  # server_now - device_time, ms (K1)
    now: int
    tolerance: int

    @property
    def clock_wrong(self) -> bool:
        return abs(self.offset) > self.tolerance  # K2

    def stamp(self, stamp: str) -> str:
        """K3 and K3a: the stamp the server stores."""
        if self.clock_wrong:
            stamp = shift_wall(stamp, self.offset)
        wall = parse(stamp).wall
        if wall > self.now + self.tolerance:
            stamp = shift_wall(stamp, self.now - wall)
        return stamp

    def times(self, kind: Kind, fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """K3: corrected time fields, and the phone's own values of those it corrected."""
        if not self.clock_wrong:
            return fields, {}
        corrected, originals = dict(fields), {}
        for name in kind.time_fields:
            if isinstance(fields.get(name), int):
                originals[name] = fields[name]
                corrected[name] = max(0, fields[name] + self.offset)
        return corrected, originals
