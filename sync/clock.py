"""Hybrid logical clock (docs/sync-protocol.md §2).

A stamp is ``WWWWWWWWWWWWW-CCCC-NODE``: 13 decimal digits of wall-clock milliseconds, 4 hex
digits of counter, the node id. The fixed-width prefix makes stamps sort as plain strings, the
same in Python and JavaScript. The clock is a value: `send` and `receive` return a new one.
"""

from __future__ import annotations

import re
from typing import NamedTuple

MAX_COUNTER = 0xFFFF
STAMP_RE = re.compile(r"^(\d{13})-([0-9a-f]{4})-([a-z0-9]{1,32})$")


class Stamp(NamedTuple):
    wall: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.wall:013d}-{self.counter:04x}-{self.node}"


def parse(stamp: str) -> Stamp:
    match = STAMP_RE.match(stamp)
    if match is None:
        raise ValueError(f"not a stamp: {stamp!r}")
    return Stamp(int(match[1]), int(match[2], 16), match[3])


def node_of(stamp: str) -> str:
    return stamp.rsplit("-", 1)[1]


def shift_wall(stamp: str, offset_ms: int) -> str:
    """The same stamp with its wall moved by `offset_ms` (clock correction, §7 K3)."""
    wall, counter, node = parse(stamp)
    return str(Stamp(max(0, wall + offset_ms), counter, node))


def _carry(wall: int, counter: int) -> tuple[int, int]:
    # C3: never raise on overflow; move the wall on by a millisecond instead.
    if counter > MAX_COUNTER:
        return wall + 1, 0
    return wall, counter


class Clock(NamedTuple):
    """The last stamp a node issued or saw, minus the node (which never changes)."""

    node: str
    wall: int = 0
    counter: int = 0

    def send(self, now: int) -> tuple[Clock, str]:
        """C1: a new local stamp at physical time `now`."""
        if now > self.wall:
            wall, counter = now, 0
        else:
            wall, counter = _carry(self.wall, self.counter + 1)
        clock = Clock(self.node, wall, counter)
        return clock, str(Stamp(wall, counter, self.node))

    def receive(self, stamp: str, now: int) -> Clock:
        """C2: take in a stamp seen from elsewhere, so later local stamps sort after it."""
        remote = parse(stamp)
        wall = max(self.wall, remote.wall, now)
        if wall == self.wall == remote.wall:
            counter = max(self.counter, remote.counter) + 1
        elif wall == self.wall:
            counter = self.counter + 1
        elif wall == remote.wall:
            counter = remote.counter + 1
        else:
            counter = 0
        wall, counter = _carry(wall, counter)
        return Clock(self.node, wall, counter)
