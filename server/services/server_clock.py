"""The server's own HLC, for edits made by staff on the dashboard (docs/sync-protocol.md §6 M4).

One per process, created by create_app; each process has its own node id, so stamps from two
server processes never tie: the process id keeps the workers of one machine apart for certain,
the random part keeps machines (and restarts) apart.
"""

from __future__ import annotations

import os
import secrets
import threading

from sync.clock import Clock

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


class ServerClock:
    def __init__(self, node: str | None = None) -> None:
        self._clock = Clock(node or _own_node())
        self._lock = threading.Lock()

    @property
    def node(self) -> str:
        return self._clock.node

    def stamp(self, now: int, seen: list[str]) -> str:
        """A stamp later than `now` and than every stamp in `seen` (C2 then C1)."""
        with self._lock:
            for other in seen:
                self._clock = self._clock.receive(other, now)
            self._clock, stamp = self._clock.send(now)
            return stamp


def _own_node() -> str:
    pid, digits = os.getpid(), ""
    while pid:
        pid, digit = divmod(pid, len(ALPHABET))
        digits = ALPHABET[digit] + digits
    return "srv" + "".join(secrets.choice(ALPHABET) for _ in range(6)) + digits
