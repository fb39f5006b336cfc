"""The monthly subsidy sheet and the deployment settings phones read through /api/config."""

from __future__ import annotations

import random
import re
import time

from server.demo import TOWNSHIP
from server.policy import Principal
from server.services.subsidy import sheet
from sync.subsidy import month_pay
from tests.support.world import HOUR, World, shift

# 2025-11-10 08:00 in Asia/Shanghai. The phone's clock is right (now): only the shift is past.
NOV_10 = 1_762_732_800_000
NOVEMBER = "2025-11"


def _now() -> int:
    return time.time_ns() // 1_000_000


def _approve(world: World, entry: str) -> None:
    world.client.post(f"/township/shifts/{entry}/approval",
                      data={"decision": "approved", "_csrf_token": world.csrf()})


def test_the_sheet_pays_approved_hours_by_kind_at_the_deployments_rates(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("d1", "shift", shift(phone.site, start=NOV_10, end=NOV_10 + 8 * HOUR), _now())
    phone.replica.put("n1", "shift", {**shift(phone.site, start=NOV_10 + 10 * HOUR, end=NOV_10 + 16 * HOUR),
                                      "kind": "night"}, _now())
    phone.replica.put("not-approved", "shift", shift(phone.site, start=NOV_10, end=NOV_10 + 2 * HOUR), _now())
    phone.sync()
    _approve(world, "d1")
    _approve(world, "n1")

    page = world.client.get(f"/township/subsidy?month={NOVEMBER}")
    sheet = world.client.get(f"/township/subsidy.csv?month={NOVEMBER}")

    assert page.status_code == 200
    row = re.split(r"<td[^>]*>张伟</td>", page.text, maxsplit=1)[1].split("</tr>", 1)[0]
    assert re.findall(r"<td[^>]*>([^<]*)</td>", row) == ["8.0", "6.0", "0.0", "240.00"]  # 8 h x 15 + 6 h x 20
    lines = sheet.content.decode("utf-8-sig").split("\r\n")
    assert lines[2].split(",") == ["东风村", "张伟", "8.0", "6.0", "0.0", "240.00", ""]
    assert lines[3].split(",")[5] == "240.00"


def test_the_sheet_sums_in_the_database_what_the_phones_rule_pays_shift_by_shift(world: World) -> None:
    """The sheet adds milliseconds in SQL (sync/subsidy.py `pay`); `month_pay` is the phone's
    rule over the same shifts: short and long shifts of every kind, around both month edges."""
    rng = random.Random(11)
    phone = world.phone("zhangwei")
    first, after = 1_761_926_400_000, 1_764_518_400_000  # 2025-11-01 and 2025-12-01, 00:00 in Shanghai
    made: dict[str, dict] = {}
    for n in range(40):
        start = rng.choice((first, after, first + 9 * 86_400_000)) + rng.randint(-3, 3) * HOUR + rng.randint(0, 59) * 60_000
        fields = {**shift(phone.site, start=start, end=start + rng.randint(1, 12 * 60) * 60_000),
                  "kind": rng.choice(("day", "night", "on_call"))}
        if rng.random() < 0.2:
            del fields["kind"]  # paid as a day shift
        made[f"r{n}"] = fields
        phone.replica.put(f"r{n}", "shift", fields, _now())
    phone.sync()
    approved = [entry for entry in made if rng.random() < 0.7]
    for entry in approved:
        _approve(world, entry)
    staff = Principal(person_id="wangfang", name="王芳", role="staff", site_id=None, township=TOWNSHIP)

    rows = world.session(lambda session: sheet(session, staff, NOVEMBER, "Asia/Shanghai"))

    expected = month_pay([{**made[e], "approval": "approved"} for e in approved], NOVEMBER, "Asia/Shanghai",
                         {"day": 15, "night": 20, "on_call": 10})
    assert [(r.person, r.amount, r.hours) for r in rows] == [
        ("张伟", expected["amount"], {k: round(v, 2) for k, v in expected["hours"].items()})]
    assert 0 < expected["hours"]["night"] and 0 < expected["hours"]["on_call"]


def test_a_shift_in_another_month_is_not_on_this_months_sheet(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("d1", "shift", shift(phone.site, start=NOV_10, end=NOV_10 + 8 * HOUR), _now())
    phone.sync()
    _approve(world, "d1")

    page = world.client.get("/township/subsidy?month=2025-12")

    assert "张伟" not in page.text


def test_a_bad_month_is_a_400_not_a_500(world: World) -> None:
    assert world.client.get("/township/subsidy?month=2025-13").status_code == 400


def test_settings_change_the_rates_and_reach_the_phone(world: World) -> None:
    form = {"items": "mask | 医用外科口罩 | Surgical masks | 个\nsoap | 肥皂 | Soap | 块",
            "max_shift_hours": "10", "min_rest_hours": "9", "max_days_without_rest": "6",
            "day": "18", "night": "25", "on_call": "12", "days_left": "5", "silent_hours": "12", "late_hours": "24",
            "grace_hours": "2", "_csrf_token": world.csrf()}

    saved = world.client.post("/township/settings", data=form)
    phone = world.phone("zhangwei")
    config = world.client.get("/api/config", headers={"authorization": f"Bearer {phone.transport.token}"}).json()

    assert "已保存" in saved.text
    assert config["rates"] == {"day": 18, "night": 25, "on_call": 12}
    assert config["rest"] == {"max_shift_hours": 10, "min_rest_hours": 9, "max_days_without_rest": 6}
    assert [i["zh"] for i in config["items"]] == ["医用外科口罩", "肥皂"]
    assert {s["id"] for s in config["sites"]} == {"dongfeng", "chengnan"}


def test_a_malformed_item_line_is_refused_with_the_line_number(world: World) -> None:
    form = {"items": "mask | 口罩 | Masks | 个\n坏行", "max_shift_hours": "12", "min_rest_hours": "8",
            "max_days_without_rest": "7", "day": "15", "night": "20", "on_call": "10",
            "days_left": "3", "silent_hours": "24", "late_hours": "24", "grace_hours": "2", "_csrf_token": world.csrf()}

    answer = world.client.post("/township/settings", data=form)

    assert "第 2 行" in answer.text
    phone = world.phone("zhangwei")
    config = world.client.get("/api/config", headers={"authorization": f"Bearer {phone.transport.token}"}).json()
    assert len(config["items"]) == 9  # the defaults stand


def test_the_phone_config_needs_an_enrolled_phone(world: World) -> None:
    assert world.client.get("/api/config").status_code == 401
