"""The phone's shared constants are generated from Python, never copied by hand."""

from __future__ import annotations

import re
from pathlib import Path

from server.phone_constants import TARGET, render

PWA = Path(__file__).parents[2] / "pwa"


def test_the_generated_constants_module_is_up_to_date() -> None:
    assert TARGET.read_text("utf-8") == render(), "run `python -m server.phone_constants`"


def test_no_phone_module_spells_out_a_shared_constant() -> None:
    """The values the server owns appear in the phone's code only in the generated module."""
    copies = re.compile(r"120000|120_000|\bday: 15\b|max_shift_hours: 12|Surgical mask|"
                        r"RATE_DAYS = 14|const PROTOCOL = 1|MAX_BATCH = 500|Asia/Shanghai")
    found = [f"{path.relative_to(PWA)}: {line.strip()}"
             for path in sorted(PWA.rglob("*.js")) if path != TARGET
             for line in path.read_text("utf-8").splitlines() if copies.search(line)]
    assert found == []
