"""Protective supplies: stock and days left per site, and requests for more."""

from __future__ import annotations

from litestar import Request, Response, get, post, route
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Struct
from sqlalchemy import select

from server.dashboard.common import TownshipPages, csv_download, page, refused_as_409, staff
from server.dashboard.filters import make_filters
from server.deps import MakerDep, SettingsDep, now_ms
from server.errors import ApiError
from server.models import Entry, Site
from server.policy import visible_sites
from server.services import deployment, paging
from server.services.csv_export import csv_stream
from server.services.staff_service import staff_edit
from server.services.supplies import movements_rows, requests_rows, supplies_by_site
from sync import ledger


class Decision(Struct):
    status: str


class SupplyPages(TownshipPages):
    @get("/supplies", name="township:supplies", opt={"action": "supplies.read"})
    async def supplies(self, request: Request, maker: MakerDep) -> Template:
        who = await staff(request)
        pages = paging.requested(request.query_params)
        async with maker() as session:
            sites = await supplies_by_site(session, who, now_ms(), pages)
            low_days = (await deployment.load(session, who.township)).alerts.days_left  # as on the overview
        return page(request, "supplies.html", sites=sites, pages=pages, rate_days=ledger.RATE_DAYS,
                    low_days=low_days)

    @route("/export/supplies.csv", http_method=["GET", "HEAD"], opt={"action": "supplies.read"})
    async def movements_export(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Response:
        who = await staff(request)
        filters = make_filters(settings.timezone)
        rows = movements_rows(maker, who, filters["when"], filters["label"])
        return await csv_download(request, maker, who, "supplies.csv", csv_stream(rows))

    @route("/export/requests.csv", http_method=["GET", "HEAD"], opt={"action": "supplies.read"})
    async def requests_export(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Response:
        who = await staff(request)
        filters = make_filters(settings.timezone)
        rows = requests_rows(maker, who, filters["when"], filters["label"])
        return await csv_download(request, maker, who, "requests.csv", csv_stream(rows))

    @post("/requests/{entry_id:str}/status", status_code=303, opt={"action": "requests.decide"})
    async def decide(
        self, request: Request, entry_id: FromPath[str], data: URLEncodedBody[Decision], maker: MakerDep
    ) -> Redirect:
        who = await staff(request)
        with refused_as_409():
            async with maker.begin() as session:
                entry = await session.scalar(
                    select(Entry).join(Site, Site.id == Entry.site_id)
                    .where(Entry.id == entry_id, Entry.kind == "request", visible_sites(who))
                    .with_for_update(of=Entry)
                )
                if entry is None:
                    raise ApiError(404, "no such request in your township", "entry")
                await staff_edit(session, entry, {"status": data.status}, who, request.app.state.clock, now_ms())
        return Redirect("/township/supplies", status_code=303)
