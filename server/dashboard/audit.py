"""The audit log, for administrators: read it and export it; nobody edits it here."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from litestar import Request, Response, get, route

from server.dashboard.common import TownshipPages, csv_download, page, staff
from server.deps import MakerDep, SettingsDep
from server.services import audit
from server.services.csv_export import csv_stream


class AuditPages(TownshipPages):
    @get("/audit", name="township:audit", opt={"action": "audit.read"})
    async def audit_page(self, request: Request, maker: MakerDep) -> Response:
        who = await staff(request)
        async with maker() as session:
            events = await audit.recent(session, who)
        return page(request, "audit.html", events=events)

    @route("/audit.csv", http_method=["GET", "HEAD"], opt={"action": "audit.read"})
    async def audit_csv(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Response:
        who = await staff(request)
        rows = audit.events_rows(maker, who, ZoneInfo(settings.timezone))
        return await csv_download(request, maker, who, "audit.csv", csv_stream(rows))
