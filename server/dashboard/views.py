"""Township pages. Access is checked by `township_guard`, once for the whole router."""

from __future__ import annotations

from litestar import Controller, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.response import Template
from server.deps import MakerDep, SettingsDep

from server.services.reports import shifts_by_site

KIND_LABELS = {"day": "白班", "night": "夜班", "on_call": "备勤"}
APPROVAL_LABELS = {"pending": "待审核", "approved": "审核通过", "returned": "退回修改"}


def township_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Development builds open the pages (and say so on each); production needs sign-in."""
    if not connection.app.state.settings.dev_access:
        raise NotAuthorizedException("请先登录 / please sign in")


class TownshipController(Controller):
    path = "/township"
    guards = [township_guard]
    include_in_schema = False

    @get("/", operation_id="township_shifts", name="township:shifts")
    async def shifts(
        self, maker: MakerDep, settings: SettingsDep
    ) -> Template:
        async with maker() as session:
            sites = await shifts_by_site(session, settings.timezone)
        return Template(
            "shifts.html",
            context={
                "sites": sites,
                "kinds": KIND_LABELS,
                "approvals": APPROVAL_LABELS,
                "dev_access": settings.dev_access,
            },
        )
