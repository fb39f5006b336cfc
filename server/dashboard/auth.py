"""Who is using the dashboard, and whether they may: the guard every township route passes."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from server.policy import Principal, allowed
from server.services.accounts import staff_principal

SESSION_COOKIE = "nx_session"
# Development builds without a signed-in user act as this administrator (every page says so).
# It sees every township but, like any administrator, no wellbeing details.
DEV_STAFF = Principal(person_id="dev", name="开发模式", role="admin", site_id=None, township="*")


async def current_staff(connection: ASGIConnection) -> Principal | None:
    if "staff" in connection.state:
        return connection.state.staff
    who = None
    cookie = connection.cookies.get(SESSION_COOKIE)
    app_state = connection.app.state
    if cookie:
        async with app_state.maker() as session:
            who = await staff_principal(session, app_state.settings.secret, cookie, datetime.now(UTC))
    if who is None and app_state.settings.dev_access:
        who = DEV_STAFF
    connection.state.staff = who
    return who


async def township_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Every township route names its action in `opt`; the policy table decides. A route that
    names none is refused (fail closed), unless it is marked `public` (the sign-in page)."""
    action = handler.opt.get("action")
    if action is None:
        if handler.opt.get("public") is True:
            return
        raise PermissionDeniedException("此页未注明权限 / this page names no permission")
    who = await current_staff(connection)
    if who is None:
        raise NotAuthorizedException("请先登录 / please sign in")
    if not allowed(who, action):
        raise PermissionDeniedException("您的角色不能查看此页 / your role cannot open this page")
