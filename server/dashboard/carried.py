"""A phone's file carried by hand: township staff upload it (server/services/carried.py)."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Template
from sqlalchemy.exc import DBAPIError

from server import db

from server.dashboard.common import TownshipPages, now, page, staff
from server.deps import MakerDep, SettingsDep
from server.ratelimit import client_key
from server.services import carried

PAGE = "carried.html"
RETRIES = 3  # as a sync's push: a deadlock or a busy SQLite rolls the whole file back, so try again


class CarriedPages(TownshipPages):
    @get("/carried", name="township:carried", opt={"action": "carried.upload"})
    async def form(self, request: Request) -> Template:
        await staff(request)
        return page(request, PAGE)

    # The body may be a whole export; the service bounds it again and answers 413 itself.
    @post("/carried", status_code=200, opt={"action": "carried.upload"}, request_max_body_size=carried.MAX_FILE + 65536)
    async def upload(self, request: Request, maker: MakerDep, settings: SettingsDep) -> Template:
        who = await staff(request)
        sent = (await request.form()).get("file")
        try:
            if not isinstance(sent, UploadFile):
                raise carried.CarriedRefused(400, "file", "choose the file the phone exported (nuanxin-….json)")
            body = await sent.read(carried.MAX_FILE + 1)
            for attempt in range(RETRIES):
                try:
                    async with maker.begin() as session:
                        outcome = await carried.upload(session, who, body, request.app.state.clock, now(),
                                                       settings.clock_tolerance_ms, client_key(request))
                    break
                except DBAPIError as err:
                    if attempt == RETRIES - 1 or not db.retryable(err):
                        raise
        except carried.CarriedRefused as refused:
            answer = page(request, PAGE, refused=refused)
            answer.status_code = refused.status  # the page says why; the status, that it was refused
            return answer
        return page(request, PAGE, outcome=outcome)
