"""People and their phones (codes, revocation, moves) and the deployment's settings."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Meta, Struct

from server.dashboard.common import TownshipPages, now, page, staff
from server.deps import MakerDep
from server.policy import Principal
from server.ratelimit import client_key, public_base_url
from server.services import audit, deployment, paging, people
from server.services.enrolment import issue_code
from server.services.qr import enrol_link, qr_svg

ENROLLED_ROLES = ("worker", "lead")  # who enrols a phone (the people page offers codes to these)


def _qr(request: Request, code: str, name: str) -> dict[str, str]:
    link = enrol_link(public_base_url(request), code)
    return {"link": link, "qr": qr_svg(link, f"{name} 的激活码二维码 · enrolment QR code")}


class Move(Struct):
    site: str


class DeviceLabel(Struct):
    label: Annotated[str, Meta(max_length=40)] = ""


class SettingsForm(Struct):
    items: str
    max_shift_hours: float
    min_rest_hours: float
    max_days_without_rest: int
    day: float
    night: float
    on_call: float
    days_left: float
    silent_hours: float
    late_hours: float
    grace_hours: float


def _settings_scope(who: Principal) -> str:
    """Whose settings `who` edits; an administrator of no township edits none (403)."""
    try:
        return deployment.editable(who)
    except PermissionError as err:
        raise PermissionDeniedException(str(err)) from None


class AdminPages(TownshipPages):
    # -- people and phones ----------------------------------------------------------------------

    @get("/people", name="township:people", opt={"action": "people.read"})
    async def people_page(self, request: Request, maker: MakerDep) -> Template:
        who = await staff(request)
        pages = paging.requested(request.query_params)
        async with maker() as session:
            found = await people.people_in_scope(session, who, pages)
            sites = await people.sites_in_scope(session, who)
        return page(request, "people.html", people=found, sites=sites, pages=pages)

    @post("/people/{person_id:str}/code", status_code=200, opt={"action": "people.enrol"})
    async def new_code(self, request: Request, person_id: FromPath[str], maker: MakerDep) -> Template:
        who = await staff(request)
        async with maker.begin() as session:
            person = await people.person_in_scope(session, who, person_id)
            if person is None:
                raise PermissionDeniedException("这个人不在您的管辖范围 / not in your scope")
            code = await issue_code(session, person.id, now(), audit.Actor.of(who, client_key(request)))
        return page(request, "code.html", person=person, code=code, **_qr(request, code, person.name))

    @post("/sites/{site_id:str}/codes", status_code=200, opt={"action": "people.enrol"})
    async def code_sheet(self, request: Request, site_id: FromPath[str], maker: MakerDep) -> Template:
        """A printable sheet: a new code for each worker of one site, each with its QR code."""
        who = await staff(request)
        by = audit.Actor.of(who, client_key(request))
        async with maker.begin() as session:
            site = next((s for s in await people.sites_in_scope(session, who) if s.id == site_id), None)
            if site is None:
                raise PermissionDeniedException("这个站点不在您的管辖范围 / not in your scope")
            workers = [p for p in await people.people_in_scope(session, who)
                       if p.site_id == site.id and p.role in ENROLLED_ROLES]
            cards = []
            for person in workers:
                code = await issue_code(session, person.id, now(), by)
                cards.append({"name": person.name, "code": code, **_qr(request, code, person.name)})
        return page(request, "codes_sheet.html", site=site, cards=cards)

    @post("/devices/{device_id:str}/revoke", status_code=303, opt={"action": "people.enrol"})
    async def revoke(self, request: Request, device_id: FromPath[str], maker: MakerDep) -> Redirect:
        who = await staff(request)
        async with maker.begin() as session:
            if not await people.revoke_device(session, who, device_id, now(), client_key(request)):
                raise PermissionDeniedException("这部手机不在您的管辖范围 / not in your scope")
        return Redirect("/township/people", status_code=303)

    @post("/devices/{device_id:str}/label", status_code=303, opt={"action": "people.enrol"})
    async def label(
        self, request: Request, device_id: FromPath[str], data: URLEncodedBody[DeviceLabel], maker: MakerDep
    ) -> Redirect:
        who = await staff(request)
        async with maker.begin() as session:
            if not await people.label_device(session, who, device_id, data.label, now(), client_key(request)):
                raise PermissionDeniedException("这部手机不在您的管辖范围 / not in your scope")
        return Redirect("/township/people", status_code=303)

    @post("/people/{person_id:str}/site", status_code=303, opt={"action": "people.manage"})
    async def move(self, request: Request, person_id: FromPath[str], data: URLEncodedBody[Move], maker: MakerDep) -> Redirect:
        who = await staff(request)
        async with maker.begin() as session:
            if not await people.move_person(session, who, person_id, data.site, now(), client_key(request)):
                raise PermissionDeniedException("不在您的管辖范围 / not in your scope")
        return Redirect("/township/people", status_code=303)
    # -- deployment settings --------------------------------------------------------------------

    @get("/settings", name="township:settings", opt={"action": "deployment.manage"})
    async def settings_form(self, request: Request, maker: MakerDep) -> Template:
        who = await staff(request)
        scope = _settings_scope(who)
        async with maker() as session:
            current = await deployment.load_for(session, who)
        return page(request, "settings.html", d=current, scope=scope)

    @post("/settings", status_code=200, opt={"action": "deployment.manage"})
    async def settings_save(self, request: Request, data: URLEncodedBody[SettingsForm], maker: MakerDep) -> Template:
        who = await staff(request)
        scope = _settings_scope(who)
        try:
            chosen = msgspec.convert(
                {
                    "items": deployment.parse_items(data.items),
                    "rest": {"max_shift_hours": data.max_shift_hours, "min_rest_hours": data.min_rest_hours,
                             "max_days_without_rest": data.max_days_without_rest},
                    "rates": {"day": data.day, "night": data.night, "on_call": data.on_call},
                    "alerts": {"days_left": data.days_left, "silent_hours": data.silent_hours,
                               "late_hours": data.late_hours, "grace_hours": data.grace_hours},
                },
                deployment.Deployment,
            )
        except (ValueError, msgspec.ValidationError) as err:
            async with maker() as session:
                current = await deployment.load_for(session, who)
            return page(request, "settings.html", d=current, scope=scope, error=str(err))
        async with maker.begin() as session:
            await deployment.save(session, who, chosen)
            await audit.record(session, "settings.changed", audit.Actor.of(who, client_key(request)), now(),
                               subject=scope, **msgspec.to_builtins(chosen))
        return page(request, "settings.html", d=chosen, scope=scope, saved=True)
