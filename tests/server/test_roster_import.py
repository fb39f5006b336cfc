"""A roster imports from a spreadsheet's CSV (issue 10, item 1): UTF-8 with or without a BOM, or
GBK as Excel in China writes it; a preview with an error per row before anything is stored; the
same file twice changes nothing. The figures below are counted by hand from the files."""

from __future__ import annotations

import base64
import re

import pytest
from sqlalchemy import func, select, update

from server.models import AuditEvent, Person
from server.services.roster_import import BOM, RosterError, decode, read
from tests.support.world import World

# Row numbers as the spreadsheet shows them: the header is row 1; row 9 is blank.
ROSTER = """姓名,手机号,站点,岗位,备注
张伟,13800138000,东风村,网格员,组长
王五,+86 139-0000-0001,城南社区,,
,13900000002,dongfeng,,
赵六,13900000003,西山村,,
钱七,1390000000,dongfeng,,
孙八,13900000004,dongfeng,,
周九,13900000004,chengnan,,

吴十,13900000005,chengnan,卡口值守,
"""
# Row 2 updates 张伟 (his number is on file; his post is new); rows 3 and 10 are new; row 4 has no
# name, row 5 an unknown site, row 6 a 10-digit number, rows 7 and 8 the same number.
EXPECTED = {2: "updated", 3: "new", 4: "error", 5: "error", 6: "error", 7: "error", 8: "error", 10: "new"}


@pytest.fixture
def world(database_url: str):
    """In production mode: no development administrator stands in for a signed-out browser."""
    with World.start(database_url, env="production", secret="s" * 32) as world:
        yield world


@pytest.fixture
def admin(world: World) -> World:
    world.account("admin1", "admin")
    world.session(lambda s: s.execute(update(Person).where(Person.id == "zhangwei").values(phone="13800138000")))
    world.sign_in("admin1")
    return world


def preview(world: World, raw: bytes):
    return world.client.post("/township/roster/preview", data={"_csrf_token": world.csrf()},
                             files={"file": ("名单.csv", raw, "text/csv")})


def confirm(world: World, shown) -> object:
    content = re.search(r'name="content" value="([^"]+)"', shown.text)[1]
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', shown.text)[1]
    return world.client.post("/township/roster/import", data={"content": content, "fingerprint": fingerprint,
                                                              "_csrf_token": world.csrf()})


def statuses(page) -> dict[int, str]:
    return {int(n): s for n, s in re.findall(r'data-row="(\d+)" data-status="(\w+)"', page.text)}


def people(world: World) -> list[tuple]:
    return [tuple(r) for r in world.session(lambda s: _rows(s))]


async def _rows(session) -> list:
    result = await session.execute(
        select(Person.name, Person.phone, Person.site_id, Person.post, Person.township).order_by(Person.name))
    return list(result)


def person_events(world: World) -> int:
    return world.scalars(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.event.in_(["person.created", "person.changed"])))[0]


# -- reading the file -----------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "encoding"), [
    (ROSTER.encode("utf-8"), "UTF-8"),
    (BOM + ROSTER.encode("utf-8"), "UTF-8 (BOM)"),
    (ROSTER.encode("gbk"), "GBK"),
])
def test_each_encoding_excel_writes_reads_back_the_same_text(raw: bytes, encoding: str) -> None:
    assert decode(raw) == (ROSTER, encoding)


def test_a_file_that_is_neither_utf8_nor_gbk_is_refused_whole() -> None:
    with pytest.raises(RosterError, match="UTF-8 或 GBK"):
        decode("姓名,手机号,站点\n".encode("utf-16"))
    with pytest.raises(RosterError, match="UTF-8"):
        decode(BOM + "张伟".encode("gbk"))  # says UTF-8, is not


def test_each_row_carries_its_own_errors_and_blank_rows_are_skipped() -> None:
    encoding, columns, ignored, rows = read(ROSTER.encode("gbk"))

    assert (encoding, list(columns), ignored) == ("GBK", ["name", "phone", "site", "post"], ["备注"])
    assert [r.number for r in rows] == [2, 3, 4, 5, 6, 7, 8, 10]
    assert rows[1].phone == "13900000001"  # +86 and dashes dropped
    assert [bool(r.errors) for r in rows] == [False, False, True, False, True, False, False, False]
    assert "缺少姓名" in rows[2].errors[0] and "手机号" in rows[4].errors[0]


@pytest.mark.parametrize(("header", "reason"), [
    ("名字,手机号,站点", "姓名"), ("姓名,手机号", "站点"), ("姓名,站点", "手机号"), ("姓名,姓名,站点,手机号", "两次"),
])
def test_a_file_without_the_needed_columns_is_refused(header: str, reason: str) -> None:
    with pytest.raises(RosterError, match=reason):
        read(f"{header}\n张伟,dongfeng,13800138000\n".encode())


# -- preview and confirm on the dashboard ---------------------------------------------------------


def test_the_preview_lists_every_row_and_stores_nothing(admin: World) -> None:
    before = people(admin)

    shown = preview(admin, ROSTER.encode("gbk"))

    assert shown.status_code == 200
    assert statuses(shown) == EXPECTED
    assert re.search(r'data-test="encoding">GBK<', shown.text)
    assert "新增 2 · 更新 1 · 未变 0 · 有错误 5" in shown.text
    assert "没有站点“西山村”" in shown.text and "在第 7、8 行重复" in shown.text and "缺少姓名" in shown.text
    assert people(admin) == before and person_events(admin) == 0


def test_confirming_applies_the_rows_without_errors_and_the_same_file_again_changes_nothing(admin: World) -> None:
    before = people(admin)

    done = confirm(admin, preview(admin, ROSTER.encode("gbk")))

    assert done.status_code == 200 and "新增 2 人，更新 1 人，未变 0 人，跳过有错误的 5 行" in done.text
    after = people(admin)
    assert len(after) == len(before) + 2
    assert ("王五", "13900000001", "chengnan", None, "城关镇") in after
    assert ("吴十", "13900000005", "chengnan", "卡口值守", "城关镇") in after
    assert ("张伟", "13800138000", "dongfeng", "网格员", "城关镇") in after
    assert person_events(admin) == 3

    again = preview(admin, ROSTER.encode("gbk"))
    assert statuses(again) == {n: ("unchanged" if s != "error" else s) for n, s in EXPECTED.items()}
    assert 'name="fingerprint"' not in again.text  # nothing to import: no button

    # Confirmed all the same (the form posted by hand): still nothing changes.
    content = base64.urlsafe_b64encode(ROSTER.encode("gbk")).decode()
    fingerprint = admin.session(lambda s: _fingerprint(s, ROSTER.encode("gbk")))
    admin.client.post("/township/roster/import", data={"content": content, "fingerprint": fingerprint,
                                                       "_csrf_token": admin.csrf()})
    assert people(admin) == after and person_events(admin) == 3


async def _fingerprint(session, raw: bytes) -> str:
    from server.services.roster_import import plan
    from tests.support.every_row import ADMIN

    return (await plan(session, ADMIN, raw)).fingerprint


def test_an_id_column_is_the_key_and_new_people_get_those_ids(admin: World) -> None:
    first = "编号,姓名,手机号,站点\nA001,刘一,13700000001,dongfeng\nA002,陈二,,chengnan\n"
    confirm(admin, preview(admin, first.encode("utf-8")))
    # The same people: one with a new number, one renamed. Matched by id, not by number.
    second = "编号,姓名,手机号,站点\nA001,刘一,13700000009,dongfeng\nA002,陈二妹,,chengnan\n"

    shown = preview(admin, (BOM.decode() + second).encode("utf-8"))

    assert statuses(shown) == {2: "updated", 3: "updated"}
    assert "UTF-8 (BOM)" in shown.text
    confirm(admin, shown)
    found = admin.scalars(select(Person).where(Person.id.in_(["A001", "A002"])).order_by(Person.id))
    assert [(p.name, p.phone) for p in found] == [("刘一", "13700000009"), ("陈二妹", None)]


def test_a_change_between_preview_and_confirm_is_shown_again_and_nothing_is_stored(admin: World) -> None:
    shown = preview(admin, ROSTER.encode("utf-8"))
    admin.session(lambda s: s.execute(update(Person).where(Person.id == "zhangwei").values(post="网格员")))
    before = people(admin)

    answer = confirm(admin, shown)

    assert answer.status_code == 409 and "有变化" in answer.text
    assert statuses(answer)[2] == "unchanged"  # what importing would do now
    assert people(admin) == before and person_events(admin) == 0


def test_a_retired_persons_number_is_an_error_not_a_quiet_reinstatement(admin: World) -> None:
    admin.client.post("/township/people/zhangwei/retire", data={"_csrf_token": admin.csrf()})

    shown = preview(admin, "姓名,手机号,站点\n张伟,13800138000,dongfeng\n".encode())

    assert statuses(shown) == {2: "error"} and "已停用" in shown.text


def test_another_townships_sites_are_unknown_sites(admin: World) -> None:
    admin.session(_other_site)

    shown = preview(admin, "姓名,手机号,站点\n小李,13900000002,hexi\n小赵,13900000003,河西村\n".encode())

    assert statuses(shown) == {2: "error", 3: "error"} and "没有站点“hexi”" in shown.text


async def _other_site(session) -> None:
    from server.models import Site

    session.add(Site(id="hexi", name="河西村", township="河西镇"))


@pytest.mark.parametrize("raw", [b"", "\u59d3\u540d,\u7ad9\u70b9\n".encode("utf-16"), b"x" * (512 * 1024 + 1)])
def test_an_unreadable_file_is_a_400_with_the_reason(admin: World, raw: bytes) -> None:
    answer = preview(admin, raw)

    assert answer.status_code == 400 and 'class="error"' in answer.text


def test_a_damaged_confirmation_is_a_400(admin: World) -> None:
    answer = admin.client.post("/township/roster/import", data={"content": "%%%", "fingerprint": "x",
                                                                "_csrf_token": admin.csrf()})

    assert answer.status_code == 400


@pytest.mark.parametrize("role", ["staff", "lead", "care"])
def test_only_administrators_import(world: World, role: str) -> None:
    world.account("someone", role)
    world.sign_in("someone")
    before = people(world)

    pages = [world.client.get("/township/roster"), preview(world, ROSTER.encode()),
             world.client.post("/township/roster/import", data={"content": "", "fingerprint": "",
                                                                "_csrf_token": world.csrf()})]

    assert [p.status_code for p in pages] == [403, 403, 403]
    assert people(world) == before
