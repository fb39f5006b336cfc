"""Every error a client sees is a small JSON Problem (docs/sync-protocol.md §8), never a trace."""

from __future__ import annotations

import logging

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from sync.protocol import Problem

log = logging.getLogger("nuanxin")

_NAMES = {
    400: "invalid",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "bad_encoding",
    426: "upgrade_required",
    429: "too_many_requests",
}


class ApiError(HTTPException):
    """A 4xx with the field at fault and a reason a person can read."""

    def __init__(self, status_code: int, reason: str, field: str | None = None, error: str | None = None):
        super().__init__(status_code=status_code, detail=reason)
        self.field = field
        self.error = error or _NAMES.get(status_code, "error")


def _problem(status: int, problem: Problem, headers: dict[str, str] | None = None) -> Response:
    return Response(problem, status_code=status, media_type=MediaType.JSON, headers=headers)


def handle_http(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, ApiError):
        problem = Problem(error=exc.error, reason=exc.detail, field=exc.field)
    elif isinstance(exc, ValidationException):
        field = None
        extra = exc.extra if isinstance(exc.extra, list) else []
        if extra and isinstance(extra[0], dict):
            field = extra[0].get("key")
        problem = Problem(error="invalid", reason=str(exc.detail), field=field)
    else:
        problem = Problem(error=_NAMES.get(exc.status_code, "error"), reason=str(exc.detail))
    return _problem(exc.status_code, problem, exc.headers)


def handle_internal(request: Request, exc: Exception) -> Response:
    # A bug, not bad input: the log keeps the trace for us, the client gets none of it.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    problem = Problem(error="internal", reason="the server failed; your entries are kept, try again later")
    return _problem(HTTP_500_INTERNAL_SERVER_ERROR, problem)


EXCEPTION_HANDLERS = {HTTPException: handle_http, Exception: handle_internal}
