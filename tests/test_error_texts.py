"""Every reason code a phone's change can be rejected with has a Chinese text on the phone
(pwa/js/i18n.js `e_<code>`): a zh-CN phone never shows the server's English reason instead."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Where a phone's change is checked: the sync core, the policy and the push.
SOURCES = [*(ROOT / "sync").glob("*.py"), ROOT / "server" / "policy.py",
           ROOT / "server" / "services" / "sync_push.py", ROOT / "server" / "services" / "clock_correction.py"]


def test_every_rejection_code_a_phone_can_get_has_a_text_on_the_phone() -> None:
    codes = {code for path in SOURCES
             for code in re.findall(r'FieldError\([^,()]+,\s*"(\w+)"', path.read_text("utf-8"))}
    texts = set(re.findall(r"^\s+e_(\w+): \[", (ROOT / "pwa" / "js" / "i18n.js").read_text("utf-8"), flags=re.M))

    assert codes, "no codes found: the pattern no longer matches the sources"
    assert codes - texts == set()
