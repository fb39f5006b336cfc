"""POST /api/sync on the server: push a batch in one transaction (sync_push), then pull a page
in a read (sync_pull) (docs/sync-protocol.md §5)."""

from __future__ import annotations

import msgspec
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import db
from server.policy import Principal
from server.services import test_hooks
from server.services.clock_correction import Correction
from server.services.server_clock import ServerClock
from server.services.sync_contact import contact_due
from server.services.sync_pull import pull, pull_from
from server.services.sync_push import push
from sync.protocol import PAGE_BYTES, Result, SyncRequest, SyncResponse

RETRIES = 3
LONGEST_CURSOR = "9" * 18 + ".ffffffff"  # protocol.CURSOR_PATTERN
_encode = msgspec.json.Encoder().encode


async def run(
    maker: async_sessionmaker[AsyncSession],
    who: Principal,
    request: SyncRequest,
    correction: Correction,
    clock: ServerClock,
) -> SyncResponse:
    """Push in one transaction (retried whole on a deadlock or busy), then pull in a read. A sync
    with nothing to push writes only when the phone's contact is due (`contact_due`), after its
    pull: on SQLite it then never queues behind the writers."""
    # A cursor of another scope (the person moved site) starts the pull over, and says so, so
    # the phone drops what it may no longer see (it keeps its outbox).
    after = pull_from(request.cursor, who)
    results, fold = await _push(maker, who, request, correction, clock, after) if request.changes else ([], {})
    answer = SyncResponse(results=results, entries=[], cursor=LONGEST_CURSOR, more=False,
                          server_time=correction.now, clock_offset=correction.offset, reset=after is None)
    room = PAGE_BYTES - len(_encode(answer)) + 2  # the whole answer stays within PAGE_BYTES (§3)
    async with maker() as session:  # a read: on SQLite it does not queue behind the writers
        due = not request.changes and await contact_due(session, who, request, correction)
        entries, cursor, more = await pull(
            session, who, after or 0, request.limit, fold, request.compact, room
        )
    if due:
        await _push(maker, who, request, correction, clock, after)
    # The entries as they were encoded to fill the page (msgspec.Raw), not encoded again.
    return msgspec.structs.replace(answer, entries=entries, cursor=cursor, more=more)


async def _push(
    maker: async_sessionmaker[AsyncSession], who: Principal, request: SyncRequest, correction: Correction,
    clock: ServerClock, after: int | None,
) -> tuple[list[Result], dict[str, int]]:
    for attempt in range(RETRIES):
        try:
            async with maker.begin() as session:
                pushed = await push(session, who, request, correction, clock, after)
                test_hooks.pause_at("before_commit", bool(request.changes))
            break
        except DBAPIError as err:
            if attempt == RETRIES - 1 or not _retryable(err):
                raise
    test_hooks.pause_at("after_commit", bool(request.changes))
    return pushed


def _retryable(err: DBAPIError) -> bool:
    # A PostgreSQL deadlock or serialisation failure, or SQLite busy: the whole batch rolled back.
    return db.retryable(err)
