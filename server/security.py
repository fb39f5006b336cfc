"""Security headers on every response, static files included; no-store on personal data."""

from __future__ import annotations

from collections.abc import Callable

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
# Production is served over HTTPS only (docs/operations.md): browsers must never try plain HTTP.
HSTS = "max-age=31536000; includeSubDomains"


def personal(path: str) -> bool:
    """Dashboard pages and CSVs, and the phone's API, carry names, shifts and tokens: no cache,
    shared or private, may keep them. Static files and the API schema may be cached."""
    if path.startswith("/township/static/") or path.startswith("/api/schema"):
        return False
    return path.startswith("/township") or path.startswith("/api/")


def security_headers(production: bool) -> Callable[[ASGIApp], ASGIApp]:
    fixed = {**HEADERS, "strict-transport-security": HSTS} if production else HEADERS

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            no_store = personal(scope["path"])

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableScopeHeaders.from_message(message)
                    for name, value in fixed.items():
                        headers.setdefault(name, value)
                    if no_store:
                        headers["cache-control"] = "no-store"
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware

    return wrap
