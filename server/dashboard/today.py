"""The first page (today, per site), the daily report for the level above, and the charts."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, route
from litestar.response import Template

from server.dashboard.common import TownshipPages, csv_download, now, page, staff
from server.dashboard.filters import make_filters
from server.deps import MakerDep, SettingsDep
from server.errors import ApiError
from server.policy import allowed
from server.services import charts, daily, deployment, today
from server.services.supplies import supplies_by_site

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
CHART_DAYS = 14


def _today(timezone: str) -> str:
    return datetime.now(ZoneInfo(timezone)).date().isoformat()


def _day(request: Request, timezone: str) -> str:
    """The day asked for (?day=2025-11-24); yesterday by default, the last whole day."""
    value = request.query_params.get("day") or (date.fromisoformat(_today(timezone)) - timedelta(days=1)).isoformat()
    try:
        if not DAY.fullmatch(value) or not 1970 <= int(value[:4]) <= 2999:
            raise ValueError
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ApiError(400, "day must look like 2025-11-24", "day") from None


class TodayPages(TownshipPages):
    @get("/", name="township:today", opt={"action": "overview.read"})
    async def overview(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Template:
        who = await staff(request)
        moment = now()
        async with maker() as session:
            since, noted = await today.last_look(session, who, moment)
            found = await today.overview(session, who, moment, settings.timezone, since)
        if noted:
            async with maker.begin() as session:
                await today.note_look(session, who, moment)
        return page(request, "today.html", o=found, today=_today(settings.timezone))

    async def _report(self, request: Request, maker: MakerDep, settings: SettingsDep) -> daily.DailyReport:
        who = await staff(request)
        day = _day(request, settings.timezone)
        async with maker() as session:
            return await daily.daily_report(session, who, day, settings.timezone, now())

    @get("/report", name="township:report", opt={"action": "reports.read"})
    async def report(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Template:
        found = await self._report(request, maker, settings)
        return page(request, "report.html", r=found, today=_today(settings.timezone))

    @route("/report.csv", http_method=["GET", "HEAD"], opt={"action": "reports.read"})
    async def report_csv(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Response:
        found = await self._report(request, maker, settings)
        qty = make_filters(settings.timezone)["qty"]
        return await csv_download(request, maker, await staff(request), "report.csv", daily.report_csv(found, qty),
                                  filename=f"report-{found.day}.csv", day=found.day)

    @get("/charts", name="township:charts", opt={"action": "shifts.read"})
    async def charts_page(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Template:
        who = await staff(request)
        days = charts.last_days(_today(settings.timezone), CHART_DAYS)
        labels = [d[5:] for d in days]
        async with maker() as session:
            shifts = charts.bar_chart("每日班次（按站点） Shifts per day by site", labels,
                                      await charts.shifts_per_day(session, who, days, settings.timezone), "班")
            stock = []
            if allowed(who, "supplies.read"):
                threshold = (await deployment.load(session, who.township)).alerts.days_left
                stock = [(s, charts.stock_chart(f"{s.name}：可用天数与日均用量 Days left and use a day", s, threshold))
                         for s in await supplies_by_site(session, who, int(now().timestamp() * 1000)) if s.stock]
        return page(request, "charts.html", shifts=shifts, stock=stock)

    @get("/charts/fatigue", name="township:fatigue", opt={"action": "wellbeing.details"})
    async def fatigue_page(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Template:
        who = await staff(request)
        days = charts.last_days(_today(settings.timezone), CHART_DAYS)
        async with maker() as session:
            series = await charts.fatigue_per_day(session, who, days, settings.timezone)
        chart = charts.line_chart("平均疲劳程度（1-5，按站点） Average fatigue (1-5) by site", [d[5:] for d in days],
                                  series, 5)
        return page(request, "fatigue.html", chart=chart, series=series, days=days)

