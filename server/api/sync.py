"""POST /api/sync: one round trip that pushes the outbox and pulls a page."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, post
from litestar.di import Provide

from server.api.body import read_body
from server.deps import DeviceDep, MakerDep, SettingsDep, now_ms, provide_device
from server.errors import ApiError
from server.services import sync_service
from server.services.clock_correction import Correction
from sync.protocol import PROTOCOL, SyncRequest, SyncResponse, error_path, request_decoder


def decode_request(body: bytes) -> SyncRequest:
    try:
        request = request_decoder.decode(body)
    except msgspec.ValidationError as err:
        field, reason = error_path(err)
        raise ApiError(400, reason, field) from None
    except msgspec.DecodeError as err:
        raise ApiError(400, f"the body is not valid JSON: {err}") from None
    if request.protocol != PROTOCOL:
        raise ApiError(426, f"this server speaks sync protocol {PROTOCOL}; update the app", "$.protocol")
    return request


class SyncController(Controller):
    path = "/api/sync"
    dependencies = {"who": Provide(provide_device)}

    @post(operation_id="sync", status_code=200, summary="Push pending changes and pull a page")
    async def sync(
        self, request: Request, who: DeviceDep, maker: MakerDep, settings: SettingsDep
    ) -> SyncResponse:
        sync_request = decode_request(await read_body(request))
        now = now_ms()
        correction = Correction(offset=now - sync_request.device_time, now=now, tolerance=settings.clock_tolerance_ms)
        response = await sync_service.run(maker, who, sync_request, correction)
        request.app.state.metrics.count_changes([result.status for result in response.results])
        return response
