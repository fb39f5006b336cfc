"""Care follow-ups take the staff-edit path, and the wellbeing service checks its own caller
(issue 9 "Also" and 9.12)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.models import ChangeLog, Entry
from server.policy import Forbidden, Principal
from server.services import wellbeing
from server.services.server_clock import ServerClock
from tests.support.world import START, World

CARE = Principal("chenjing", "陈静", "care", None, "城关镇")


def _checkin(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("c1", "checkin", {"site": phone.site, "at": START, "fatigue": 5, "note": "累"}, START)
    phone.sync(START)


def _post(world: World, note: str):
    world.account("chenjing", "care")
    assert world.sign_in("chenjing").status_code == 303
    return world.client.post("/township/wellbeing/c1/followup",
                             data={"note": note, "_csrf_token": world.csrf()}, follow_redirects=False)


def test_a_follow_up_is_recorded_as_a_change_like_any_staff_edit(world: World) -> None:
    _checkin(world)

    assert _post(world, "已电话联系").status_code == 303

    followup = world.scalars(select(Entry).where(Entry.kind == "followup"))[0]
    logged = world.scalars(select(ChangeLog).where(ChangeLog.entry_id == followup.id))
    assert len(logged) == 1 and '"by":"chenjing"' in logged[0].body


def test_a_follow_up_note_beyond_the_bound_is_refused_naming_the_field(world: World) -> None:
    _checkin(world)

    answer = _post(world, "x" * 900_000)  # the 900 KB the review stored

    assert answer.status_code == 409
    assert answer.json()["field"] == "note"
    assert world.scalars(select(Entry).where(Entry.kind == "followup")) == []


@pytest.mark.parametrize("role", ["staff", "admin", "lead", "worker"])
def test_the_wellbeing_service_refuses_a_caller_the_policy_does_not_allow(world: World, role: str) -> None:
    _checkin(world)
    who = Principal("x", "x", role, "dongfeng", "城关镇")

    async def details(session):
        return await wellbeing.details(session, who)

    async def follow_up(session):
        return await wellbeing.add_followup(session, who, "c1", "看看", "", ServerClock(), START)

    for work in (details, follow_up):
        with pytest.raises(Forbidden):
            world.session(work)
    assert world.scalars(select(Entry).where(Entry.kind == "followup")) == []


def test_care_staff_may_call_it(world: World) -> None:
    _checkin(world)

    async def details(session):
        return await wellbeing.details(session, CARE)

    assert [c.id for c in world.session(details)] == ["c1"]
