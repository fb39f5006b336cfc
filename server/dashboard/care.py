"""Wellbeing: counts for the township, details and follow-ups for care staff only."""

from __future__ import annotations

from litestar import Request, Response, get, post, route
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Struct

from server.dashboard.common import TownshipPages, csv_download, page, refused_as_409, staff
from server.dashboard.filters import make_filters
from server.deps import MakerDep, SettingsDep, now_ms
from server.policy import allowed
from server.services import paging, wellbeing
from server.services.csv_export import csv_stream


class FollowupForm(Struct):
    note: str
    next_step: str = ""


class CarePages(TownshipPages):
    @get("/wellbeing", name="township:wellbeing", opt={"action": "wellbeing.counts"})
    async def wellbeing_page(self, request: Request, maker: MakerDep) -> Template:
        who = await staff(request)
        pages = paging.requested(request.query_params)
        async with maker() as session:
            counts = await wellbeing.counts_by_site(session, who)
            details = await wellbeing.details(session, who, pages) if allowed(who, "wellbeing.details") else None
        return page(request, "wellbeing.html", counts=counts, details=details, pages=pages)

    @route("/export/wellbeing.csv", http_method=["GET", "HEAD"], opt={"action": "wellbeing.details"})
    async def wellbeing_export(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Response:
        who = await staff(request)
        rows = wellbeing.details_rows(maker, who, make_filters(settings.timezone)["when"])
        return await csv_download(request, maker, who, "wellbeing.csv", csv_stream(rows))

    @post("/wellbeing/{checkin_id:str}/followup", status_code=303, opt={"action": "followups.write"})
    async def followup(
        self, request: Request, checkin_id: FromPath[str], data: URLEncodedBody[FollowupForm], maker: MakerDep
    ) -> Redirect:
        who = await staff(request)
        with refused_as_409():
            async with maker.begin() as session:
                await wellbeing.add_followup(session, who, checkin_id, data.note, data.next_step,
                                             request.app.state.clock, now_ms())
        return Redirect("/township/wellbeing", status_code=303)
