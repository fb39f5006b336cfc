"""What every township page shares: the base controller, its guard and error pages, helpers.

Every route names its action in `opt`; `township_guard` (dashboard/auth.py) checks it once
against the policy table, for all the controllers built on `TownshipPages`.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.response import Redirect, Stream, Template

from server.dashboard.auth import current_staff, township_guard
from server.errors import ApiError
from server.policy import Principal, allowed
from server.ratelimit import client_key
from server.services import audit
from server.services.staff_service import BadInput, StaffEditError


def page(request: Request, name: str, **context: Any) -> Template:
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


async def staff(request: Request) -> Principal:
    who = await current_staff(request)
    assert who is not None  # the guard let the request through
    return who


def now() -> datetime:
    return datetime.now(UTC)


async def csv_download(request: Request, maker, who: Principal, name: str,
                       chunks: Iterable[str] | AsyncIterable[str], filename: str | None = None,
                       **detail: Any) -> Response:
    """A CSV download (csv_export.csv_chunks, or csv_stream of rows still being read), streamed
    and recorded in the audit log. HEAD gets the same answer without a body, and is not an
    export. The media type names no charset: Litestar adds one to every text/ type."""
    headers = {"content-disposition": f'attachment; filename="{filename or name}"'}
    if request.method == "HEAD":
        if isinstance(chunks, AsyncIterator):
            await chunks.aclose()  # never started: its query was never run
        return Response(b"", media_type="text/csv", headers=headers)
    await audit.record_export(maker, who, name, client_key(request), now(), **detail)
    if isinstance(chunks, AsyncIterable):
        return Stream(_encoded(chunks), media_type="text/csv", headers=headers)
    return Stream((chunk.encode("utf-8") for chunk in chunks), media_type="text/csv", headers=headers)


async def _encoded(chunks: AsyncIterable[str]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield chunk.encode("utf-8")


@contextmanager
def refused_as_409() -> Iterator[None]:
    """A staff edit the rules refuse is a 409 naming the field, not a 500; one refused for
    what was typed (BadInput) is a 400."""
    try:
        yield
    except StaffEditError as err:
        raise ApiError(400 if isinstance(err, BadInput) else 409, str(err), err.errors[0].field) from None


def _redirect_to_sign_in(request: Request, exc: NotAuthorizedException) -> Response:
    if request.method == "GET":
        return Redirect(f"/township/login?next={request.url.path}", status_code=303)
    return Response({"error": "unauthorised", "reason": exc.detail}, status_code=401)


def _forbidden(request: Request, exc: PermissionDeniedException) -> Response:
    return Template("forbidden.html", status_code=403, context={"who": request.state.get("staff"),
                    "reason": exc.detail, "dev_access": request.app.state.settings.dev_access,
                    "can": lambda action: False})


class TownshipPages(Controller):
    path = "/township"
    guards = [township_guard]
    include_in_schema = False
    exception_handlers = {NotAuthorizedException: _redirect_to_sign_in, PermissionDeniedException: _forbidden}
