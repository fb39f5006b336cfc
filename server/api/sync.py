"""POST /api/sync: one round trip that pushes the outbox and pulls a page."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from litestar import Controller, Request, post
from litestar.di import Provide
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody

from server.api.body import read_body
from server.deps import DeviceDep, MakerDep, SettingsDep, now_ms, provide_device
from server.errors import ApiError
from server.services import sync_service
from server.services.clock_correction import Correction
from sync.protocol import (
    PROTOCOL,
    Change,
    SyncRequest,
    SyncResponse,
    error_path,
    request_decoder,
    version_decoder,
)

TOO_DEEP = "the JSON is nested too deeply"


def decode_request(body: bytes) -> SyncRequest:
    """§8: 426 for another protocol version before any other check (an app of another version
    may send fields this one does not know), then the strict envelope (400)."""
    try:
        version = version_decoder.decode(body).protocol
    except (msgspec.DecodeError, RecursionError):
        version = PROTOCOL  # not an object, or not JSON: the strict decoding says what is wrong
    if isinstance(version, int) and not isinstance(version, bool) and version != PROTOCOL:
        raise ApiError(426, f"this server speaks sync protocol {PROTOCOL}; update the app", "$.protocol")
    try:
        return request_decoder.decode(body)
    except msgspec.ValidationError as err:
        field, reason = error_path(err)
        raise ApiError(400, reason, field) from None
    except msgspec.DecodeError as err:
        raise ApiError(400, f"the body is not valid JSON: {err}") from None
    except RecursionError:
        raise ApiError(400, TOO_DEEP, "$") from None


def request_schema() -> dict:
    """The request body's JSON schema, each change as the Change it must decode to (§4). The
    handler reads the body itself (gzip, size limits), so Litestar cannot infer it."""
    _, components = msgspec.json.schema_components([SyncRequest, Change], ref_template="{name}")
    body = components["SyncRequest"]
    body["properties"]["changes"]["items"] = components["Change"]
    return body


@dataclass
class SyncOperation(Operation):
    """The OpenAPI operation of POST /api/sync, with its request body published for clients
    and fuzzers (tests/server/test_api_fuzz.py)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={"application/json": OpenAPIMediaType(schema=request_schema())}, required=True
        )


class SyncController(Controller):
    path = "/api/sync"
    dependencies = {"who": Provide(provide_device)}

    @post(
        operation_id="sync",
        status_code=200,
        summary="Push pending changes and pull a page",
        operation_class=SyncOperation,
    )
    async def sync(
        self, request: Request, who: DeviceDep, maker: MakerDep, settings: SettingsDep
    ) -> SyncResponse:
        sync_request = decode_request(await read_body(request))
        now = now_ms()
        correction = Correction(offset=now - sync_request.device_time, now=now, tolerance=settings.clock_tolerance_ms)
        response = await sync_service.run(maker, who, sync_request, correction, request.app.state.clock)
        request.app.state.metrics.count_changes([result.status for result in response.results])
        return response
