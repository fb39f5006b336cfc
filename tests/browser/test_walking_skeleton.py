"""The walking skeleton, end to end in Chromium: enrol, install, work offline, sync, show on the dashboard.

This phone is a *persistent* Chromium profile (a second Chromium process started from the
session's Playwright): only a persistent profile lets Chromium judge installability; a normal
context is incognito and always reports `in-incognito`.
"""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path

from playwright.sync_api import Browser, Request, expect

from tests.browser.conftest import PHONE
from tests.browser.steps import WAIT_ACTIVATED, enrol, start_and_end_shift
from tests.support.chromium import LAUNCH_ARGS, find_chromium
from tests.support.server_process import ServerProcess


def sync_body(request: Request) -> dict:
    raw = request.post_data_buffer or b""
    if (request.headers.get("content-encoding") or "").lower() == "gzip":
        raw = gzip.decompress(raw)
    return json.loads(raw)


def test_walking_skeleton(browser: Browser, server: ServerProcess, tmp_path: Path) -> None:
    errors: list[str] = []
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=find_chromium(), headless=True, args=LAUNCH_ARGS,
        base_url=server.url, **PHONE,
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.on("pageerror", lambda err: errors.append(str(err)))

        # The page loads at a phone viewport, and the person enrols with a code.
        response = page.goto("/")
        assert response is not None and response.ok
        assert page.viewport_size == {"width": 390, "height": 844}
        assert page.evaluate("innerWidth") == 390
        enrol(page, server.issue_code("zhangwei"))

        # The service worker takes control.
        assert page.evaluate(WAIT_ACTIVATED) == "activated"
        page.reload()
        assert page.evaluate("navigator.serviceWorker.controller !== null")
        assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == f"{server.url}/sw.js"

        # Chromium finds the app installable and its manifest clean.
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"] == f"{server.url}/manifest.webmanifest"
        assert manifest["errors"] == []
        cdp.detach()

        # Offline: the app comes from the service worker's cache.
        context.set_offline(True)
        response = page.reload()
        assert response is not None and response.from_service_worker
        expect(page.locator("[data-test=sync-status]")).to_have_attribute("data-phase", "offline")

        # A shift is started and ended with no network.
        post = f"东门卡口 {uuid.uuid4().hex[:6]}"
        shift = start_and_end_shift(page, post)
        expect(shift).to_have_attribute("data-state", "local")
        entry_id = shift.get_attribute("data-entry-id")
        assert entry_id

        # Still there after another reload, still waiting to sync.
        response = page.reload()
        assert response is not None and response.from_service_worker
        shift = page.locator(f'[data-test=shift-item][data-entry-id="{entry_id}"]')
        expect(shift).to_have_attribute("data-state", "local")
        expect(shift).to_contain_text(post)
        expect(page.locator("[data-test=shift-start]")).to_be_visible()  # ended: not on duty
        expect(page.locator("[data-test=sync-status]")).to_have_attribute("data-pending", "1")  # one record

        # Online again: the phone syncs by itself (the `online` event, Background Sync).
        sent: list[Request] = []
        page.on("requestfinished", lambda r: sent.append(r) if r.url.endswith("/api/sync") else None)
        context.set_offline(False)
        expect(shift).to_have_attribute("data-state", "synced")
        expect(page.locator("[data-test=sync-status]")).to_have_attribute("data-pending", "0")

        # The township page shows it under 东风村 with its post.
        desk = context.new_page()
        desk.set_viewport_size({"width": 1280, "height": 800})
        desk.on("pageerror", lambda err: errors.append(str(err)))
        desk.goto("/township/shifts")
        site = desk.locator("section.site[data-site=dongfeng]")
        expect(site.locator("h2")).to_contain_text("东风村")
        row = site.locator(f'tr[data-entry-id="{entry_id}"]')
        expect(row).to_have_count(1)
        expect(row).to_contain_text(post)
        expect(row).to_contain_text("张伟")

        # The same sync request sent again creates nothing new.
        pushes = [r for r in sent if any(c["entry"] == entry_id for c in sync_body(r)["changes"])]
        assert len(pushes) == 1, [sync_body(r) for r in sent]
        push = pushes[0]
        first = push.response()
        assert first is not None and first.status == 200
        assert [r["status"] for r in first.json()["results"]] == ["applied", "applied"]
        headers = {k: v for k, v in push.all_headers().items()
                   if k in ("authorization", "content-type", "content-encoding")}
        assert headers["authorization"].startswith("Bearer ")
        again = page.request.post("/api/sync", headers=headers, data=push.post_data_buffer)
        assert again.status == 200, again.text()
        results = again.json()["results"]
        assert [r["status"] for r in results] == ["duplicate", "duplicate"]
        assert [r["first"] for r in results] == ["applied", "applied"]
        desk.reload()
        expect(site.locator(f'tr[data-entry-id="{entry_id}"]')).to_have_count(1)
        expect(desk.locator("tr", has_text=post)).to_have_count(1)
        page.evaluate("nuanxin.syncNow()")
        expect(page.locator("[data-test=shift-item]", has_text=post)).to_have_count(1)
        expect(shift).to_have_attribute("data-state", "synced")
    finally:
        context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"
