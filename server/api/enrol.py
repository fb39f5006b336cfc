"""POST /api/enrol: a phone spends a one-time code and gets its device token."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Controller, Request, post
from litestar.params import JSONBody
from msgspec import Struct

from server.deps import MakerDep, now_ms
from server.errors import ApiError
from server.ratelimit import client_key
from server.services.enrolment import EnrolmentError, OtherPersonError, enrol
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
        request.app.state.enrol_limiter.check(client_key(request))
        try:
            async with maker.begin() as session:
                device, token, person, site = await enrol(
                    session, data.code, datetime.now(UTC), data.expect_person
                )
        except OtherPersonError as err:
            raise ApiError(409, str(err), "code", error="other_person") from None
        except EnrolmentError as err:
            raise ApiError(400, str(err), "code") from None
        return Enrolled(
            device=device.id,
            token=token,
            person=PersonOut(person.id, person.name, person.role),
            site=SiteOut(site.id, site.name) if site else None,
            server_time=now_ms(),
        )
