"""Township pages. Access is checked by `township_guard`, once for the whole controller."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Struct

from server.deps import MakerDep, SettingsDep, now_ms
from server.errors import ApiError
from server.policy import Principal
from server.services.reports import shifts_by_site
from server.services.staff_service import StaffEditError, open_conflict_views, resolve_conflict

# Development builds act as this staff member (and say so on every page).
DEV_STAFF = Principal(person_id="dev", name="开发模式", role="admin", site_id=None, township="")


def township_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Development builds open the pages (and say so on each); production needs sign-in."""
    if not connection.app.state.settings.dev_access:
        raise NotAuthorizedException("请先登录 / please sign in")


def current_staff(request: Request) -> Principal:
    return DEV_STAFF


class Resolution(Struct):
    choice: int


class TownshipController(Controller):
    path = "/township"
    guards = [township_guard]
    include_in_schema = False

    @get("/", operation_id="township_shifts", name="township:shifts")
    async def shifts(self, maker: MakerDep, settings: SettingsDep) -> Template:
        async with maker() as session:
            sites = await shifts_by_site(session)
        return Template("shifts.html", context={"sites": sites, "dev_access": settings.dev_access})

    @get("/conflicts", operation_id="township_conflicts", name="township:conflicts")
    async def conflicts(self, maker: MakerDep, settings: SettingsDep) -> Template:
        async with maker() as session:
            conflicts = await open_conflict_views(session)
        return Template("conflicts.html", context={"conflicts": conflicts, "dev_access": settings.dev_access})

    @post("/conflicts/{conflict_id:int}/resolve", operation_id="township_resolve", status_code=303)
    async def resolve(
        self,
        request: Request,
        conflict_id: FromPath[int],
        data: URLEncodedBody[Resolution],
        maker: MakerDep,
    ) -> Redirect:
        try:
            async with maker.begin() as session:
                await resolve_conflict(
                    session, conflict_id, data.choice, current_staff(request), request.app.state.clock, now_ms()
                )
        except StaffEditError as err:
            raise ApiError(409, str(err), err.errors[0].field) from None
        return Redirect("/township/conflicts", status_code=303)
