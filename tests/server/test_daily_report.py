"""The daily report for the level above (issue 10, item 4): its figures computed by hand from a
small world, the marks on figures that arrived late, the CSV, the printable page, and who may.

The day is 2025-11-24 in Shanghai: [START - 24 h, START). Its deadline is START + 2 h (the
default grace), so anything first arriving after that is late for the day.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Conflict, Person
from tests.support.world import HOUR, START, World, arrived

D0 = START - 24 * HOUR  # 2025-11-24 00:00 in Shanghai
DAY = "2025-11-24"
ON_TIME, LATE = START + HOUR, START + 5 * HOUR  # before and after the deadline (START + 2 h)


def _shift(site: str, start: int, end: int | None) -> dict:
    fields = {"site": site, "post": "东门卡口", "start": start, "kind": "day"}
    return fields if end is None else {**fields, "end": end}


def _move(site: str, movement: str, quantity: float, at: int, **more: object) -> dict:
    return {"site": site, "item": "口罩", "unit": "个", "movement": movement, "quantity": quantity, "at": at, **more}


async def _the_day(session: AsyncSession) -> None:
    session.add(Person(id="wangwu", name="王五", role="worker", site_id="dongfeng", township="城关镇"))
    rows = [
        # 东风村: 张伟 rests 6 h between two shifts (a rest alert), 王五 is still on duty.
        *arrived("shift", "sh0", "zhangwei", _shift("dongfeng", D0 - 6 * HOUR, D0 + 2 * HOUR), D0 - 6 * HOUR, D0 + 2 * HOUR),
        *arrived("shift", "sh1", "zhangwei", _shift("dongfeng", D0 + 8 * HOUR, D0 + 16 * HOUR), D0 + 8 * HOUR, ON_TIME),
        *arrived("shift", "sh2", "wangwu", _shift("dongfeng", D0 + 20 * HOUR, None), D0 + 20 * HOUR, D0 + 20 * HOUR),
        *arrived("shift", "sh9", "zhangwei", _shift("dongfeng", START + HOUR, None), START + HOUR, START + HOUR),
        # 城南社区: 李娜's 12-hour shift arrived late.
        *arrived("shift", "sh4", "lina", _shift("chengnan", D0 + 9 * HOUR, D0 + 21 * HOUR), D0 + 9 * HOUR, LATE),
        # 口罩 at 东风村: 100 in the day before; 30 used, 10 issued, 20 sent to 城南社区 on the day.
        *arrived("supply", "m1", "zhangwei", _move("dongfeng", "received", 100, D0 - 24 * HOUR), D0 - 24 * HOUR, D0),
        *arrived("supply", "m2", "zhangwei", _move("dongfeng", "used", 30, D0 + 10 * HOUR), D0 + 10 * HOUR, ON_TIME),
        *arrived("supply", "m3", "zhangwei", _move("dongfeng", "issued", 10, D0 + 12 * HOUR), D0 + 12 * HOUR, ON_TIME),
        *arrived("supply", "m4", "zhangwei", _move("dongfeng", "transferred", 20, D0 + 14 * HOUR, to_site="chengnan"),
                 D0 + 14 * HOUR, ON_TIME),
        *arrived("supply", "m5", "zhangwei", _move("dongfeng", "used", 5, START + 3 * HOUR), START + 3 * HOUR, LATE),
        # 城南社区 used 5 of the 20 on the day, and said so late.
        *arrived("supply", "m6", "lina", _move("chengnan", "used", 5, D0 + 15 * HOUR), D0 + 15 * HOUR, LATE),
        *arrived("request", "r1", "zhangwei", {"site": "dongfeng", "item": "口罩", "unit": "个", "quantity": 50,
                                              "at": D0 + 9 * HOUR, "urgent": True}, D0 + 9 * HOUR, ON_TIME),
        *arrived("request", "r2", "zhangwei", {"site": "dongfeng", "item": "手套", "unit": "副", "quantity": 10,
                                              "at": D0 + 11 * HOUR, "status": "approved"}, D0 + 11 * HOUR, ON_TIME),
        *arrived("checkin", "c1", "zhangwei", {"site": "dongfeng", "at": D0 + 13 * HOUR, "type": "injury",
                                              "injury_kind": "injury"}, D0 + 13 * HOUR, ON_TIME),
        *arrived("checkin", "c2", "wangwu", {"site": "dongfeng", "at": D0 + 13 * HOUR, "type": "injury",
                                            "injury_kind": "exposure"}, D0 + 13 * HOUR, LATE),
        *arrived("checkin", "c3", "wangwu", {"site": "dongfeng", "at": D0 + 14 * HOUR, "fatigue": 5}, D0 + 14 * HOUR,
                 ON_TIME),
    ]
    session.add_all(rows)
    await session.flush()
    for n, opened in enumerate((D0 + 12 * HOUR, START + 12 * HOUR)):
        session.add(Conflict(entry_id="sh1", field="post", candidates=[], id=100 + n,
                             opened_at=datetime.fromtimestamp(opened / 1000, UTC)))


@pytest.fixture
def day(world: World) -> World:
    world.session(_the_day)
    return world


def _figures(page: str, site: str) -> str:
    return page.split(f'data-site="{site}"', 1)[1].split("</section>", 1)[0]


def _row(section: str, key: str) -> str:
    return section.split(key, 1)[1].split("</tr>", 1)[0]


def test_the_report_counts_the_day_by_hand(day: World) -> None:
    page = day.client.get(f"/township/report?day={DAY}")

    assert page.status_code == 200
    dongfeng, chengnan = _figures(page.text, "dongfeng"), _figures(page.text, "chengnan")
    # 东风村: sh1 (8 h, ended) and sh2 (open) started on the day; sh0 the day before, sh9 after.
    assert ">2</td>" in _row(dongfeng, 'data-figure="shifts"')
    assert ">2</td>" in _row(dongfeng, 'data-figure="people"')
    assert ">8</td>" in _row(dongfeng, 'data-figure="hours"')
    assert ">1</td>" in _row(dongfeng, 'data-figure="still_open"')
    assert ">1</td>" in _row(dongfeng, 'data-figure="rest_alerts"')  # 张伟: 02:00 to 08:00 is 6 h of rest
    assert ">1</td>" in _row(dongfeng, 'data-figure="conflicts"')  # the second opened the next day
    assert "2（紧急 1，待处理 1）" in _row(dongfeng, 'data-figure="requests"')
    assert "1 / 1" in _row(dongfeng, 'data-figure="urgent"')
    # 口罩: 100 - 30 - 10 - 20 = 40 left; 40 used over the ledger's 2 days = 20 a day: 2.0 days.
    masks = _row(dongfeng, 'data-item="口罩"')
    assert [c.split(">", 1)[1].split("<", 1)[0] for c in masks.split("<td")[1:]] == ["0 个", "40 个", "40 个", "2.0"]
    # 城南社区: 李娜's 12 h; 20 came in by transfer, 5 used over its one-day ledger: 15 left, 3.0 days.
    assert ">12</td>" in _row(chengnan, 'data-figure="hours"')
    masks = _row(chengnan, 'data-item="口罩"')
    assert [c.split(">", 1)[1].split("<", 1)[0] for c in masks.split("<td")[1:]] == ["20 个", "5 个", "15 个", "3.0"]


def test_figures_that_arrived_after_the_deadline_are_marked_late(day: World) -> None:
    page = day.client.get(f"/township/report?day={DAY}").text
    dongfeng, chengnan = _figures(page, "dongfeng"), _figures(page, "chengnan")

    late = 'data-test="late"'
    assert late in _row(chengnan, 'data-figure="shifts"')  # sh4 arrived after the deadline
    assert late not in _row(dongfeng, 'data-figure="shifts"')
    assert late in _row(chengnan, 'data-item="口罩"')  # m6
    assert late not in _row(dongfeng, 'data-item="口罩"')  # m5 is of the next day: not counted
    assert late in _row(dongfeng, 'data-figure="urgent"')  # c2
    assert late not in _row(dongfeng, 'data-figure="requests"')
    assert "已定稿" in page  # the deadline of 2025-11-24 has long passed


def test_the_report_as_csv_has_the_same_figures_and_marks(day: World) -> None:
    answer = day.client.get(f"/township/report.csv?day={DAY}")

    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == f'attachment; filename="report-{DAY}.csv"'
    rows = [line.split(",") for line in answer.content.decode("utf-8-sig").strip().split("\r\n")]
    assert rows[0] == ["日期 Day", "站点 Site", "类别 Section", "项目 Figure", "数值 Value", "迟到数据 Late data"]
    figures = {(r[1], r[3]): (r[4], r[5]) for r in rows[1:]}
    assert figures[("东风村", "班次 Shifts")] == ("2", "")
    assert figures[("东风村", "时长(小时) Hours")] == ("8.0", "")
    assert figures[("东风村", "休息提醒 Rest alerts")] == ("1", "")
    assert figures[("东风村", "口罩 日终库存 stock (个)")] == ("40", "")
    assert figures[("东风村", "口罩 可用天数 days left")] == ("2", "")
    assert figures[("东风村", "职业暴露 Exposures")] == ("1", "迟到 late")
    assert figures[("城南社区", "班次 Shifts")] == ("1", "迟到 late")
    assert figures[("城南社区", "口罩 入库 received (个)")] == ("20", "迟到 late")
    assert figures[("城南社区", "口罩 可用天数 days left")] == ("3", "迟到 late")


def test_the_report_prints_on_a4_without_the_menu(day: World) -> None:
    page = day.client.get(f"/township/report?day={DAY}").text
    css = day.client.get("/township/static/dashboard.css").text

    assert "@page { size: A4" in css
    printed = css.split("@media print", 1)[1]
    assert ".top" in printed and ".no-print" in printed  # the menu and the day form stay off paper
    assert 'class="no-print day-pick"' in page


@pytest.mark.parametrize("day_asked", ["2025-13-01", "yesterday", "0999-01-01", "2025-02-30"])
def test_a_day_that_is_no_day_is_a_400_naming_the_field(world: World, day_asked: str) -> None:
    answer = world.client.get(f"/township/report?day={day_asked}")

    assert answer.status_code == 400
    assert answer.json()["field"] == "day"


def test_the_report_defaults_to_yesterday(world: World) -> None:
    page = world.client.get("/township/report")

    assert page.status_code == 200
    assert 'name="day" type="date" value="' in page.text
