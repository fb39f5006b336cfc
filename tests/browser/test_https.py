"""A phone reaches the app over HTTPS by a name that is not localhost, as on a township's network
(issue 12, item 1).

The server is `nuanxin serve --tls-cert/--tls-key` with a certificate from deploy/local-cert.sh,
the documented way for a trial on a laptop. Chromium resolves `nuanxin.test` to 127.0.0.1 and
trusts exactly that certificate's key (as a phone trusts the installed authority): away from
localhost only HTTPS makes the page a secure context, so the service worker registering and
taking control proves the HTTPS path works end to end.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import PHONE
from tests.browser.phone_support import enrol, go_offline, wait_controlled
from tests.support.chromium import LAUNCH_ARGS, find_chromium
from tests.support.databases import sqlite_url
from tests.support.server_process import ROOT, ServerProcess

NAME = "nuanxin.test"


def spki_hash(cert: Path) -> str:
    """base64(sha256(SubjectPublicKeyInfo)): what --ignore-certificate-errors-spki-list takes."""
    script = (f"openssl x509 -in '{cert}' -pubkey -noout | openssl pkey -pubin -outform der"
              " | openssl dgst -sha256 -binary | base64")
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("tls")
    subprocess.run([ROOT / "deploy" / "local-cert.sh", directory / "tls", NAME, "127.0.0.1"],
                   check=True, capture_output=True)
    tls = (directory / "tls" / "cert.pem", directory / "tls" / "key.pem")
    process = ServerProcess(sqlite_url(directory), directory / "server.log", tls=tls).start()
    yield process
    process.stop()
    assert "Traceback" not in process.log(), process.log()[-3000:]


@pytest.fixture(scope="module")
def trusting_browser(browser: Browser, tls_server: ServerProcess) -> Iterator[Browser]:
    """A second Chromium from the session's Playwright (one Playwright per thread), launched with
    the name mapping and the trust that a browser context cannot be given."""
    args = [*LAUNCH_ARGS, f"--host-resolver-rules=MAP {NAME} 127.0.0.1",
            f"--ignore-certificate-errors-spki-list={spki_hash(tls_server.tls[0])}"]
    trusting = browser.browser_type.launch(executable_path=find_chromium(), headless=True, args=args)
    yield trusting
    trusting.close()


def test_the_app_and_its_service_worker_work_over_https(trusting_browser: Browser, tls_server: ServerProcess) -> None:
    origin = f"https://{NAME}:{tls_server.port}"
    context = trusting_browser.new_context(base_url=origin, **PHONE)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda err: errors.append(str(err)))
        enrol(page, tls_server, "zhangwei")
        wait_controlled(page)

        assert page.evaluate("[location.protocol, window.isSecureContext]") == ["https:", True]
        registration = page.evaluate(
            "navigator.serviceWorker.getRegistration().then((r) => [r.scope, r.active.state])")
        assert registration == [f"{origin}/", "activated"]
        assert page.evaluate("navigator.serviceWorker.controller.scriptURL").startswith(f"{origin}/")

        go_offline(page)
        response = page.reload()
        assert response is not None and response.from_service_worker, "offline, the worker answers"
        page.evaluate("window.nuanxin.ready")
        assert page.is_visible("[data-test=shift-list]")
    finally:
        context.close()
    assert errors == []
