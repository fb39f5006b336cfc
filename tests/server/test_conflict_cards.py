"""Conflict cards that can be judged (issue 10, 6; docs/sync-protocol.md §6 M3, M4): which entry,
which phone by the name staff gave it, who and when made each value, the value both started
from; and a resolution by a new value, checked by the kind's schema, that reaches the phones."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from server.dashboard.filters import make_filters
from server.models import AuditEvent, Conflict
from tests.support.world import HOUR, START, World, conflict_on_post, shift

SHOWN = make_filters("Asia/Shanghai")  # the deployment's zone: times as the dashboard shows them
COUNT = {"item": "N95口罩", "unit": "个", "movement": "stocktake", "at": START}


def _card(world: World, entry: str) -> str:
    page = world.client.get("/township/conflicts").text
    return page.split(f'data-entry-id="{entry}"', 1)[1].split("</section>", 1)[0]


def _conflict_id(card_page: str) -> str:
    return re.search(r'data-conflict-id="(\d+)"', card_page)[1]


def _resolve(world: World, entry: str, **form: str):
    page = world.client.get("/township/conflicts").text
    conflict = re.search(rf'data-conflict-id="(\d+)" data-entry-id="{entry}"', page)[1]
    return world.client.post(f"/township/conflicts/{conflict}/resolve",
                             data={**form, "_csrf_token": world.csrf()}, follow_redirects=False)


def _two_counts(world: World):
    """Two phones at one site count N95 masks after the same count of 50: 40 and 35."""
    one, two = world.phone("zhangwei"), world.phone("zhangwei")
    one.replica.put("t0", "supply", {**COUNT, "site": one.site, "quantity": 50}, START)
    one.sync(START)
    two.sync(START)
    one.replica.put("t1", "supply", {**COUNT, "site": one.site, "quantity": 40, "follows": "t0"}, START + 1000)
    two.replica.put("t2", "supply", {**COUNT, "site": two.site, "quantity": 35, "follows": "t0"}, START + 2000)
    one.sync(START + 3000)
    two.sync(START + 3000)
    return one, two


def test_a_card_names_the_entry_the_phones_the_people_the_times_and_the_base(world: World) -> None:
    first, second = conflict_on_post(world)
    named = world.client.post(f"/township/devices/{first.replica.device}/label", follow_redirects=False,
                              data={"label": " 张伟的旧手机 ", "_csrf_token": world.csrf()})
    assert named.status_code == 303

    card = _card(world, "s2")

    # The base: both phones changed 东门卡口 (the shift as first made), one to 东门, one to 西门.
    [recorded] = world.scalars(select(Conflict.base))
    made = first.replica.entries["s2"]
    assert recorded == {"stamp": made.stamps["start"], "value": "东门卡口"}
    base = card.split('data-test="conflict-base"', 1)[1].split("</p>", 1)[0]
    assert f"<strong>东门卡口</strong> · {SHOWN['stamp_time'](recorded['stamp'])}" in base
    what = card.split('data-test="conflict-what"', 1)[1].split("</p>", 1)[0]
    assert what == f">开始 {SHOWN['when'](made.fields['start'])}"
    phones = re.findall(r'data-test="candidate-phone" title="(\w+)">([^<]+)<', card)
    assert phones == [(first.replica.device, "张伟的旧手机"),
                      (second.replica.device, f"手机 Phone …{second.replica.device[-4:]}")]
    assert re.findall(r'data-test="candidate-person">([^<]+)<', card) == ["张伟", "张伟"]
    candidates = world.scalars(select(Conflict.candidates))[0]
    assert re.findall(r"记录于 <span class=\"en\">made</span> ([\d: -]+)</p>", card) == [
        SHOWN["stamp_time"](c["stamp"]) for c in candidates]
    assert "张伟的旧手机" in world.client.get("/township/people").text


def test_a_stocktake_card_names_the_item_unit_and_movement_and_the_count_both_followed(world: World) -> None:
    _two_counts(world)

    card = _card(world, "t2")

    what = card.split('data-test="conflict-what"', 1)[1].split("</p>", 1)[0]
    assert "物品 N95口罩" in what and "单位 个" in what and "类型 盘点" in what
    base = card.split('data-test="conflict-base"', 1)[1].split("</p>", 1)[0]
    assert "<strong>50</strong>" in base


def test_a_new_value_resolves_the_conflict_and_reaches_both_phones(world: World) -> None:
    first, second = conflict_on_post(world)

    answer = _resolve(world, "s2", value=" 北门卡口 ")

    assert answer.status_code == 303
    assert world.scalars(select(Conflict.resolved_at))[0] is not None
    for phone in (first, second):
        phone.sync(START + 4000)
        assert phone.replica.entries["s2"].fields["post"] == "北门卡口"
        assert phone.replica.entries["s2"].conflicts == []
    [event] = world.scalars(select(AuditEvent.detail).where(AuditEvent.event == "conflict.resolved"))
    assert event["choice"] == "new" and "北门卡口" not in str(event)


def test_a_new_count_is_read_as_a_number_and_reaches_the_phones(world: World) -> None:
    _, two = _two_counts(world)

    assert _resolve(world, "t2", value="38").status_code == 303

    two.sync(START + 4000)
    assert two.replica.entries["t2"].fields["quantity"] == 38


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"value": "-1"}, "quantity"),  # the schema: a count is not below zero
        ({"value": "许多"}, "quantity"),
        ({"value": "nan"}, "quantity"),
        ({"value": ""}, "quantity"),
        ({"value": "38", "choice": "0"}, "choice"),
        ({}, "choice"),
        ({"choice": "7"}, "choice"),
    ],
)
def test_a_bad_resolution_is_a_400_naming_the_field_and_changes_nothing(world: World, form, field) -> None:
    _two_counts(world)

    answer = _resolve(world, "t2", **form)

    assert answer.status_code == 400
    assert answer.json()["field"] == field and answer.json()["reason"]
    assert world.scalars(select(Conflict.resolved_at)) == [None]


def test_a_new_time_is_read_in_the_deployments_zone_and_checked_with_the_whole_shift(world: World) -> None:
    """A staff fix and an offline phone edit of the same end: the card shows staff's candidate
    as the dashboard's, the base as the end both changed, and a new end before the start is
    refused by the shift's own rule."""
    phone = world.phone("zhangwei")
    phone.replica.put("s1", "shift", shift(phone.site, end=START + 8 * HOUR), START + 8 * HOUR)
    phone.sync(START + 8 * HOUR)
    # The phone's first sync found its clock wrong (START is in 2025): the server stored the
    # end corrected (§7 K3), and that is the value both sides changed.
    first_end = phone.replica.entries["s1"].fields["end"]
    world.client.post("/township/shifts/s1/times", data={
        "start": "2025-11-25T00:00", "end": "2025-11-25T07:00", "_csrf_token": world.csrf()})
    phone.replica.put("s1", "shift", {"end": START + 6 * HOUR}, START + 9 * HOUR)  # offline, from first_end
    phone.sync(START + 9 * HOUR)

    card = _card(world, "s1")
    assert "镇街工作台 Dashboard" in card and "镇街工作人员 Staff" in card
    assert world.scalars(select(Conflict.base))[0]["value"] == first_end
    base = card.split('data-test="conflict-base"', 1)[1].split("</p>", 1)[0]
    assert f"<strong>{SHOWN['when'](first_end)}</strong>" in base
    before_start = _resolve(world, "s1", value="2025-11-24T23:00")
    assert (before_start.status_code, before_start.json()["field"]) == (400, "end")

    assert _resolve(world, "s1", value="2025-11-25T06:30").status_code == 303
    phone.sync(START + 10 * HOUR)
    assert phone.replica.entries["s1"].fields["end"] == START + 6 * HOUR + HOUR // 2
    assert "staff_times" in phone.replica.entries["s1"].flags


def test_a_wellbeing_conflict_takes_a_new_value_from_care_staff_only(world: World) -> None:
    one, two = world.phone("lina"), world.phone("lina")
    one.replica.put("c1", "checkin", {"site": one.site, "at": START, "fatigue": 3}, START)
    one.sync(START)
    two.sync(START)
    one.replica.put("c1", "checkin", {"fatigue": 4}, START + 1000)
    two.replica.put("c1", "checkin", {"fatigue": 5}, START + 2000)
    one.sync(START + 3000)
    two.sync(START + 3000)
    conflict = world.scalars(select(Conflict.id))[0]
    world.account("wangfang", "staff")
    world.account("chenjing", "care")

    world.sign_in("wangfang")
    by_staff = world.client.post(f"/township/conflicts/{conflict}/resolve",
                                 data={"value": "2", "_csrf_token": world.csrf()})
    world.sign_in("chenjing")
    card = _card(world, "c1")
    by_care = world.client.post(f"/township/conflicts/{conflict}/resolve", follow_redirects=False,
                                data={"value": "2", "_csrf_token": world.csrf()})

    assert by_staff.status_code == 409
    assert "<strong>3</strong>" in card.split('data-test="conflict-base"', 1)[1]
    assert by_care.status_code == 303
    two.sync(START + 4000)
    assert two.replica.entries["c1"].fields["fatigue"] == 2


def test_a_delete_conflict_keeps_a_candidate_only(world: World) -> None:
    one, two = world.phone("zhangwei"), world.phone("zhangwei")
    one.replica.put("s1", "shift", shift(one.site), START)
    one.sync(START)
    two.sync(START)
    one.replica.delete("s1", START + 1000)
    two.replica.put("s1", "shift", {"post": "西门"}, START + 2000)
    one.sync(START + 3000)
    two.sync(START + 3000)

    card = _card(world, "s1")
    answer = _resolve(world, "s1", value="true")

    assert 'data-test="new-value"' not in card
    assert "保留此条" in card.split('data-test="conflict-base"', 1)[1].split("</p>", 1)[0]
    assert (answer.status_code, answer.json()["field"]) == (400, "deleted")
    assert _resolve(world, "s1", choice="1").status_code == 303


def test_a_phone_is_named_by_staff_only_and_briefly(world: World) -> None:
    phone = world.phone("zhangwei")
    path = f"/township/devices/{phone.replica.device}/label"
    too_long = world.client.post(path, data={"label": "手" * 41, "_csrf_token": world.csrf()})
    answers = {}
    for name, role in (("lead1", "lead"), ("chenjing", "care"), ("wangfang", "staff")):
        world.account(name, role)
        world.sign_in(name)
        answers[role] = world.client.post(path, data={"label": f"{role}的名字", "_csrf_token": world.csrf()},
                                          follow_redirects=False).status_code

    assert (too_long.status_code, too_long.json()["field"]) == (400, "label")
    assert answers == {"lead": 403, "care": 403, "staff": 303}
    assert "staff的名字" in world.client.get("/township/people").text


def test_who_may_not_resolve_may_not_type_a_new_value_either(world: World) -> None:
    conflict_on_post(world)
    conflict = world.scalars(select(Conflict.id))[0]
    answers = {}
    for name, role in (("lead1", "lead"), ("chenjing", "care")):
        world.account(name, role)
        world.sign_in(name)
        answers[role] = world.client.post(f"/township/conflicts/{conflict}/resolve",
                                          data={"value": "北门", "_csrf_token": world.csrf()}).status_code

    assert answers == {"lead": 403, "care": 409}  # a shift's conflict is not care staff's to resolve
    assert world.scalars(select(Conflict.resolved_at)) == [None]
