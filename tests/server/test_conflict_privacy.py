"""Wellbeing conflicts are for care staff only; others see a count (issue 9.2)."""

from __future__ import annotations

import re

import pytest

from tests.support.world import START, World, conflict_on_post


def _checkin_conflict(world: World) -> None:
    first, second = world.phone("zhangwei"), world.phone("zhangwei")
    first.replica.put("c1", "checkin", {"site": first.site, "at": START, "fatigue": 3, "note": "还行"}, START)
    first.sync(START)
    second.sync(START)
    first.replica.put("c1", "checkin", {"note": "夜里总做噩梦"}, START + 1000)
    second.replica.put("c1", "checkin", {"note": "想换岗位"}, START + 2000)
    first.sync(START + 3000)
    second.sync(START + 3000)


def _as(world: World, person: str, role: str) -> None:
    world.account(person, role)
    assert world.sign_in(person).status_code == 303


def _resolve(world: World, conflict_id: str):
    return world.client.post(f"/township/conflicts/{conflict_id}/resolve",
                             data={"choice": "0", "_csrf_token": world.csrf()}, follow_redirects=False)


def _conflict_id(world: World) -> str:
    from sqlalchemy import select

    from server.models import Conflict

    return str(world.scalars(select(Conflict.id))[0])


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_administrators_see_only_a_count_of_wellbeing_conflicts(world: World, role: str) -> None:
    _checkin_conflict(world)
    _as(world, f"someone_{role}", role)

    page = world.client.get("/township/conflicts")

    assert page.status_code == 200
    assert "噩梦" not in page.text and "换岗位" not in page.text
    assert 'data-conflict-id' not in page.text
    assert re.search(r'data-test="other-conflicts">另有 1 条关怀记录', page.text)
    assert _resolve(world, _conflict_id(world)).status_code == 409


def test_care_staff_see_and_resolve_a_wellbeing_conflict_but_no_other(world: World) -> None:
    _checkin_conflict(world)
    conflict_on_post(world)  # a shift conflict: not for care staff
    _as(world, "chenjing", "care")

    page = world.client.get("/township/conflicts")

    assert "噩梦" in page.text and "换岗位" in page.text
    assert "东门" not in page.text and "西门" not in page.text
    ids = re.findall(r'data-conflict-id="(\d+)"', page.text)
    assert len(ids) == 1
    assert _resolve(world, ids[0]).status_code == 303
    shift_conflict = next(i for i in map(str, _all_ids(world)) if i != ids[0])
    assert _resolve(world, shift_conflict).status_code == 409


def _all_ids(world: World) -> list[int]:
    from sqlalchemy import select

    from server.models import Conflict

    return world.scalars(select(Conflict.id))
