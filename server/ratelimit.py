"""A small per-process limiter for sign-in and enrolment attempts, keyed by client address.

Per-account lockout (services/accounts.py) lives in the database and holds across processes;
this limiter only slows one address hammering one process.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque

from litestar.connection import ASGIConnection

from server.errors import ApiError


class RateLimiter:
    def __init__(self, limit: int, per_seconds: float) -> None:
        self.limit = limit
        self.per = per_seconds
        self.hits: dict[str, deque[float]] = defaultdict(deque)

    def check(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        hits = self.hits[key]
        while hits and hits[0] <= now - self.per:
            hits.popleft()
        if len(hits) >= self.limit:
            retry = int(hits[0] + self.per - now) + 1
            raise ApiError(429, f"尝试太频繁，请 {retry} 秒后再试 / too many attempts, retry in {retry} s")
        hits.append(now)


def client_key(connection: ASGIConnection) -> str:
    return connection.client.host if connection.client else "unknown"
