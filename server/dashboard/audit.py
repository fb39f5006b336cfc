"""The audit log, for administrators: read it and export it; nobody edits it here."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from litestar import Request, Response, get

from server.dashboard.common import TownshipPages, now, page, staff
from server.deps import MakerDep, SettingsDep
from server.ratelimit import client_key
from server.services import audit

EXPORT_LIMIT = 100_000


class AuditPages(TownshipPages):
    @get("/audit", name="township:audit", opt={"action": "audit.read"})
    async def audit_page(self, request: Request, maker: MakerDep) -> Response:
        who = await staff(request)
        async with maker() as session:
            events = await audit.recent(session, who)
        return page(request, "audit.html", events=events)

    @get("/audit.csv", opt={"action": "audit.read"})
    async def audit_csv(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Response:
        who = await staff(request)
        async with maker() as session:
            events = await audit.recent(session, who, limit=EXPORT_LIMIT)
        await audit.record_export(maker, who, "audit.csv", client_key(request), now())
        return Response(
            audit.events_csv(events, ZoneInfo(settings.timezone)).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="audit.csv"'},
        )
