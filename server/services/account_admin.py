"""Dashboard accounts as administrators manage them (the command line's `nuanxin add-account` made
the first one): create, change a role, set a new password, within the administrator's township.

Nobody changes their own role or resets their own password here (their own password has its own
page): an administrator cannot lock themselves out, nor skip the check of the current password.
A site lead's role stays lead: a lead has a site and phones, the other roles have neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Person, Site, StaffAccount
from server.policy import Principal, require
from server.services.accounts import create_account, hash_password
from server.services.audit import Actor, record
from server.services.directory import Invalid, clean_name, in_township, managed_person, new_id, open_site
from server.services.passwords import password_problem

ROLES = ("lead", "staff", "care", "admin")
TOWNSHIP_ROLES = ("staff", "care", "admin")  # of the township, not of a site: one becomes another
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}")


@dataclass
class AccountView:
    person_id: str
    username: str
    name: str
    role: str
    township: str
    site: str
    retired: bool
    locked_until: datetime | None


@dataclass
class NewAccount:
    """As typed: a new person (name, role, and for a lead a site), or an existing worker of one
    of the administrator's sites (`person`) who becomes that site's lead."""

    username: str
    password: str
    role: str
    name: str = ""
    site: str = ""
    person: str = ""
    township: str = ""  # a deployment-wide administrator's choice; others create in their own


async def accounts_in_scope(session: AsyncSession, who: Principal) -> list[AccountView]:
    require(who, "accounts.manage")
    rows = await session.execute(
        select(StaffAccount, Person, Site.name).join(Person, Person.id == StaffAccount.person_id)
        .outerjoin(Site, Site.id == Person.site_id).where(in_township(who, Person.township))
        .order_by(Person.retired_at.is_not(None), Person.township, StaffAccount.username)
    )
    return [AccountView(a.person_id, a.username, p.name, p.role, p.township, site or "", p.retired_at is not None,
                        a.locked_until) for a, p, site in rows]


def _role(typed: str) -> str:
    if typed not in ROLES:
        raise Invalid("role", "请选择角色 / choose a role")
    return typed


async def _person_for(session: AsyncSession, who: Principal, form: NewAccount, role: str) -> Person:
    if form.person.strip():
        person = await managed_person(session, who, form.person.strip(), lock=True)
        if person is None or person.retired_at is not None or person.role not in ("worker", "lead") or role != "lead":
            raise Invalid("person", "只能给自己站点的在册人员开站点负责人账户 / an existing person can only "
                                    "get a site lead's account, at one of your sites")
        if await session.get(StaffAccount, person.id) is not None:
            raise Invalid("person", f"{person.name} 已有账户 / {person.name} has an account already")
        person.role = "lead"
        return person
    township = who.township
    if who.township == "*":
        township = clean_name(form.township, "township")
    site = None
    if role == "lead":
        site = await open_site(session, who, form.site.strip())
        if site is None:
            raise Invalid("site", "站点负责人需要一个站点 / a site lead needs a site")
        township = site.township
    person = Person(id=new_id("p"), name=clean_name(form.name), role=role, site_id=site.id if site else None,
                    township=township)
    session.add(person)
    await session.flush()
    return person


async def create_staff_account(
    session: AsyncSession, who: Principal, form: NewAccount, now: datetime, address: str = ""
) -> StaffAccount:
    require(who, "accounts.manage")
    role = _role(form.role)
    username = form.username.strip()
    if not USERNAME.fullmatch(username):
        raise Invalid("username", "用户名 3–64 个字母、数字或 _ . @ - / a username is 3-64 letters, digits, _ . @ -")
    if await session.scalar(select(StaffAccount).where(StaffAccount.username == username)) is not None:
        raise Invalid("username", f"用户名 {username} 已被使用 / the username {username} is taken")
    problem = password_problem(form.password, username)
    if problem:
        raise Invalid("password", problem)
    person = await _person_for(session, who, form, role)
    account = await create_account(session, person.id, username, form.password, now)
    await record(session, "account.created", Actor.of(who, address), now, subject=person.id,
                 township=person.township, role=person.role, username=username)
    return account


async def _other_account(session: AsyncSession, who: Principal, person_id: str) -> tuple[Person, StaffAccount] | None:
    if person_id == who.person_id:
        raise Invalid("person", "自己的角色和密码不在这里改 / not your own account: use your password page")
    person = await managed_person(session, who, person_id, lock=True)
    account = await session.get(StaffAccount, person_id, with_for_update=True) if person else None
    return None if account is None else (person, account)


async def change_role(
    session: AsyncSession, who: Principal, person_id: str, role: str, now: datetime, address: str = ""
) -> Person | None:
    require(who, "accounts.manage")
    found = await _other_account(session, who, person_id)
    if found is None:
        return None
    person, _ = found
    if person.role != role and (person.role not in TOWNSHIP_ROLES or role not in TOWNSHIP_ROLES):
        raise Invalid("role", "只在 工作人员 / 关怀专员 / 管理员 之间更改 / roles change among staff, care and admin only")
    if person.role != role:
        await record(session, "account.role_changed", Actor.of(who, address), now, subject=person.id,
                     township=person.township, before=person.role, after=role)
        person.role = role
    return person


async def reset_password(
    session: AsyncSession, who: Principal, person_id: str, password: str, now: datetime, address: str = ""
) -> Person | None:
    """A new password the administrator hands over; every session of the account ends."""
    require(who, "accounts.manage")
    found = await _other_account(session, who, person_id)
    if found is None:
        return None
    person, account = found
    problem = password_problem(password, account.username)
    if problem:
        raise Invalid("password", problem)
    account.password_hash = hash_password(password)
    account.session_version += 1
    account.failed_count, account.locked_until = 0, None
    await record(session, "account.password_reset", Actor.of(who, address), now, subject=person.id,
                 township=person.township)
    return person
