"""Today's overview, the daily report and the charts in Chromium: no serious accessibility
problem (axe-core), the CSP holds (the console reports nothing it blocked), and the report
printed on A4 leaves out the menu and the day form."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from tests.browser.test_accessibility import axe_violations
from tests.browser.test_dashboard_on_a_phone import _a_township_with_some_of_everything
from tests.support.server_process import ServerProcess

PAGES = ["/township/", "/township/report", "/township/charts"]


def test_the_new_pages_pass_axe_and_the_csp(new_phone: Callable[..., Page], server: ServerProcess) -> None:
    _a_township_with_some_of_everything(server)
    desk = new_phone()
    blocked: list[str] = []
    desk.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    for path in PAGES:
        desk.goto(path)
        desk.wait_for_selector("main h1")
    assert blocked == []  # a style attribute in an SVG would be refused by the CSP, and said here

    checker = new_phone(bypass_csp=True)  # axe is injected as a script: the CSP would refuse it
    found = {}
    for path in PAGES:
        checker.goto(path)
        checker.wait_for_selector("main h1")
        found[path] = axe_violations(checker)
    assert found == {path: [] for path in PAGES}


def test_the_report_prints_without_the_menu(new_phone: Callable[..., Page], server: ServerProcess) -> None:
    desk = new_phone()
    desk.goto("/township/report")
    desk.wait_for_selector("main h1")
    assert desk.locator("header.top").is_visible() and desk.locator("form.day-pick").is_visible()

    desk.emulate_media(media="print")

    assert not desk.locator("header.top").is_visible()
    assert not desk.locator("form.day-pick").is_visible()
    assert desk.locator("main h1").is_visible()
