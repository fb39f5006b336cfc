"""A phone's supply transfer may name only another existing site of its own township."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Person, Site
from tests.support.world import START, World


def _transfer(to_site: str) -> dict:
    return {"site": "dongfeng", "item": "N95口罩", "unit": "个", "movement": "transferred", "quantity": 5000,
            "at": START, "to_site": to_site}


async def _other_township(session: AsyncSession) -> None:
    session.add(Site(id="beiyuan", name="北苑村", township="新城镇"))
    await session.flush()
    session.add(Person(id="zhaolei", name="赵磊", role="worker", site_id="beiyuan", township="新城镇"))


@pytest.mark.parametrize(
    ("to_site", "reason"),
    [("beiyuan", "forbidden"), ("nowhere", "forbidden"), ("dongfeng", "own_site")],
)
def test_a_transfer_to_a_site_the_policy_does_not_allow_is_rejected(world: World, to_site: str, reason: str) -> None:
    world.session(_other_township)
    phone = world.phone("zhangwei")
    phone.replica.put("t1", "supply", _transfer(to_site), START)

    answer = phone.transport(phone.replica.request(START))

    assert [(r.status, [(e.field, e.code) for e in r.errors]) for r in answer.results] == [
        ("rejected", [("to_site", reason)])
    ]
    there = world.phone("zhaolei")
    there.sync(START)
    assert "t1" not in there.replica.entries


def test_a_transfer_to_another_site_of_the_township_applies(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("t1", "supply", _transfer("chengnan"), START)

    answer = phone.transport(phone.replica.request(START))

    assert [r.status for r in answer.results] == ["applied"]
    there = world.phone("lina")
    there.sync(START)
    assert "t1" in there.replica.entries
