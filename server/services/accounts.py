"""Staff accounts: scrypt password hashes, signed session cookies, lockout back-off."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Person, StaffAccount
from server.policy import Principal
from server.services.passwords import password_problem

# scrypt with N=2^15, r=8: 32 MiB and ~0.1 s per guess (memory-hard, in the standard library).
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
SCRYPT_MAXMEM = 64 * 1024 * 1024
SESSION_TTL = timedelta(hours=12)
FREE_FAILURES = 5  # then each failure locks the account for twice as long, up to a day
MAX_LOCK = timedelta(days=1)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=SCRYPT_MAXMEM, **SCRYPT)
    return "scrypt${n}${r}${p}${salt}${hash}".format(
        **SCRYPT, salt=base64.b64encode(salt).decode(), hash=base64.b64encode(digest).decode()
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, expected = stored.split("$")
        digest = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), maxmem=SCRYPT_MAXMEM
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))


class SignInError(Exception):
    pass


# One answer for every failed sign-in: a wrong password, an unknown name and a locked account
# look the same (and cost the same scrypt run), so the form tells nobody which names exist.
WRONG = (
    "用户名或密码不对；连续失败多次后账户会暂时锁定 / "
    "wrong username or password; after repeated failures the account is locked for a while"
)
WRONG_CURRENT = "原密码不对 / the current password is wrong"
TOO_MANY = "尝试次数过多，账户已暂时锁定 / too many attempts; the account is locked for a while"
RETIRED = "此账户的人员已停用，请联系管理员 / this person is retired; ask your administrator"


def _aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _locked(account: StaffAccount, now: datetime) -> bool:
    locked = _aware(account.locked_until)
    return locked is not None and locked > now


def _failed(account: StaffAccount, now: datetime) -> None:
    """Count a wrong password; past FREE_FAILURES each one locks for twice as long, up to a day."""
    account.failed_count += 1
    if account.failed_count >= FREE_FAILURES:
        lock = timedelta(minutes=2 ** min(account.failed_count - FREE_FAILURES, 11))
        account.locked_until = now + min(lock, MAX_LOCK)


async def sign_in(session: AsyncSession, username: str, password: str, now: datetime) -> StaffAccount | str:
    """The account, or the reason a person reads. Failures return (not raise) so that the
    caller's transaction commits the failure count."""
    account = await session.scalar(
        select(StaffAccount).where(StaffAccount.username == username).with_for_update()
    )
    if account is None:
        verify_password(password, _dummy_hash())  # the same work whether or not the name exists
        return WRONG
    correct = verify_password(password, account.password_hash)  # run even when locked: same work
    if _locked(account, now):
        return WRONG
    if not correct:
        _failed(account, now)
        return WRONG
    account.failed_count, account.locked_until = 0, None
    person = await session.get(Person, account.person_id)
    if person is None or person.retired_at is not None:
        return RETIRED  # said only to whoever knows the password
    return account


async def create_account(session: AsyncSession, person_id: str, username: str, password: str, now: datetime) -> StaffAccount:
    problem = password_problem(password, username)
    if problem:
        raise SignInError(problem)
    account = StaffAccount(
        person_id=person_id, username=username, password_hash=hash_password(password),
        session_version=1, failed_count=0, created_at=now,
    )
    session.add(account)
    return account


@dataclass(frozen=True)
class PasswordRefused:
    reason: str
    signed_out: bool = False  # the guesses used up the account's free failures: every session ends


async def change_password(
    session: AsyncSession, person_id: str, old: str, new: str, now: datetime
) -> StaffAccount | PasswordRefused:
    """The account with its new password, or why not. A wrong current password counts as a
    failed sign-in (returned, not raised, so that the count commits): a stolen session cannot
    guess it without limit. When the account locks, all its sessions end."""
    account = await session.get(StaffAccount, person_id, with_for_update=True)
    if account is None:
        return PasswordRefused(WRONG_CURRENT)
    if _locked(account, now):
        return PasswordRefused(TOO_MANY)
    if not verify_password(old, account.password_hash):
        _failed(account, now)
        if _locked(account, now):
            account.session_version += 1
            return PasswordRefused(WRONG_CURRENT, signed_out=True)
        return PasswordRefused(WRONG_CURRENT)
    problem = password_problem(new, account.username)
    if problem:
        return PasswordRefused(problem)
    account.password_hash = hash_password(new)
    account.session_version += 1
    account.failed_count, account.locked_until = 0, None
    return account


async def sign_out(session: AsyncSession, person_id: str) -> None:
    account = await session.get(StaffAccount, person_id, with_for_update=True)
    if account is not None:
        account.session_version += 1


# -- session cookies: base64(json).hmac, checked against the account's session_version -----


def _sign(secret: str, payload: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest()).decode().rstrip("=")


def session_cookie(secret: str, account: StaffAccount, now: datetime) -> str:
    payload = json.dumps(
        {"p": account.person_id, "v": account.session_version, "e": int((now + SESSION_TTL).timestamp())}
    ).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_sign(secret, payload)}"


def read_cookie(secret: str, cookie: str, now: datetime) -> tuple[str, int] | None:
    body, _, signature = cookie.partition(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        data = json.loads(payload)
    except (ValueError, json.JSONDecodeError):
        return None
    if not hmac.compare_digest(signature, _sign(secret, payload)) or data.get("e", 0) < now.timestamp():
        return None
    return data.get("p"), data.get("v")


async def staff_principal(session: AsyncSession, secret: str, cookie: str, now: datetime) -> Principal | None:
    found = read_cookie(secret, cookie, now)
    if found is None:
        return None
    person_id, version = found
    row = (
        await session.execute(
            select(StaffAccount, Person)
            .join(Person, Person.id == StaffAccount.person_id)
            .where(StaffAccount.person_id == person_id)
        )
    ).first()
    if row is None or row[0].session_version != version or row[1].retired_at is not None:
        return None
    person = row[1]
    return Principal(person.id, person.name, person.role, person.site_id, person.township)


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))
