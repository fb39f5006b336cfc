"""Every role against every dashboard page and action (docs/roles.md), in production mode.

The expected table is written out here, not read from server/policy.py, so that a change to
the policy that the docs do not share fails this test.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.models import Conflict
from tests.support.world import HOUR, START, World, conflict_on_post, shift

DASHBOARD = {"lead", "staff", "care", "admin"}
PAGES = [
    ("/township/", DASHBOARD),
    ("/township/shifts", DASHBOARD),
    ("/township/charts", DASHBOARD),
    ("/township/charts/fatigue", {"care"}),
    ("/township/report", {"staff", "admin"}),
    ("/township/report.csv", {"staff", "admin"}),
    ("/township/conflicts", {"staff", "care", "admin"}),
    ("/township/wellbeing", DASHBOARD),
    ("/township/people", {"staff", "admin"}),
    ("/township/password", DASHBOARD),
    ("/township/export/shifts.csv", DASHBOARD),
    ("/township/subsidy", {"staff", "admin"}),
    ("/township/subsidy.csv", {"staff", "admin"}),
    ("/township/settings", {"admin"}),
    ("/township/audit", {"admin"}),
    ("/township/audit.csv", {"admin"}),
    ("/township/supplies", {"lead", "staff", "admin"}),
    ("/township/export/supplies.csv", {"lead", "staff", "admin"}),
    ("/township/export/requests.csv", {"lead", "staff", "admin"}),
    ("/township/export/wellbeing.csv", {"care"}),
    ("/township/sites", {"admin"}),
    ("/township/accounts", {"admin"}),
    ("/township/roster", {"admin"}),
    ("/township/people/new", {"admin"}),
    ("/township/people/retired", {"admin"}),
    ("/township/people/lina/edit", {"admin"}),
]
ACTIONS = [
    ("/township/shifts/s1/approval", {"decision": "approved"}, {"staff", "admin"}),
    ("/township/conflicts/{conflict}/resolve", {"choice": "0"}, {"staff", "admin"}),
    ("/township/wellbeing/c1/followup", {"note": "已电话联系"}, {"care"}),
    ("/township/people/zhangwei/code", {}, {"staff", "admin"}),
    ("/township/sites/dongfeng/codes", {}, {"staff", "admin"}),
    ("/township/devices/{device}/revoke", {}, {"staff", "admin"}),
    ("/township/people/lina/site", {"site": "dongfeng"}, {"admin"}),
    ("/township/requests/r1/status", {"status": "approved"}, {"staff", "admin"}),
    ("/township/settings", {"items": "mask | 口罩 | Masks | 个", "max_shift_hours": "12", "min_rest_hours": "8",
                            "max_days_without_rest": "7", "day": "15", "night": "20", "on_call": "10",
                            "days_left": "3", "silent_hours": "24", "late_hours": "24", "grace_hours": "2"}, {"admin"}),
    ("/township/sites/dongfeng/edit", {"name": "东风村"}, {"admin"}),
    ("/township/people/lina/edit", {"name": "李娜", "site": "chengnan"}, {"admin"}),
    ("/township/accounts/wangfang/role", {"role": "staff"}, {"admin"}),
]
# Let through by the guard but refused by the service: care staff resolve wellbeing conflicts
# only, and the conflict here is on a shift.
REFUSED = {("/township/conflicts/{conflict}/resolve", "care"): {409}}
ACCOUNTS = {"lead": "lead1", "staff": "wangfang", "care": "chenjing", "admin": "admin1"}
PRIVATE_NOTE = "夜里睡不着，想找人聊聊"


@pytest.fixture
def township(database_url: str):
    with World.start(database_url, env="production", secret="s" * 32) as world:
        first, _ = conflict_on_post(world, "s2")
        first.replica.put("s1", "shift", shift(first.site, end=START + 8 * HOUR), START)
        first.replica.put("r1", "request", {"site": first.site, "item": "口罩", "unit": "个", "quantity": 5,
                                            "at": START}, START)
        first.replica.put("c1", "checkin", {"site": first.site, "at": START, "fatigue": 5, "talk": True,
                                            "note": PRIVATE_NOTE}, START)
        first.sync(START)
        for role, name in ACCOUNTS.items():
            world.account(name, role)
        world.ids = {"conflict": world.scalars(select(Conflict.id))[0], "device": first.replica.device}
        yield world


@pytest.mark.parametrize("role", [None, *ACCOUNTS])
def test_each_role_reaches_exactly_its_pages_and_actions(township: World, role: str | None) -> None:
    if role is not None:
        assert township.sign_in(ACCOUNTS[role]).status_code == 303
    else:
        township.client.cookies.clear()
    token = township.csrf()
    wrong = []
    for path, allowed in PAGES:
        answer = township.client.get(path, follow_redirects=False)
        expected = 200 if role in allowed else (303 if role is None else 403)
        if answer.status_code != expected:
            wrong.append((path, answer.status_code, expected))
    for template, form, allowed in ACTIONS:
        path = template.format(**township.ids)
        answer = township.client.post(path, data={**form, "_csrf_token": token}, follow_redirects=False)
        expected = {200, 303} if role in allowed else ({401} if role is None else {403})
        expected = REFUSED.get((template, role), expected)
        if answer.status_code not in expected:
            wrong.append((path, answer.status_code, expected))
    assert wrong == []


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_wellbeing_details_reach_care_staff_only(township: World, role: str) -> None:
    township.sign_in(ACCOUNTS[role])

    page = township.client.get("/township/wellbeing")

    assert (PRIVATE_NOTE in page.text) is (role == "care")
    if page.status_code == 200:
        assert "希望有人聊聊" in page.text  # everyone allowed in sees the counts


def test_a_site_lead_sees_only_their_own_site(township: World) -> None:
    other = township.phone("lina")
    other.replica.put("x1", "shift", shift(other.site, post="南门卡口"), START)
    other.sync(START)
    township.sign_in(ACCOUNTS["lead"])

    page = township.client.get("/township/shifts")

    assert "东风村" in page.text
    assert "城南社区" not in page.text and "南门卡口" not in page.text


def test_sign_in_locks_out_after_repeated_failures(township: World) -> None:
    for _ in range(5):
        township.sign_in("wangfang", "wrong password!")

    answer = township.sign_in("wangfang")

    assert answer.status_code == 200  # the form again, with the one answer every failure gets
    assert "暂时锁定" in answer.text and "nx_session" not in township.client.cookies


def test_password_change_signs_out_other_sessions(township: World) -> None:
    township.sign_in("wangfang")
    old_cookie = township.client.cookies.get("nx_session")
    changed = township.client.post(
        "/township/password",
        data={"current": "correct horse battery", "new": "a new long passphrase", "_csrf_token": township.csrf()},
    )
    assert "密码已修改" in changed.text

    township.client.cookies.clear()
    township.client.cookies.set("nx_session", old_cookie, path="/township")
    answer = township.client.get("/township/", follow_redirects=False)

    assert answer.status_code == 303
    assert township.sign_in("wangfang", "a new long passphrase").status_code == 303


def test_sign_out_ends_the_session(township: World) -> None:
    township.sign_in("wangfang")
    cookie = township.client.cookies.get("nx_session")

    township.client.post("/township/logout", data={"_csrf_token": township.csrf()})
    township.client.cookies.set("nx_session", cookie, path="/township")

    assert township.client.get("/township/", follow_redirects=False).status_code == 303
