"""Whether a check-in answers anything: the shared vectors (pwa/js/views/wellbeing.js runs them
too, in tests/browser/test_checkin_answered_in_browser.py)."""

from __future__ import annotations

import json
from pathlib import Path

from sync.entries import checkin_answered

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "checkin_answered.json").read_text("utf-8"))


def test_checkin_answered_passes_every_vector() -> None:
    outcomes = {v["comment"]: checkin_answered(v["fields"]) for v in VECTORS}
    assert outcomes == {v["comment"]: v["expected"] for v in VECTORS}


def test_the_vectors_cover_both_outcomes() -> None:
    assert {v["expected"] for v in VECTORS} == {True, False}
