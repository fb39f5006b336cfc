"""The check-in answer vectors, run against pwa/js/views/wellbeing.js in Chromium (the same
vectors run against sync/entries.py in tests/sync/test_checkin_answered.py)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from tests.browser.test_vectors_in_browser import run_in_page
from tests.sync.test_checkin_answered import VECTORS

RUN = """async (vectors) => {
  const { answered } = await import("/js/views/wellbeing.js");
  return vectors.map((vector) => answered(vector.fields));
}"""


def test_the_phone_tells_an_answered_check_in_as_the_server_does(new_phone: Callable[..., Page]) -> None:
    outcomes = run_in_page(new_phone, RUN, VECTORS)
    assert outcomes == {v["comment"]: v["expected"] for v in VECTORS}
