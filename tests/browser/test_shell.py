"""The app shell: service-worker updates never lose the outbox, one version, the precache, install.

A new release is played by a second server process over the same database serving a *copy* of
pwa/, whose js/version.js the test then changes: the browser's update check fetches sw.js and
the scripts it imports itself, out of Playwright's reach (`context.route` does not see those
requests in Chromium), so the new version has to be on a real server.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.phone_support import (
    go_offline,
    new_worker,
    outbox,
    ready_phone,
    server_entries,
    wait_controlled,
    wait_pending,
    wait_synced,
)
from tests.support.server_process import ROOT, ServerProcess

PWA = ROOT / "pwa"
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
)
APP_VERSION = "async () => (await import('/js/sync-transport.js')).APP_VERSION"


class CopyServer(ServerProcess):
    """The server, on the test session's database, serving its own copy of pwa/."""

    def __init__(self, database_url: str, directory: Path) -> None:
        super().__init__(database_url, directory / "copy-server.log", demo=False)
        self.pwa = directory / "pwa"
        shutil.copytree(PWA, self.pwa)

    def start(self) -> CopyServer:
        script = (
            "import sys, uvicorn; from pathlib import Path; from server.app import create_app; "
            "from server.settings import Settings; "
            "uvicorn.run(create_app(Settings.from_env(database_url=sys.argv[1], pwa_dir=Path(sys.argv[2]))), "
            "host='127.0.0.1', port=int(sys.argv[3]), log_level='warning')"
        )
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [sys.executable, "-c", script, self.database_url, str(self.pwa), str(self.port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()[-2000:]
            try:
                if httpx.get(f"{self.url}/js/version.js", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the copy server did not start in 30 s")

    def release(self, version: str) -> None:
        (self.pwa / "js" / "version.js").write_text(f'self.NUANXIN_VERSION = "{version}";\n', "utf-8")


@pytest.fixture
def copy_server(server: ServerProcess, tmp_path: Path):
    process = CopyServer(server.database_url, tmp_path).start()
    yield process
    process.stop()
    assert "Traceback" not in process.log(), process.log()[-3000:]


def sw_version(page: Page) -> str:
    """VERSION as the active service worker has it."""
    url = page.evaluate("navigator.serviceWorker.controller.scriptURL")
    worker = next(w for w in page.context.service_workers if w.url == url)
    return worker.evaluate("VERSION")


def test_an_update_with_changes_waiting_loses_none_of_them(
    new_phone: Callable[..., Page], server: ServerProcess, copy_server: CopyServer
) -> None:
    person = new_worker(server)
    page = ready_phone(new_phone, server, person, url=copy_server.url + "/")
    old = page.evaluate(APP_VERSION)

    go_offline(page)
    page.fill("[data-test=shift-post]", "东门卡口")
    page.click("[data-test=shift-start]")
    page.click("[data-test=nav-wellbeing]")
    page.click("[data-test=checkin-fatigue] label:has-text('4')")
    page.click("[data-test=checkin-submit]")
    wait_pending(page, 2)
    before = [c["id"] for c in outbox(page)]
    entries = {c["entry"] for c in outbox(page)}

    # Back in signal, but the sync endpoint cannot be reached: the changes keep waiting.
    page.context.route("**/api/sync", lambda route: route.abort())
    page.context.set_offline(False)
    copy_server.release(f"{old}-next")
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    page.wait_for_selector("[data-test=update-app]")
    # The offer stays in view however far down the person has scrolled.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_function("() => window.scrollY > 400")
    expect(page.locator("[data-test=update-app]")).to_be_in_viewport()
    with page.expect_navigation():
        page.click("[data-test=update-app]")
    page.evaluate("window.nuanxin.ready")
    wait_controlled(page)

    assert page.evaluate(APP_VERSION) == f"{old}-next"
    assert sw_version(page) == f"{old}-next"
    assert page.evaluate("caches.keys()") == [f"nuanxin-shell-{old}-next"]
    assert [c["id"] for c in outbox(page)] == before
    wait_pending(page, 2)

    page.context.unroute("**/api/sync")
    page.evaluate("window.nuanxin.syncNow()")
    wait_synced(page)
    on_server = server_entries(server, person)
    assert entries <= on_server.keys()
    assert {on_server[e].kind for e in entries} == {"shift", "checkin"}


def test_the_worker_and_the_page_run_one_version(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page = ready_phone(new_phone, server, new_worker(server))
    page_version = page.evaluate(APP_VERSION)
    assert page_version == sw_version(page)
    source = (PWA / "js" / "version.js").read_text("utf-8")
    assert f'"{page_version}"' in source
    page.click("[data-test=nav-me]")
    assert page.text_content("[data-test=app-version]") == page_version


def test_the_precache_holds_every_file_of_the_app(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page = ready_phone(new_phone, server, new_worker(server))
    cached = page.evaluate(
        """async () => {
          const [name] = await caches.keys();
          const keys = await (await caches.open(name)).keys();
          return keys.map((r) => new URL(r.url).pathname);
        }"""
    )
    files = {"/" + str(p.relative_to(PWA)) for p in PWA.rglob("*") if p.is_file()}
    # The worker's own script is not precached (the browser keeps it); "/" is index.html.
    expected = (files - {"/sw.js", "/index.html"}) | {"/"}
    assert sorted(cached) == sorted(expected)
    for path in cached:
        assert httpx.get(server.url + path).status_code == 200, path


FAKE_INSTALL_PROMPT = """() => {
  const ev = new Event("beforeinstallprompt", { cancelable: true });
  ev.prompt = () => { window.__prompted = true; };
  ev.userChoice = Promise.resolve({ outcome: "accepted", platform: "web" });
  dispatchEvent(ev);
}"""


def test_add_to_home_screen_when_the_browser_offers_it(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page = ready_phone(new_phone, server, new_worker(server))
    assert page.is_hidden("[data-test=install-banner]")
    page.evaluate(FAKE_INSTALL_PROMPT)
    button = page.locator("[data-test=install-banner] [data-test=install]")
    assert button.text_content() == "添加到主屏幕"
    button.click()
    page.wait_for_function("() => window.__prompted === true")
    page.wait_for_selector("[data-test=install-banner]", state="hidden")


def test_iphone_safari_is_told_how_to_add_to_home_screen(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page = ready_phone(new_phone, server, new_worker(server), user_agent=IPHONE_SAFARI)
    hint = "[data-test=install-banner] [data-test=install-ios]"
    assert page.text_content(hint) == "点击分享按钮，再选“添加到主屏幕”"
    page.click("[data-test=install-later]")
    page.wait_for_selector("[data-test=install-banner]", state="hidden")
    page.reload()
    page.evaluate("window.nuanxin.ready")
    assert page.is_hidden("[data-test=install-banner]")  # put off, and remembered
    page.click("[data-test=nav-me]")  # where it is always offered
    page.wait_for_selector("main [data-test=install-ios]")
    assert page.text_content("main [data-test=install-ios]") == "点击分享按钮，再选“添加到主屏幕”"
