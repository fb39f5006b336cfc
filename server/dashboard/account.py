"""Signing in and out, and changing one's own password."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Struct

from server import ratelimit
from server.dashboard.auth import SESSION_COOKIE
from server.dashboard.common import TownshipPages, now, page, staff
from server.deps import MakerDep, SettingsDep
from server.services import accounts, audit


class SignIn(Struct):
    username: str
    password: str


class PasswordChange(Struct):
    current: str
    new: str


class AccountPages(TownshipPages):
    @get("/login", name="township:login", opt={"public": True})
    async def login_form(self, request: Request) -> Template:
        return page(request, "login.html", next=request.query_params.get("next", "/township/"))

    @post("/login", status_code=303, opt={"public": True})
    async def login(self, request: Request, data: URLEncodedBody[SignIn], maker: MakerDep, settings: SettingsDep) -> Response:
        address = ratelimit.client_key(request)
        async with maker.begin() as session:
            await ratelimit.hit(session, ratelimit.SIGN_IN_PER_ADDRESS, address, now())
        async with maker.begin() as session:
            account = await accounts.sign_in(session, data.username.strip(), data.password, now())
            await audit.record_sign_in(session, data.username.strip(), account, address, now())
        if isinstance(account, str):
            return page(request, "login.html", error=account, next="/township/")
        target = request.query_params.get("next", "/township/")
        response = Redirect(target if target.startswith("/township/") else "/township/", status_code=303)
        response.cookies.append(
            Cookie(key=SESSION_COOKIE, value=accounts.session_cookie(settings.secret, account, now()),
                   httponly=True, samesite="lax", secure=settings.production, path="/township",
                   max_age=int(accounts.SESSION_TTL.total_seconds()))
        )
        return response

    @post("/logout", status_code=303, opt={"action": "account.self"})
    async def logout(self, request: Request, maker: MakerDep) -> Response:
        who = await staff(request)
        async with maker.begin() as session:
            await accounts.sign_out(session, who.person_id)
        response = Redirect("/township/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/township")
        return response

    @get("/password", opt={"action": "account.self"})
    async def password_form(self, request: Request) -> Template:
        await staff(request)
        return page(request, "password.html")

    @post("/password", status_code=200, opt={"action": "account.self"})
    async def password(self, request: Request, data: URLEncodedBody[PasswordChange], maker: MakerDep) -> Response:
        who = await staff(request)
        async with maker.begin() as session:  # commits a failed guess too: guesses are limited
            changed = await accounts.change_password(session, who.person_id, data.current, data.new, now())
        if isinstance(changed, accounts.PasswordRefused) and changed.signed_out:
            response = Redirect("/township/login", status_code=303)
            response.delete_cookie(SESSION_COOKIE, path="/township")
            return response
        if isinstance(changed, accounts.PasswordRefused):
            return page(request, "password.html", error=changed.reason)
        return page(request, "password.html", done=True)
