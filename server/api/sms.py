"""POST /api/sms/inbound: the SMS gateway passes on each text the township's number received.

The gateway proves itself with NUANXIN_SMS_GATEWAY_TOKEN (a bearer token, or the header
X-Gateway-Token); the message proves itself with its device's code (server/services/sms.py).
One shape is read: the JSON (or form) webhook of the Android app "Incoming SMS to URL forwarder"
(`from`, `text`, `sentStamp`, ...). docs/sms.md says how to add another: a decoder below.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import parse_qsl

import msgspec
from litestar import Controller, Request, post
from msgspec import Meta, Struct

from server.api.body import read_body
from server.deps import MakerDep, SettingsDep, now_ms
from server.errors import ApiError
from server.services import sms as sms_service
from sync.entries import FieldError
from sync.protocol import error_path

MAX_WEBHOOK = 16 * 1024


class Forwarded(Struct):
    """The forwarder app's payload; other fields it may add (`receivedStamp`, `sim`) are ignored."""

    sender: Annotated[str, Meta(max_length=64)] = msgspec.field(name="from")
    text: Annotated[str, Meta(max_length=2000)] | None = None
    message: Annotated[str, Meta(max_length=2000)] | None = None  # the name some set-ups use


class SmsAnswer(Struct, omit_defaults=True):
    status: str  # applied, conflict, rejected, duplicate, or refused
    reason: str
    change: str | None = None
    errors: list[FieldError] = []


def gateway_allowed(request: Request, token: str) -> bool:
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    given = bearer.strip() if scheme.lower() == "bearer" else request.headers.get("x-gateway-token", "")
    return hmac.compare_digest(given.encode(), token.encode())


def read_forwarded(body: bytes, content_type: str) -> tuple[str, str]:
    """(sender, text) from a JSON or form body; a 400 naming the field otherwise."""
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            data = msgspec.convert(dict(parse_qsl(body.decode())), Forwarded)
        else:
            data = msgspec.json.decode(body, type=Forwarded)
    except msgspec.ValidationError as err:
        field, reason = error_path(err)
        raise ApiError(400, reason, field) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as err:
        raise ApiError(400, f"the body is not JSON or a form: {err}") from None
    text = data.text if data.text is not None else data.message
    if text is None:
        raise ApiError(400, "the webhook carries no message text", "$.text")
    return data.sender, text


class SmsController(Controller):
    path = "/api/sms/inbound"

    @post(operation_id="sms_inbound", status_code=200, summary="A text the SMS gateway received")
    async def inbound(self, request: Request, maker: MakerDep, settings: SettingsDep) -> SmsAnswer:
        if not settings.sms_enabled:
            raise ApiError(404, "reports by SMS are not set up on this server")
        if not gateway_allowed(request, settings.sms_gateway_token):
            raise ApiError(401, "the gateway token is missing or wrong")
        sender, text = read_forwarded(
            await read_body(request, MAX_WEBHOOK), request.headers.get("content-type", "").lower()
        )
        # Refused messages are answered 200 too: they are recorded, and a retry cannot help.
        outcome = await sms_service.receive(maker, settings, request.app.state.clock, sender, text, now_ms())
        return SmsAnswer(outcome.status, outcome.reason, outcome.change, outcome.errors)
