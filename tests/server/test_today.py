"""Today, on the first page (issue 10, item 3), and the charts (item 7): what each role sees of
it, entries that arrived late since the last look, silent phones, and SVG that parses."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Device
from server.services.charts import Series, bar_chart, line_chart
from tests.support.world import HOUR, World, arrived, shift

SVG = "{http://www.w3.org/2000/svg}"
ACCOUNTS = {"lead": "lead1", "staff": "wangfang", "care": "chenjing", "admin": "admin1"}


def _now() -> int:
    return int(time.time() * 1000)


def _site(page: str, site: str) -> str:
    return page.split(f'data-site="{site}"', 1)[1].split("</section>", 1)[0]


def _figure(section: str, name: str) -> int:
    return int(re.search(rf'data-test="{name}"[^>]*>(?:<a [^>]*>)?<strong>(\d+)</strong>', section)[1])


@pytest.fixture
def township(world: World) -> World:
    """张伟 on duty for 13 hours (a rest alert), an exposure report, masks running out, an
    urgent request, a phone silent for two days, and an entry made 30 hours before it arrived."""
    now = _now()
    phone = world.phone("zhangwei")
    phone.replica.put("on", "shift", shift(phone.site, start=now - 13 * HOUR), now - 13 * HOUR)
    phone.replica.put("m1", "supply", {"site": phone.site, "item": "口罩", "unit": "个", "movement": "received",
                                       "quantity": 10, "at": now - 48 * HOUR}, now - 48 * HOUR)
    phone.replica.put("m2", "supply", {"site": phone.site, "item": "口罩", "unit": "个", "movement": "used",
                                       "quantity": 8, "at": now - HOUR}, now - HOUR)
    phone.replica.put("r1", "request", {"site": phone.site, "item": "口罩", "unit": "个", "quantity": 50,
                                        "at": now - HOUR, "urgent": True}, now - HOUR)
    phone.replica.put("x1", "checkin", {"site": phone.site, "at": now - HOUR, "type": "injury",
                                        "injury_kind": "exposure", "note": "被划伤"}, now - HOUR)
    phone.replica.put("f1", "checkin", {"site": phone.site, "at": now - HOUR, "fatigue": 4}, now - HOUR)
    phone.sync(now)
    silent = world.phone("lina")

    async def more(session: AsyncSession) -> None:
        device = await session.get(Device, silent.replica.device)
        device.last_sync_at = datetime.now(UTC) - timedelta(hours=48)
        session.add_all(arrived("shift", "old", "lina", shift("chengnan", now - 40 * HOUR, now - 32 * HOUR),
                                now - 40 * HOUR, now - 60_000))

    world.session(more)
    for role, name in ACCOUNTS.items():
        world.account(name, role)
    return world


def test_the_first_page_is_today_and_shifts_have_their_own(township: World) -> None:
    page = township.client.get("/township/")

    assert page.status_code == 200
    assert "今日概况" in page.text
    assert "值班记录" in township.client.get("/township/shifts").text


def test_staff_see_every_part_for_each_site(township: World) -> None:
    township.sign_in("wangfang")
    dongfeng = _site(township.client.get("/township/").text, "dongfeng")

    assert _figure(dongfeng, "on-duty") == 1 and "张伟" in dongfeng
    assert _figure(dongfeng, "rest") == 1 and "已连续在岗 13.0 小时" in dongfeng
    assert _figure(dongfeng, "running-out") == 1  # 2 left at 8 used over 2 days: 0.5 days
    assert _figure(dongfeng, "requests") == 1 and "紧急 1" in dongfeng
    assert _figure(dongfeng, "urgent") == 1
    assert "被划伤" not in dongfeng and 'data-test="urgent-detail"' not in dongfeng  # a count, no names
    assert _figure(dongfeng, "conflicts") == 0
    chengnan = _site(township.client.get("/township/").text, "chengnan")
    assert _figure(chengnan, "silent") == 1 and "李娜" in chengnan


def test_care_staff_see_who_reported_an_injury_but_no_stock(township: World) -> None:
    township.sign_in("chenjing")
    dongfeng = _site(township.client.get("/township/").text, "dongfeng")

    assert 'data-test="urgent-detail"' in dongfeng and "张伟 · 职业暴露" in dongfeng
    assert 'data-test="running-out"' not in dongfeng and 'data-test="silent"' not in dongfeng


def test_a_site_lead_sees_their_own_site_and_no_conflicts_or_phones(township: World) -> None:
    township.sign_in("lead1")
    page = township.client.get("/township/").text

    assert 'data-site="dongfeng"' in page and 'data-site="chengnan"' not in page
    assert 'data-test="conflicts"' not in page and 'data-test="silent"' not in page
    assert 'data-test="running-out"' in page


def test_entries_that_arrived_late_are_counted_once_since_the_last_look(township: World) -> None:
    township.sign_in("wangfang")

    first = _site(township.client.get("/township/").text, "chengnan")
    again = _site(township.client.get("/township/").text, "chengnan")

    assert _figure(first, "late") == 1 and "值班 1" in first  # made 40 h ago, arrived a minute ago
    assert _figure(again, "late") == 0  # seen: the last look moved on
    assert _figure(first, "recent") == 0  # it ended 32 h ago, outside the last 24 h


def test_the_thresholds_are_township_settings(township: World) -> None:
    township.sign_in("admin1")
    form = {"items": "mask | 口罩 | Masks | 个", "max_shift_hours": "14", "min_rest_hours": "8",
            "max_days_without_rest": "7", "day": "15", "night": "20", "on_call": "10", "days_left": "0.25",
            "silent_hours": "72", "late_hours": "24", "grace_hours": "2", "_csrf_token": township.csrf()}
    assert "已保存" in township.client.post("/township/settings", data=form).text

    page = township.client.get("/township/").text

    assert _figure(_site(page, "dongfeng"), "running-out") == 0  # 0.5 days is not under 0.25
    assert _figure(_site(page, "dongfeng"), "rest") == 0  # 13 h is within 14
    assert _figure(_site(page, "chengnan"), "silent") == 0  # 48 h is within 72


def test_a_setting_out_of_bounds_is_refused(township: World) -> None:
    township.sign_in("admin1")
    form = {"items": "mask | 口罩 | Masks | 个", "max_shift_hours": "12", "min_rest_hours": "8",
            "max_days_without_rest": "7", "day": "15", "night": "20", "on_call": "10", "days_left": "0",
            "silent_hours": "24", "late_hours": "24", "grace_hours": "2", "_csrf_token": township.csrf()}

    answer = township.client.post("/township/settings", data=form)

    assert 'role="alert"' in answer.text and "days_left" in answer.text


def _svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(found) for found in re.findall(r"<svg .*?</svg>", page, re.DOTALL)]


def test_the_charts_are_svg_with_titles(township: World) -> None:
    township.sign_in("wangfang")
    page = township.client.get("/township/charts")

    assert page.status_code == 200
    charts = _svgs(page.text)
    assert len(charts) == 2  # shifts per day, and 东风村's stock (城南社区 has none)
    for chart in charts:
        assert chart.tag == f"{SVG}svg" and chart.get("role") == "img"
        assert chart.find(f"{SVG}title").text
        assert "style" not in ET.tostring(chart, encoding="unicode")  # the CSP forbids style attributes
    shifts = charts[0]
    bars = [r for r in shifts.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    # 张伟's shift of today and 李娜's of 40 hours ago, one bar each.
    assert sorted(b.find(f"{SVG}title").text.split(" ")[0] for b in bars) == ["东风村", "城南社区"]
    assert all(b.find(f"{SVG}title").text.endswith(": 1 班") for b in bars)
    assert "口罩" in charts[1].find(f"{SVG}desc").text


@pytest.mark.parametrize("role", ["lead", "staff", "admin"])
def test_the_fatigue_chart_is_for_care_staff_only(township: World, role: str) -> None:
    township.sign_in(ACCOUNTS[role])

    assert township.client.get("/township/charts/fatigue").status_code == 403
    assert "/township/charts/fatigue" not in township.client.get("/township/charts").text


def test_care_staff_see_fatigue_over_time(township: World) -> None:
    township.sign_in("chenjing")
    page = township.client.get("/township/charts/fatigue")

    assert page.status_code == 200
    [chart] = _svgs(page.text)
    points = [c.find(f"{SVG}title").text for c in chart.iter(f"{SVG}circle")]
    assert len(points) == 1 and points[0].startswith("东风村") and points[0].endswith(": 4")


def test_chart_text_is_escaped_and_the_svg_well_formed() -> None:
    nasty = '<script>alert("x")</script> & "引号"'
    chart = bar_chart(nasty, ["11-24", "11-25"], [Series(nasty, [3, None])], "班")
    line = line_chart(nasty, ["11-24", "11-25"], [Series(nasty, [None, 2.5])], 5)

    for svg in (chart, line):
        root = ET.fromstring(str(svg))
        assert root.find(f"{SVG}title").text == nasty
        assert "<script" not in str(svg)


def test_a_township_of_many_sites_gets_a_legend_that_wraps_inside_the_picture() -> None:
    series = [Series(f"第{n}社区居民委员会", [n, 1]) for n in range(12)]

    root = ET.fromstring(str(bar_chart("每日班次", ["11-24", "11-25"], series, "班")))

    height = float(root.get("viewBox").split()[3])
    keys = [t for t in root.iter(f"{SVG}text") if t.get("class") == "legend"]
    assert len(keys) == 12
    assert all(float(t.get("x")) < 640 and float(t.get("y")) < height for t in keys)
    assert len({t.get("y") for t in keys}) > 1
