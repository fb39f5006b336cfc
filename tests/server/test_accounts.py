"""Staff accounts: sign-in answers that name no account, limited password guesses, and new
passwords that are not common."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from server.models import StaffAccount
from server.services import accounts
from server.services.passwords import password_problem
from tests.support.world import World

PASSWORD = "correct horse battery"


@pytest.fixture
def township(database_url: str):
    with World.start(database_url, env="production", secret="s" * 32) as world:
        world.account("wangfang", "staff")
        yield world


@pytest.fixture
def scrypt_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the key derivations the server runs (and runs them: this is a spy, not a stand-in)."""
    accounts._dummy_hash()  # made once per process; made here so that it is not counted
    runs: list[int] = []
    real = hashlib.scrypt

    def counted(*args, **kwargs):
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    return runs


def _answer(world: World, username: str, password: str, runs: list[int]) -> tuple[int, str, int]:
    before = len(runs)
    answer = world.sign_in(username, password)
    body = re.sub(r'name="_csrf_token" value="[^"]+"', "", answer.text)
    return answer.status_code, body, len(runs) - before


def test_unknown_locked_and_wrong_answer_alike_after_the_same_work(township: World, scrypt_runs: list[int]) -> None:
    wrong = _answer(township, "wangfang", "not the password", scrypt_runs)
    unknown = _answer(township, "nobody-by-this-name", "not the password", scrypt_runs)
    for _ in range(5):
        township.sign_in("wangfang", "not the password")
    locked = _answer(township, "wangfang", PASSWORD, scrypt_runs)  # the right password, while locked

    assert wrong == unknown == locked
    status, body, runs = locked
    assert status == 200 and runs == 1
    assert accounts.WRONG in body
    assert "nx_session" not in township.client.cookies


def _change(world: World, current: str, new: str = "a new long passphrase"):
    return world.client.post("/township/password", data={"current": current, "new": new,
                                                          "_csrf_token": world.csrf()}, follow_redirects=False)


def test_guessing_the_current_password_locks_the_account_and_ends_the_session(township: World) -> None:
    township.sign_in("wangfang")
    answers = [_change(township, f"guess number {i}") for i in range(accounts.FREE_FAILURES)]

    assert [a.status_code for a in answers[:-1]] == [200] * (accounts.FREE_FAILURES - 1)
    assert all(accounts.WRONG_CURRENT in a.text for a in answers[:-1])
    assert answers[-1].status_code == 303 and answers[-1].headers["location"] == "/township/login"
    assert township.client.get("/township/", follow_redirects=False).status_code == 303  # signed out
    assert township.sign_in("wangfang").status_code == 200  # locked: the right password waits too
    account = township.scalars(select(StaffAccount).where(StaffAccount.username == "wangfang"))[0]
    assert account.failed_count == accounts.FREE_FAILURES and account.locked_until is not None


def test_a_wrong_current_password_is_counted_even_though_the_change_is_refused(township: World) -> None:
    township.sign_in("wangfang")

    _change(township, "not the password")

    account = township.scalars(select(StaffAccount).where(StaffAccount.username == "wangfang"))[0]
    assert account.failed_count == 1


@pytest.mark.parametrize(
    "new", ["password123", "Password123!", "qwertyuiop", "1qaz2wsx3edc", "woaini1314", "aaaaaaaaaaaa",
            "ababababab", "wangfang2025!", "nuanxin-admin-1", "short"],
)
def test_common_or_personal_new_passwords_are_refused(township: World, new: str) -> None:
    township.sign_in("wangfang")

    answer = _change(township, PASSWORD, new)

    assert answer.status_code == 200 and 'role="alert"' in answer.text
    assert township.sign_in("wangfang").status_code == 303  # the old password still works


def test_an_uncommon_password_is_accepted() -> None:
    assert password_problem("violet tractor sings 42", "wangfang") is None
    assert password_problem("wangfang is me", "wangfang") is not None
    assert password_problem("Password12345", "") is not None
