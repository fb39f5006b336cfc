"""Enrolment by QR code (issue 10, item 2): the link a code page shows opens the phone app with
the code filled in, and the code does not stay in the address bar or the history."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.phone_support import new_worker, own_address
from tests.support.server_process import ServerProcess


def test_opening_the_qr_link_on_a_phone_fills_in_the_code_and_enrols(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    person = new_worker(server, name="扫码人")
    desk = new_phone(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False)
    desk.goto("/township/people")  # the development sign-in: an administrator
    desk.click(f"tr[data-person-id={person}] button:has-text('发激活码')")
    code = desk.text_content("[data-test=code]")
    link = desk.get_attribute("[data-test=qr]", "data-link")
    assert desk.locator("[data-test=qr] svg path.qrline").count() == 1

    phone = new_phone()
    own_address(phone)
    blank = phone.evaluate("history.length")  # the new tab's own entry
    phone.goto(link)
    phone.evaluate("window.nuanxin.ready")

    expect(phone.locator("[data-test=enrol-code]")).to_have_value(code)
    phone.wait_for_function("() => !location.href.includes('/enrol/')")
    # The link's entry was replaced, not followed by another: going back finds no code either.
    assert phone.evaluate("history.length") == blank + 1
    phone.click("[data-test=enrol-submit]")
    phone.wait_for_selector("[data-test=shift-list]")
    assert phone.evaluate("async () => (await import('/js/db.js')).getMeta('person')")["id"] == person


def test_behind_a_proxy_that_ends_tls_the_link_is_https(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    """The test server trusts 127.0.0.1 as a proxy (conftest); deploy/ sets X-Forwarded-Proto."""
    person = new_worker(server, name="代理后")
    desk = new_phone(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False)
    desk.goto("/township/people")
    token = desk.get_attribute(f"tr[data-person-id={person}] input[name=_csrf_token]", "value")
    path = f"/township/people/{person}/code"

    def link(headers: dict) -> str:
        answer = desk.request.post(path, form={"_csrf_token": token}, headers=headers)
        assert answer.ok, answer.status
        return re.search(r'data-link="([^"]+)"', answer.text())[1]

    assert link({"X-Forwarded-Proto": "https"}).startswith(f"https://{server.url.split('://')[1]}/#/enrol/")
    assert link({}).startswith(f"{server.url}/#/enrol/")
