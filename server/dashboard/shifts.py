"""Shifts per site, their approval and export, and the monthly subsidy sheet."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post, route
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Struct

from server.dashboard.common import TownshipPages, csv_download, page, refused_as_409, staff
from server.dashboard.filters import make_filters
from server.deps import MakerDep, SettingsDep, now_ms
from server.errors import ApiError
from server.services import paging, reports, subsidy
from server.services.conflict_values import parse_local
from server.services.csv_export import csv_stream
from server.services.staff_service import approve_shift, fix_shift_times

MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
# Calendar arithmetic needs a year and the one after it; no subsidy was paid outside these.
FIRST_YEAR, LAST_YEAR = 1970, 2999


class Approval(Struct):
    decision: str
    note: str = ""


class ShiftTimes(Struct):
    """The form's local times ("2025-11-24T08:00", the deployment's zone); end may be blank."""

    start: str
    end: str = ""


def _millis(value: str, field: str, timezone: str) -> int:
    try:
        return parse_local(value, timezone)
    except ValueError:
        raise ApiError(400, "a time looks like 2025-11-24T08:00", field) from None


class ShiftPages(TownshipPages):
    # -- shifts ---------------------------------------------------------------------------------

    @get("/shifts", name="township:shifts", opt={"action": "shifts.read"})
    async def shifts(self, request: Request, maker: MakerDep) -> Template:
        who = await staff(request)
        pages = paging.requested(request.query_params)
        async with maker() as session:
            sites = await reports.shifts_by_site(session, who, pages)
        return page(request, "shifts.html", sites=sites, pages=pages)

    @post("/shifts/{entry_id:str}/approval", status_code=303, opt={"action": "shifts.approve"})
    async def approve(
        self, request: Request, entry_id: FromPath[str], data: URLEncodedBody[Approval], maker: MakerDep
    ) -> Redirect:
        who = await staff(request)
        with refused_as_409():
            async with maker.begin() as session:
                await approve_shift(session, who, entry_id, data.decision, data.note, request.app.state.clock, now_ms())
        return Redirect("/township/shifts", status_code=303)

    @post("/shifts/{entry_id:str}/times", status_code=303, opt={"action": "shifts.approve"})
    async def fix_times(
        self,
        request: Request,
        entry_id: FromPath[str],
        data: URLEncodedBody[ShiftTimes],
        maker: MakerDep,
        settings: SettingsDep,
    ) -> Redirect:
        """§7 K3: staff put a shift's times right (the phone's own stay on record)."""
        who = await staff(request)
        start = _millis(data.start, "start", settings.timezone)
        end = _millis(data.end, "end", settings.timezone) if data.end.strip() else None
        with refused_as_409():
            async with maker.begin() as session:
                await fix_shift_times(session, who, entry_id, start, end, request.app.state.clock, now_ms())
        return Redirect("/township/shifts", status_code=303)

    @route("/export/shifts.csv", http_method=["GET", "HEAD"], opt={"action": "shifts.read"})
    async def shifts_export(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Response:
        who = await staff(request)
        filters = make_filters(settings.timezone)
        rows = reports.shifts_csv_rows(maker, who, filters["when"], filters["label"])
        return await csv_download(request, maker, who, "shifts.csv", csv_stream(rows))

    # -- the monthly subsidy sheet ----------------------------------------------------------------

    async def _sheet(self, request: Request, maker: MakerDep, settings: SettingsDep) -> tuple[str, list]:
        who = await staff(request)
        month = request.query_params.get("month") or datetime.now(ZoneInfo(settings.timezone)).strftime("%Y-%m")
        found = MONTH.fullmatch(month)
        if not found:
            raise ApiError(400, "month must look like 2025-11", "month")
        if not FIRST_YEAR <= int(found[1]) <= LAST_YEAR:
            raise ApiError(400, f"month must be between {FIRST_YEAR}-01 and {LAST_YEAR}-12", "month")
        async with maker() as session:
            return month, await subsidy.sheet(session, who, month, settings.timezone)

    @get("/subsidy", name="township:subsidy", opt={"action": "subsidy.read"})
    async def subsidy_page(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Template:
        month, rows = await self._sheet(request, maker, settings)
        return page(request, "subsidy.html", month=month, rows=rows, total=sum(r.amount for r in rows))

    @route("/subsidy.csv", http_method=["GET", "HEAD"], opt={"action": "subsidy.read"})
    async def subsidy_csv(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Response:
        month, rows = await self._sheet(request, maker, settings)
        return await csv_download(request, maker, await staff(request), "subsidy.csv",
                                  subsidy.sheet_csv(rows, month), filename=f"subsidy-{month}.csv", month=month)
