"""Putting things right on the phone: refused changes fixed or dropped, English, export and import."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from tests.browser.phone_support import (
    export_file,
    go_offline,
    go_online_and_sync,
    local_entries,
    new_worker,
    now_ms,
    open_app,
    outbox,
    ready_phone,
    save,
    server_entries,
    site_of,
    visible_ids,
    wait_item_state,
    wait_pending,
    wait_synced,
)
from tests.support.server_process import ServerProcess

HOUR = 3_600_000
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def refused_shift(page: Page, post: str) -> str:
    """A shift whose end is before its start, sent and refused by the server."""
    start = now_ms() - 2 * HOUR
    entry = save(
        page,
        "shift",
        {"site": site_of(page), "post": post, "start": start, "end": start - HOUR, "kind": "day"},
    )
    page.evaluate("window.nuanxin.syncNow()")
    wait_item_state(page, "shift-item", entry, "rejected")
    return entry


def test_a_refused_change_shows_why_and_is_fixed_then_syncs(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    person = new_worker(server)
    page = ready_phone(new_phone, server, person)
    entry = refused_shift(page, "西门卡口")
    wait_pending(page, 0, rejected=1)
    item = f"[data-test=shift-item][data-entry-id='{entry}']"
    assert page.text_content(f"{item} .badge") == "未通过"
    assert page.text_content(f"{item} .rejected-box li") == "结束时间：结束时间早于开始时间"
    assert "1 条未通过" in page.text_content("#status")

    page.click(f"{item} [data-test=fix]")
    start = page.input_value("[data-test=shift-form-start]")
    end = (datetime.fromisoformat(start) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    page.fill("[data-test=shift-form-end]", end)
    page.click("[data-test=shift-form-save]")
    page.wait_for_url("**/#/shifts")
    page.evaluate("window.nuanxin.syncNow()")
    wait_item_state(page, "shift-item", entry, "synced")
    wait_pending(page, 0, rejected=0)
    fields = server_entries(server, person)[entry].fields
    fixed_end = int(datetime.fromisoformat(end).replace(tzinfo=ZoneInfo("Asia/Shanghai")).timestamp() * 1000)
    assert (fields["post"], fields["end"]) == ("西门卡口", fixed_end)
    assert fields["start"] < fields["end"]


def test_a_refused_change_can_be_discarded(new_phone: Callable[..., Page], server: ServerProcess) -> None:
    person = new_worker(server)
    page = ready_phone(new_phone, server, person)
    entry = refused_shift(page, "北门卡口")
    page.click(f"[data-test=shift-item][data-entry-id='{entry}'] [data-test=discard]")
    page.click(f"[data-test=shift-item][data-entry-id='{entry}'] [data-test=confirm-yes]")
    page.wait_for_selector(f"[data-test=shift-item][data-entry-id='{entry}']", state="detached")
    wait_pending(page, 0, rejected=0)
    assert outbox(page) == []
    assert entry not in server_entries(server, person)


def test_english_changes_the_texts_and_is_remembered(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page = ready_phone(new_phone, server, new_worker(server, name="Zhang Wei", site="Dongfeng"))
    expect(page.locator("[data-test=nav-shifts]")).to_have_text("值班")
    page.click("[data-test=nav-me]")
    page.click("[data-test=lang-switch]")
    # The language is set before the screen is redrawn: wait for the redrawn text itself.
    expect(page.locator("[data-test=nav-shifts]")).to_have_text("Shifts")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    open_app(page, "/#/shifts")  # a reload
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text("Shifts")
    # The first sync after the reload shows "Syncing…" for a moment: wait for where it ends.
    expect(page.locator("#status")).to_have_text("All synced")
    screens = {
        "shifts": "Shifts",
        "shift/new": "Add a past shift",
        "supplies": "Protective supplies",
        "wellbeing": "Wellbeing",
        "me": "Me",
    }
    for screen, title in screens.items():
        page.evaluate("(hash) => { location.hash = hash; }", f"#/{screen}")
        page.wait_for_selector(f"main h1:text-is('{title}')")
        # Left out: the switch back (中文, marked lang="zh-CN") and the township's site names (data).
        text = page.evaluate(
            """() => [...document.body.querySelectorAll('*:not(script)')]
                 .filter((el) => !el.closest('[lang="zh-CN"], [data-test=supply-to-site]'))
                 .flatMap((el) => [...el.childNodes].filter((n) => n.nodeType === 3))
                 .map((n) => n.textContent)
                 .join(' ')"""
        )
        assert not CJK.findall(text), f"Chinese left on the English {screen} screen: {text}"
    expect(page.locator("[data-test=lang-switch]")).to_have_text("中文")


def test_export_then_import_on_a_new_phone_makes_no_duplicates(
    new_phone: Callable[..., Page], server: ServerProcess, tmp_path: Path
) -> None:
    person = new_worker(server)
    old = ready_phone(new_phone, server, person)
    start = now_ms() - 9 * HOUR
    save(
        old,
        "shift",
        {"site": site_of(old), "post": "东门卡口", "start": start, "end": start + 8 * HOUR, "kind": "day"},
    )
    old.evaluate("window.nuanxin.syncNow()")
    wait_synced(old)
    go_offline(old)
    save(old, "checkin", {"site": site_of(old), "at": now_ms(), "type": "checkin", "fatigue": 3})
    save(
        old,
        "request",
        {
            "site": site_of(old),
            "at": now_ms(),
            "item": "N95口罩",
            "unit": "个",
            "quantity": 50,
            "urgent": False,
        },
    )
    wait_pending(old, 2)
    exported = export_file(old, tmp_path / "export.json")

    new = ready_phone(new_phone, server, person)
    new.click("[data-test=nav-me]")
    go_offline(new)  # hold what is imported in the outbox, to count it
    new.set_input_files("[data-test=import]", str(exported))
    new.wait_for_selector("main [role=status]:has-text('已导入 2 条，跳过重复 1 条')")
    ids = lambda page: (sorted(e["id"] for e in local_entries(page)), [c["id"] for c in outbox(page)])
    assert ids(new) == ids(old)
    assert len(ids(new)[0]) == 1 and len(ids(new)[1]) == 2

    new.set_input_files("[data-test=import]", str(exported))
    new.wait_for_selector("main [role=status]:has-text('已导入 0 条，跳过重复 3 条')")
    assert ids(new) == ids(old)

    go_online_and_sync(new)
    go_online_and_sync(old)  # the same changes again: the server has them already
    on_server = server_entries(server, person)
    assert sorted(e.kind for e in on_server.values()) == ["checkin", "request", "shift"]
    assert sorted(e["id"] for e in local_entries(new)) == sorted(on_server)


def test_someone_elses_export_is_not_imported(
    new_phone: Callable[..., Page], server: ServerProcess, tmp_path: Path
) -> None:
    theirs = ready_phone(new_phone, server, new_worker(server, name="李娜"))
    save(theirs, "checkin", {"site": site_of(theirs), "at": now_ms(), "type": "checkin", "fatigue": 5})
    exported = export_file(theirs, tmp_path / "theirs.json")

    mine = ready_phone(new_phone, server, new_worker(server))
    mine.click("[data-test=nav-me]")
    mine.set_input_files("[data-test=import]", str(exported))
    mine.wait_for_selector("main [role=status]:has-text('这个文件是李娜的数据，不能导入本机')")
    assert outbox(mine) == [] and local_entries(mine) == []
    assert visible_ids(mine, "checkin-item") == []
