"""People as administrators manage them: add, edit, retire, reinstate; and the roster import
(upload, preview with an error per row, confirm)."""

from __future__ import annotations

import base64
import binascii

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Struct
from sqlalchemy.exc import IntegrityError

from server.dashboard.common import TownshipPages, now, page, staff
from server.deps import MakerDep
from server.policy import Principal
from server.ratelimit import client_key
from server.services import people, people_admin, roster_import
from server.services.directory import Invalid

OUT_OF_SCOPE = "这个人不在您的管辖范围 / not in your scope"
TAKEN = "刚被别人占用或修改，请再试一次 / taken or changed by someone else meanwhile: try again"


class PersonFields(Struct):
    name: str = ""
    phone: str = ""
    site: str = ""
    post: str = ""


class Confirm(Struct):
    content: str = ""  # the file as previewed, base64 (URL-safe)
    fingerprint: str = ""


def _status(shown: Template, status: int) -> Template:
    shown.status_code = status
    return shown


async def _form(request: Request, maker: MakerDep, who: Principal, person=None, status: int = 200,
                **context) -> Template:
    async with maker() as session:
        sites = await people.sites_in_scope(session, who)
    return _status(page(request, "person_form.html", person=person, sites=sites, **context), status)


async def _retired(request: Request, maker: MakerDep, who: Principal, status: int = 200, **context) -> Template:
    async with maker() as session:
        found = await people_admin.retired_people(session, who)
    return _status(page(request, "retired.html", retired=found, **context), status)


def _fields(data: PersonFields) -> people_admin.PersonForm:
    return people_admin.PersonForm(name=data.name, phone=data.phone, site=data.site, post=data.post)


class RosterPages(TownshipPages):
    # -- one person at a time ---------------------------------------------------------------------

    @get("/people/new", opt={"action": "people.manage"})
    async def new_form(self, request: Request, maker: MakerDep) -> Template:
        return await _form(request, maker, await staff(request))

    @post("/people/new", status_code=303, opt={"action": "people.manage"})
    async def create(self, request: Request, data: URLEncodedBody[PersonFields], maker: MakerDep) -> Redirect | Template:
        who = await staff(request)
        try:
            async with maker.begin() as session:
                await people_admin.create_person(session, who, _fields(data), now(), client_key(request))
        except Invalid as err:
            return await _form(request, maker, who, status=400, error=err.reason, field=err.field, typed=data)
        except IntegrityError:  # the same number, added by someone else at the same moment
            return await _form(request, maker, who, status=409, error=TAKEN, field="phone", typed=data)
        return Redirect("/township/people", status_code=303)

    @get("/people/{person_id:str}/edit", opt={"action": "people.manage"})
    async def edit_form(self, request: Request, person_id: FromPath[str], maker: MakerDep) -> Template:
        who = await staff(request)
        async with maker() as session:
            person = await people_admin.person_to_edit(session, who, person_id)
        if person is None:
            raise PermissionDeniedException(OUT_OF_SCOPE)
        return await _form(request, maker, who, person)

    @post("/people/{person_id:str}/edit", status_code=303, opt={"action": "people.manage"})
    async def edit(self, request: Request, person_id: FromPath[str], data: URLEncodedBody[PersonFields],
                   maker: MakerDep) -> Redirect | Template:
        who = await staff(request)
        try:
            async with maker.begin() as session:
                person = await people_admin.edit_person(session, who, person_id, _fields(data), now(),
                                                        client_key(request))
        except (Invalid, IntegrityError) as err:
            async with maker() as session:
                person = await people_admin.person_to_edit(session, who, person_id)
            status, reason, field = (400, err.reason, err.field) if isinstance(err, Invalid) else (409, TAKEN, "phone")
            return await _form(request, maker, who, person, status, error=reason, field=field, typed=data)
        if person is None:
            raise PermissionDeniedException(OUT_OF_SCOPE)
        return Redirect("/township/people", status_code=303)

    @get("/people/retired", opt={"action": "people.manage"})
    async def retired_page(self, request: Request, maker: MakerDep) -> Template:
        return await _retired(request, maker, await staff(request))

    @post("/people/{person_id:str}/retire", status_code=303, opt={"action": "people.manage"})
    async def retire(self, request: Request, person_id: FromPath[str], maker: MakerDep) -> Redirect | Template:
        who = await staff(request)
        try:
            async with maker.begin() as session:
                person = await people_admin.retire_person(session, who, person_id, now(), client_key(request))
        except Invalid as err:
            return await _retired(request, maker, who, 409, error=err.reason)
        if person is None:
            raise PermissionDeniedException(OUT_OF_SCOPE)
        return Redirect("/township/people/retired", status_code=303)

    @post("/people/{person_id:str}/reinstate", status_code=303, opt={"action": "people.manage"})
    async def reinstate(self, request: Request, person_id: FromPath[str], maker: MakerDep) -> Redirect | Template:
        who = await staff(request)
        try:
            async with maker.begin() as session:
                person = await people_admin.reinstate_person(session, who, person_id, now(), client_key(request))
        except Invalid as err:
            return await _retired(request, maker, who, 409, error=err.reason)
        if person is None:
            raise PermissionDeniedException(OUT_OF_SCOPE)
        return Redirect("/township/people/retired", status_code=303)

    # -- the roster import ------------------------------------------------------------------------

    @get("/roster", opt={"action": "people.manage"})
    async def roster_form(self, request: Request) -> Template:
        await staff(request)
        return page(request, "roster.html")

    @post("/roster/preview", status_code=200, opt={"action": "people.manage"})
    async def preview(self, request: Request, maker: MakerDep) -> Template:
        who = await staff(request)
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile):
            return _status(page(request, "roster.html", error="请选择一个 CSV 文件 / choose a CSV file"), 400)
        raw = await upload.read(roster_import.MAX_BYTES + 1)
        return await _plan_page(request, maker, who, raw)

    @post("/roster/import", status_code=200, opt={"action": "people.manage"})
    async def confirm(self, request: Request, data: URLEncodedBody[Confirm], maker: MakerDep) -> Template:
        who = await staff(request)
        try:
            raw = base64.urlsafe_b64decode(data.content.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError):
            return _status(page(request, "roster.html", error="文件内容不完整，请重新上传 / the file came back "
                                                               "damaged: upload it again"), 400)
        try:
            async with maker.begin() as session:
                done = await roster_import.apply(session, who, raw, data.fingerprint, now(), client_key(request))
        except roster_import.RosterError as err:
            return _status(page(request, "roster.html", error=str(err)), 400)
        except roster_import.Stale as stale:
            return _status(_shown(request, raw, stale.plan, stale=True), 409)
        except IntegrityError:  # another import or edit took a number or id meanwhile
            return await _plan_page(request, maker, who, raw, status=409, stale=True)
        return page(request, "roster.html", plan=done, done=True)


async def _plan_page(request: Request, maker: MakerDep, who: Principal, raw: bytes, status: int = 200,
                     **context) -> Template:
    try:
        async with maker() as session:
            found = await roster_import.plan(session, who, raw)
    except roster_import.RosterError as err:
        return _status(page(request, "roster.html", error=str(err)), 400)
    return _status(_shown(request, raw, found, **context), status)


def _shown(request: Request, raw: bytes, found: roster_import.Plan, **context) -> Template:
    return page(request, "roster.html", plan=found, content=base64.urlsafe_b64encode(raw).decode("ascii"),
                **context)
