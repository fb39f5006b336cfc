"""One real server process and one headless Chromium for the whole browser test session.

Each test gets its own browser context: its own phone, with its own IndexedDB and service worker.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.support.chromium import LAUNCH_ARGS, find_chromium
from tests.support.databases import sqlite_url
from tests.support.server_process import ServerProcess

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("server")
    # Each phone sends an X-Forwarded-For of its own (phone_support.own_address), as if behind
    # a proxy on this machine: the server believes it only from the proxies it is told of.
    process = ServerProcess(sqlite_url(directory), directory / "server.log",
                            env={"NUANXIN_TRUSTED_PROXIES": "127.0.0.1"}).start()
    yield process
    process.stop()
    assert "Traceback" not in process.log(), process.log()[-3000:]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    path = find_chromium()
    if path is None:
        pytest.fail("no Chromium: run `python -m tests.support.chromium` (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_phone(browser: Browser, server: ServerProcess) -> Iterator:
    """Make phones (browser contexts) on the test server; all are closed after the test."""
    contexts: list[BrowserContext] = []

    def make(**options: object) -> Page:
        context = browser.new_context(base_url=server.url, **{**PHONE, **options})
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda err: errors.append(str(err)))
        return page

    errors: list[str] = []
    yield make
    for context in contexts:
        context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"
