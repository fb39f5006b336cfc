"""A worker's phone shows that another phone was enrolled in their name (issue 9.1)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.phone_support import enrol_in_database, new_worker, ready_phone
from tests.support.server_process import ServerProcess


def test_a_phone_enrolled_later_is_announced_on_the_earlier_one(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    person = new_worker(server)
    page = ready_phone(new_phone, server, person)
    page.click("[data-test=nav-me]")
    expect(page.locator("[data-test=phones] li")).to_have_count(1)
    expect(page.locator("[data-test=new-phone-notice]")).to_have_count(0)

    other, _ = enrol_in_database(server, person)  # someone spent a code issued for this worker
    page.reload()
    page.evaluate("window.nuanxin.ready")

    notice = page.locator("[data-test=new-phone-notice]")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text(other)
    expect(page.locator("[data-test=phones] li")).to_have_count(2)
