"""Township pages. Every route names its action in `opt`; `township_guard` checks it once."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Struct

from server.dashboard.filters import make_filters
from server.dashboard.auth import SESSION_COOKIE, current_staff, township_guard
from server.deps import MakerDep, SettingsDep, now_ms
from server.errors import ApiError
from server.policy import Principal, allowed
from server.ratelimit import client_key
from server.services import accounts, deployment, people, reports, subsidy, wellbeing
from server.services.enrolment import issue_code
from server.services.staff_service import StaffEditError, approve_shift, open_conflict_views, resolve_conflict


MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


class Resolution(Struct):
    choice: int


class Approval(Struct):
    decision: str
    note: str = ""


class SignIn(Struct):
    username: str
    password: str


class PasswordChange(Struct):
    current: str
    new: str


class Move(Struct):
    site: str


class SettingsForm(Struct):
    items: str
    max_shift_hours: float
    min_rest_hours: float
    max_days_without_rest: int
    day: float
    night: float
    on_call: float


class FollowupForm(Struct):
    note: str
    next_step: str = ""


def _page(request: Request, name: str, **context: Any) -> Template:
    who = request.state.get("staff")
    return Template(
        name,
        context={
            "who": who,
            "can": lambda action: allowed(who, action),
            "dev_access": request.app.state.settings.dev_access,
            **context,
        },
    )


async def _staff(request: Request) -> Principal:
    who = await current_staff(request)
    assert who is not None  # the guard let the request through
    return who


def _redirect_to_sign_in(request: Request, exc: NotAuthorizedException) -> Response:
    if request.method == "GET":
        return Redirect(f"/township/login?next={request.url.path}", status_code=303)
    return Response({"error": "unauthorised", "reason": exc.detail}, status_code=401)


def _forbidden(request: Request, exc: PermissionDeniedException) -> Response:
    return Template("forbidden.html", status_code=403, context={"who": request.state.get("staff"),
                    "reason": exc.detail, "dev_access": request.app.state.settings.dev_access,
                    "can": lambda action: False})


def _now() -> datetime:
    return datetime.now(UTC)


class TownshipController(Controller):
    path = "/township"
    guards = [township_guard]
    include_in_schema = False
    exception_handlers = {NotAuthorizedException: _redirect_to_sign_in, PermissionDeniedException: _forbidden}

    # -- signing in and out ------------------------------------------------------------------

    @get("/login", name="township:login")
    async def login_form(self, request: Request) -> Template:
        return _page(request, "login.html", next=request.query_params.get("next", "/township/"))

    @post("/login", status_code=303)
    async def login(self, request: Request, data: URLEncodedBody[SignIn], maker: MakerDep, settings: SettingsDep) -> Response:
        request.app.state.sign_in_limiter.check(client_key(request))
        async with maker.begin() as session:
            account = await accounts.sign_in(session, data.username.strip(), data.password, _now())
        if isinstance(account, str):
            return _page(request, "login.html", error=account, next="/township/")
        target = request.query_params.get("next", "/township/")
        response = Redirect(target if target.startswith("/township/") else "/township/", status_code=303)
        response.cookies.append(
            Cookie(key=SESSION_COOKIE, value=accounts.session_cookie(settings.secret, account, _now()),
                   httponly=True, samesite="lax", secure=settings.production, path="/township",
                   max_age=int(accounts.SESSION_TTL.total_seconds()))
        )
        return response

    @post("/logout", status_code=303, opt={"action": "account.self"})
    async def logout(self, request: Request, maker: MakerDep) -> Response:
        who = await _staff(request)
        async with maker.begin() as session:
            await accounts.sign_out(session, who.person_id)
        response = Redirect("/township/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/township")
        return response

    @get("/password", opt={"action": "account.self"})
    async def password_form(self, request: Request) -> Template:
        await _staff(request)
        return _page(request, "password.html")

    @post("/password", status_code=200, opt={"action": "account.self"})
    async def password(self, request: Request, data: URLEncodedBody[PasswordChange], maker: MakerDep) -> Template:
        who = await _staff(request)
        try:
            async with maker.begin() as session:
                await accounts.change_password(session, who.person_id, data.current, data.new)
        except accounts.SignInError as err:
            return _page(request, "password.html", error=str(err))
        return _page(request, "password.html", done=True)

    # -- shifts ---------------------------------------------------------------------------------

    @get("/", name="township:shifts", opt={"action": "shifts.read"})
    async def shifts(self, request: Request, maker: MakerDep) -> Template:
        who = await _staff(request)
        async with maker() as session:
            sites = await reports.shifts_by_site(session, who)
        return _page(request, "shifts.html", sites=sites)

    @post("/shifts/{entry_id:str}/approval", status_code=303, opt={"action": "shifts.approve"})
    async def approve(
        self, request: Request, entry_id: FromPath[str], data: URLEncodedBody[Approval], maker: MakerDep
    ) -> Redirect:
        who = await _staff(request)
        try:
            async with maker.begin() as session:
                await approve_shift(session, who, entry_id, data.decision, data.note, request.app.state.clock, now_ms())
        except StaffEditError as err:
            raise ApiError(409, str(err), err.errors[0].field) from None
        return Redirect("/township/", status_code=303)

    @get("/export/shifts.csv", opt={"action": "shifts.read"})
    async def shifts_export(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Response:
        who = await _staff(request)
        async with maker() as session:
            sites = await reports.shifts_by_site(session, who, limit=None)
        filters = make_filters(settings.timezone)
        return Response(
            reports.shifts_csv(sites, filters["when"], filters["label"]).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="shifts.csv"'},
        )

    # -- the monthly subsidy sheet ----------------------------------------------------------------

    async def _sheet(self, request: Request, maker: MakerDep, settings: SettingsDep) -> tuple[str, list]:
        who = await _staff(request)
        month = request.query_params.get("month") or datetime.now(ZoneInfo(settings.timezone)).strftime("%Y-%m")
        if not MONTH.fullmatch(month):
            raise ApiError(400, "month must look like 2025-11", "month")
        async with maker() as session:
            rates = (await deployment.load(session)).rates
            return month, await subsidy.sheet(session, who, month, settings.timezone, rates)

    @get("/subsidy", name="township:subsidy", opt={"action": "subsidy.read"})
    async def subsidy_page(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Template:
        month, rows = await self._sheet(request, maker, settings)
        return _page(request, "subsidy.html", month=month, rows=rows, total=sum(r.amount for r in rows))

    @get("/subsidy.csv", opt={"action": "subsidy.read"})
    async def subsidy_csv(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Response:
        month, rows = await self._sheet(request, maker, settings)
        return Response(
            subsidy.sheet_csv(rows, month).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="subsidy-{month}.csv"'},
        )

    # -- deployment settings --------------------------------------------------------------------

    @get("/settings", name="township:settings", opt={"action": "deployment.manage"})
    async def settings_form(self, request: Request, maker: MakerDep) -> Template:
        await _staff(request)
        async with maker() as session:
            current = await deployment.load(session)
        return _page(request, "settings.html", d=current)

    @post("/settings", status_code=200, opt={"action": "deployment.manage"})
    async def settings_save(self, request: Request, data: URLEncodedBody[SettingsForm], maker: MakerDep) -> Template:
        await _staff(request)
        try:
            chosen = msgspec.convert(
                {
                    "items": deployment.parse_items(data.items),
                    "rest": {"max_shift_hours": data.max_shift_hours, "min_rest_hours": data.min_rest_hours,
                             "max_days_without_rest": data.max_days_without_rest},
                    "rates": {"day": data.day, "night": data.night, "on_call": data.on_call},
                },
                deployment.Deployment,
            )
        except (ValueError, msgspec.ValidationError) as err:
            async with maker() as session:
                current = await deployment.load(session)
            return _page(request, "settings.html", d=current, error=str(err))
        async with maker.begin() as session:
            await deployment.save(session, chosen)
        return _page(request, "settings.html", d=chosen, saved=True)

    # -- conflicts ------------------------------------------------------------------------------

    @get("/conflicts", name="township:conflicts", opt={"action": "conflicts.read"})
    async def conflicts(self, request: Request, maker: MakerDep) -> Template:
        who = await _staff(request)
        async with maker() as session:
            conflicts = await open_conflict_views(session, who)
        return _page(request, "conflicts.html", conflicts=conflicts)

    @post("/conflicts/{conflict_id:int}/resolve", status_code=303, opt={"action": "conflicts.resolve"})
    async def resolve(
        self, request: Request, conflict_id: FromPath[int], data: URLEncodedBody[Resolution], maker: MakerDep
    ) -> Redirect:
        who = await _staff(request)
        try:
            async with maker.begin() as session:
                await resolve_conflict(session, conflict_id, data.choice, who, request.app.state.clock, now_ms())
        except StaffEditError as err:
            raise ApiError(409, str(err), err.errors[0].field) from None
        return Redirect("/township/conflicts", status_code=303)

    # -- wellbeing ------------------------------------------------------------------------------

    @get("/wellbeing", name="township:wellbeing", opt={"action": "wellbeing.counts"})
    async def wellbeing_page(self, request: Request, maker: MakerDep) -> Template:
        who = await _staff(request)
        async with maker() as session:
            counts = await wellbeing.counts_by_site(session, who)
            details = await wellbeing.details(session, who) if allowed(who, "wellbeing.details") else None
        return _page(request, "wellbeing.html", counts=counts, details=details)

    @post("/wellbeing/{checkin_id:str}/followup", status_code=303, opt={"action": "followups.write"})
    async def followup(
        self, request: Request, checkin_id: FromPath[str], data: URLEncodedBody[FollowupForm], maker: MakerDep
    ) -> Redirect:
        who = await _staff(request)
        try:
            async with maker.begin() as session:
                await wellbeing.add_followup(session, who, checkin_id, data.note, data.next_step,
                                             request.app.state.clock, now_ms())
        except StaffEditError as err:
            raise ApiError(409, str(err), err.errors[0].field) from None
        return Redirect("/township/wellbeing", status_code=303)

    # -- people and phones ----------------------------------------------------------------------

    @get("/people", name="township:people", opt={"action": "people.read"})
    async def people_page(self, request: Request, maker: MakerDep) -> Template:
        who = await _staff(request)
        async with maker() as session:
            found = await people.people_in_scope(session, who)
            sites = await people.sites_in_scope(session, who)
        return _page(request, "people.html", people=found, sites=sites)

    @post("/people/{person_id:str}/code", status_code=200, opt={"action": "people.enrol"})
    async def new_code(self, request: Request, person_id: FromPath[str], maker: MakerDep) -> Template:
        who = await _staff(request)
        async with maker.begin() as session:
            person = await people.person_in_scope(session, who, person_id)
            if person is None:
                raise PermissionDeniedException("这个人不在您的管辖范围 / not in your scope")
            code = await issue_code(session, person.id, _now())
        return _page(request, "code.html", person=person, code=code)

    @post("/devices/{device_id:str}/revoke", status_code=303, opt={"action": "people.enrol"})
    async def revoke(self, request: Request, device_id: FromPath[str], maker: MakerDep) -> Redirect:
        who = await _staff(request)
        async with maker.begin() as session:
            if not await people.revoke_device(session, who, device_id, _now()):
                raise PermissionDeniedException("这部手机不在您的管辖范围 / not in your scope")
        return Redirect("/township/people", status_code=303)

    @post("/people/{person_id:str}/site", status_code=303, opt={"action": "people.manage"})
    async def move(self, request: Request, person_id: FromPath[str], data: URLEncodedBody[Move], maker: MakerDep) -> Redirect:
        who = await _staff(request)
        async with maker.begin() as session:
            if not await people.move_person(session, who, person_id, data.site):
                raise PermissionDeniedException("不在您的管辖范围 / not in your scope")
        return Redirect("/township/people", status_code=303)
