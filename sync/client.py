"""Speaking the protocol over HTTP (docs/sync-protocol.md §3), for tests, benchmarks and scripts."""

from __future__ import annotations

import gzip
import time
from typing import Any, Callable, Protocol

import httpx
import msgspec

from sync.protocol import CompactAnswer, SyncResponse
from sync.replica import Replica

_encoder = msgspec.json.Encoder()
_full_decoder = msgspec.json.Decoder(SyncResponse)
_compact_decoder = msgspec.json.Decoder(CompactAnswer)


class Transport(Protocol):
    def __call__(self, request: dict[str, Any]) -> SyncResponse: ...


class SyncError(Exception):
    def __init__(self, status: int, body: bytes):
        super().__init__(f"sync failed with HTTP {status}: {body[:200]!r}")
        self.status = status
        self.body = body


def enrol(base_url: str, code: str, client: httpx.Client | None = None) -> dict[str, Any]:
    http = client or httpx.Client(base_url=base_url)
    answer = http.post("/api/enrol", json={"code": code})
    if answer.status_code != 201:
        raise SyncError(answer.status_code, answer.content)
    return answer.json()


class HttpTransport:
    """POST /api/sync with a bearer token, gzipping bodies over 1 KiB."""

    def __init__(self, client: httpx.Client, token: str, compress: bool = True) -> None:
        self.client = client
        self.token = token
        self.compress = compress
        self.bytes_sent = 0
        self.bytes_received = 0

    def __call__(self, request: dict[str, Any]) -> SyncResponse | CompactAnswer:
        body = _encoder.encode(request)
        headers = {"authorization": f"Bearer {self.token}", "content-type": "application/json"}
        if self.compress and len(body) > 1024:
            body = gzip.compress(body)
            headers["content-encoding"] = "gzip"
        answer = self.client.post("/api/sync", content=body, headers=headers)
        self.bytes_sent += len(body)
        self.bytes_received += int(answer.headers.get("content-length") or len(answer.content))
        if answer.status_code != 200:
            raise SyncError(answer.status_code, answer.content)
        return (_compact_decoder if request.get("compact") else _full_decoder).decode(answer.content)


def sync(replica: Replica, transport: Transport, clock: Callable[[], int] | None = None) -> int:
    """Sync until the outbox is sent and the pull has no more pages (P2-P6); round trips made."""
    now = clock or (lambda: time.time_ns() // 1_000_000)
    trips = 0
    while True:
        before = len(replica.pending)
        answer = transport(replica.request(now()))
        replica.receive(answer, now())
        trips += 1
        if not answer.more and (not replica.pending or len(replica.pending) == before):
            return trips
