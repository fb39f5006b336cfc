"""Settings belong to a township (issue 9 item 6): a township's administrator changes its items,
rest rules and rates for its own phones and subsidy sheet only; the deployment's defaults are
changed by a deployment-wide administrator only."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Person, Site
from server.services.accounts import create_account
from tests.support.world import HOUR, World, shift

NOV_10 = 1_762_732_800_000  # 2025-11-10 08:00 in Asia/Shanghai
PASSWORD = "correct horse battery"


def _now() -> int:
    return time.time_ns() // 1_000_000


def _other_township(world: World) -> None:
    """河西镇 with one site, a worker and an administrator; 城关镇 (demo) gets its administrator,
    and the deployment a deployment-wide one."""

    async def work(session: AsyncSession) -> None:
        session.add(Site(id="hexi", name="河西村", township="河西镇"))
        await session.flush()
        session.add_all([
            Person(id="zhaolei", name="赵磊", role="worker", site_id="hexi", township="河西镇"),
            Person(id="admin_hx", name="admin_hx", role="admin", site_id=None, township="河西镇"),
            Person(id="admin_cg", name="admin_cg", role="admin", site_id=None, township="城关镇"),
            Person(id="admin_all", name="admin_all", role="admin", site_id=None, township="*"),
        ])
        await session.flush()
        for person in ("admin_hx", "admin_cg", "admin_all"):
            await create_account(session, person, person, PASSWORD, datetime.now(UTC))

    world.session(work)


def _save(world: World, day: str, items: str = "mask | 医用外科口罩 | Surgical masks | 个") -> str:
    return world.client.post("/township/settings", data={
        "items": items, "max_shift_hours": "12", "min_rest_hours": "8", "max_days_without_rest": "7",
        "day": day, "night": "20", "on_call": "10",
        "days_left": "3", "silent_hours": "24", "late_hours": "24", "grace_hours": "2", "_csrf_token": world.csrf()}).text


def _day_rate_shown(page: str) -> float:
    return float(re.search(r'id="day"[^>]*value="([^"]*)"', page)[1])


def _config(world: World, phone) -> dict:
    return world.client.get("/api/config", headers={"authorization": f"Bearer {phone.transport.token}"}).json()


def _sheet_amount(world: World, person: str) -> str:
    page = world.client.get("/township/subsidy?month=2025-11")
    row = re.split(f"<td[^>]*>{person}</td>", page.text, maxsplit=1)[1].split("</tr>", 1)[0]
    return re.findall(r"<td[^>]*>([^<]*)</td>", row)[-1]


def _approved_day_shift(world: World, person: str, entry: str) -> None:
    phone = world.phone(person)
    phone.replica.put(entry, "shift", shift(phone.site, start=NOV_10, end=NOV_10 + 8 * HOUR), _now())
    phone.sync()
    world.client.post(f"/township/shifts/{entry}/approval", data={"decision": "approved", "_csrf_token": world.csrf()})


def test_one_townships_settings_do_not_reach_another_townships_phones_or_sheet(world: World) -> None:
    _other_township(world)
    chengguan, hexi = world.phone("zhangwei"), world.phone("zhaolei")
    world.sign_in("admin_cg")
    _approved_day_shift(world, "zhangwei", "cg-shift")
    world.sign_in("admin_hx")
    _approved_day_shift(world, "zhaolei", "hx-shift")

    world.sign_in("admin_cg")
    assert "已保存" in _save(world, day="30", items="soap | 肥皂 | Soap | 块")

    assert _config(world, chengguan)["rates"]["day"] == 30
    assert [i["zh"] for i in _config(world, chengguan)["items"]] == ["肥皂"]
    assert _config(world, hexi)["rates"]["day"] == 15  # the deployment's default
    assert "肥皂" not in [i["zh"] for i in _config(world, hexi)["items"]]
    assert _sheet_amount(world, "张伟") == "240.00"  # 8 h x 30
    world.sign_in("admin_hx")
    assert _sheet_amount(world, "赵磊") == "120.00"  # 8 h x 15
    assert _day_rate_shown(world.client.get("/township/settings").text) == 15  # 河西镇's own page
    world.sign_in("admin_all")  # sees every township, each paid at its own rates
    assert (_sheet_amount(world, "张伟"), _sheet_amount(world, "赵磊")) == ("240.00", "120.00")


def test_only_a_deployment_wide_administrator_changes_the_defaults_a_township_follows(world: World) -> None:
    _other_township(world)
    chengguan, hexi = world.phone("zhangwei"), world.phone("zhaolei")
    world.sign_in("admin_cg")
    _save(world, day="30")  # 城关镇's own rate; its items equal the defaults' first line only

    world.sign_in("admin_all")
    page = world.client.get("/township/settings").text
    assert "部署默认设置" in page and _day_rate_shown(page) == 15  # the defaults, not 城关镇's
    _save(world, day="16", items="mask | 医用外科口罩 | Surgical masks | 个\nsoap | 肥皂 | Soap | 块")

    assert _config(world, hexi)["rates"]["day"] == 16  # 河西镇 follows the defaults
    assert _config(world, chengguan)["rates"]["day"] == 30  # 城关镇 keeps its own rate
    assert [i["zh"] for i in _config(world, hexi)["items"]] == ["医用外科口罩", "肥皂"]


def test_a_township_administrator_who_sets_the_defaults_values_keeps_following_them(world: World) -> None:
    _other_township(world)
    phone = world.phone("zhangwei")
    world.sign_in("admin_cg")
    _save(world, day="15", items="mask | 医用外科口罩 | Surgical masks | 个\nn95 | N95口罩 | N95 masks | 个")
    world.sign_in("admin_all")
    _save(world, day="17", items="mask | 医用外科口罩 | Surgical masks | 个")

    config = _config(world, phone)
    assert config["rates"]["day"] == 17  # its rates equalled the defaults: they follow them
    assert [i["zh"] for i in config["items"]] == ["医用外科口罩", "N95口罩"]  # its own items stay


def test_an_administrator_of_no_township_changes_no_settings(world: World) -> None:
    async def work(session: AsyncSession) -> None:
        session.add(Person(id="nobody", name="nobody", role="admin", site_id=None, township=""))
        await session.flush()
        await create_account(session, "nobody", "nobody", PASSWORD, datetime.now(UTC))

    world.session(work)
    world.sign_in("nobody")

    assert world.client.get("/township/settings").status_code == 403
    assert world.client.post("/township/settings", data={
        "items": "soap | 肥皂 | Soap | 块", "max_shift_hours": "12", "min_rest_hours": "8", "max_days_without_rest": "7",
        "day": "99", "night": "20", "on_call": "10",
        "days_left": "3", "silent_hours": "24", "late_hours": "24", "grace_hours": "2", "_csrf_token": world.csrf()}).status_code == 403
