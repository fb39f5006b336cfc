"""Wellbeing on the phone: check-ins and injury reports made offline, urgent first, follow-ups."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from tests.browser.phone_support import (
    add_followup,
    capture_sync_bodies,
    go_offline,
    go_online_and_sync,
    item_state,
    new_worker,
    ready_phone,
    reload_offline,
    server_entries,
    visible_ids,
    wait_item_state,
    wait_pending,
)
from tests.support.server_process import ServerProcess

CHECKIN_FORM = "form:has([data-test=checkin-submit])"


def check_in(page: Page, fatigue: str = "4", mood: str = "2", sleep: str = "5.5") -> None:
    page.click(f"[data-test=checkin-fatigue] label:has-text('{fatigue}')")
    page.fill("[data-test=checkin-sleep]", sleep)
    page.click(f"[data-test=checkin-mood] label:has-text('{mood}')")
    page.click(f"{CHECKIN_FORM} fieldset:has-text('按时就餐') label:has-text('否')")
    page.click(f"{CHECKIN_FORM} fieldset:has-text('有休息场所') label:has-text('是')")
    page.check("[data-test=checkin-talk]")
    page.click("[data-test=checkin-submit]")


def report_injury(page: Page, note: str) -> None:
    page.click("form:has([data-test=injury-submit]) label:has-text('暴露')")
    page.fill("[data-test=injury-note]", note)
    page.click("[data-test=injury-submit]")


def test_a_check_in_and_an_injury_report_made_offline_wait_then_sync(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    person = new_worker(server)
    page = ready_phone(new_phone, server, person)
    page.click("[data-test=nav-wellbeing]")
    go_offline(page)
    check_in(page)
    wait_pending(page, 1)
    report_injury(page, "核酸采样时手套破损")
    wait_pending(page, 2)
    ids = visible_ids(page, "checkin-item", 2)
    assert len(ids) == 2

    reload_offline(page)
    wait_pending(page, 2)
    assert [item_state(page, "checkin-item", i) for i in ids] == ["local", "local"]

    go_online_and_sync(page)
    for i in ids:
        wait_item_state(page, "checkin-item", i, "synced")
    on_server = server_entries(server, person)
    kept = {on_server[i].fields["type"]: on_server[i].fields for i in ids}
    assert {k: kept["checkin"][k] for k in ("fatigue", "mood", "sleep_hours", "ate", "rested", "talk")} == {
        "fatigue": 4,
        "mood": 2,
        "sleep_hours": 5.5,
        "ate": False,
        "rested": True,
        "talk": True,
    }
    assert {k: kept["injury"][k] for k in ("injury_kind", "note")} == {
        "injury_kind": "exposure",
        "note": "核酸采样时手套破损",
    }


def test_an_injury_report_is_sent_before_the_changes_made_before_it(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page = ready_phone(new_phone, server, new_worker(server))
    go_offline(page)
    page.fill("[data-test=shift-post]", "东门卡口")
    page.click("[data-test=shift-start]")
    page.click("[data-test=nav-wellbeing]")
    check_in(page)
    report_injury(page, "被划伤")
    wait_pending(page, 3)

    bodies = capture_sync_bodies(page)
    go_online_and_sync(page)
    sent = [(c["kind"], c.get("fields", {}).get("type")) for body in bodies for c in body["changes"]]
    assert sent == [("checkin", "injury"), ("shift", None), ("checkin", "checkin")]


def test_a_care_follow_up_shows_under_the_check_in(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page = ready_phone(new_phone, server, new_worker(server))
    page.click("[data-test=nav-wellbeing]")
    check_in(page)
    page.evaluate("window.nuanxin.syncNow()")
    [checkin] = visible_ids(page, "checkin-item", 1)
    wait_item_state(page, "checkin-item", checkin, "synced")

    add_followup(server, checkin, "已电话联系，约好周五面谈", "周五上午到村委会")
    page.evaluate("window.nuanxin.syncNow()")
    followup = page.locator(f"[data-test=checkin-item][data-entry-id='{checkin}'] [data-test=followup]")
    followup.wait_for()
    text = followup.text_content()
    assert "回访" in text and "已电话联系，约好周五面谈" in text and "下一步：周五上午到村委会" in text
