"""Screenshots for the docs: the phone app's main screens, then the township dashboard's pages.

The phone: a server process with the tests' small demo world on a throw-away SQLite database;
张伟 (东风村) enrols on a headless Chromium phone (390 × 844 CSS px) and makes a week of entries
(some approved by township staff, a care follow-up). Saved in docs/screenshots/: shifts,
shift-edit, supplies, wellbeing, wellbeing-history, me (zh-CN) and shifts-en (English).

The dashboard: a second server process on a throw-away database holding the living demo (what
`nuanxin serve --demo` fills), seen through the development sign-in (an administrator), at 390 px
and at 1280 px: dash-<page>-phone.png and dash-<page>-desk.png for today's overview, shifts, the
daily report, supplies, conflicts, people, a roster import's preview and the charts.

Run: python -m bench.screenshots (both), --dashboard (the dashboard only)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.phone_support import (
    add_followup,
    approve_shift,
    enrol,
    save,
    site_of,
    visible_ids,
    wait_synced,
)
from tests.support.aio import run
from tests.support.chromium import LAUNCH_ARGS, find_chromium
from tests.support.databases import sqlite_url
from tests.support.world import in_session
from tests.support.server_process import ROOT, ServerProcess

OUT = ROOT / "docs" / "screenshots"
ZONE = ZoneInfo("Asia/Shanghai")
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def a_week_of_entries(page: Page, server: ServerProcess) -> str:
    """Shifts on each of the last six days (four approved), supplies, a check-in with a follow-up."""
    site = site_of(page)
    today = datetime.now(ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    shifts = []
    for days_ago, (start, hours, kind, post) in zip(
        range(6, 0, -1),
        [
            (8, 10, "day", "东门卡口"),
            (8, 10, "day", "东门卡口"),
            (20, 10, "night", "村委会值守点"),
            (8, 8, "day", "东门卡口"),
            (14, 4, "on_call", "村委会值守点"),
            (8, 12, "day", "东门卡口"),
        ],
    ):
        begin = today - timedelta(days=days_ago) + timedelta(hours=start)
        shifts.append(
            save(
                page,
                "shift",
                {
                    "site": site,
                    "post": post,
                    "start": ms(begin),
                    "end": ms(begin + timedelta(hours=hours)),
                    "kind": kind,
                },
            )
        )
    now = ms(datetime.now(ZONE))
    day = 86_400_000
    for item, unit, movement, quantity, days_ago in [
        ("医用外科口罩", "个", "stocktake", 1200, 13),
        ("医用外科口罩", "个", "used", 300, 9),
        ("医用外科口罩", "个", "issued", 260, 4),
        ("N95口罩", "个", "received", 200, 12),
        ("N95口罩", "个", "used", 150, 3),
        ("一次性手套", "副", "received", 400, 10),
        ("一次性手套", "副", "used", 350, 2),
        ("消毒液", "瓶", "received", 24, 8),
    ]:
        save(
            page,
            "supply",
            {
                "site": site,
                "item": item,
                "unit": unit,
                "movement": movement,
                "quantity": quantity,
                "at": now - days_ago * day,
            },
        )
    save(
        page,
        "request",
        {"site": site, "item": "一次性手套", "unit": "副", "quantity": 500, "urgent": True, "at": now},
    )
    save(
        page,
        "checkin",
        {
            "site": site,
            "at": now - 2 * day,
            "type": "checkin",
            "fatigue": 4,
            "sleep_hours": 5,
            "mood": 2,
            "ate": True,
            "rested": False,
            "talk": True,
        },
    )
    page.evaluate("window.nuanxin.syncNow()")
    wait_synced(page)
    for entry in shifts[:4]:
        approve_shift(server, entry)
    page.click("[data-test=nav-wellbeing]")
    [checkin] = visible_ids(page, "checkin-item", 1)
    add_followup(server, checkin, "已电话联系，约好周五面谈，先安排轮休一天。", "周五上午到村委会找陈静")
    page.evaluate("window.nuanxin.syncNow()")
    page.wait_for_selector("[data-test=followup]")
    # Today: on duty since 08:00 at the east gate, and a check-in that has not gone out yet.
    page.context.set_offline(True)
    save(
        page,
        "checkin",
        {
            "site": site,
            "at": now,
            "type": "checkin",
            "fatigue": 3,
            "sleep_hours": 6.5,
            "mood": 3,
            "ate": True,
            "rested": True,
        },
    )
    save(
        page,
        "shift",
        {"site": site, "post": "东门卡口", "start": ms(today + timedelta(hours=8)), "kind": "day"},
    )
    return shifts[-1]


def shoot(page: Page, name: str, hash_: str, title: str, scroll_to: str | None = None) -> Path:
    page.evaluate("(hash) => { location.hash = hash; }", hash_)
    page.wait_for_selector(f"main h1:text-is('{title}')")
    if scroll_to:
        page.eval_on_selector(scroll_to, "(el) => el.scrollIntoView()")
    else:
        page.evaluate("window.scrollTo(0, 0)")
    path = OUT / f"{name}.png"
    page.screenshot(path=path, scale="css", animations="disabled", caret="hide")
    return path


def phone_screens(browser: Browser, tmp: Path) -> list[Path]:
    server = ServerProcess(sqlite_url(tmp), tmp / "server.log").start()
    try:
        page = browser.new_context(base_url=server.url, **PHONE).new_page()
        enrol(page, server, "zhangwei")
        last_shift = a_week_of_entries(page, server)
        saved = [
            shoot(page, "shifts", "#/shifts", "值班"),
            shoot(page, "shift-edit", f"#/shift/{last_shift}", "编辑班次"),
            shoot(page, "supplies", "#/supplies", "防护物资"),
            shoot(page, "wellbeing", "#/wellbeing", "关怀"),
            shoot(page, "wellbeing-history", "#/wellbeing", "关怀", "section:has([data-test=checkin-list])"),
            shoot(page, "me", "#/me", "我的"),
        ]
        page.click("[data-test=lang-switch]")
        saved.append(shoot(page, "shifts-en", "#/shifts", "Shifts"))
        page.context.close()
        return saved
    finally:
        server.stop()


# Dashboard pages: (name, path). The roster preview is made by uploading ROSTER.
DASHBOARD = [
    ("today", "/township/"),
    ("shifts", "/township/shifts"),
    ("report", "/township/report"),
    ("supplies", "/township/supplies"),
    ("conflicts", "/township/conflicts"),
    ("people", "/township/people"),
    ("roster", None),
    ("charts", "/township/charts"),
]
# A roster as Excel saves it: three new people and two rows with errors (matched by phone number).
ROSTER = ("\ufeff姓名,手机号,站点,岗位\n"
          "刘洋,13800138001,东风村,东门卡口\n"
          "孙丽,13800138002,城南社区,小区北门\n"
          "何静,13800138003,东风村,村委会值守点\n"
          "周明,1380013,东风村,东门卡口\n"
          "吴刚,13800138004,东山村,东门卡口\n")
SIZES = {  # (context options, the tallest a picture gets, CSS px)
    "phone": (PHONE, 1800),
    "desk": ({"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1, "locale": "zh-CN",
              "timezone_id": "Asia/Shanghai"}, 1300),
}


def living_demo(tmp: Path) -> ServerProcess:
    """A server on the living demo (what `serve --demo` fills), filled here before the start, as
    ServerProcess fills the tests' demo, so the filling does not count against the start's 30 s."""
    from server.demo import seed_living

    url = sqlite_url(tmp)
    now = int(datetime.now(UTC).timestamp() * 1000)
    run(in_session(url, lambda session: seed_living(session, "Asia/Shanghai", now), migrate=True))
    return ServerProcess(url, tmp / "server.log", demo=False).start()


def dashboard_screens(browser: Browser, tmp: Path) -> list[Path]:
    server = living_demo(tmp)
    roster = tmp / "名单.csv"
    roster.write_bytes(ROSTER.encode())
    saved = []
    try:
        for size, (options, tallest) in SIZES.items():
            page = browser.new_context(base_url=server.url, **options).new_page()
            for name, path in DASHBOARD:
                if path is None:  # the preview; it is never confirmed
                    page.goto("/township/roster")
                    page.set_input_files("#file", roster)
                    page.click("form[action='/township/roster/preview'] button[type=submit]")
                    page.wait_for_selector("[data-test=counts]")
                else:
                    page.goto(path)
                page.wait_for_selector("main h1")
                height = min(page.evaluate("document.documentElement.scrollHeight"), tallest)
                clip = {"x": 0, "y": 0, "width": options["viewport"]["width"], "height": height}
                out = OUT / f"dash-{name}-{size}.png"
                page.screenshot(path=out, full_page=True, clip=clip, scale="css", animations="disabled",
                                caret="hide")
                saved.append(out)
            page.context.close()
    finally:
        server.stop()
    return saved


def main() -> int:
    chromium = find_chromium()
    if chromium is None:
        print("no Chromium: run `python -m tests.support.chromium`", file=sys.stderr)
        return 1
    if not subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip():
        print("no Chinese font: every character would be a box (Debian: apt-get install fonts-wqy-microhei)",
              file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as phone_tmp, tempfile.TemporaryDirectory() as desk_tmp:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=LAUNCH_ARGS)
            if "--dashboard" not in sys.argv[1:]:
                saved += phone_screens(browser, Path(phone_tmp))
            saved += dashboard_screens(browser, Path(desk_tmp))
            browser.close()
    for path in saved:
        print(path.relative_to(ROOT), f"{path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
