"""The township's supplies page: stock and days left per site, requests and their status."""

from __future__ import annotations

import re
import time

from tests.support.world import World

DAY = 86_400_000


def _now() -> int:
    return time.time_ns() // 1_000_000


def _movement(site: str, movement: str, quantity: float, at: int, **more) -> dict:
    return {"site": site, "item": "N95口罩", "unit": "个", "movement": movement, "quantity": quantity, "at": at, **more}


def test_stock_and_days_left_follow_the_ledger_including_transfers_in(world: World) -> None:
    here, there = world.phone("zhangwei"), world.phone("lina")
    now = _now()
    here.replica.put("count", "supply", _movement("dongfeng", "stocktake", 100, now - 20 * DAY), now)
    here.replica.put("used", "supply", _movement("dongfeng", "used", 70, now - 3 * DAY), now)  # 5 a day
    there.replica.put("sent", "supply", _movement("chengnan", "transferred", 10, now - DAY, to_site="dongfeng"), now)
    here.sync()
    there.sync()

    page = world.client.get("/township/supplies")

    assert page.status_code == 200
    row = page.text.split('data-site="dongfeng"', 1)[1].split('data-item="N95口罩"', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r"<td[^>]*>([^<]*)</td>", row) == ["N95口罩", "40 个", "8.0 天"]  # 100 - 70 + 10; 40 / 5


def test_staff_decide_a_request_and_the_phone_sees_the_status(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("ask", "request", {"site": "dongfeng", "item": "防护服", "unit": "件", "quantity": 20,
                                         "urgent": True, "at": _now()}, _now())
    phone.sync()
    page = world.client.get("/township/supplies")
    assert "紧急" in page.text and "防护服" in page.text

    world.client.post("/township/requests/ask/status", data={"status": "delivered", "_csrf_token": world.csrf()})
    phone.sync()

    assert phone.replica.entries["ask"].fields["status"] == "delivered"


def test_a_status_that_does_not_exist_is_refused_with_the_field(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("ask", "request", {"site": "dongfeng", "item": "防护服", "unit": "件", "quantity": 20,
                                         "at": _now()}, _now())
    phone.sync()

    answer = world.client.post("/township/requests/ask/status",
                               data={"status": "lost", "_csrf_token": world.csrf()})

    assert answer.status_code == 409
    assert answer.json()["field"] == "status"


def test_a_young_ledgers_days_left_spread_its_use_over_its_age_as_the_phone_does(world: World) -> None:
    """One rule for days left on the dashboard and the phone (sync/ledger.py, tests/vectors/ledger.json):
    8 used in a ledger two days old is 4 a day, not 8 over 14 days."""
    phone = world.phone("zhangwei")
    now = _now()
    phone.replica.put("in", "supply", _movement("dongfeng", "received", 100, now - 2 * DAY), now)
    phone.replica.put("out", "supply", _movement("dongfeng", "used", 8, now - DAY), now)
    phone.sync()

    page = world.client.get("/township/supplies")

    row = page.text.split('data-site="dongfeng"', 1)[1].split('data-item="N95口罩"', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r"<td[^>]*>([^<]*)</td>", row) == ["N95口罩", "92 个", "23.0 天"]
