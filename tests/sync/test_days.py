"""Days and months in the deployment's time zone (sync/days.py): the shared vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync.days import day_of, month_of

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "days.json").read_text("utf-8"))


@pytest.mark.parametrize("vector", VECTORS, ids=[v["comment"] for v in VECTORS])
def test_days_vector(vector: dict) -> None:
    assert (day_of(vector["ms"], vector["zone"]), month_of(vector["ms"], vector["zone"])) == (
        vector["day"], vector["month"])


def test_the_vectors_cross_a_month_boundary_in_shanghai() -> None:
    months = {v["month"] for v in VECTORS if v["zone"] == "Asia/Shanghai"}
    assert {"2026-11", "2026-12"} <= months
