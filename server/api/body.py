"""Reading a request body: size limits and gzip (docs/sync-protocol.md §3)."""

from __future__ import annotations

import zlib

from litestar import Request

from server.errors import ApiError
from sync.protocol import MAX_BODY


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    body = await request.body()  # the app's request_max_body_size bounds the raw body
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding != "gzip":
        raise ApiError(415, f"Content-Encoding {encoding!r} is not supported; use gzip or none")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as err:
        raise ApiError(415, f"the gzip body is broken: {err}") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise ApiError(413, f"the body is larger than {limit} bytes once unzipped; send fewer changes")
    if not inflater.eof:
        raise ApiError(415, "the gzip body is cut short")
    return data
