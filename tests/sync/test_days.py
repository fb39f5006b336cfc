"""Days and months in the deployment's time zone (sync/days.py): the shared vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync.days import day_of, month_bounds, month_of

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "days.json").read_text("utf-8"))


@pytest.mark.parametrize("vector", VECTORS, ids=[v["comment"] for v in VECTORS])
def test_days_vector(vector: dict) -> None:
    assert (day_of(vector["ms"], vector["zone"]), month_of(vector["ms"], vector["zone"])) == (
        vector["day"], vector["month"])


def test_the_vectors_cross_a_month_boundary_in_shanghai() -> None:
    months = {v["month"] for v in VECTORS if v["zone"] == "Asia/Shanghai"}
    assert {"2026-11", "2026-12"} <= months


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "Etc/GMT+12", "America/Santiago", "Europe/London"])
@pytest.mark.parametrize("month", ["2026-01", "2026-03", "2026-04", "2026-09", "2026-10", "2026-12"])
def test_a_months_bounds_are_where_month_of_changes(month: str, zone: str) -> None:
    """The subsidy sheet selects a month by these bounds in SQL; `month_of` is the rule."""
    first, after = month_bounds(month, zone)
    assert month_of(first, zone) == month and month_of(after - 1, zone) == month
    assert month_of(first - 1, zone) < month < month_of(after, zone)
