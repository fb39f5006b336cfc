"""Approved means approved (docs/sync-protocol.md §6 M8): a phone's edit to an approved shift's
times sends it back to review, and the subsidy sheet stops paying the hours until staff approve
again. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from server.models import ChangeLog
from sync.clock import parse
from tests.support.world import HOUR, World, shift

NOV_10 = 1_762_732_800_000  # 2025-11-10 08:00 in Asia/Shanghai
NOVEMBER = "2025-11"


def _now() -> int:
    return time.time_ns() // 1_000_000


def _approve(world: World, entry: str) -> None:
    answer = world.client.post(f"/township/shifts/{entry}/approval",
                               data={"decision": "approved", "_csrf_token": world.csrf()}, follow_redirects=False)
    assert answer.status_code == 303


def _paid_hours(world: World) -> list[str]:
    page = world.client.get(f"/township/subsidy?month={NOVEMBER}").text
    if not re.search(r"<td[^>]*>张伟</td>", page):
        return []
    row = re.split(r"<td[^>]*>张伟</td>", page, maxsplit=1)[1].split("</tr>", 1)[0]
    return re.findall(r"<td[^>]*>([^<]*)</td>", row)


def test_a_phone_edit_to_an_approved_shifts_end_sends_it_back_to_review(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("d1", "shift", shift(phone.site, start=NOV_10, end=NOV_10 + 8 * HOUR), _now())
    phone.sync()
    _approve(world, "d1")
    phone.sync()
    approved_stamp = phone.replica.entries["d1"].stamps["approval"]
    assert _paid_hours(world)[0] == "8.0"

    edit = phone.replica.put("d1", "shift", {"end": NOV_10 + 12 * HOUR}, _now())
    phone.sync()

    entry = phone.replica.entries["d1"]
    assert entry.fields["end"] == NOV_10 + 12 * HOUR
    assert entry.fields["approval"] == "pending", "an approved shift's hours changed without review"
    assert "review_again" in entry.flags
    # The server set it back, with its own stamp after the edit: a server change phones pull.
    assert entry.stamps["approval"] > max(approved_stamp, edit.stamp)
    assert parse(entry.stamps["approval"]).node.startswith("srv")
    [logged] = world.scalars(select(ChangeLog.body).where(ChangeLog.body.contains(f'"after":"{edit.id}"')))
    assert '"approval":"pending"' in logged
    assert _paid_hours(world) == [], "the sheet pays the edited hours before anyone approved them"
    row = world.client.get("/township/shifts").text.split('data-entry-id="d1"', 1)[1].split("</tr>", 1)[0]
    assert "需重新审核" in row and "待审核" in row

    _approve(world, "d1")
    phone.sync()

    assert phone.replica.entries["d1"].fields["approval"] == "approved"
    assert "review_again" not in phone.replica.entries["d1"].flags
    assert _paid_hours(world)[0] == "12.0"


def test_an_edit_of_an_approved_shifts_note_keeps_it_approved(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("d1", "shift", shift(phone.site, start=NOV_10, end=NOV_10 + 8 * HOUR), _now())
    phone.sync()
    _approve(world, "d1")
    phone.sync()

    phone.replica.put("d1", "shift", {"note": "带水"}, _now())
    phone.replica.put("d1", "shift", {"end": NOV_10 + 8 * HOUR}, _now())  # the same end again
    phone.sync()

    entry = phone.replica.entries["d1"]
    assert entry.fields["approval"] == "approved"
    assert "review_again" not in entry.flags
    assert _paid_hours(world)[0] == "8.0"


def test_a_phone_edit_to_an_approved_shifts_kind_sends_it_back_to_review(world: World) -> None:
    """The kind sets the rate (night pays more than day): changing it changes the pay."""
    phone = world.phone("zhangwei")
    phone.replica.put("d1", "shift", shift(phone.site, start=NOV_10, end=NOV_10 + 8 * HOUR), _now())
    phone.sync()
    _approve(world, "d1")
    phone.sync()

    phone.replica.put("d1", "shift", {"kind": "night"}, _now())
    phone.sync()

    entry = phone.replica.entries["d1"]
    assert entry.fields["approval"] == "pending" and "review_again" in entry.flags
    assert _paid_hours(world) == []
