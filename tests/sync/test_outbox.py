"""The outbox rules the phone and the replica share (sync/outbox.py): the shared vectors, then the
replica using them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync.outbox import is_urgent, overlay, urgent_first
from sync.protocol import Entry
from sync.replica import Replica

VECTORS = Path(__file__).parents[1] / "vectors"
OVERLAY = json.loads((VECTORS / "overlay.json").read_text("utf-8"))
URGENCY = json.loads((VECTORS / "urgency.json").read_text("utf-8"))


@pytest.mark.parametrize("vector", OVERLAY, ids=[v["comment"] for v in OVERLAY])
def test_overlay_vector(vector: dict) -> None:
    shown = overlay(vector["server"], vector["changes"])
    assert {k: v for k, v in shown.items() if k != "kind"} == vector["expected"]


@pytest.mark.parametrize("vector", URGENCY["urgent"], ids=[v["comment"] for v in URGENCY["urgent"]])
def test_urgency_vector(vector: dict) -> None:
    assert is_urgent(vector["kind"], vector["fields"]) is vector["expected"]


@pytest.mark.parametrize("vector", URGENCY["order"], ids=[v["comment"] for v in URGENCY["order"]])
def test_urgent_first_vector(vector: dict) -> None:
    ordered = urgent_first(vector["changes"], lambda c: c["urgent"], lambda c: c["entry"])
    assert [c["id"] for c in ordered] == vector["expected"]


def test_an_edit_of_a_synced_injury_reports_note_goes_first_as_it_does_from_the_phone() -> None:
    """P3: urgency is the entry's as it will be after the change, not the change's fields alone."""
    replica = Replica(device="aa11")
    stamp = "1764000000000-0000-aa11"
    report = {"type": "injury", "injury_kind": "exposure", "at": 1, "site": "s1"}
    replica.entries["c1"] = Entry(id="c1", kind="checkin", schema=1, site="s1", author="p1", device="aa11",
                                  fields=report, stamps=dict.fromkeys(report, stamp), seq=1)
    replica.put("s1", "shift", {"site": "s1", "post": "东门", "start": 1, "kind": "day"}, now=1_764_000_000_100)
    replica.put("c1", "checkin", {"note": "已就医"}, now=1_764_000_000_200)

    sent = replica.request(now=1_764_000_000_300)["changes"]

    assert [c["entry"] for c in sent] == ["c1", "s1"]
