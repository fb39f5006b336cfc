"""Urgent reports by SMS on the phone (docs/sms.md): the shared vectors in Chromium, and an
offline phone offering 用短信发送 with the message the server then accepts.

This module runs its own server process with the SMS settings set (the session's has them off).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from playwright.sync_api import Page, expect

from sync import sms
from tests.browser.phone_support import (
    go_offline,
    go_online_and_sync,
    new_worker,
    outbox,
    ready_phone,
    reload_offline,
    wait_item_state,
    wait_pending,
)
from tests.support.databases import sqlite_url
from tests.support.server_process import ServerProcess

NUMBER = "+8613800138000"
GATEWAY = "gateway-token-for-browser-tests-01234"
VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "sms.json").read_text("utf-8"))

RUN_ENCODE = """async ([vectors, key]) => {
  const { encode, SmsError } = await import("/js/sms.js");
  const out = [];
  for (const v of vectors) {
    try { out.push({ text: await encode(v.change, key) }); }
    catch (err) { if (!(err instanceof SmsError)) throw err; out.push({ error: err.code }); }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("sms-server")
    env = {"NUANXIN_SMS_NUMBER": NUMBER, "NUANXIN_SMS_GATEWAY_TOKEN": GATEWAY}
    process = ServerProcess(sqlite_url(directory), directory / "server.log", env=env).start()
    yield process
    process.stop()
    assert "Traceback" not in process.log(), process.log()[-3000:]


def test_sms_js_passes_every_encode_vector(new_phone: Callable[..., Page]) -> None:
    vectors = VECTORS["encode"]
    page = new_phone()
    # A static file of the app gives the module its origin, without the app starting around it.
    assert page.goto("/manifest.webmanifest").ok
    outcomes = page.evaluate(RUN_ENCODE, [vectors, VECTORS["key"]])
    assert dict(zip([v["comment"] for v in vectors], outcomes, strict=True)) == {
        v["comment"]: v["expected"] for v in vectors
    }


def sms_link(page: Page, entry: str) -> str:
    link = page.locator(f"[data-entry-id='{entry}'] [data-test=sms-send]")
    expect(link).to_have_text("用短信发送")
    return link.get_attribute("href") or ""


def test_an_offline_phone_offers_its_injury_report_by_sms_and_shows_that_it_arrived(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page = ready_phone(new_phone, server, new_worker(server))
    page.wait_for_function("async () => (await (await import('/js/db.js')).getMeta('config'))?.sms?.key")
    key = page.evaluate("async () => (await (await import('/js/db.js')).getMeta('config')).sms.key")
    page.click("[data-test=nav-wellbeing]")
    go_offline(page)
    page.click("form:has([data-test=injury-submit]) label:has-text('受伤')")
    page.fill("[data-test=injury-note]", "左手被划伤，需要包扎")
    page.click("[data-test=injury-submit]")
    wait_pending(page, 1)
    [change] = outbox(page)

    href = sms_link(page, change["entry"])
    assert href.startswith(f"sms:{NUMBER}?body=")
    text = unquote(href.split("?body=", 1)[1])
    assert text == sms.encode(change, key)
    assert text.startswith("NX1 INJURY ") and len(text) <= 160
    message = sms.parse(text)
    sms.verify(message, key)
    assert message.change["fields"] == change["fields"] and message.change["id"] == change["id"]

    # The gateway passes the text on; the phone, back online, learns that the report arrived.
    answer = httpx.post(f"{server.url}/api/sms/inbound", json={"from": "+8613912345678", "text": text},
                        headers={"Authorization": f"Bearer {GATEWAY}"})
    assert answer.json()["status"] == "applied"
    go_online_and_sync(page)
    wait_item_state(page, "checkin-item", change["entry"], "synced")
    arrived = page.locator(f"[data-entry-id='{change['entry']}'] [data-test=sms-arrived]")
    expect(arrived).to_have_text("已由短信送达")
    expect(page.locator("[data-test=sms-send]")).to_have_count(0)
    assert outbox(page) == []


def test_an_urgent_request_waiting_long_is_offered_by_sms_prominently(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page = ready_phone(new_phone, server, new_worker(server))
    page.wait_for_function("async () => (await (await import('/js/db.js')).getMeta('config'))?.sms?.key")
    page.click("[data-test=nav-supplies]")
    go_offline(page)
    page.fill("[data-test=request-quantity]", "200")
    page.check("[data-test=request-urgent]")
    page.click("[data-test=request-submit]")
    wait_pending(page, 1)
    [change] = outbox(page)
    expect(page.locator("[data-test=sms-send]")).to_have_class("button secondary")

    # Eleven minutes later (the change made that long ago), with still no data connection.
    page.evaluate("""async (id) => {
      const db = await import('/js/db.js');
      await db.tx(['outbox'], 'readwrite', async (s) => {
        const c = await db.promisifyRequest(s.outbox.get(id));
        s.outbox.put({ ...c, created: c.created - 11 * 60000 });
      });
    }""", change["id"])
    reload_offline(page)
    page.click("[data-test=nav-supplies]")
    item = page.locator(f"[data-entry-id='{change['entry']}']")
    expect(item.locator("[role=alert]")).to_contain_text("已等了 10 分钟以上")
    expect(item.locator("[data-test=sms-send]")).to_have_class("button danger")
    text = unquote(sms_link(page, change["entry"]).split("?body=", 1)[1])
    assert sms.parse(text).change["fields"] == change["fields"]


def test_the_phone_offers_nothing_once_the_server_says_sms_is_off(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page = ready_phone(new_phone, server, new_worker(server))
    page.wait_for_function("async () => (await (await import('/js/db.js')).getMeta('config'))?.sms?.key")
    page.click("[data-test=nav-wellbeing]")
    go_offline(page)
    page.click("form:has([data-test=injury-submit]) label:has-text('暴露')")
    page.click("[data-test=injury-submit]")
    expect(page.locator("[data-test=sms-send]")).to_have_count(1)

    # GET /api/config answered `"sms": null` (the settings were removed); the kept copy says so.
    page.evaluate("""async () => {
      const db = await import('/js/db.js');
      await db.setMetas({ config: { ...(await db.getMeta('config')), sms: null } });
      dispatchEvent(new Event('offline'));
    }""")
    expect(page.locator("[data-test=sms-send]")).to_have_count(0)
    wait_pending(page, 1)


def test_an_export_of_the_phone_carries_no_sms_key(new_phone: Callable[..., Page], server: ServerProcess) -> None:
    """Exports are passed around when a phone is full: the key would let anyone sign reports."""
    page = ready_phone(new_phone, server, new_worker(server))
    page.wait_for_function("async () => (await (await import('/js/db.js')).getMeta('config'))?.sms?.key")
    key = page.evaluate("async () => (await (await import('/js/db.js')).getMeta('config')).sms.key")

    exported = page.evaluate("async () => JSON.stringify(await (await import('/js/views/me.js')).exportData())")

    assert key not in exported
    assert json.loads(exported)["meta"]["config"]["sms"] is None

