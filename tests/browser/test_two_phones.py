"""Two phones of one person edit the same field offline: one winner, a conflict, staff resolve it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page, expect

from tests.browser.steps import DESKTOP, enrol, start_and_end_shift, sync
from tests.support.server_process import ServerProcess

SHANGHAI = ZoneInfo("Asia/Shanghai")
def item(page: Page, entry_id: str) -> Locator:
    return page.locator(f'[data-test=shift-item][data-entry-id="{entry_id}"]')


def edit_post(page: Page, entry_id: str, post: str) -> None:
    item(page, entry_id).locator("[data-test=shift-edit]").click()
    page.locator("[data-test=shift-form-post]").fill(post)
    page.locator("[data-test=shift-form-save]").click()
    expect(item(page, entry_id).locator("strong")).to_have_text(post)


def shared_shift(new_phone: Callable[..., Page], server: ServerProcess, post: str) -> tuple[Page, Page, str]:
    """Two phones of zhangwei, each enrolled with its own code, both holding one synced shift
    that the first phone recorded."""
    first, second = new_phone(), new_phone()
    for page in (first, second):
        page.goto("/")
        enrol(page, server.issue_code("zhangwei"))
    entry_id = start_and_end_shift(first, post).get_attribute("data-entry-id")
    assert entry_id
    sync(first)
    sync(second)
    for phone in (first, second):
        expect(item(phone, entry_id)).to_have_attribute("data-state", "synced")
        expect(item(phone, entry_id).locator("strong")).to_have_text(post)
    return first, second, entry_id


def fields(page: Page, entry_id: str) -> dict:
    """The entry's fields as the phone shows them."""
    return page.evaluate(
        "async (id) => (await (await import('/js/outbox.js')).list(['shift']))"
        ".find((v) => v.id === id).fields", entry_id)


def test_two_phones_edit_the_same_post_offline(new_phone: Callable[..., Page], server: ServerProcess) -> None:
    tag = uuid.uuid4().hex[:6]
    first, second, entry_id = shared_shift(new_phone, server, f"南门 {tag}")

    # Both go offline and change the post to different values.
    first_post, second_post = f"西门 {tag}", f"北门 {tag}"
    for phone in (first, second):
        phone.context.set_offline(True)
    edit_post(first, entry_id, first_post)
    edit_post(second, entry_id, second_post)
    for phone in (first, second):
        expect(item(phone, entry_id)).to_have_attribute("data-state", "local")

    # Both come online and sync (the first again, to hear of the second's edit).
    first.context.set_offline(False)
    sync(first)
    second.context.set_offline(False)
    sync(second)
    sync(first)

    # The server keeps one winner and a conflict holding both values.
    desk = new_phone(**DESKTOP)
    desk.goto("/township/conflicts")
    conflict = desk.locator(f'section.conflict[data-entry-id="{entry_id}"]')
    expect(conflict).to_have_count(1)
    expect(conflict.locator("h2")).to_contain_text("岗位")
    candidates = conflict.locator("form.candidate .value")
    expect(candidates).to_have_count(2)
    assert sorted(candidates.all_text_contents()) == sorted([first_post, second_post])
    for value in (first_post, second_post):
        expect(candidates.get_by_text(value, exact=True)).to_be_visible()
    winner = conflict.locator("strong").first.text_content()
    assert winner in (first_post, second_post)
    loser = second_post if winner == first_post else first_post
    assert winner == second_post, "the later edit (higher stamp) should win"
    desk.goto("/township/shifts")
    row = desk.locator(f'tr[data-entry-id="{entry_id}"]')
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text(winner)
    expect(row.locator(".flag.conflict")).to_have_text("待核对 (有冲突)")

    # Both phones show the winner, marked as needing review.
    for phone in (first, second):
        shift = item(phone, entry_id)
        expect(shift).to_have_attribute("data-state", "conflict")
        expect(shift.locator("strong")).to_have_text(winner)
        expect(shift.locator(".badge")).to_have_text("待核对")

    # Staff keep the other value; both phones sync and show it, unmarked.
    desk.goto("/township/conflicts")
    conflict.locator("form.candidate", has_text=loser).get_by_role("button").click()
    expect(desk).to_have_url(f"{server.url}/township/conflicts")
    expect(desk.locator(f'section.conflict[data-entry-id="{entry_id}"]')).to_have_count(0)
    for phone in (first, second):
        sync(phone)
        shift = item(phone, entry_id)
        expect(shift).to_have_attribute("data-state", "synced")
        expect(shift.locator("strong")).to_have_text(loser)
        expect(shift.locator(".badge")).to_have_text("已同步")
        expect(shift.locator(".note.conflict")).to_have_count(0)
    desk.goto("/township/shifts")
    expect(row.locator("td").nth(1)).to_have_text(loser)
    expect(row.locator(".flag.conflict")).to_have_count(0)


def test_two_phones_edit_different_fields_offline(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    """One phone corrects the start, the other later renames the post: no conflict, both edits kept."""
    tag = uuid.uuid4().hex[:6]
    first, second, entry_id = shared_shift(new_phone, server, f"南门 {tag}")
    recorded = fields(first, entry_id)
    earlier = datetime.fromtimestamp(recorded["start"] / 1000 - 3600, SHANGHAI)
    earlier = earlier.replace(second=0, microsecond=0)
    for phone in (first, second):
        phone.context.set_offline(True)

    # The second phone moves the start an hour earlier; then the first phone changes only the post.
    item(second, entry_id).locator("[data-test=shift-edit]").click()
    second.locator("[data-test=shift-form-start]").fill(earlier.strftime("%Y-%m-%dT%H:%M"))
    second.locator("[data-test=shift-form-save]").click()
    expect(item(second, entry_id)).to_have_attribute("data-state", "local")
    new_post = f"西门 {tag}"
    edit_post(first, entry_id, new_post)

    for phone in (first, second):
        phone.context.set_offline(False)
    sync(first)
    sync(second)
    sync(first)

    # Different fields: nothing to review, and each phone's edit is kept.
    desk = new_phone(**DESKTOP)
    desk.goto("/township/conflicts")
    expect(desk.locator(f'section.conflict[data-entry-id="{entry_id}"]'),
           "editing only the post must not open a conflict on another field").to_have_count(0)
    for phone in (first, second):
        expect(item(phone, entry_id)).to_have_attribute("data-state", "synced")
        expect(item(phone, entry_id).locator("strong")).to_have_text(new_post)
        shown = fields(phone, entry_id)
        assert shown["post"] == new_post
        assert shown["start"] == int(earlier.timestamp() * 1000), "the start the second phone set was lost"
        assert shown["end"] == recorded["end"], "the end changed though no one edited it"
