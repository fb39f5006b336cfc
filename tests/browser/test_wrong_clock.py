"""A phone whose clock jumped to 2000 after enrolment records a shift offline; the server puts it on
today's date and flags it (docs/sync-protocol.md §7 K3)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page, expect

from sync.client import HttpTransport
from sync.client import enrol as enrol_device
from tests.browser.steps import DESKTOP, WAIT_ACTIVATED, enrol, start_and_end_shift
from tests.support.server_process import ServerProcess

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE_NOW = int(datetime(2000, 1, 1, 10, 0, tzinfo=SHANGHAI).timestamp() * 1000)
WRONG_CLOCK = """(() => {
  const RealDate = Date;
  const skew = %d - RealDate.now();
  function PhoneDate(...args) {
    if (!new.target) return new RealDate(RealDate.now() + skew).toString();
    return args.length ? new RealDate(...args) : new RealDate(RealDate.now() + skew);
  }
  PhoneDate.prototype = RealDate.prototype;
  PhoneDate.now = () => RealDate.now() + skew;
  PhoneDate.parse = RealDate.parse;
  PhoneDate.UTC = RealDate.UTC;
  globalThis.Date = PhoneDate;
})();""" % PHONE_NOW

def phone_day(moment: datetime) -> str:
    """How the phone writes a date (zh-CN, month "short")."""
    return f"{moment.month}月{moment.day}日"


def pull_entry(server: ServerProcess, entry_id: str) -> dict:
    """The entry as the server holds it, pulled by a new device of the same person."""
    token = enrol_device(server.url, server.issue_code("zhangwei"))["token"]
    with httpx.Client(base_url=server.url) as client:
        transport = HttpTransport(client, token)
        cursor, found = "0", None
        while True:
            answer = transport({"protocol": 1, "app": "test", "device_time": int(time.time() * 1000),
                                "cursor": cursor, "limit": 200, "changes": []})
            found = next((e for e in answer.entries if e.id == entry_id), found)
            cursor = answer.cursor
            if not answer.more:
                break
    assert found is not None, "the shift is not on the server"
    return {"fields": found.fields, "flags": found.flags, "stamps": found.stamps}


def test_a_phone_whose_clock_jumped_back_to_2000(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    # Enrolled while its clock was right (enrolment measures the phone's offset) ...
    page = new_phone()
    page.goto("/")
    enrol(page, server.issue_code("zhangwei"))
    assert page.evaluate(WAIT_ACTIVATED) == "activated"  # the app shell is cached

    # ... then, offline, the clock jumps back to 2000 and the app is opened again.
    page.context.set_offline(True)
    page.context.add_init_script(WRONG_CLOCK)
    response = page.reload()
    assert response is not None and response.from_service_worker
    assert page.evaluate("[new Date().getFullYear(), new Date(Date.now()).getFullYear()]") == [2000, 2000]

    post = f"桥头 {uuid.uuid4().hex[:6]}"
    before = time.time()
    shift = start_and_end_shift(page, post)
    expect(shift).to_have_attribute("data-state", "local")
    expect(shift).to_contain_text("1月1日")  # the phone's own idea of the day, before the server's
    after = time.time()
    entry_id = shift.get_attribute("data-entry-id")
    assert entry_id
    today = {phone_day(datetime.fromtimestamp(t, SHANGHAI)) for t in (before, after)}
    iso_today = {datetime.fromtimestamp(t, SHANGHAI).strftime("%Y-%m-%d") for t in (before, after)}

    # Online: it syncs by itself.
    page.context.set_offline(False)
    shift = page.locator(f'[data-test=shift-item][data-entry-id="{entry_id}"]')
    expect(shift).to_have_attribute("data-state", "synced")

    # The server put it on today's date, at about the time it really started, and flagged it.
    held = pull_entry(server, entry_id)
    assert "clock_corrected" in held["flags"]
    start, end = held["fields"]["start"], held["fields"]["end"]
    assert before * 1000 - 2000 <= start <= end <= after * 1000 + 2000, (start, end, before, after)
    assert all(int(stamp[:13]) <= time.time() * 1000 for stamp in held["stamps"].values()), held["stamps"]
    desk = new_phone(**DESKTOP)
    desk.goto("/township/shifts")
    row = desk.locator(f'section.site[data-site=dongfeng] tr[data-entry-id="{entry_id}"]')
    expect(row).to_contain_text(post)
    expect(row.locator(".flag")).to_have_text("时间已校正")
    start_cell = row.locator("td").nth(3).text_content() or ""
    assert start_cell[:10] in iso_today, start_cell
    expect(row.locator("td").nth(3)).not_to_contain_text("2000-")
    expect(row.locator("td").nth(4)).not_to_contain_text("2000-")
    expect(row.locator(".device-times")).to_contain_text("2000-01-01")  # the phone's own, kept in view (K3)

    # The phone shows it on the right day, with a word that its clock was off.
    expect(shift).not_to_contain_text("1月1日")
    assert any(day in (shift.text_content() or "") for day in today), (shift.text_content(), today)
    expect(shift).to_contain_text("手机时间不准，已按服务器时间校正")
