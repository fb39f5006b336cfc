"""A worker's phone never receives another worker's wellbeing entry, whatever it asks."""

from __future__ import annotations

import pytest

from tests.support.world import START, World, shift


def _checkin(site: str, note: str, **fields) -> dict:
    return {"site": site, "at": START, "fatigue": 4, "talk": True, "note": note, **fields}


@pytest.mark.parametrize("limit", [1, 200])
def test_a_worker_never_pulls_another_workers_wellbeing(world: World, limit: int) -> None:
    zhang, zhang_colleague, lina = world.phone("zhangwei"), world.phone("zhangwei"), world.phone("lina")
    lina.replica.put("private", "checkin", _checkin(lina.site, "不想让别人知道"), START)
    lina.replica.put("hurt", "checkin", _checkin(lina.site, "手划伤", type="injury", injury_kind="injury"), START)
    lina.sync(START)
    zhang.replica.put("mine", "checkin", _checkin(zhang.site, "我的"), START)
    zhang.sync(START)

    for cursor in ["0", "1", "2", "999"]:
        answer = zhang_colleague.transport(
            {"protocol": 1, "device_time": START, "cursor": cursor, "limit": limit}
        )
        assert {e.id for e in answer.entries} <= {"mine"}
    zhang_colleague.sync(START)
    assert set(zhang_colleague.replica.entries) == {"mine"}


def test_a_worker_cannot_push_into_another_workers_checkin(world: World) -> None:
    zhang, lina = world.phone("zhangwei"), world.phone("lina")
    lina.replica.put("private", "checkin", _checkin(lina.site, "秘密"), START)
    lina.sync(START)
    zhang.replica.put("private", "checkin", {"note": "偷看"}, START)

    answer = zhang.transport(zhang.replica.request(START))

    assert answer.results[0].status == "rejected"
    assert answer.entries == []


def test_a_worker_sees_their_sites_supply_ledger_but_not_other_sites(world: World) -> None:
    zhang, lina = world.phone("zhangwei"), world.phone("lina")
    movement = {"item": "医用外科口罩", "unit": "个", "movement": "received", "quantity": 10, "at": START}
    lina.replica.put("theirs", "supply", {**movement, "site": lina.site}, START)
    lina.replica.put("lina-shift", "shift", shift(lina.site), START)
    lina.sync(START)
    colleague = world.phone("zhangwei")
    colleague.replica.put("ours", "supply", {**movement, "site": colleague.site}, START)
    colleague.sync(START)

    zhang.sync(START)

    assert set(zhang.replica.entries) == {"ours"}


@pytest.mark.parametrize(("person", "other"), [("zhangwei", "lead1"), ("lead1", "zhangwei")], ids=["worker", "lead"])
def test_what_each_phone_role_pulls_and_may_push(world: World, person: str, other: str) -> None:
    """docs/roles.md, Phones: the same rules for a worker and a site lead (lead1, at dongfeng)."""
    world.account("lead1", "lead")
    mine, colleague, elsewhere = world.phone(person), world.phone(other), world.phone("lina")
    movement = {"item": "N95口罩", "unit": "个", "movement": "received", "quantity": 10, "at": START}
    colleague.replica.put("site-ledger", "supply", {**movement, "site": "dongfeng"}, START)
    colleague.replica.put("colleague-checkin", "checkin", _checkin("dongfeng", "同事的"), START)
    elsewhere.replica.put("other-site", "supply", {**movement, "site": "chengnan"}, START)
    for phone in (colleague, elsewhere):
        phone.sync(START)
    mine.replica.put("own", "shift", shift("dongfeng"), START)
    mine.replica.put("colleague-checkin", "checkin", {"note": "改别人的"}, START)
    mine.replica.put("approve-myself", "shift", {**shift("dongfeng"), "approval": "approved"}, START)

    answer = mine.transport(mine.replica.request(START))

    assert [r.status for r in answer.results] == ["applied", "rejected", "rejected"]
    mine.sync(START)
    assert set(mine.replica.entries) == {"own", "site-ledger"}
