"""Dashboard accounts: an administrator creates them, changes roles, sets new passwords."""

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
from server.services import account_admin, people
from server.services.directory import Invalid

OUT_OF_SCOPE = "这个账户不在您的管辖范围 / not an account of yours"
TAKEN = "用户名刚被别人使用，请再试一次 / the username was taken meanwhile: try again"


class AccountForm(Struct):
    username: str = ""
    password: str = ""
    role: str = ""
    name: str = ""
    site: str = ""
    person: str = ""
    township: str = ""


class RoleForm(Struct):
    role: str = ""


class PasswordForm(Struct):
    password: str = ""


async def _page(request: Request, maker: MakerDep, who: Principal, status: int = 200, **context) -> Template:
    async with maker() as session:
        found = await account_admin.accounts_in_scope(session, who)
        sites = await people.sites_in_scope(session, who)
        workers = [p for p in await people.people_in_scope(session, who) if p.role == "worker"]
    shown = page(request, "accounts.html", accounts=found, sites=sites, workers=workers,
                 roles=account_admin.ROLES, township_roles=account_admin.TOWNSHIP_ROLES, **context)
    shown.status_code = status
    return shown


class StaffAccountPages(TownshipPages):
    @get("/accounts", name="township:accounts", opt={"action": "accounts.manage"})
    async def accounts_page(self, request: Request, maker: MakerDep) -> Template:
        return await _page(request, maker, await staff(request))

    @post("/accounts", status_code=303, opt={"action": "accounts.manage"})
    async def create(self, request: Request, data: URLEncodedBody[AccountForm], maker: MakerDep) -> Redirect | Template:
        who = await staff(request)
        form = account_admin.NewAccount(username=data.username, password=data.password, role=data.role,
                                        name=data.name, site=data.site, person=data.person, township=data.township)
        try:
            async with maker.begin() as session:
                await account_admin.create_staff_account(session, who, form, now(), client_key(request))
        except Invalid as err:
            return await _page(request, maker, who, 400, error=err.reason, field=err.field, typed=data)
        except IntegrityError:  # the same username, created by someone else at the same moment
            return await _page(request, maker, who, 409, error=TAKEN, field="username", typed=data)
        return Redirect("/township/accounts", status_code=303)

    @post("/accounts/{person_id:str}/role", status_code=303, opt={"action": "accounts.manage"})
    async def role(self, request: Request, person_id: FromPath[str], data: URLEncodedBody[RoleForm],
                   maker: MakerDep) -> Redirect | Template:
        who = await staff(request)
        try:
            async with maker.begin() as session:
                found = await account_admin.change_role(session, who, person_id, data.role, now(), client_key(request))
        except Invalid as err:
            return await _page(request, maker, who, 409, error=err.reason, field=err.field)
        if found is None:
            raise PermissionDeniedException(OUT_OF_SCOPE)
        return Redirect("/township/accounts", status_code=303)

    @post("/accounts/{person_id:str}/password", status_code=303, opt={"action": "accounts.manage"})
    async def password(self, request: Request, person_id: FromPath[str], data: URLEncodedBody[PasswordForm],
                       maker: MakerDep) -> Redirect | Template:
        who = await staff(request)
        try:
            async with maker.begin() as session:
                found = await account_admin.reset_password(session, who, person_id, data.password, now(),
                                                           client_key(request))
        except Invalid as err:
            return await _page(request, maker, who, 400, error=err.reason, field=err.field)
        if found is None:
            raise PermissionDeniedException(OUT_OF_SCOPE)
        return Redirect("/township/accounts", status_code=303)
