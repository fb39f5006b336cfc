"""For the operator's monitor: /healthz (the process answers), /readyz (the database answers and
its schema is current), /metrics (Prometheus text, only with NUANXIN_METRICS_TOKEN).

All three are public in the dashboard guard's sense (`opt={"public": True}`): none of them names
a person, an entry or a count finer than the deployment's.
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import UTC, datetime, timedelta

from alembic.script import ScriptDirectory
from litestar import Request, Response, get
from sqlalchemy import func, select, text

from server import db
from server.errors import ApiError
from server.models import Conflict, Device

PUBLIC = {"public": True}
FRESH = {"cache-control": "no-store"}  # a monitor must see now, never a cached answer
READY_TIMEOUT = 5  # seconds: a monitor must hear "not ready", not wait for a database that hangs


@get("/healthz", opt=PUBLIC, include_in_schema=False, sync_to_thread=False)
def healthz() -> Response:
    return Response({"status": "ok"}, headers=FRESH)


async def _schema_state(request: Request) -> tuple[set[str], set[str]]:
    async with request.app.state.engine.connect() as conn:
        found = set(await conn.scalars(text("SELECT version_num FROM alembic_version")))
    return found, set(ScriptDirectory.from_config(db.alembic_config()).get_heads())


@get("/readyz", opt=PUBLIC, include_in_schema=False)
async def readyz(request: Request) -> Response:
    try:
        found, wanted = await asyncio.wait_for(_schema_state(request), READY_TIMEOUT)
    except Exception as err:  # noqa: BLE001 - any failure to reach the database means not ready
        reason = f"the database does not answer: {type(err).__name__}"
        return Response({"status": "not_ready", "reason": reason}, status_code=503, headers=FRESH)
    if found != wanted:
        reason = f"the schema is at {sorted(found)}, this version needs {sorted(wanted)}; run the migrations"
        return Response({"status": "not_ready", "reason": reason}, status_code=503, headers=FRESH)
    return Response({"status": "ready", "revision": ",".join(sorted(found))}, headers=FRESH)


async def _gauges(request: Request) -> dict[str, tuple[str, int]]:
    """Read from the database at each scrape; without it the process's counters still count."""
    up = ("Whether the database answered this scrape.", 1)
    try:
        return {"nuanxin_database_up": up, **await asyncio.wait_for(_counts(request), READY_TIMEOUT)}
    except Exception:  # noqa: BLE001 - the failure itself is the measurement
        return {"nuanxin_database_up": (up[0], 0)}


async def _counts(request: Request) -> dict[str, tuple[str, int]]:
    day_ago = datetime.now(UTC) - timedelta(days=1)
    async with request.app.state.maker() as session:
        open_conflicts = await session.scalar(
            select(func.count()).select_from(Conflict).where(Conflict.resolved_at.is_(None)))
        phones = await session.scalar(select(func.count()).select_from(Device).where(
            Device.revoked_at.is_(None), Device.last_sync_at >= day_ago))
    return {
        "nuanxin_conflicts_open": ("Conflicts waiting for township staff.", open_conflicts or 0),
        "nuanxin_phones_seen_last_day": ("Enrolled phones that synced in the last 24 hours.", phones or 0),
    }


@get("/metrics", opt=PUBLIC, include_in_schema=False)
async def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token is None:
        raise ApiError(404, "metrics are off; set NUANXIN_METRICS_TOKEN to turn them on")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ApiError(401, "metrics need the bearer token set in NUANXIN_METRICS_TOKEN")
    body = request.app.state.metrics.render(await _gauges(request))
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8", headers=FRESH)


HEALTH_ROUTES = [healthz, readyz, metrics]
