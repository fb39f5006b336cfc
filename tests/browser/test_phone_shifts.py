"""Shifts on the phone: made offline, kept across a reload, synced; rest status; subsidy estimate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from tests.browser.phone_support import (
    approve_shift,
    config_with,
    enrol,
    fix_shift_times,
    go_offline,
    go_online_and_sync,
    item_state,
    new_worker,
    now_ms,
    outbox,
    ready_phone,
    reload_offline,
    save,
    server_entries,
    site_of,
    visible_ids,
    wait_config,
    wait_controlled,
    wait_item_state,
    wait_pending,
    wait_synced,
    zone_with_month_begun,
)
from tests.support.server_process import ServerProcess

HOUR = 3_600_000
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_shift_made_offline_waits_across_a_reload_then_syncs(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    person = new_worker(server)
    page = ready_phone(new_phone, server, person)
    go_offline(page)
    page.fill("[data-test=shift-post]", "东门卡口")
    page.click("[data-test=shift-start] >> xpath=.. >> label:has-text('夜班')")
    page.click("[data-test=shift-start]")
    page.click("[data-test=shift-end]")
    # Both changes stored before the reload (the status line counts one record from the first).
    page.wait_for_function(
        "async () => (await (await import('/js/db.js')).outboxInOrder()).length === 2", polling=100
    )
    wait_pending(page, 1)  # one record waiting, though it is two changes
    [entry] = visible_ids(page, "shift-item", 1)
    item = f"[data-test=shift-item][data-entry-id='{entry}']"
    assert page.text_content(f"{item} .badge") == "仅保存在本机"

    reload_offline(page)
    wait_pending(page, 1)
    assert item_state(page, "shift-item", entry) == "local"
    assert page.text_content(f"{item} .badge") == "仅保存在本机"
    assert "1 条待同步" in page.text_content("#status")
    assert len(outbox(page)) == 2

    go_online_and_sync(page)
    wait_item_state(page, "shift-item", entry, "synced")
    assert page.text_content(f"{item} .badge") == "已同步"
    shift = server_entries(server, person)[entry]
    assert shift.kind == "shift"
    assert shift.fields["post"] == "东门卡口"
    assert shift.fields["kind"] == "night"
    assert shift.fields["start"] <= shift.fields["end"]


def test_an_edit_made_offline_to_a_synced_shift_syncs(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    person = new_worker(server)
    page = ready_phone(new_phone, server, person)
    start = now_ms() - 9 * HOUR
    entry = save(
        page,
        "shift",
        {"site": site_of(page), "post": "南门卡口", "start": start, "end": start + 8 * HOUR, "kind": "day"},
    )
    page.evaluate("window.nuanxin.syncNow()")
    wait_item_state(page, "shift-item", entry, "synced")

    go_offline(page)
    page.click(f"[data-test=shift-item][data-entry-id='{entry}'] [data-test=shift-edit]")
    page.fill("[data-test=shift-form-post]", "南门卡口（夜）")
    page.click("[data-test=shift-form-save]")
    wait_item_state(page, "shift-item", entry, "local")
    assert page.text_content(f"[data-test=shift-item][data-entry-id='{entry}'] .badge") == "待同步"
    reload_offline(page)
    wait_item_state(page, "shift-item", entry, "local")

    go_online_and_sync(page)
    wait_item_state(page, "shift-item", entry, "synced")
    assert server_entries(server, person)[entry].fields["post"] == "南门卡口（夜）"


REST = """async ([shifts, now]) => {
  const { restStatus } = await import("/js/rest.js");
  return restStatus(shifts, now);
}"""


def shanghai(day: int, hour: int) -> int:
    """November 2025, Asia/Shanghai (the phone's time zone), in ms."""
    return int(datetime(2025, 11, day, hour, tzinfo=SHANGHAI).timestamp() * 1000)


def test_rest_status_follows_the_rules(new_phone: Callable[..., Page], server: ServerProcess) -> None:
    page = new_phone()
    page.goto("/manifest.webmanifest")  # the app's origin, without the app starting around the module
    now = shanghai(24, 10)

    def rest(shifts: list[dict]) -> dict:
        return page.evaluate(REST, [shifts, now])

    def day(d: int, start: int = 8, hours: int = 8) -> dict:
        return {"start": shanghai(d, start), "end": shanghai(d, start) + hours * HOUR}

    # Seven days in a row up to today, the last rest 5 hours: both said; on duty 2 hours: fine.
    week = [day(d) for d in range(18, 23)] + [
        {"start": shanghai(23, 8), "end": shanghai(24, 3)},
        {"start": shanghai(24, 8), "end": None},
    ]
    r = rest(week)
    assert (r["days"], r["tooMany"], r["short"], r["rest"], r["long"], r["onDuty"]) == (
        7,
        True,
        True,
        5 * HOUR,
        False,
        2 * HOUR,
    )

    # Six days up to yesterday, today not started yet: no day off so far, but not seven.
    r = rest([day(d) for d in range(18, 24)])
    assert (r["days"], r["tooMany"], r["short"], r["long"]) == (6, False, False, False)

    # A day off on the 21st breaks the run.
    r = rest([day(d) for d in (15, 16, 17, 18, 19, 20, 22, 23)])
    assert (r["days"], r["tooMany"]) == (2, False)

    # On duty since 21:00 yesterday: 13 hours, over 12.
    r = rest([{"start": shanghai(23, 21), "end": None}])
    assert (r["long"], r["onDuty"], r["days"]) == (True, 13 * HOUR, 1)

    # Exactly 8 hours of rest is enough; a night shift counts on the day it starts.
    r = rest(
        [
            {"start": shanghai(22, 22), "end": shanghai(23, 6)},
            {"start": shanghai(23, 14), "end": shanghai(23, 22)},
        ]
    )
    assert (r["short"], r["rest"], r["days"]) == (False, 8 * HOUR, 2)

    assert rest([]) == {
        "onDuty": None,
        "rest": None,
        "days": 0,
        "long": False,
        "short": False,
        "tooMany": False,
    }


def test_the_shifts_screen_says_kindly_when_rest_is_short(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    person = new_worker(server)
    page = ready_phone(new_phone, server, person)
    assert page.is_hidden("[data-test=rest-status]")  # nothing to say before the first shift
    site = site_of(page)
    now = now_ms()
    save(page, "shift", {"site": site, "post": "东门卡口", "start": now - 80 * HOUR, "end": now - 72 * HOUR})
    page.wait_for_selector("[data-test=rest-status][data-rest=ok]")
    assert page.text_content("[data-test=rest-status]") == "作息正常"
    save(
        page,
        "shift",
        {"site": site, "post": "东门卡口", "start": now - 20 * HOUR, "end": now - 15 * HOUR, "kind": "day"},
    )
    save(page, "shift", {"site": site, "post": "东门卡口", "start": now - 13 * HOUR, "kind": "night"})
    page.wait_for_selector("[data-test=rest-status][data-rest='long short']")
    text = page.text_content("[data-test=rest-status]")
    assert "您已连续在岗 13小时0分，超过 12 小时了。方便时请交班休息。" in text
    assert "最近两个班次之间只休息了 2小时0分，不到 8 小时。请尽量多休息。" in text


def test_the_subsidy_estimate_counts_approved_hours_of_this_month(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    person = new_worker(server)
    zone = zone_with_month_begun(12)  # eleven hours of this month's work, at any hour
    page = new_phone()
    page.context.route("**/api/config", config_with(timezone=zone))
    enrol(page, server, person)
    wait_controlled(page)
    wait_config(page)
    assert page.is_hidden("[data-test=subsidy]")  # nothing to say before the first shift
    site = site_of(page)
    now = datetime.now(ZoneInfo(zone))
    start = now_ms() - 11 * HOUR
    day = save(
        page,
        "shift",
        {"site": site, "post": "东门卡口", "start": start, "end": start + 8 * HOUR, "kind": "day"},
    )
    night = save(
        page,
        "shift",
        {
            "site": site,
            "post": "东门卡口",
            "start": start + 8 * HOUR,
            "end": start + 10 * HOUR,
            "kind": "night",
        },
    )
    save(
        page,
        "shift",
        {"site": site, "post": "东门卡口", "start": start, "end": start + 3 * HOUR, "kind": "on_call"},
    )
    last_month = int((now.replace(day=1) - timedelta(days=3)).timestamp() * 1000)
    old = save(
        page,
        "shift",
        {"site": site, "post": "东门卡口", "start": last_month, "end": last_month + 5 * HOUR, "kind": "day"},
    )
    page.evaluate("window.nuanxin.syncNow()")
    wait_synced(page)
    assert page.text_content("[data-test=subsidy-amount]") == "¥0.00"
    for entry in (day, night, old):
        approve_shift(server, entry)
    page.evaluate("window.nuanxin.syncNow()")

    # 8 h day at ¥15 and 2 h night at ¥20; the on-call shift is not approved, last month's is out.
    page.wait_for_selector("[data-test=subsidy-amount]:has-text('¥160.00')")
    assert page.text_content("[data-test=subsidy]") == "¥160.00按已审核通过的 10 小时估算，以镇街发放为准"
    estimate = page.evaluate(
        """async ([now, zone]) => {
          const { monthEstimate, RATES } = await import("/js/subsidy.js");
          const shifts = (await import("/js/outbox.js")).list(["shift"]);
          return [monthEstimate((await shifts).map((v) => v.fields), now, RATES, zone), RATES];
        }""",
        [now_ms(), zone],
    )
    assert estimate == [{"hours": 10, "amount": 160}, {"day": 15, "night": 20, "on_call": 10}]


def _synced_day_shift(page: Page, now: int) -> str:
    """A day shift from nine hours before `now` to one hour before, recorded and synced: its id."""
    entry = save(page, "shift", {"site": site_of(page), "post": "东门卡口", "start": now - 9 * HOUR,
                                 "end": now - HOUR, "kind": "day"})
    page.evaluate("window.nuanxin.syncNow()")
    wait_synced(page)
    return entry


def test_an_approved_shift_whose_times_change_on_the_phone_goes_back_to_review(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    """docs/sync-protocol.md §6 M8: the phone warns before, and shows the server's verdict after."""
    person = new_worker(server)
    page = ready_phone(new_phone, server, person)
    now = now_ms()
    entry = _synced_day_shift(page, now)
    approve_shift(server, entry)
    page.evaluate("window.nuanxin.syncNow()")
    item = f"[data-test=shift-item][data-entry-id='{entry}']"
    expect(page.locator(f"{item} [data-test=shift-approval]")).to_have_text("审核通过")

    page.click(f"{item} [data-test=shift-edit]")
    expect(page.locator("[data-test=approved-warning]")).to_contain_text("需要镇街重新审核")
    end = page.input_value("[data-test=shift-form-end]")  # local time, as the phone shows it
    earlier = datetime.strptime(end, "%Y-%m-%dT%H:%M") - timedelta(hours=1)
    page.fill("[data-test=shift-form-end]", earlier.strftime("%Y-%m-%dT%H:%M"))
    page.click("[data-test=shift-form-save]")
    page.evaluate("window.nuanxin.syncNow()")

    expect(page.locator(f"{item} [data-test=shift-approval]")).to_have_text("时间有改动，待重新审核")
    held = server_entries(server, person)[entry]
    assert held.fields["approval"] == "pending" and "review_again" in held.flags


def test_a_returned_shift_shows_its_reason_and_a_staff_fix_of_its_times_shows_too(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    """Every staff decision shows on the worker's phone (issue 10, 5): a return with its reason,
    on the list and on the shift's own page; times staff put right."""
    person = new_worker(server)
    page = ready_phone(new_phone, server, person)
    now = now_ms()
    entry = _synced_day_shift(page, now)

    approve_shift(server, entry, "returned", "结束时间不对，请按签到表改正")
    page.evaluate("window.nuanxin.syncNow()")

    item = f"[data-test=shift-item][data-entry-id='{entry}']"
    expect(page.locator(f"{item} [data-test=shift-approval]")).to_have_text("退回修改：结束时间不对，请按签到表改正")
    page.click(f"{item} [data-test=shift-edit]")
    expect(page.locator("[data-test=returned-reason]")).to_have_text("退回修改：结束时间不对，请按签到表改正")
    page.go_back()

    fix_shift_times(server, entry, now - 9 * HOUR, now - 2 * HOUR)
    page.evaluate("window.nuanxin.syncNow()")

    expect(page.locator(f"{item} [data-test=staff-times]")).to_have_text("时间已由镇街更正")
    assert server_entries(server, person)[entry].fields["end"] == now - 2 * HOUR
