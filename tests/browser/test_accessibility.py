"""Every phone screen passes axe-core with no serious or critical violation, works 320 px wide,
and has tap targets of at least 44 × 44 CSS px.

axe-core comes from the PyPI package axe-playwright-python (its package data holds axe.min.js).
The app's Content-Security-Policy allows no inline script, so these phones bypass it to load axe.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import axe_playwright_python
from playwright.sync_api import Page

from tests.browser.phone_support import (
    add_followup,
    enrol,
    new_worker,
    now_ms,
    open_app,
    save,
    site_of,
    visible_ids,
    wait_item_state,
    wait_synced,
)
from tests.support.server_process import ServerProcess

AXE = Path(axe_playwright_python.__file__).parent / "axe.min.js"
HOUR = 3_600_000
TAP = 44  # CSS px: WCAG 2.5.5 target size, and Apple's and Google's guidance

RUN_AXE = """async () => {
  const { violations } = await axe.run(document, { resultTypes: ["violations"] });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}"""

SMALL_TARGETS = """(tap) => {
  const targets = document.querySelectorAll(["button", "a[href]:not(.skip)", "select", "textarea",
    "input:not([type=radio]):not([type=checkbox]):not([type=file])", ".chip span", "label.check"].join());
  return [...targets].filter((el) => el.getClientRects().length > 0).map((el) => {
    const r = el.getBoundingClientRect();
    return { el: el.outerHTML.slice(0, 80), w: Math.round(r.width), h: Math.round(r.height) };
  }).filter((t) => t.w < tap || t.h < tap);
}"""


def axe_violations(page: Page) -> list[str]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=AXE)
    return page.evaluate(RUN_AXE)


def show(page: Page, hash_: str, title: str) -> None:
    page.evaluate("(hash) => { location.hash = hash; }", hash_)
    page.wait_for_selector(f"main h1:text-is('{title}')")


def phone_with_a_bit_of_everything(
    new_phone: Callable[..., Page], server: ServerProcess, **options: object
) -> tuple[Page, dict]:
    """A phone whose screens show each kind of entry in each state, and a list of its screens."""
    page = new_phone(bypass_csp=True, **options)
    open_app(page)
    screens = {"enrol": axe_violations(page)}
    enrol(page, server, new_worker(server))
    site, now = site_of(page), now_ms()
    synced = save(
        page,
        "shift",
        {"site": site, "post": "东门卡口", "start": now - 30 * HOUR, "end": now - 20 * HOUR, "kind": "day"},
    )
    save(
        page,
        "supply",
        {
            "site": site,
            "item": "N95口罩",
            "unit": "个",
            "movement": "received",
            "quantity": 200,
            "at": now - 5 * HOUR,
        },
    )
    save(
        page,
        "supply",
        {
            "site": site,
            "item": "N95口罩",
            "unit": "个",
            "movement": "used",
            "quantity": 150,
            "at": now - 4 * HOUR,
        },
    )
    save(
        page,
        "request",
        {"site": site, "item": "防护服", "unit": "件", "quantity": 20, "urgent": True, "at": now},
    )
    save(
        page,
        "checkin",
        {
            "site": site,
            "at": now - HOUR,
            "type": "checkin",
            "fatigue": 4,
            "sleep_hours": 5,
            "mood": 2,
            "talk": True,
        },
    )
    refused = save(
        page,
        "shift",
        {"site": site, "post": "西门卡口", "start": now - 3 * HOUR, "end": now - 4 * HOUR, "kind": "night"},
    )
    page.evaluate("window.nuanxin.syncNow()")
    wait_item_state(page, "shift-item", refused, "rejected")
    page.click("[data-test=nav-wellbeing]")
    [checkin] = visible_ids(page, "checkin-item", 1)
    add_followup(server, checkin, "已电话联系，约好周五面谈", "周五上午到村委会")
    page.evaluate("window.nuanxin.syncNow()")
    page.wait_for_selector("[data-test=followup]")
    save(page, "shift", {"post": "东门卡口（早）"}, entry=synced)  # a change waiting
    page.evaluate("window.nuanxin.syncNow()")
    wait_synced(page)
    save(
        page, "shift", {"site": site, "post": "东门卡口", "start": now - HOUR, "kind": "day"}
    )  # on duty, waiting
    return page, {
        "shifts": ("#/shifts", "值班"),
        "shift edit": (f"#/shift/{refused}", "编辑班次"),
        "supplies": ("#/supplies", "防护物资"),
        "wellbeing": ("#/wellbeing", "关怀"),
        "me": ("#/me", "我的"),
    } | screens


def test_no_screen_has_serious_or_critical_violations(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page, screens = phone_with_a_bit_of_everything(new_phone, server)
    found = {"enrol": screens.pop("enrol")}
    for name, (hash_, title) in screens.items():
        show(page, hash_, title)
        found[name] = axe_violations(page)
    assert found == {name: [] for name in found}


def test_every_screen_fits_320_px_with_large_tap_targets(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page, screens = phone_with_a_bit_of_everything(new_phone, server, viewport={"width": 320, "height": 640})
    screens.pop("enrol")
    problems = {}
    for lang in ("zh-CN", "en"):
        if lang == "en":
            show(page, "#/me", "我的")
            page.click("[data-test=lang-switch]")
        for name, (hash_, title) in screens.items():
            english = {
                "shifts": "Shifts",
                "shift edit": "Edit shift",
                "supplies": "Protective supplies",
                "wellbeing": "Wellbeing",
                "me": "Me",
            }
            show(page, hash_, english[name] if lang == "en" else title)
            wide = page.evaluate("document.documentElement.scrollWidth")
            small = page.evaluate(SMALL_TARGETS, TAP)
            if wide > 320 or small:
                problems[f"{name} ({lang})"] = {"width": wide, "small targets": small}
    assert problems == {}, problems
