"""Dependencies the handlers ask for by name. State lives on the app, built by create_app."""

from __future__ import annotations

import time

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.errors import ApiError
from server.policy import Principal
from server.services.enrolment import device_principal
from server.settings import Settings


def provide_settings(state: State) -> Settings:
    return state.settings


def provide_maker(state: State) -> async_sessionmaker[AsyncSession]:
    return state.maker


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def provide_device(request: Request, state: State) -> Principal:
    """The phone behind a request, from its bearer token (401 keeps the phone's outbox)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "this phone is not enrolled; enter the code from your township")
    async with state.maker() as session:
        who = await device_principal(session, token.strip())
    if who is None:
        raise ApiError(401, "this phone's access was withdrawn or is unknown; enrol again")
    request.state.device = who  # for the request's log line (server/observability.py)
    return who


# Handlers name their dependencies with these (Litestar 3 drops inferred dependencies).
SettingsDep = NamedDependency[Settings]
MakerDep = NamedDependency[async_sessionmaker[AsyncSession]]
DeviceDep = NamedDependency[Principal]
