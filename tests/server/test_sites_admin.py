"""Administrators create, rename, retire and reinstate their township's sites (issue 10, item 1)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from server.models import AuditEvent, Person, Site
from server.services.accounts import create_account
from tests.support.world import START, World


@pytest.fixture
def world(database_url: str):
    """In production mode: no development administrator stands in for a signed-out browser."""
    with World.start(database_url, env="production", secret="s" * 32) as world:
        world.session(_admins)
        yield world


async def _admins(session) -> None:
    """城关镇's administrator, 河西镇's (with a site), and a deployment-wide one."""
    session.add(Site(id="hexi", name="河西村", township="河西镇"))
    await session.flush()
    for person, township in (("admin1", "城关镇"), ("admin_hx", "河西镇"), ("admin_all", "*")):
        session.add(Person(id=person, name=person, role="admin", site_id=None, township=township))
        await session.flush()
        await create_account(session, person, person, "correct horse battery", datetime.now(UTC))


def post(world: World, path: str, **form: str):
    return world.client.post(path, data={**form, "_csrf_token": world.csrf()}, follow_redirects=False)


def site(world: World, site_id: str) -> Site | None:
    found = world.scalars(select(Site).where(Site.id == site_id))
    return found[0] if found else None


def test_a_new_site_is_in_the_administrators_own_township(world: World) -> None:
    world.sign_in("admin1")

    answer = post(world, "/township/sites", id="xingfu", name="幸福村", township="河西镇")

    assert answer.status_code == 303
    made = site(world, "xingfu")
    assert (made.name, made.township) == ("幸福村", "城关镇")  # the typed township is not theirs to choose
    page = world.client.get("/township/sites").text
    assert "幸福村" in page and "河西村" not in page
    assert world.scalars(select(AuditEvent.event).where(AuditEvent.subject == "xingfu")) == ["site.created"]


def test_a_deployment_wide_administrator_names_the_township(world: World) -> None:
    world.sign_in("admin_all")

    missing = post(world, "/township/sites", name="幸福村")
    made = post(world, "/township/sites", name="幸福村", township="河西镇")

    assert missing.status_code == 400 and 'data-field="township"' in missing.text
    assert made.status_code == 303
    [new] = world.scalars(select(Site).where(Site.name == "幸福村"))
    assert new.township == "河西镇" and new.id.startswith("site-")


@pytest.mark.parametrize(("form", "field"), [
    ({"id": "dongfeng", "name": "东风二村"}, "id"),  # taken
    ({"id": "东风", "name": "东风二村"}, "id"),
    ({"id": "", "name": "  "}, "name"),
])
def test_bad_site_input_is_a_400_naming_the_field(world: World, form: dict, field: str) -> None:
    world.sign_in("admin1")

    answer = post(world, "/township/sites", **form)

    assert answer.status_code == 400 and f'data-field="{field}"' in answer.text
    assert world.scalars(select(Site.name).where(Site.id == "dongfeng")) == ["东风村"]


def test_renaming_a_site_keeps_its_id_and_is_recorded(world: World) -> None:
    world.sign_in("admin1")

    post(world, "/township/sites/dongfeng/edit", name="东风社区")

    assert site(world, "dongfeng").name == "东风社区"
    [event] = world.scalars(select(AuditEvent).where(AuditEvent.event == "site.changed"))
    assert event.detail == {"name": ["东风村", "东风社区"]}


def test_a_site_with_people_is_not_retired(world: World) -> None:
    world.sign_in("admin1")

    answer = post(world, "/township/sites/dongfeng/retire")

    assert answer.status_code == 409 and "还有 1 人" in answer.text
    assert site(world, "dongfeng").retired_at is None


def test_a_retired_site_takes_no_people_codes_or_transfers_and_comes_back(world: World) -> None:
    world.sign_in("admin1")
    phone = world.phone("zhangwei")  # at dongfeng
    post(world, "/township/people/lina/edit", name="李娜", site="dongfeng")  # chengnan is now empty

    assert post(world, "/township/sites/chengnan/retire").status_code == 303

    assert site(world, "chengnan").retired_at is not None
    assert post(world, "/township/people/lina/site", site="chengnan").status_code == 403
    assert post(world, "/township/people/new", name="赵敏", site="chengnan").status_code == 400
    assert 'value="chengnan"' not in world.client.get("/township/people").text
    phone.replica.put("t1", "supply", {"site": "dongfeng", "item": "mask", "unit": "个", "movement": "transferred",
                                       "quantity": 10, "at": START, "to_site": "chengnan"}, START)
    phone.sync()
    [refused] = phone.replica.rejected.values()
    assert [e.field for e in refused.errors] == ["to_site"]

    assert post(world, "/township/sites/chengnan/reinstate").status_code == 303
    assert post(world, "/township/people/lina/site", site="chengnan").status_code == 303
    assert [e for e in world.scalars(select(AuditEvent.event).where(AuditEvent.subject == "chengnan"))] == [
        "site.retired", "site.reinstated"]


def test_another_townships_administrator_cannot_touch_our_sites(world: World) -> None:
    world.sign_in("admin_hx")

    answers = [post(world, "/township/sites/dongfeng/edit", name="x"), post(world, "/township/sites/dongfeng/retire"),
               post(world, "/township/sites/dongfeng/reinstate")]

    assert [a.status_code for a in answers] == [403, 403, 403]
    assert "东风村" not in world.client.get("/township/sites").text
    assert site(world, "dongfeng").name == "东风村"


@pytest.mark.parametrize("role", ["staff", "lead", "care"])
def test_only_administrators_manage_sites(world: World, role: str) -> None:
    world.account("someone", role)
    world.sign_in("someone")

    answers = [world.client.get("/township/sites"), post(world, "/township/sites", name="幸福村"),
               post(world, "/township/sites/dongfeng/edit", name="x"), post(world, "/township/sites/dongfeng/retire")]

    assert [a.status_code for a in answers] == [403] * 4
    assert site(world, "dongfeng").name == "东风村" and world.scalars(select(Site).where(Site.name == "幸福村")) == []
