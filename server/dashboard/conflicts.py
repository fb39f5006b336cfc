"""The conflict queue: candidates side by side; staff keep one or type a new value (§6 M4)."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Struct

from server.dashboard.common import TownshipPages, now, page, refused_as_409, staff
from server.deps import MakerDep, SettingsDep, now_ms
from server.errors import ApiError
from server.ratelimit import client_key
from server.services import audit, paging
from server.services.staff_service import (
    NewValue,
    open_conflict_views,
    others_open_conflicts,
    resolve_conflict,
)


class Resolution(Struct):
    """Keep candidate `choice`, or set the new `value` typed on the card (§6 M4): one of them."""

    choice: int | None = None
    value: str | None = None


class ConflictPages(TownshipPages):
    @get("/conflicts", name="township:conflicts", opt={"action": "conflicts.read"})
    async def conflicts(self, request: Request, maker: MakerDep) -> Template:
        who = await staff(request)
        pages = paging.requested(request.query_params)
        async with maker() as session:
            conflicts = await open_conflict_views(session, who, pages)
            others = await others_open_conflicts(session, who)
        return page(request, "conflicts.html", conflicts=conflicts, others=others, pages=pages)

    @post("/conflicts/{conflict_id:int}/resolve", status_code=303, opt={"action": "conflicts.resolve"})
    async def resolve(
        self,
        request: Request,
        conflict_id: FromPath[int],
        data: URLEncodedBody[Resolution],
        maker: MakerDep,
        settings: SettingsDep,
    ) -> Redirect:
        who = await staff(request)
        if (data.choice is None) == (data.value is None):
            raise ApiError(400, "keep one candidate or type a new value", "choice")
        choice = data.choice if data.value is None else NewValue(data.value, settings.timezone)
        with refused_as_409():
            async with maker.begin() as session:
                conflict = await resolve_conflict(session, conflict_id, choice, who,
                                                  request.app.state.clock, now_ms())
                # A new value is not logged: it may be a wellbeing answer, which the log's
                # readers may not see (docs/roles.md).
                await audit.record(session, "conflict.resolved", audit.Actor.of(who, client_key(request)),
                                   now(),
                                   subject=conflict.entry_id, conflict=conflict.id, field=conflict.field,
                                   choice="new" if data.choice is None else data.choice)
        return Redirect("/township/conflicts", status_code=303)
