"""Compact entries (§4 `compact`): the shared vectors (tests/vectors/compact.json, also run in
Chromium) both ways, and a replica that asks for them holds what one that does not holds."""

from __future__ import annotations

import json
import time
from pathlib import Path

import msgspec
import pytest

from server.services.sync_pull import to_compact
from sync.client import sync
from sync.compact import compact, held
from sync.protocol import CompactEntry, Entry
from tests.support.world import HOUR, World, shift

VECTORS = Path(__file__).parents[1] / "vectors"
COMPACT = json.loads((VECTORS / "compact.json").read_text("utf-8"))


@pytest.mark.parametrize("vector", COMPACT, ids=[v["comment"] for v in COMPACT])
def test_compact_vector_read(vector: dict) -> None:
    wire = msgspec.convert(vector["wire"], list[CompactEntry] if vector["compact"] else list[Entry])
    assert [msgspec.structs.asdict(e) for e in held(wire)] == vector["entries"]


@pytest.mark.parametrize("vector", [v for v in COMPACT if v["compact"]], ids=lambda v: v["comment"])
def test_compact_vector_made(vector: dict) -> None:
    entries = msgspec.convert(vector["entries"], list[Entry])
    made = [compact(e, before.seq if before else 0) for before, e in zip([None, *entries], entries)]
    assert msgspec.json.decode(msgspec.json.encode(made)) == vector["wire"]


@pytest.mark.parametrize("vector", [v for v in COMPACT if v["compact"]], ids=lambda v: v["comment"])
def test_compact_vector_made_from_stored_rows(vector: dict) -> None:
    """The server makes compact entries from its rows, their JSON columns as stored (text), by
    the same rule."""
    entries = msgspec.convert(vector["entries"], list[Entry])

    def stored(value: object) -> str:
        return msgspec.json.encode(value).decode()

    rows = [(e.id, e.kind, e.schema, e.site, e.author, e.device, stored(e.fields), stored(e.stamps), e.seq,
             e.deleted, stored(e.flags), stored(e.conflicts)) for e in entries]
    made = [to_compact(row, e.conflicts, before.seq if before else 0)
            for before, e, row in zip([None, *entries], entries, rows)]
    assert msgspec.json.decode(msgspec.json.encode(made)) == vector["wire"]


def test_a_replica_reading_compact_entries_holds_what_one_reading_full_entries_holds(world: World) -> None:
    now = time.time_ns() // 1_000_000 - 60_000
    writer = world.phone()
    for i in range(30):
        writer.replica.put(f"e{i:02}", "shift", shift(writer.site, start=now - HOUR - i * 60_000), now)
    writer.sync(now)
    writer.replica.put("e03", "shift", {"post": "西门"}, now + 1000)  # one field stamped later
    writer.sync(now + 1000)

    full, small = world.phone(), world.phone()
    sync(full.replica, lambda request: full.transport({**request, "compact": False}), lambda: now + 2000)
    small.sync(now + 2000)

    assert len(small.replica.entries) == 30 and small.replica.entries == full.replica.entries
    assert small.replica.entries["e03"].stamps["post"] != small.replica.entries["e03"].stamps["start"]
