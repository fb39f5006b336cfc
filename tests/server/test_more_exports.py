"""Supplies, requests and wellbeing as CSV (issue 10, item 9): the shifts export's conventions
(bilingual headers, UTF-8 with a BOM, CRLF), scoped like their pages, HEAD answered, one charset,
and every export of personal data in the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.models import AuditEvent
from tests.support.world import HOUR, START, World, shift

EXPORTS = ["/township/export/shifts.csv", "/township/export/supplies.csv", "/township/export/requests.csv",
           "/township/export/wellbeing.csv", "/township/subsidy.csv", "/township/audit.csv"]


def _lines(answer) -> list[str]:
    assert answer.content.startswith("\ufeff".encode())
    text = answer.content.decode("utf-8-sig")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return text.split("\r\n")[:-1]


@pytest.fixture
def township(world: World) -> World:
    phone = world.phone("lina")
    site = phone.site
    phone.replica.put("m1", "supply", {"site": site, "item": "口罩", "unit": "个", "movement": "received",
                                       "quantity": 200, "at": START, "note": "=来自县里"}, START)
    phone.replica.put("m2", "supply", {"site": site, "item": "口罩", "unit": "个", "movement": "used",
                                       "quantity": 30, "at": START + HOUR}, START + HOUR)
    phone.replica.put("r1", "request", {"site": site, "item": "手套", "unit": "双", "quantity": 50,
                                        "urgent": True, "at": START, "note": "夜班用"}, START)
    phone.replica.put("c1", "checkin", {"site": site, "at": START, "fatigue": 5, "talk": True,
                                        "note": "睡不着"}, START)
    phone.replica.put("s1", "shift", shift(site, end=START + 2 * HOUR), START + 2 * HOUR)
    phone.sync(START + 2 * HOUR)
    for role in ("lead", "staff", "care", "admin"):
        world.account(f"{role}1", role)
    return world


def test_supply_movements_export_with_bilingual_headers(township: World) -> None:
    township.sign_in("staff1")

    lines = _lines(township.client.get("/township/export/supplies.csv"))

    assert lines[0].startswith("站点 Site,物资 Item,类型 Movement,数量 Quantity,单位 Unit")
    assert [line.split(",")[:5] for line in lines[1:]] == [["城南社区", "口罩", "入库", "200", "个"],
                                                          ["城南社区", "口罩", "使用", "30", "个"]]
    assert lines[1].endswith(",李娜,'=来自县里")  # a formula typed on a phone stays text


def test_requests_export(township: World) -> None:
    township.sign_in("lead1")  # a lead sees the supplies page of their own site; r1 is at another

    assert _lines(township.client.get("/township/export/requests.csv")) == [
        "站点 Site,物资 Item,数量 Quantity,单位 Unit,紧急 Urgent,状态 Status,申领人 Requested by,"
        "时间 Time,备注 Note,短信 By SMS"]
    township.sign_in("staff1")
    lines = _lines(township.client.get("/township/export/requests.csv"))
    assert lines[1].split(",")[:7] == ["城南社区", "手套", "50", "双", "是", "待处理", "李娜"]


def test_wellbeing_export_is_for_care_staff_only(township: World) -> None:
    for role in ("lead", "staff", "admin"):
        township.sign_in(f"{role}1")
        assert township.client.get("/township/export/wellbeing.csv").status_code == 403, role

    township.sign_in("care1")
    lines = _lines(township.client.get("/township/export/wellbeing.csv"))

    assert lines[0].startswith("站点 Site,姓名 Name,时间 Time,类型 Type,疲劳 Fatigue (1-5)")
    cells = lines[1].split(",")
    assert cells[:2] == ["城南社区", "李娜"] and cells[4:11] == ["5", "", "", "", "", "是", "睡不着"]


@pytest.mark.parametrize("path", EXPORTS)
def test_every_export_answers_head_names_one_charset_and_is_audited(township: World, path: str) -> None:
    township.sign_in("care1" if "wellbeing" in path else "admin1")

    head = township.client.head(path)
    events_after_head = township.scalars(select(AuditEvent.subject).where(AuditEvent.event == "export"))
    got = township.client.get(path)

    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert got.headers["content-type"] == head.headers["content-type"] == "text/csv; charset=utf-8"
    assert head.headers["content-disposition"] == got.headers["content-disposition"]
    exported = township.scalars(select(AuditEvent.subject).where(AuditEvent.event == "export"))
    assert events_after_head == [] and exported == [path.rsplit("/", 1)[1]]
