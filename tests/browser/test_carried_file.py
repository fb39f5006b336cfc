"""A phone that never finds signal: its export, carried by hand and uploaded on the dashboard,
arrives once; the phone's next sync learns that it did and empties its outbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page

from tests.browser.phone_support import (
    export_file,
    go_offline,
    go_online_and_sync,
    new_worker,
    now_ms,
    outbox,
    ready_phone,
    save,
    server_entries,
    site_of,
    wait_pending,
    wait_synced,
)
from tests.support.server_process import ServerProcess

HOUR = 3_600_000


def upload(page: Page, exported: Path, says: str) -> None:
    """On the dashboard (development: open, as an administrator of every township)."""
    page.goto("/township/carried")
    page.set_input_files("#carried-file", str(exported))
    page.click("form[action='/township/carried'] button[type=submit]")
    page.wait_for_selector(f"[data-test=carried-outcome]:has-text('{says}')")


def test_a_phone_s_file_carried_by_hand_arrives_once_and_the_phone_learns_it(
    new_phone: Callable[..., Page], server: ServerProcess, tmp_path: Path
) -> None:
    person = new_worker(server)
    phone = ready_phone(new_phone, server, person)
    go_offline(phone)
    start = now_ms() - 9 * HOUR
    save(phone, "shift", {"site": site_of(phone), "post": "东门卡口", "start": start, "end": start + 8 * HOUR,
                          "kind": "day"})
    save(phone, "checkin", {"site": site_of(phone), "at": now_ms(), "type": "checkin", "fatigue": 3})
    wait_pending(phone, 2)
    exported = export_file(phone, tmp_path / "nuanxin.json")

    dashboard = new_phone(viewport={"width": 1280, "height": 900}, is_mobile=False)
    upload(dashboard, exported, "写入 2 条")
    upload(dashboard, exported, "之前已到达 2 条")
    arrived = server_entries(server, person)
    assert sorted(e.kind for e in arrived.values()) == ["checkin", "shift"]
    assert all("carried" in e.flags for e in arrived.values())

    go_online_and_sync(phone)
    wait_synced(phone)

    assert outbox(phone) == []
    assert server_entries(server, person).keys() == arrived.keys()
