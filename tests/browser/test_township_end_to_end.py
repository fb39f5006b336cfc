"""A township runs Nuanxin on its own (issue 10): staff import a roster, print the site's sheet
of codes, a phone enrols from the QR link, records a shift, and the shift is on today's overview
and in the daily report. Everything on the dashboard goes through its real pages in Chromium.

The session's server is shared by every browser test: the site, the person's name and their
phone number are new at every run."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from server.demo import TOWNSHIP
from tests.browser.phone_support import own_address, save, site_of, wait_synced
from tests.browser.steps import DESKTOP
from tests.support.server_process import ServerProcess

ZONE = ZoneInfo("Asia/Shanghai")  # the deployment's zone (the server's default)


def test_roster_to_codes_to_phone_to_overview_and_report(
    new_phone: Callable[..., Page], server: ServerProcess, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    site_id, site_name = f"e2e{run}", f"演示村{run}"
    name, phone_number = f"李{run}", f"139{random.randrange(10**8):08d}"
    desk = new_phone(**DESKTOP)  # the development sign-in: an administrator

    # A new site, on the sites page.
    desk.goto("/township/sites")
    desk.fill("#new-name", site_name)
    desk.fill("#new-id", site_id)
    if desk.locator("#new-township").count():
        desk.fill("#new-township", TOWNSHIP)
    desk.click("form[action='/township/sites'] button[type=submit]")
    expect(desk.locator(f"#name-{site_id}")).to_have_value(site_name)

    # The roster, as Excel saves it (UTF-8 with a byte-order mark): preview, then confirm.
    roster = tmp_path / "名单.csv"
    roster.write_bytes("\ufeff姓名,手机号,站点,岗位\n".encode() + f"{name},{phone_number},{site_name},东门卡口\n".encode())
    desk.goto("/township/roster")
    desk.set_input_files("#file", roster)
    desk.click("form[action='/township/roster/preview'] button[type=submit]")
    expect(desk.locator("tr[data-row='2']")).to_have_attribute("data-status", "new")
    expect(desk.locator("[data-test=encoding]")).to_be_visible()
    desk.click("form[action='/township/roster/import'] button[type=submit]")
    expect(desk.locator("p.ok[role=status]")).to_contain_text("新增 1 人")

    # The site's sheet of codes, from the people page; the card of the new person.
    desk.goto("/township/people")
    expect(desk.locator("tr[data-person-id]", has_text=name)).to_have_count(1)
    desk.click(f"[data-test=site-codes-{site_id}]")
    card = desk.locator("[data-test=code-card]", has=desk.locator(f"h2:text-is('{name}')"))
    expect(card).to_have_count(1)
    code = card.locator("[data-test=code]").text_content()
    link = card.locator("figure.qr").get_attribute("data-link")
    assert link.endswith(f"/#/enrol/{code}") and card.locator("figure.qr svg").count() == 1

    # The phone opens the QR link, enrols, and records a shift begun an hour ago, still open.
    phone = new_phone()
    own_address(phone)
    phone.goto(link)
    phone.evaluate("window.nuanxin.ready")
    expect(phone.locator("[data-test=enrol-code]")).to_have_value(code)
    phone.click("[data-test=enrol-submit]")
    phone.wait_for_selector("[data-test=shift-list]")
    wait_synced(phone)
    assert site_of(phone) == site_id
    start = datetime.now(ZONE) - timedelta(hours=1)
    save(phone, "shift", {"site": site_id, "post": "东门卡口", "start": int(start.timestamp() * 1000),
                          "kind": "day"})
    phone.evaluate("window.nuanxin.syncNow()")
    wait_synced(phone)

    # Today's overview: on duty now at their site.
    desk.goto("/township/")
    section = desk.locator(f"section.site-today[data-site='{site_id}']")
    expect(section.locator("[data-test=on-duty] strong")).to_have_text("1")
    expect(section.locator("ul.people li", has_text=name)).to_contain_text("东门卡口")

    # The daily report for the day the shift began, in the deployment's zone.
    desk.goto(f"/township/report?day={start.date().isoformat()}")
    report = desk.locator(f"section.report-site[data-site='{site_id}']")
    expect(report.locator("tr[data-figure=shifts] td")).to_have_text("1")
    expect(report.locator("tr[data-figure=people] td")).to_have_text("1")
    expect(report.locator("tr[data-figure=still_open] td")).to_have_text("1")
