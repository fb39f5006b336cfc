"""What an administrator types about sites and people, checked once: names, phone numbers,
posts, ids; and which sites and people an administrator may manage (their own township's; a
deployment-wide administrator's: all). The forms, the roster import and the accounts page use it.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Person, Site
from server.policy import Principal, visible_sites

MOBILE = re.compile(r"1[3-9]\d{9}")  # a mainland mobile number
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
NAME_MAX, POST_MAX = 100, 50
SITE_PEOPLE = ("worker", "lead")  # people who belong to a site and carry phones


class Invalid(ValueError):
    """Bad input, naming the field: shown next to the form (a 400), or on a roster row."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def clean_name(typed: str, field: str = "name") -> str:
    name = " ".join(typed.split())
    if not name:
        raise Invalid(field, "缺少姓名 / the name is missing")
    if len(name) > NAME_MAX:
        raise Invalid(field, f"名称太长（最多 {NAME_MAX} 字） / longer than {NAME_MAX} characters")
    return name


def clean_phone(typed: str) -> str | None:
    """11 digits starting with 1, as typed or pasted: spaces, dashes and a +86 are dropped. An
    empty cell is no number; a spreadsheet's 1.38E+10 is refused, not guessed at."""
    digits = re.sub(r"[\s\-()（）]", "", typed)
    if not digits:
        return None
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not MOBILE.fullmatch(digits):
        raise Invalid("phone", f"手机号“{typed.strip()}”不对：应为 1 开头的 11 位数字 / "
                               "a phone number is 11 digits starting with 1")
    return digits


def clean_post(typed: str) -> str | None:
    post = " ".join(typed.split())
    if len(post) > POST_MAX:
        raise Invalid("post", f"岗位太长（最多 {POST_MAX} 字） / the post is longer than {POST_MAX} characters")
    return post or None


def clean_id(typed: str, field: str = "id") -> str:
    found = typed.strip()
    if not ID.fullmatch(found):
        raise Invalid(field, "编号只用字母、数字、- _ .（最多 64 个） / an id is letters, digits, - _ . (up to 64)")
    return found


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


def in_township(who: Principal, column) -> ColumnElement[bool]:
    """Rows of `who`'s township; a deployment-wide administrator's: every township."""
    return true() if who.township == "*" else column == who.township


async def managed_person(session: AsyncSession, who: Principal, person_id: str, lock: bool = False) -> Person | None:
    """A person of `who`'s township, retired or not, with a site or not (staff)."""
    query = select(Person).where(Person.id == person_id, in_township(who, Person.township))
    return await session.scalar(query.with_for_update() if lock else query)


async def open_site(session: AsyncSession, who: Principal, site_id: str) -> Site | None:
    """A site `who` manages that takes people: not retired."""
    return await session.scalar(
        select(Site).where(Site.id == site_id, visible_sites(who), Site.retired_at.is_(None))
    )


async def phone_holder(session: AsyncSession, township: str, phone: str | None) -> Person | None:
    """Who of the township has this number (retired people keep theirs)."""
    if phone is None:
        return None
    return await session.scalar(select(Person).where(Person.township == township, Person.phone == phone))
