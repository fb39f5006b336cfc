"""Limits on sign-in and enrolment attempts, counted in the database so that every server
process shares them (several stateless processes sit behind one proxy, docs/operations.md).

A limit is a fixed window per key: `address:<ip>`, or a total over all addresses. The client
address is the peer's, unless the peer is a proxy named in NUANXIN_TRUSTED_PROXIES: only then
is X-Forwarded-For read (from the right, skipping the trusted proxies themselves).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from litestar.connection import ASGIConnection
from sqlalchemy import case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import ApiError
from server.models import RateCounter


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    per: timedelta


# Enrolment: the arithmetic behind these is in docs/roles.md ("Enrolment codes").
ENROL_PER_ADDRESS = Limit("enrol", 10, timedelta(minutes=1))
ENROL_FAILURES_TOTAL = Limit("enrol-failures", 1000, timedelta(hours=1))
SIGN_IN_PER_ADDRESS = Limit("sign-in", 10, timedelta(minutes=1))
KEEP = timedelta(days=1)  # every window is shorter


async def hit(session: AsyncSession, limit: Limit, key: str, now: datetime, enforce: bool = True) -> int:
    """Count one attempt under `limit` for `key`; return the attempts in the current window.
    Over the limit, raise a 429 (unless `enforce` is off: counting a failure already answered)."""
    dialect = session.bind.dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert
    row_key = f"{limit.name}:{key}"[:200]
    stale = RateCounter.window_start <= now - limit.per
    statement = (
        insert(RateCounter)
        .values(key=row_key, window_start=now, count=1)
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "count": case((stale, 1), else_=RateCounter.count + 1),
                "window_start": case((stale, now), else_=RateCounter.window_start),
            },
        )
        .returning(RateCounter.count, RateCounter.window_start)
    )
    count, started = (await session.execute(statement)).one()
    if count == 1:  # a new window: clear this limit's windows long past, so the table stays small
        await session.execute(
            delete(RateCounter)
            .where(RateCounter.key.startswith(f"{limit.name}:"), RateCounter.window_start < now - KEEP)
        )
    if enforce and count > limit.limit:
        started = started if started.tzinfo else started.replace(tzinfo=UTC)
        retry = max(1, int((started + limit.per - now).total_seconds()) + 1)
        raise TooMany(retry)
    return count


async def peek(session: AsyncSession, limit: Limit, key: str, now: datetime) -> bool:
    """Whether `key` is over `limit` now, without counting an attempt."""
    row = await session.get(RateCounter, f"{limit.name}:{key}"[:200])
    if row is None:
        return False
    started = row.window_start if row.window_start.tzinfo else row.window_start.replace(tzinfo=UTC)
    return started > now - limit.per and row.count >= limit.limit


class TooMany(ApiError):
    def __init__(self, retry: int) -> None:
        super().__init__(429, f"尝试太频繁，请 {retry} 秒后再试 / too many attempts, retry in {retry} s")
        self.headers = {"Retry-After": str(retry)}


def parse_proxies(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """NUANXIN_TRUSTED_PROXIES: addresses or networks, separated by commas or spaces."""
    return tuple(ipaddress.ip_network(part, strict=False) for part in text.replace(",", " ").split())


def _trusted(address: str, proxies) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_key(connection: ASGIConnection) -> str:
    peer = connection.client.host if connection.client else "unknown"
    proxies = connection.app.state.settings.proxies
    if not _trusted(peer, proxies):
        return peer
    header = connection.headers.get("x-forwarded-for", "")
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    for address in reversed(forwarded):
        if not _trusted(address, proxies):
            return address[:64]
    return forwarded[0][:64] if forwarded else peer


def public_base_url(connection: ASGIConnection) -> str:
    """The address a phone reaches this server at: behind a trusted proxy that ends TLS
    (deploy/), the scheme the proxy was asked with, not the plain HTTP it forwards."""
    base = str(connection.base_url).rstrip("/")
    peer = connection.client.host if connection.client else "unknown"
    scheme = connection.headers.get("x-forwarded-proto", "")
    if scheme in ("http", "https") and _trusted(peer, connection.app.state.settings.proxies):
        return scheme + base[base.index(":"):]
    return base
