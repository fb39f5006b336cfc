"""Rest rules (sync/rest.py), the twin of pwa/js/rest.js: the shared vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync.rest import rest_status

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "rest.json").read_text("utf-8"))


@pytest.mark.parametrize("vector", VECTORS, ids=[v["comment"] for v in VECTORS])
def test_rest_vector(vector: dict) -> None:
    assert rest_status(vector["shifts"], vector["now"], vector["rules"], vector["zone"]) == vector["expected"]


def test_the_vectors_raise_every_alert() -> None:
    for alert in ("long", "short", "too_many"):
        assert any(v["expected"][alert] for v in VECTORS), alert
