"""A month's work subsidy (sync/subsidy.py), the rule of the township's sheet and the phone's
本月补助: the shared vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync.subsidy import month_pay

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "subsidy.json").read_text("utf-8"))


@pytest.mark.parametrize("vector", VECTORS, ids=[v["comment"] for v in VECTORS])
def test_subsidy_vector(vector: dict) -> None:
    pay = month_pay(vector["shifts"], vector["month"], vector["zone"], vector["rates"])
    assert pay == vector["expected"]
