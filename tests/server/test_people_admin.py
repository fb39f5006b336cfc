"""Administrators add, edit, retire and reinstate people (issue 10, item 1). A retired person's
phones get 401 and cannot enrol, their account cannot sign in, and their entries stay."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.models import AuditEvent, Device, Person
from sync.client import SyncError, enrol
from tests.support.world import HOUR, START, World, shift


@pytest.fixture
def world(database_url: str):
    """In production mode: no development administrator stands in for a signed-out browser."""
    with World.start(database_url, env="production", secret="s" * 32) as world:
        yield world


@pytest.fixture
def admin(world: World) -> World:
    world.account("admin1", "admin")
    world.sign_in("admin1")
    return world


def post(world: World, path: str, **form: str):
    return world.client.post(path, data={**form, "_csrf_token": world.csrf()}, follow_redirects=False)


def person(world: World, person_id: str) -> Person:
    return world.scalars(select(Person).where(Person.id == person_id))[0]


def events(world: World, event: str) -> list[AuditEvent]:
    return world.scalars(select(AuditEvent).where(AuditEvent.event == event))


def test_an_administrator_adds_a_person_who_shows_on_the_people_page(admin: World) -> None:
    answer = post(admin, "/township/people/new", name=" 赵 敏 ", phone="139 0000 0007", site="chengnan", post="网格员")

    assert answer.status_code == 303
    added = admin.scalars(select(Person).where(Person.name == "赵 敏"))[0]
    assert (added.phone, added.site_id, added.post, added.role, added.township) == (
        "13900000007", "chengnan", "网格员", "worker", "城关镇")
    page = admin.client.get("/township/people").text
    assert "赵 敏 · 网格员" in page and "13900000007" in page
    assert [e.subject for e in events(admin, "person.created")] == [added.id]


@pytest.mark.parametrize(("form", "field"), [
    ({"name": "", "phone": "13900000007", "site": "chengnan"}, "name"),
    ({"name": "赵敏", "phone": "1.39E+10", "site": "chengnan"}, "phone"),
    ({"name": "赵敏", "phone": "13900000007", "site": "nowhere"}, "site"),
    ({"name": "赵敏", "phone": "13900000007", "site": "chengnan", "post": "岗" * 51}, "post"),
])
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(admin: World, form: dict, field: str) -> None:
    answer = post(admin, "/township/people/new", **form)

    assert answer.status_code == 400 and f'data-field="{field}"' in answer.text
    assert admin.scalars(select(Person).where(Person.name == "赵敏")) == []


def test_a_phone_number_belongs_to_one_person_of_the_township(admin: World) -> None:
    post(admin, "/township/people/edit", name="x")  # a stray post changes nothing
    assert post(admin, "/township/people/zhangwei/edit", name="张伟", phone="13800138000", site="dongfeng").status_code == 303

    answer = post(admin, "/township/people/lina/edit", name="李娜", phone="+8613800138000", site="chengnan")

    assert answer.status_code == 400 and "张伟" in answer.text
    assert person(admin, "lina").phone is None


def test_editing_a_person_records_what_changed_and_a_new_site_moves_them(admin: World) -> None:
    assert admin.client.get("/township/people/zhangwei/edit").status_code == 200

    post(admin, "/township/people/zhangwei/edit", name="张伟", phone="13800138000", site="chengnan", post="卡口")

    moved = person(admin, "zhangwei")
    assert (moved.site_id, moved.phone, moved.post) == ("chengnan", "13800138000", "卡口")
    [changed] = events(admin, "person.changed")
    assert changed.detail == {"site_id": ["dongfeng", "chengnan"], "phone": [None, "13800138000"],
                              "post": [None, "卡口"]}


def test_a_retired_persons_phone_gets_401_keeps_its_outbox_and_cannot_enrol_again(admin: World) -> None:
    phone = admin.phone("zhangwei")
    phone.replica.put("kept", "shift", shift(phone.site, end=START + 8 * HOUR), START)
    phone.sync()  # the phone's clock is right: START is in the past
    phone.replica.put("waiting", "shift", shift(phone.site, start=START + HOUR, end=START + 2 * HOUR), START)
    unused_code = admin.code("zhangwei")

    assert post(admin, "/township/people/zhangwei/retire").status_code == 303

    with pytest.raises(SyncError) as refused:
        phone.sync()
    assert refused.value.status == 401
    assert [c.entry for c in phone.replica.outbox] == ["waiting"]
    with pytest.raises(SyncError) as not_enrolled:
        enrol("", unused_code, admin.client)
    assert not_enrolled.value.status == 400
    assert post(admin, "/township/people/zhangwei/code").status_code == 403  # no new codes either
    # The entries stay and still show; the person leaves the people page for the retired list.
    assert "东门卡口" in admin.client.get("/township/shifts").text
    assert "张伟" not in admin.client.get("/township/people").text
    assert "张伟" in admin.client.get("/township/people/retired").text
    assert admin.scalars(select(Device.revoked_at.is_not(None)).where(Device.person_id == "zhangwei")) == [True]
    [retired] = events(admin, "person.retired")
    assert retired.detail == {"devices": [phone.replica.device]}


def test_a_retired_lead_cannot_sign_in_and_their_session_ends(admin: World) -> None:
    admin.account("lead1", "lead")
    admin.sign_in("lead1")
    session = admin.client.cookies.get("nx_session")
    admin.sign_in("admin1")

    post(admin, "/township/people/lead1/retire")

    admin.client.cookies.clear()
    admin.client.cookies.set("nx_session", session, path="/township")
    assert admin.client.get("/township/", follow_redirects=False).status_code == 303  # to the sign-in page
    refused = admin.sign_in("lead1")
    assert refused.status_code == 200 and "已停用" in refused.text and "nx_session" not in admin.client.cookies
    assert events(admin, "sign_in.failed")[-1].subject == "lead1"


def test_a_reinstated_person_signs_in_again_but_their_phones_need_new_codes(admin: World) -> None:
    admin.account("lead1", "lead")
    phone = admin.phone("lead1")
    post(admin, "/township/people/lead1/retire")

    assert post(admin, "/township/people/lead1/reinstate").status_code == 303

    assert admin.sign_in("lead1").status_code == 303
    with pytest.raises(SyncError):
        phone.sync(START)
    admin.phone("lead1").sync(START)  # a new code works
    assert [e.event for e in admin.scalars(select(AuditEvent).where(AuditEvent.subject == "lead1")
                                           .where(AuditEvent.event.like("person.%")))] == [
        "person.retired", "person.reinstated"]


def test_an_administrator_cannot_retire_themselves(admin: World) -> None:
    answer = post(admin, "/township/people/admin1/retire")

    assert answer.status_code == 409 and person(admin, "admin1").retired_at is None


@pytest.mark.parametrize("role", ["staff", "lead", "care"])
def test_only_administrators_manage_people(world: World, role: str) -> None:
    world.account("someone", role)
    world.sign_in("someone")

    answers = [world.client.get("/township/people/new"), world.client.get("/township/people/lina/edit"),
               world.client.get("/township/people/retired"),
               post(world, "/township/people/new", name="赵敏", site="chengnan"),
               post(world, "/township/people/lina/edit", name="李娜娜", site="chengnan"),
               post(world, "/township/people/lina/retire")]

    assert [a.status_code for a in answers] == [403] * 6
    assert (person(world, "lina").name, person(world, "lina").retired_at) == ("李娜", None)


def test_another_townships_administrator_cannot_touch_our_people(world: World) -> None:
    world.session(_other_admin)
    world.sign_in("admin_hx")

    answers = [world.client.get("/township/people/lina/edit"),
               post(world, "/township/people/lina/edit", name="李娜娜", site="chengnan"),
               post(world, "/township/people/lina/retire"), post(world, "/township/people/lina/reinstate"),
               post(world, "/township/people/new", name="赵敏", site="chengnan")]

    assert [a.status_code for a in answers] == [403, 403, 403, 403, 400]
    assert (person(world, "lina").name, person(world, "lina").retired_at) == ("李娜", None)


async def _other_admin(session) -> None:
    from datetime import UTC, datetime

    from server.services.accounts import create_account

    session.add(Person(id="admin_hx", name="admin_hx", role="admin", site_id=None, township="河西镇"))
    await session.flush()
    await create_account(session, "admin_hx", "admin_hx", "correct horse battery", datetime.now(UTC))


def test_a_new_site_on_the_edit_form_resets_the_persons_phones_as_a_move_does(admin: World) -> None:
    phone = admin.phone("zhangwei")
    phone.sync()

    post(admin, "/township/people/zhangwei/edit", name="张伟", site="chengnan")

    answer = phone.transport(phone.replica.request(START))
    assert answer.reset is True
