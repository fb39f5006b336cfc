"""Sites: an administrator creates, renames, retires and reinstates their township's sites."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Struct
from sqlalchemy.exc import IntegrityError

from server.dashboard.common import TownshipPages, now, page, staff
from server.deps import MakerDep
from server.policy import Principal
from server.ratelimit import client_key
from server.services import sites
from server.services.directory import Invalid

OUT_OF_SCOPE = "这个站点不在您的管辖范围 / not a site of yours"
TAKEN = "编号刚被别人使用，请再试一次 / the id was taken meanwhile: try again"


class SiteForm(Struct):
    name: str = ""
    id: str = ""
    township: str = ""


async def _page(request: Request, maker: MakerDep, who: Principal, status: int = 200, **context) -> Template:
    async with maker() as session:
        rows = await sites.sites_to_manage(session, who)
    shown = page(request, "sites.html", rows=rows, **context)
    shown.status_code = status
    return shown


class SitePages(TownshipPages):
    @get("/sites", name="township:sites", opt={"action": "sites.manage"})
    async def sites_page(self, request: Request, maker: MakerDep) -> Template:
        return await _page(request, maker, await staff(request))

    @post("/sites", status_code=303, opt={"action": "sites.manage"})
    async def create(self, request: Request, data: URLEncodedBody[SiteForm], maker: MakerDep) -> Redirect | Template:
        who = await staff(request)
        try:
            async with maker.begin() as session:
                await sites.create_site(session, who, data.id, data.name, data.township, now(), client_key(request))
        except Invalid as err:
            return await _page(request, maker, who, 400, error=err.reason, field=err.field, typed=data)
        except IntegrityError:  # the same id, created by someone else at the same moment
            return await _page(request, maker, who, 409, error=TAKEN, field="id", typed=data)
        return Redirect("/township/sites", status_code=303)

    @post("/sites/{site_id:str}/edit", status_code=303, opt={"action": "sites.manage"})
    async def edit(self, request: Request, site_id: FromPath[str], data: URLEncodedBody[SiteForm],
                   maker: MakerDep) -> Redirect | Template:
        who = await staff(request)
        try:
            async with maker.begin() as session:
                found = await sites.edit_site(session, who, site_id, data.name, data.township, now(),
                                              client_key(request))
        except Invalid as err:
            return await _page(request, maker, who, 400, error=err.reason, field=err.field)
        if found is None:
            raise PermissionDeniedException(OUT_OF_SCOPE)
        return Redirect("/township/sites", status_code=303)

    @post("/sites/{site_id:str}/retire", status_code=303, opt={"action": "sites.manage"})
    async def retire(self, request: Request, site_id: FromPath[str], maker: MakerDep) -> Redirect | Template:
        who = await staff(request)
        try:
            async with maker.begin() as session:
                found = await sites.retire_site(session, who, site_id, now(), client_key(request))
        except Invalid as err:
            return await _page(request, maker, who, 409, error=err.reason, field=err.field)
        if found is None:
            raise PermissionDeniedException(OUT_OF_SCOPE)
        return Redirect("/township/sites", status_code=303)

    @post("/sites/{site_id:str}/reinstate", status_code=303, opt={"action": "sites.manage"})
    async def reinstate(self, request: Request, site_id: FromPath[str], maker: MakerDep) -> Redirect:
        who = await staff(request)
        async with maker.begin() as session:
            if await sites.reinstate_site(session, who, site_id, now(), client_key(request)) is None:
                raise PermissionDeniedException(OUT_OF_SCOPE)
        return Redirect("/township/sites", status_code=303)
