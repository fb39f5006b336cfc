"""Every save tells the person what happened: 已保存, or clearly that it was NOT saved.

Writes are made to fail the way a full phone makes them fail: an init script wraps IndexedDB's
put and add so that, while `window.failWrites` is set, they throw a QuotaExceededError or abort
their transaction. Without IndexedDB at all, the app says so in words.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.phone_support import go_offline, new_worker, open_app, outbox, own_address, ready_phone
from tests.support.server_process import ServerProcess

FAILING_WRITES = """(() => {
  for (const name of ["put", "add"]) {
    const original = IDBObjectStore.prototype[name];
    IDBObjectStore.prototype[name] = function (...args) {
      if (window.failWrites === "quota") throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
      const request = original.apply(this, args);
      if (window.failWrites === "abort") this.transaction.abort();
      return request;
    };
  }
})();"""
NOT_SAVED = "没有保存！本机存储空间可能已满。请清理手机空间，或在“我的”里导出我的数据，然后再试一次。"
CHECKIN_FORM = "form:has([data-test=checkin-submit])"
MOVEMENT_FORM = "form:has([data-test=supply-submit])"
STATUS = "[data-test=sync-status]"
EXPORT = {"format": "nuanxin-export", "version": 1, "meta": {}, "entries": [], "outbox": [
    {"id": "c-import", "entry": "e-import", "kind": "checkin", "schema": 1, "op": "put", "stamp": "", "base": {},
     "fields": {"fatigue": 3}, "n": 1, "urgent": False, "status": "pending", "created": 0}]}


def failing_phone(new_phone: Callable[..., Page], server: ServerProcess) -> Page:
    page = new_phone()
    page.context.add_init_script(FAILING_WRITES)
    page = ready_phone(lambda: page, server, new_worker(server))
    go_offline(page)  # no sync runs meanwhile: only the person's own saves write
    return page


def count_writes(page: Page) -> None:
    """From now on, window.writes lists each save's outcome as the app reported it."""
    page.evaluate("""async () => {
      window.writes = [];
      (await import("/js/db.js")).bus.addEventListener("write", (e) => window.writes.push(e.detail.ok));
    }""")


def expect_not_saved(page: Page, writes: int) -> None:
    """The `writes`-th save failed, and the app says so."""
    page.wait_for_function("(n) => window.writes.length === n && window.writes[n - 1] === false", arg=writes)
    expect(page.locator("[data-test=write-failed]")).to_be_visible()
    expect(page.locator("[data-test=write-failed]")).to_contain_text(NOT_SAVED)
    expect(page.locator(STATUS)).to_have_attribute("data-write-failed", "true")
    expect(page.locator("#status")).to_contain_text("有记录没有保存")
    expect(page.locator("#status")).not_to_contain_text("全部已同步")
    expect(page.locator("[data-test=toast]")).to_be_hidden()
    assert outbox(page) == []


def expect_saved(page: Page) -> None:
    expect(page.locator("[data-test=toast]")).to_be_visible()
    expect(page.locator("[data-test=toast]")).to_have_text("已保存")
    expect(page.locator("[data-test=write-failed]")).to_be_hidden()
    expect(page.locator(STATUS)).to_have_attribute("data-write-failed", "false")


@pytest.mark.parametrize("failure", ["quota", "abort"])
def test_a_failed_write_keeps_the_form_and_says_it_was_not_saved(
    new_phone: Callable[..., Page], server: ServerProcess, failure: str
) -> None:
    page = failing_phone(new_phone, server)
    count_writes(page)
    page.evaluate("(how) => { window.failWrites = how; }", failure)

    # 值班: starting a shift.
    page.fill("[data-test=shift-post]", "东门卡口")
    page.click("[data-test=shift-start]")
    expect_not_saved(page, 1)
    expect(page.locator("[data-test=shift-post]")).to_have_value("东门卡口")

    # 关怀: a check-in and an injury report.
    page.click("[data-test=nav-wellbeing]")
    page.click("[data-test=checkin-fatigue] label:has-text('4')")
    page.fill("[data-test=checkin-sleep]", "5.5")
    page.click("[data-test=checkin-submit]")
    expect_not_saved(page, 2)
    expect(page.locator("[data-test=checkin-sleep]")).to_have_value("5.5")
    expect(page.locator("[data-test=checkin-fatigue] input[value='4']")).to_be_checked()
    page.click("form:has([data-test=injury-submit]) label:has-text('暴露')")
    page.fill("[data-test=injury-note]", "手套破损")
    page.click("[data-test=injury-submit]")
    expect_not_saved(page, 3)
    expect(page.locator("[data-test=injury-note]")).to_have_value("手套破损")

    # 物资: a movement and a request.
    page.click("[data-test=nav-supplies]")
    page.click(f"{MOVEMENT_FORM} label.chip:has-text('入库')")
    page.fill("[data-test=supply-quantity]", "200")
    page.click("[data-test=supply-submit]")
    expect_not_saved(page, 4)
    expect(page.locator("[data-test=supply-quantity]")).to_have_value("200")
    page.fill("[data-test=request-quantity]", "30")
    page.click("[data-test=request-submit]")
    expect_not_saved(page, 5)
    expect(page.locator("[data-test=request-quantity]")).to_have_value("30")

    # 我的: importing a data file.
    page.click("[data-test=nav-me]")
    page.set_input_files("[data-test=import]", files=[{"name": "export.json", "mimeType": "application/json",
                                                       "buffer": json.dumps(EXPORT).encode()}])
    expect(page.locator("main [role=status]")).to_have_text(NOT_SAVED)
    expect_not_saved(page, 6)

    # Space again: a save goes through, says so, and the warning goes.
    page.evaluate("() => { window.failWrites = null; }")
    page.click("[data-test=nav-supplies]")
    page.fill("[data-test=request-quantity]", "30")
    page.click("[data-test=request-submit]")
    expect_saved(page)
    expect(page.locator("[data-test=request-quantity]")).to_have_value("")
    expect(page.locator(STATUS)).to_have_attribute("data-pending", "1")


def test_every_save_says_saved_on_screen(new_phone: Callable[..., Page], server: ServerProcess) -> None:
    page = ready_phone(new_phone, server, new_worker(server))
    go_offline(page)
    toast = page.locator("[data-test=toast]")

    page.fill("[data-test=shift-post]", "东门卡口")
    page.click("[data-test=shift-start]")
    expect_saved(page)
    page.evaluate("() => { document.querySelector('[data-test=toast]').hidden = true; }")
    page.click("[data-test=shift-end]")
    expect(toast).to_be_visible()
    expect(page.locator(STATUS)).to_have_attribute("data-pending", "1")  # one record, two changes
    expect(page.locator("#status")).to_contain_text("1 条待同步")

    page.click("[data-test=nav-wellbeing]")
    page.evaluate("() => { document.querySelector('[data-test=toast]').hidden = true; }")
    page.click("[data-test=checkin-fatigue] label:has-text('2')")
    page.click("[data-test=checkin-submit]")
    expect_saved(page)


def test_an_empty_check_in_is_refused_on_the_phone(new_phone: Callable[..., Page], server: ServerProcess) -> None:
    page = ready_phone(new_phone, server, new_worker(server))
    page.click("[data-test=nav-wellbeing]")
    page.click("[data-test=checkin-submit]")
    expect(page.locator("[data-test=checkin-error]")).to_have_text("还没有回答任何问题。请至少回答一项再提交。")
    assert outbox(page) == []
    expect(page.locator("[data-test=checkin-item]")).to_have_count(0)

    page.click(f"{CHECKIN_FORM} fieldset:has-text('按时就餐') label:has-text('否')")
    page.click("[data-test=checkin-submit]")
    expect(page.locator("[data-test=checkin-item]")).to_have_count(1)
    expect(page.locator("[data-test=checkin-error]")).to_be_hidden()


def test_the_injury_report_is_reached_without_scrolling_past_the_check_in(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page = ready_phone(new_phone, server, new_worker(server))
    page.click("[data-test=nav-wellbeing]")
    expect(page.locator("[data-test=injury-submit]")).not_to_be_in_viewport()
    expect(page.locator("[data-test=injury-jump]")).to_be_in_viewport()
    page.click("[data-test=injury-jump]")
    expect(page.locator("[data-test=injury-submit]")).to_be_in_viewport()
    expect(page.locator("form:has([data-test=injury-submit]) input[value=injury]")).to_be_focused()


def test_the_movement_goes_back_to_used_after_a_stocktake(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page = ready_phone(new_phone, server, new_worker(server))
    page.click("[data-test=nav-supplies]")
    page.click(f"{MOVEMENT_FORM} label.chip:has-text('盘点')")
    page.fill("[data-test=supply-quantity]", "80")
    page.click("[data-test=supply-submit]")
    expect(page.locator("[data-test=supply-item]")).to_have_count(1)
    expect(page.locator(f"{MOVEMENT_FORM} input[name=movement][value=used]")).to_be_checked()
    expect(page.locator("[data-test=supply-quantity]")).to_have_value("")


def test_sync_now_is_hidden_before_enrolment_and_answers_offline(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page = new_phone()
    own_address(page)
    open_app(page)
    expect(page.locator("[data-test=enrol-code]")).to_be_visible()
    expect(page.locator("[data-test=sync-now]")).to_be_hidden()

    page = ready_phone(new_phone, server, new_worker(server))
    expect(page.locator("[data-test=sync-now]")).to_be_visible()
    go_offline(page)
    page.click("[data-test=sync-now]")
    expect(page.locator("[data-test=toast]")).to_have_text("现在离线，联网后会自动同步")


def test_phone_and_dashboard_use_one_word_for_the_enrolment_code(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    person = new_worker(server, name="王小明")
    page = new_phone()
    open_app(page)
    expect(page.locator(".field:has([data-test=enrol-code]) label")).to_have_text("激活码")

    desk = new_phone(viewport={"width": 1280, "height": 800}, is_mobile=False, has_touch=False)
    desk.goto("/township/people")
    desk.locator(f"form[action='/township/people/{person}/code'] button").click()
    expect(desk.locator("h1")).to_contain_text("王小明 的激活码")
    assert "登记码" not in desk.content()


@pytest.mark.parametrize(
    "no_store",
    ["delete window.indexedDB;",
     "IDBFactory.prototype.open = () => { throw new DOMException('The operation failed.', 'UnknownError'); };"],
    ids=["no-indexeddb", "open-fails"],
)
def test_an_app_that_cannot_open_its_store_says_so(
    new_phone: Callable[..., Page], no_store: str
) -> None:
    page = new_phone()
    page.context.add_init_script(no_store)
    open_app(page)
    expect(page.locator("[data-test=no-store]")).to_have_text(
        "这个浏览器不能在本机保存记录，所以暖心无法使用。请不要用无痕（隐私）模式，清理手机空间，或换用系统自带的浏览器后再打开。"
    )
    expect(page.locator("[data-test=sync-now]")).to_be_hidden()
    expect(page.locator("#tabs")).to_be_hidden()
