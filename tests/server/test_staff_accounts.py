"""Administrators manage dashboard accounts (issue 10, item 1), which only the command line could:
create one, change a role among staff, care and admin, set a new password; in their township."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from server.models import AuditEvent, Person, StaffAccount
from server.services.accounts import create_account
from tests.support.world import World

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a new long passphrase"


@pytest.fixture
def world(database_url: str):
    """In production mode: no development administrator stands in for a signed-out browser."""
    with World.start(database_url, env="production", secret="s" * 32) as world:
        world.account("admin1", "admin")
        world.account("wangfang", "staff")
        world.session(_other_admin)
        world.sign_in("admin1")
        yield world


async def _other_admin(session) -> None:
    session.add(Person(id="admin_hx", name="admin_hx", role="admin", site_id=None, township="河西镇"))
    await session.flush()
    await create_account(session, "admin_hx", "admin_hx", PASSWORD, datetime.now(UTC))


def post(world: World, path: str, **form: str):
    return world.client.post(path, data={**form, "_csrf_token": world.csrf()}, follow_redirects=False)


def role_of(world: World, person_id: str) -> str:
    return world.scalars(select(Person.role).where(Person.id == person_id))[0]


def test_a_new_staff_account_signs_in_and_its_creation_is_recorded(world: World) -> None:
    answer = post(world, "/township/accounts", username="liuqiang", password=NEW_PASSWORD, role="care", name="刘强")

    assert answer.status_code == 303
    [made] = world.scalars(select(Person).join(StaffAccount, StaffAccount.person_id == Person.id)
                           .where(StaffAccount.username == "liuqiang"))
    assert (made.name, made.role, made.township, made.site_id) == ("刘强", "care", "城关镇", None)
    [event] = world.scalars(select(AuditEvent).where(AuditEvent.event == "account.created"))
    assert (event.actor, event.subject, event.detail) == ("admin1", made.id, {"role": "care", "username": "liuqiang"})
    assert world.sign_in("liuqiang", NEW_PASSWORD).status_code == 303
    assert world.client.get("/township/wellbeing").status_code == 200


def test_a_worker_becomes_their_sites_lead(world: World) -> None:
    post(world, "/township/accounts", username="zhangwei", password=NEW_PASSWORD, role="lead", person="zhangwei")

    assert role_of(world, "zhangwei") == "lead"
    world.sign_in("zhangwei", NEW_PASSWORD)
    assert "东风村" in world.client.get("/township/").text


@pytest.mark.parametrize(("form", "field"), [
    ({"username": "liuqiang", "password": "1234567890", "role": "staff", "name": "刘强"}, "password"),
    ({"username": "liuqiang", "password": "liuqiang-secret", "role": "staff", "name": "刘强"}, "password"),
    ({"username": "wangfang", "password": NEW_PASSWORD, "role": "staff", "name": "刘强"}, "username"),
    ({"username": "刘强", "password": NEW_PASSWORD, "role": "staff", "name": "刘强"}, "username"),
    ({"username": "liuqiang", "password": NEW_PASSWORD, "role": "root", "name": "刘强"}, "role"),
    ({"username": "liuqiang", "password": NEW_PASSWORD, "role": "lead", "name": "刘强"}, "site"),
    ({"username": "liuqiang", "password": NEW_PASSWORD, "role": "staff", "person": "zhangwei"}, "person"),
])
def test_bad_account_input_is_a_400_naming_the_field(world: World, form: dict, field: str) -> None:
    answer = post(world, "/township/accounts", **form)

    assert answer.status_code == 400 and f'data-field="{field}"' in answer.text
    assert world.scalars(select(Person).where(Person.name == "刘强")) == []
    assert role_of(world, "zhangwei") == "worker"


def test_a_role_changes_among_township_roles_and_takes_effect_at_once(world: World) -> None:
    assert post(world, "/township/accounts/wangfang/role", role="care").status_code == 303

    assert role_of(world, "wangfang") == "care"
    [event] = world.scalars(select(AuditEvent).where(AuditEvent.event == "account.role_changed"))
    assert event.detail == {"before": "staff", "after": "care"}
    world.sign_in("wangfang")
    assert world.client.get("/township/subsidy").status_code == 403  # no longer staff


def test_nobody_changes_their_own_role_nor_a_leads(world: World) -> None:
    world.account("lead1", "lead")

    own = post(world, "/township/accounts/admin1/role", role="staff")
    lead = post(world, "/township/accounts/lead1/role", role="admin")

    assert (own.status_code, lead.status_code) == (409, 409)
    assert (role_of(world, "admin1"), role_of(world, "lead1")) == ("admin", "lead")


def test_a_new_password_ends_every_session_of_the_account(world: World) -> None:
    world.sign_in("wangfang")
    session = world.client.cookies.get("nx_session")
    world.sign_in("admin1")

    weak = post(world, "/township/accounts/wangfang/password", password="short")
    done = post(world, "/township/accounts/wangfang/password", password=NEW_PASSWORD)

    assert weak.status_code == 400 and done.status_code == 303
    world.client.cookies.clear()
    world.client.cookies.set("nx_session", session, path="/township")
    assert world.client.get("/township/", follow_redirects=False).status_code == 303
    assert world.sign_in("wangfang", PASSWORD).status_code == 200  # the old password no longer works
    assert world.sign_in("wangfang", NEW_PASSWORD).status_code == 303


def test_an_administrator_sees_and_acts_on_their_townships_accounts_only(world: World) -> None:
    page = world.client.get("/township/accounts").text
    assert "wangfang" in page and "admin_hx" not in page

    world.sign_in("admin_hx")
    answers = [post(world, "/township/accounts/wangfang/role", role="admin"),
               post(world, "/township/accounts/wangfang/password", password=NEW_PASSWORD),
               post(world, "/township/people/wangfang/retire")]

    assert [a.status_code for a in answers] == [403, 403, 403]
    assert "wangfang" not in world.client.get("/township/accounts").text
    assert role_of(world, "wangfang") == "staff"
    assert world.sign_in("wangfang").status_code == 303


def test_a_retired_staff_member_cannot_sign_in(world: World) -> None:
    post(world, "/township/people/wangfang/retire")

    assert "已停用" in world.client.get("/township/accounts").text
    assert world.sign_in("wangfang").status_code == 200


@pytest.mark.parametrize("role", ["staff", "lead", "care"])
def test_only_administrators_manage_accounts(world: World, role: str) -> None:
    world.account("someone", role)
    world.sign_in("someone")

    answers = [world.client.get("/township/accounts"),
               post(world, "/township/accounts", username="liuqiang", password=NEW_PASSWORD, role="admin", name="刘强"),
               post(world, "/township/accounts/wangfang/role", role="admin"),
               post(world, "/township/accounts/wangfang/password", password=NEW_PASSWORD)]

    assert [a.status_code for a in answers] == [403] * 4
    assert role_of(world, "wangfang") == "staff" and world.scalars(select(Person).where(Person.name == "刘强")) == []
