"""Steps the walking-skeleton, two-phone and wrong-clock tests share."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1, "is_mobile": False,
           "has_touch": False}

# navigator.serviceWorker.ready can resolve while the worker is still "activating".
WAIT_ACTIVATED = """async () => {
  const worker = (await navigator.serviceWorker.ready).active;
  if (worker.state !== "activated") {
    await new Promise((done) => worker.addEventListener("statechange", () => {
      if (worker.state === "activated") done();
    }));
  }
  return worker.state;
}"""


def off_duty(page: Page) -> None:
    """The session's server and person are shared with other tests: end any shift they left
    open (the phone would show it as on duty), so this phone shows the start form."""
    page.evaluate("nuanxin.syncNow()")
    while page.locator("[data-test=shift-end]").count():
        page.locator("[data-test=shift-end]").click()
        page.evaluate("nuanxin.syncNow()")
    expect(page.locator("[data-test=shift-start]")).to_be_visible()
    expect(page.locator("[data-test=sync-status]")).to_have_attribute("data-pending", "0")


def enrol(page: Page, code: str) -> None:
    """Enrol on the page already open at the enrol screen, then make sure no shift is open."""
    page.locator("[data-test=enrol-code]").fill(code)
    page.locator("[data-test=enrol-submit]").click()
    expect(page.locator("[data-test=sync-status]")).to_be_visible()
    off_duty(page)


def sync(page: Page) -> None:
    page.evaluate("nuanxin.syncNow()")
    expect(page.locator("[data-test=sync-status]")).to_have_attribute("data-phase", "idle")
    expect(page.locator("[data-test=sync-status]")).to_have_attribute("data-pending", "0")


def start_and_end_shift(page: Page, post: str) -> Locator:
    """One tap on, one tap off; returns the shift's list item once the end is saved (a reload
    before that moment would find the shift still open)."""
    page.locator("[data-test=shift-post]").fill(post)
    page.locator("[data-test=shift-start]").click()
    page.locator("[data-test=shift-end]").click()
    expect(page.locator("[data-test=shift-start]")).to_be_visible()
    return page.locator("[data-test=shift-item]", has_text=post)
