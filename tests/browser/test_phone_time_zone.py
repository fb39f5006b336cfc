"""Days and months are the deployment's (NUANXIN_TIMEZONE, served in /api/config), not the phone's:
a phone set to UTC counts a shift from midnight on the 1st in Shanghai in this month, as the
township's subsidy sheet does (issue 8 item 6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from sync.constants import CLOCK_TOLERANCE_MS
from tests.browser.phone_support import (
    _run,
    approve_shift,
    new_worker,
    now_ms,
    ready_phone,
    save,
    site_of,
    wait_synced,
)
from tests.support.server_process import ServerProcess

SHANGHAI = ZoneInfo("Asia/Shanghai")
MINUTE = 60_000


def _sheet_amount(server: ServerProcess, name: str, month: str) -> str:
    """The township's subsidy sheet for `month`, as staff see it: `name`'s amount."""
    from server.demo import TOWNSHIP
    from server.policy import Principal
    from server.services.subsidy import sheet

    staff = Principal(person_id="wangfang", name="王芳", role="staff", site_id=None, township=TOWNSHIP)

    async def read(session: Any) -> str:
        rows = await sheet(session, staff, month, "Asia/Shanghai")
        return next((f"{r.amount:.2f}" for r in rows if r.person == name), "0.00")

    return _run(read, server.database_url)


def test_a_phone_set_to_utc_counts_a_shift_from_midnight_on_the_1st_in_the_deployments_month(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    # One minute from midnight on the 1st (16:00 UTC the day before): it has begun whenever the
    # test runs, and its end is never later than now plus the clock tolerance (K5), so the test
    # runs on every day of the month.
    first = datetime.now(SHANGHAI).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = int(first.timestamp() * 1000)
    assert start + MINUTE <= now_ms() + CLOCK_TOLERANCE_MS
    page = ready_phone(new_phone, server, new_worker(server, name="时区"), timezone_id="UTC")
    assert page.evaluate("new Date().getTimezoneOffset()") == 0  # the phone's clock says UTC
    entry = save(page, "shift", {"site": site_of(page), "post": "东门卡口", "start": start, "end": start + MINUTE,
                                 "kind": "day"})
    page.evaluate("window.nuanxin.syncNow()")
    wait_synced(page)
    approve_shift(server, entry)
    page.evaluate("window.nuanxin.syncNow()")

    # A minute of day duty at ¥15 an hour, this month in Shanghai (in UTC it began on the last
    # day of the month before).
    expect(page.locator("[data-test=subsidy-amount]")).to_have_text("¥0.25")
    assert _sheet_amount(server, "时区", first.strftime("%Y-%m")) == "0.25"
