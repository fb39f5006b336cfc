"""Enrolment edge cases: a person with no site yet; a code of someone else while changes wait."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from tests.browser.phone_support import (
    assign_site,
    issue_code,
    new_worker,
    now_ms,
    open_app,
    outbox,
    own_address,
    ready_phone,
    save,
    server_entries,
    site_of,
    wait_pending,
    wait_synced,
)
from tests.support.server_process import ServerProcess

NO_SITE = "您还没有分配站点，暂时不能记录值班、物资和打卡。请联系镇街为您分配站点。"


def test_a_person_with_no_site_is_told_so_and_offered_no_forms(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page = ready_phone(new_phone, server, new_worker(server, site=None))
    assert page.evaluate("async () => (await import('/js/db.js')).getMeta('site')") is None
    forms = {
        "shifts": ["shift-start", "shift-add"],
        "supplies": ["supply-submit", "request-submit"],
        "wellbeing": ["checkin-submit", "injury-submit"],
        "me": [],
    }
    for screen, hooks in forms.items():
        page.click(f"[data-test=nav-{screen}]")
        assert page.text_content("main [data-test=no-site]") == NO_SITE
        for hook in hooks:
            assert page.locator(f"[data-test={hook}]").count() == 0, f"{hook} offered on {screen}"
    open_app(page, "/#/shift/new")
    page.wait_for_url("**/#/shifts")


def test_a_site_assigned_after_enrolment_reaches_the_phone(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    person = new_worker(server, site=None)
    page = ready_phone(new_phone, server, person)
    assert page.locator("main [data-test=no-site]").count() == 1

    assign_site(server, person, "dongfeng")
    page.reload()
    page.evaluate("window.nuanxin.ready")

    page.wait_for_selector("[data-test=shift-start]")
    assert page.evaluate("async () => (await import('/js/db.js')).getMeta('site')") == {"id": "dongfeng", "name": "东风村"}


def test_someone_else_cannot_enrol_while_changes_wait(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    first = new_worker(server, name="张伟")
    second = new_worker(server, name="李娜")
    page = ready_phone(new_phone, server, first)
    # Changes wait: the server cannot be reached.
    page.context.route("**/api/sync", lambda route: route.abort())
    entry = save(page, "checkin", {"site": site_of(page), "at": now_ms(), "type": "checkin", "fatigue": 2})
    wait_pending(page, 1)
    before = page.evaluate("async () => (await import('/js/db.js')).getMetas(['token', 'person', 'device'])")

    page.click("[data-test=nav-me]")
    page.click("[data-test=re-enrol]")
    page.click("[data-test=confirm-yes]")
    assert (
        page.text_content("[data-test=enrol-pending]")
        == "本机还有 1 条张伟的记录没有同步。换人激活前，请先同步或导出。"
    )
    assert page.is_visible("[data-test=enrol-export]")
    seconds_code = issue_code(server, second)
    page.fill("[data-test=enrol-code]", seconds_code)
    page.click("[data-test=enrol-submit]")
    page.wait_for_selector("[data-test=enrol-error]:not(:empty)")
    assert page.text_content("[data-test=enrol-error]") == (
        "这个激活码属于另一个人。本机还有 1 条张伟的记录没有同步，不能换人激活，以免这些记录算到别人名下。"
        "请先用张伟的账号同步，或导出数据，再向镇街索取新的激活码。"
    )
    after = page.evaluate("async () => (await import('/js/db.js')).getMetas(['token', 'person', 'device'])")
    assert after == before
    assert [c["entry"] for c in outbox(page)] == [entry]

    # The same person again is fine: the changes stay, and go out as theirs.
    page.fill("[data-test=enrol-code]", issue_code(server, first))
    page.click("[data-test=enrol-submit]")
    page.wait_for_selector("[data-test=shift-list]")
    page.context.unroute("**/api/sync")
    page.evaluate("window.nuanxin.syncNow()")
    wait_synced(page)
    assert entry in server_entries(server, first)
    assert entry not in server_entries(server, second)
    # The refused code was not spent: its owner can still use it on their own phone.
    own = new_phone()
    own_address(own)
    open_app(own, "/")
    own.fill("[data-test=enrol-code]", seconds_code)
    own.click("[data-test=enrol-submit]")
    own.wait_for_selector("[data-test=shift-list]")
