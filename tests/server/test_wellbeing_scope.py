"""A phone enrolled with a code staff issued does not open a worker's wellbeing history
(issue 9.1; docs/roles.md "A new phone and wellbeing")."""

from __future__ import annotations

import re
import time

from sync.client import HttpTransport, enrol
from sync.replica import Replica
from tests.support.world import HOUR, START, Phone, World, shift


def _checkin(site: str, note: str) -> dict:
    return {"site": site, "at": START, "fatigue": 5, "talk": True, "note": note}


def _follow_up(world: World, checkin: str, note: str) -> None:
    if not world.sign_in("chenjing").is_redirect:
        world.sign_in(world.account("chenjing", "care"))
    answer = world.client.post(f"/township/wellbeing/{checkin}/followup",
                               data={"note": note, "_csrf_token": world.csrf()}, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def _staff_enrols_a_phone(world: World, person: str) -> Phone:
    """What the review did: a staff member issues a code on the people page and spends it."""
    world.sign_in(world.account("wangfang", "staff"))
    page = world.client.post(f"/township/people/{person}/code", data={"_csrf_token": world.csrf()})
    assert page.status_code == 200, page.text
    code = re.search(r'data-test="code">([^<]+)<', page.text)[1]
    world.client.cookies.clear()
    answer = enrol("", code, world.client)
    return Phone(Replica(device=answer["device"]), HttpTransport(world.client, answer["token"]), person,
                 answer["site"]["id"])


def test_a_phone_staff_enrolled_gets_none_of_the_workers_earlier_wellbeing(world: World) -> None:
    own = world.phone("zhangwei")
    own.replica.put("old", "checkin", _checkin(own.site, "最近睡不着"), START)
    own.replica.put("s1", "shift", shift(own.site), START)
    own.sync(START)
    _follow_up(world, "old", "已电话联系，周五再谈")

    other = _staff_enrols_a_phone(world, "zhangwei")
    _follow_up(world, "old", "周五谈过了")  # a follow-up made later, on the earlier check-in
    other.sync(START)

    assert "s1" in other.replica.entries  # shifts are work records: every phone of the person
    kinds = {e.kind for e in other.replica.entries.values()}
    assert kinds.isdisjoint({"checkin", "followup"}), other.replica.entries
    own.sync(START)
    assert {e.kind for e in own.replica.entries.values()} >= {"checkin", "followup"}


def test_a_new_phone_gets_what_is_made_after_it_was_enrolled_and_on_it(world: World) -> None:
    own = world.phone("zhangwei")
    new = world.phone("zhangwei")
    own.replica.put("later", "checkin", _checkin(own.site, "今天还好"), START)
    own.sync(START)
    new.replica.put("here", "checkin", _checkin(new.site, "有点累"), START)
    new.sync(START)
    _follow_up(world, "here", "已联系")

    new.sync(START)

    assert {"later", "here"} <= set(new.replica.entries)
    assert any(e.kind == "followup" for e in new.replica.entries.values())


def test_a_phone_staff_enrolled_cannot_write_into_the_workers_earlier_checkin(world: World) -> None:
    own = world.phone("zhangwei")
    own.replica.put("old", "checkin", _checkin(own.site, "最近睡不着"), START)
    own.sync(START)
    other = _staff_enrols_a_phone(world, "zhangwei")
    other.replica.put("old", "checkin", {"note": "改掉"}, START)

    answer = other.transport(other.replica.request(START))

    assert answer.results[0].status == "rejected"
    assert [e.field for e in answer.results[0].errors] == ["entry"]
    own.sync(START)
    assert own.replica.entries["old"].fields["note"] == "最近睡不着"


def test_a_check_in_made_offline_before_a_new_phone_stays_off_it_however_late_it_syncs(world: World) -> None:
    """The worker's own phone was offline for a while: what it wrote before the staff-enrolled
    phone existed is made before it, though it reaches the server after."""
    now = time.time_ns() // 1_000_000
    own = world.phone("zhangwei")
    own.sync(now - 3 * HOUR)  # a good clock, then no signal
    own.replica.put("offline", "checkin", _checkin(own.site, "这两天很累"), now - 2 * HOUR)

    other = _staff_enrols_a_phone(world, "zhangwei")
    own.sync(now)  # signal again
    other.sync(now)

    assert "offline" in own.replica.entries and "offline" not in other.replica.entries
