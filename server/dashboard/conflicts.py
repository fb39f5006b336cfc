"""The conflict queue: candidates side by side; staff keep one."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Struct

from server.dashboard.common import TownshipPages, now, page, refused_as_409, staff
from server.deps import MakerDep, now_ms
from server.ratelimit import client_key
from server.services import audit, paging
from server.services.staff_service import open_conflict_views, others_open_conflicts, resolve_conflict


class Resolution(Struct):
    choice: int


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
        self, request: Request, conflict_id: FromPath[int], data: URLEncodedBody[Resolution], maker: MakerDep
    ) -> Redirect:
        who = await staff(request)
        with refused_as_409():
            async with maker.begin() as session:
                conflict = await resolve_conflict(session, conflict_id, data.choice, who,
                                                  request.app.state.clock, now_ms())
                await audit.record(session, "conflict.resolved", audit.Actor.of(who, client_key(request)),
                                   now(),
                                   subject=conflict.entry_id, conflict=conflict.id, field=conflict.field,
                                   choice=data.choice)
        return Redirect("/township/conflicts", status_code=303)
