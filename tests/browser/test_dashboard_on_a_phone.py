"""The dashboard on a phone (issue 10, item 8): at 390 px wide no page scrolls sideways, and
every action is on screen, for an administrator and for care staff, with data on every page."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.sync_api import Page

from server.demo import TOWNSHIP
from server.models import Person, Site
from server.services.accounts import create_account
from server.services.enrolment import issue_code
from sync.client import HttpTransport, enrol, sync
from sync.constants import DEFAULT_TIMEZONE
from sync.days import day_of
from sync.replica import Replica
from tests.browser.phone_support import _run, now_ms
from tests.support.server_process import ServerProcess

WIDTH = 390
HOUR = 3_600_000
PASSWORD = "correct horse battery"
LONG = "夜里睡不着，总是想着白天卡口排队的人，希望有人能聊聊，也想知道下周能不能换到白班"
PAGES = ["/township/", "/township/shifts", "/township/report", "/township/charts", "/township/supplies",
         "/township/conflicts", "/township/wellbeing", "/township/subsidy", "/township/people", "/township/settings",
         "/township/audit", "/township/password",
         "/township/sites", "/township/accounts", "/township/roster", "/township/people/new",
         "/township/people/retired", "/township/carried"]
CARE_PAGES = ["/township/", "/township/shifts", "/township/charts", "/township/charts/fatigue", "/township/conflicts",
              "/township/wellbeing", "/township/password"]

OVERFLOW = """(width) => {
  const wide = [...document.querySelectorAll("main *, header *")].filter((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && (r.right > width + 0.5 || r.left < -0.5);
  }).map((el) => el.outerHTML.slice(0, 90));
  return { scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 5) };
}"""
# Buttons, links and fields that are not on screen horizontally, or are squeezed to nothing.
UNREACHABLE = """(width) => [...document.querySelectorAll(["main button", "main a[href]", "main select",
    "main input:not([type=hidden])", "main textarea", "header a", "header button"].join())]
  .filter((el) => el.getClientRects().length > 0)
  .filter((el) => {
    const r = el.getBoundingClientRect();
    return r.left < 0 || r.right > width || r.width < 16;
  })
  .map((el) => el.outerHTML.slice(0, 90))"""
# Chinese set one character a line: a cell's text as tall as its characters.
ONE_CHAR_LINES = """() => [...document.querySelectorAll("main td, main th")].filter((cell) => {
  const text = cell.textContent.trim();
  // Headings a card layout hides (1 px, clipped) are read by screen readers, not seen.
  if (text.length < 4 || cell.closest("thead")?.getBoundingClientRect().width <= 1) return false;
  const range = document.createRange(); range.selectNodeContents(cell);
  const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  return lines >= text.length - 1;
}).map((cell) => cell.textContent.trim().slice(0, 30))"""


def _worker_with_a_site(server: ServerProcess) -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:10]

    async def write(session: Any) -> None:
        session.add(Site(id=f"s{suffix}", name="城关镇东门外第三社区居委会", township=TOWNSHIP))
        await session.flush()
        session.add(Person(id=f"w{suffix}", name="欧阳明月", role="worker", site_id=f"s{suffix}",
                           township=TOWNSHIP))

    _run(write, server.database_url)
    return f"w{suffix}", f"s{suffix}"


def _replica(server: ServerProcess, person: str) -> tuple[Replica, HttpTransport]:
    address = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"  # its own enrolment limit
    http = httpx.Client(base_url=server.url, headers={"X-Forwarded-For": address})
    code = _run(lambda s: issue_code(s, person, datetime.now(UTC)), server.database_url)
    answer = enrol("", code, http)
    return Replica(device=answer["device"]), HttpTransport(http, answer["token"])


def _a_township_with_some_of_everything(server: ServerProcess) -> str:
    person, site = _worker_with_a_site(server)
    (first, one), (second, two) = _replica(server, person), _replica(server, person)
    now = now_ms()
    first.put("q1", "shift", {"site": site, "post": "东门卡口体温检测与登记岗位", "start": now - 10 * HOUR,
                              "end": now - 2 * HOUR, "kind": "night", "note": LONG}, now - 2 * HOUR)
    first.put("q2", "supply", {"site": site, "item": "N95口罩", "unit": "个", "movement": "received",
                               "quantity": 1200, "at": now - 5 * HOUR}, now - 5 * HOUR)
    first.put("q3", "supply", {"site": site, "item": "N95口罩", "unit": "个", "movement": "used",
                               "quantity": 900, "at": now - 3 * HOUR}, now - 3 * HOUR)
    first.put("q4", "request", {"site": site, "item": "医用外科手套", "unit": "双", "quantity": 500, "urgent": True,
                                "at": now - HOUR, "note": LONG}, now - HOUR)
    first.put("q5", "checkin", {"site": site, "at": now - HOUR, "fatigue": 5, "sleep_hours": 3, "mood": 2,
                                "talk": True, "note": LONG}, now - HOUR)
    sync(first, one)
    sync(second, two)
    first.put("q1", "shift", {"post": "东门卡口（北侧）"}, now - 90 * 60_000)
    second.put("q1", "shift", {"post": "西门卡口（南侧）停车场入口"}, now - 80 * 60_000)
    sync(first, one)
    sync(second, two)
    return site


def _care_account(server: ServerProcess) -> str:
    name = f"care{uuid.uuid4().hex[:8]}"

    async def write(session: Any) -> None:
        session.add(Person(id=name, name="关怀专员陈", role="care", site_id=None, township=TOWNSHIP))
        await session.flush()
        await create_account(session, name, name, PASSWORD, datetime.now(UTC))

    _run(write, server.database_url)
    return name


def _problems(page: Page, path: str) -> list:
    page.goto(path)
    page.wait_for_selector("main h1")
    found = page.evaluate(OVERFLOW, WIDTH)
    problems = []
    if found["scroll"] > WIDTH:
        problems.append((path, "scrolls sideways", found))
    if unreachable := page.evaluate(UNREACHABLE, WIDTH):
        problems.append((path, "off screen", unreachable))
    if squeezed := page.evaluate(ONE_CHAR_LINES):
        problems.append((path, "one character a line", squeezed))
    return problems


def test_no_dashboard_page_scrolls_sideways_at_390_px(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    site = _a_township_with_some_of_everything(server)
    admin = new_phone()  # the development sign-in: an administrator of every township
    today = day_of(now_ms(), DEFAULT_TIMEZONE)  # the report of the day the data above is from
    problems = [p for path in [*PAGES, f"/township/report?day={today}"] for p in _problems(admin, path)]
    admin.goto("/township/people")  # the code page answers a POST: reached by its button
    admin.locator("button:has-text('发激活码')").first.click()
    admin.wait_for_selector("[data-test=qr]")
    if (found := admin.evaluate(OVERFLOW, WIDTH))["scroll"] > WIDTH:
        problems.append(("code page", found))
    admin.goto("/township/people")  # and a whole site's printable sheet
    admin.locator(f"[data-test=site-codes-{site}]").click()
    admin.wait_for_selector("[data-test=code-card]")
    if (found := admin.evaluate(OVERFLOW, WIDTH))["scroll"] > WIDTH:
        problems.append(("code sheet", found))

    care = new_phone()
    care.goto("/township/login")
    name = _care_account(server)
    care.fill("#username", name)
    care.fill("#password", PASSWORD)
    care.click("button:has-text('登录')")
    care.wait_for_selector("main h1")
    problems += [p for path in CARE_PAGES for p in _problems(care, path)]
    care.goto("/township/wellbeing")
    assert care.locator("form[action$='/followup'] button").count() >= 1  # care sees the details

    assert problems == [], '\n'.join(map(str, problems))
