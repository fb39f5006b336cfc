"""POST /api/enrol: a phone spends a one-time code and gets its device token."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Controller, Request, post
from litestar.params import JSONBody
from msgspec import Struct

from server import ratelimit
from server.deps import MakerDep, now_ms
from server.errors import ApiError
from server.services.audit import Actor
from server.services.enrolment import Refusal, enrol
from sync.protocol import Enrolment


class PersonOut(Struct):
    id: str
    name: str
    role: str


class SiteOut(Struct):
    id: str
    name: str


class Enrolled(Struct):
    device: str
    token: str
    person: PersonOut
    site: SiteOut | None
    server_time: int


class EnrolController(Controller):
    path = "/api/enrol"

    @post(operation_id="enrol", status_code=201, summary="Enrol a phone with a one-time code")
    async def enrol(self, request: Request, data: JSONBody[Enrolment], maker: MakerDep) -> Enrolled:
        address = ratelimit.client_key(request)
        now = datetime.now(UTC)
        # Counted in their own transaction: a refused attempt still counts.
        async with maker.begin() as session:
            await ratelimit.hit(session, ratelimit.ENROL_PER_ADDRESS, address, now)
            if await ratelimit.peek(session, ratelimit.ENROL_FAILURES_TOTAL, "all", now):
                raise ratelimit.TooMany(int(ratelimit.ENROL_FAILURES_TOTAL.per.total_seconds()))
        async with maker.begin() as session:
            outcome = await enrol(session, data.code, now, data.expect_person,
                                  Actor("anonymous", address=address))
            if isinstance(outcome, Refusal):
                await ratelimit.hit(session, ratelimit.ENROL_FAILURES_TOTAL, "all", now, enforce=False)
        if isinstance(outcome, Refusal):
            raise ApiError(outcome.status, outcome.reason, "code", error=outcome.error)
        device, token, person, site = outcome
        return Enrolled(
            device=device.id,
            token=token,
            person=PersonOut(person.id, person.name, person.role),
            site=SiteOut(site.id, site.name) if site else None,
            server_time=now_ms(),
        )
