"""Every dashboard route, found by walking `app.routes`, for every role and for anonymous users,
including accounts of another township; and CSRF on every POST route whose path holds "/api".

The expected answer of each route comes from its `opt` and `server.policy.ACTIONS` (which
tests/test_docs.py holds equal to docs/roles.md); tests/server/test_access.py keeps a written
table as a second check. A route added without an action is refused, and fails here.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

import pytest
from litestar.routes import HTTPRoute
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Conflict, Entry, Person, Site
from server.policy import ACTIONS, Principal, conflict_kinds
from server.services.accounts import create_account
from server.services.roster_import import fingerprint
from tests.support.world import HOUR, START, World, conflict_on_post, shift

PASSWORD = "correct horse battery"
HEADER_ONLY = "姓名,手机号,站点\r\n".encode()
OURS = {"lead": "lead1", "staff": "wangfang", "care": "chenjing", "admin": "admin1"}
THEIRS = {"lead": "lead2", "staff": "staff2", "care": "care2", "admin": "admin2"}
OTHER_TOWNSHIP = "新城镇"
# Names only our township's pages show: another township's account must never see them.
OUR_NAMES = ("东风村", "城南社区", "张伟")

# Values for path parameters. Entry ids are chosen by phones; these contain "/api" once in a path.
PARAMS = {
    "/township/shifts/{entry_id:str}/approval": {"entry_id": "apis1"},
    "/township/shifts/{entry_id:str}/times": {"entry_id": "apis1"},
    "/township/requests/{entry_id:str}/status": {"entry_id": "apir1"},
    "/township/wellbeing/{checkin_id:str}/followup": {"checkin_id": "apic1"},
    "/township/people/{person_id:str}/code": {"person_id": "apiworker"},
    "/township/sites/{site_id:str}/codes": {"site_id": "dongfeng"},
    "/township/people/{person_id:str}/site": {"person_id": "apiworker"},
    "/township/devices/{device_id:str}/revoke": {"device_id": "{device}"},
    "/township/devices/{device_id:str}/label": {"device_id": "{device}"},
    "/township/conflicts/{conflict_id:int}/resolve": {"conflict_id": "{conflict}"},
    "/township/sites/{site_id:str}/edit": {"site_id": "dongfeng"},
    "/township/sites/{site_id:str}/retire": {"site_id": "apiempty"},
    "/township/sites/{site_id:str}/reinstate": {"site_id": "apiempty"},
    "/township/people/{person_id:str}/edit": {"person_id": "apiworker"},
    "/township/people/{person_id:str}/retire": {"person_id": "apiretiree"},
    "/township/people/{person_id:str}/reinstate": {"person_id": "apiretiree"},
    "/township/accounts/{person_id:str}/role": {"person_id": "wangfang"},
    "/township/accounts/{person_id:str}/password": {"person_id": "wangfang"},
}
PARAM = re.compile(r"\{(\w+):\w+\}")
# Routes whose uploaded file names one of our township's things (a phone): refused to another
# township like a path that names one. The file: a phone's export with nothing waiting.
FILES = {
    "/township/carried": lambda ids: {"file": ("nuanxin.json", json.dumps({
        "format": "nuanxin-export", "version": 1, "exported_at": START, "entries": [], "outbox": [],
        "meta": {"device": ids["device"], "person": {"id": "zhangwei"}}}), "application/json")},
}
FORMS = {
    "/township/shifts/{entry_id:str}/approval": {"decision": "approved"},
    "/township/shifts/{entry_id:str}/times": {"start": "2025-11-24T08:00", "end": "2025-11-24T16:00"},
    "/township/requests/{entry_id:str}/status": {"status": "approved"},
    "/township/wellbeing/{checkin_id:str}/followup": {"note": "已电话联系"},
    "/township/people/{person_id:str}/site": {"site": "chengnan"},
    "/township/devices/{device_id:str}/label": {"label": "张伟的旧手机"},
    "/township/conflicts/{conflict_id:int}/resolve": {"choice": "0"},
    "/township/password": {"current": "not the password", "new": "a new long passphrase"},
    "/township/login": {"username": "nobody", "password": "not the password"},
    "/township/settings": {"items": "mask | 口罩 | Masks | 个", "max_shift_hours": "12", "min_rest_hours": "8",
                           "max_days_without_rest": "7", "day": "15", "night": "20", "on_call": "10",
                           "days_left": "3", "silent_hours": "24", "late_hours": "24", "grace_hours": "2"},
    "/township/sites": {"name": "新站点"},
    "/township/sites/{site_id:str}/edit": {"name": "东风村"},
    "/township/people/new": {"name": "小新", "site": "dongfeng", "phone": "13900000001"},
    "/township/people/{person_id:str}/edit": {"name": "小王", "site": "dongfeng"},
    "/township/accounts": {"username": "newcolleague", "password": "a new long passphrase", "role": "staff",
                           "name": "新同事"},
    "/township/accounts/{person_id:str}/role": {"role": "staff"},
    "/township/accounts/{person_id:str}/password": {"password": "a new long passphrase"},
    "/township/roster/import": {"content": base64.urlsafe_b64encode(HEADER_ONLY).decode(),
                                "fingerprint": fingerprint(HEADER_ONLY, [])},
}
# A roster naming our site by id (its name is one of ours: another township must not see it).
FILES["/township/roster/preview"] = lambda ids: {
    "file": ("roster.csv", "姓名,手机号,站点\n小李,13900000002,dongfeng\n".encode(), "text/csv")}
# Forms without path parameters that name one of our sites: another township's answer is a refusal.
NAMES_OUR_SITE = {"/township/people/new"}
# Uploads whose file names one of our things (a phone's file names our phone): refused to
# another township. A roster naming our site is previewed with that row's error instead.
FILES_NAMING_OURS = {"/township/carried"}


def township_routes(world: World) -> list[tuple[str, str, dict]]:
    """(path template, method, opt) of every dashboard handler; static files are not pages."""
    found = []
    for route in world.client.app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/township"):
            continue
        if route.path.startswith("/township/static/"):
            continue
        for handler in route.route_handlers:
            assert "township_guard" in [g.__name__ for g in handler.resolve_guards()], route.path
            for method in handler.http_methods:
                found.append((route.path, method, {**handler.opt, "names_ours": route.path in NAMES_OUR_SITE}))
    # Logging out ends the session: last.
    return sorted(found, key=lambda r: (r[0] == "/township/logout", r[1] != "GET", r[0], r[1]))


def concrete(world: World, template: str) -> str:
    values = PARAMS.get(template, {})
    assert set(_params(template)) <= set(values), f"give {template} values in PARAMS"
    return PARAM.sub(lambda m: values[m[1]].format(**world.ids), template)


def _params(template: str) -> list[str]:
    return PARAM.findall(template)


async def _other_township(session: AsyncSession) -> None:
    session.add(Site(id="beiyuan", name="北苑村", township=OTHER_TOWNSHIP))
    await session.flush()
    for role, name in THEIRS.items():
        session.add(Person(id=name, name=name, role=role, site_id="beiyuan" if role == "lead" else None,
                           township=OTHER_TOWNSHIP))
        await session.flush()
        await create_account(session, name, name, PASSWORD, datetime.now(UTC))
    session.add(Person(id="apiworker", name="小王", role="worker", site_id="dongfeng", township="城关镇"))
    session.add(Person(id="apiretiree", name="小退", role="worker", site_id="dongfeng", township="城关镇"))
    session.add(Site(id="apiempty", name="空站点", township="城关镇"))  # nobody works there: it may retire


@pytest.fixture
def township(sqlite_database: str):
    with World.start(sqlite_database, env="production", secret="s" * 32) as world:
        first, _ = conflict_on_post(world, "apis2")
        first.replica.put("apis1", "shift", shift(first.site, end=START + 8 * HOUR), START)
        first.replica.put("apir1", "request", {"site": first.site, "item": "口罩", "unit": "个", "quantity": 5,
                                               "at": START}, START)
        first.replica.put("apic1", "checkin", {"site": first.site, "at": START, "fatigue": 5, "talk": True},
                          START)
        first.sync(START)
        for role, name in OURS.items():
            world.account(name, role)
        world.session(_other_township)
        world.ids = {"conflict": str(world.scalars(select(Conflict.id))[0]), "device": first.replica.device}
        yield world


def expected(who: tuple[str, str] | None, method: str, opt: dict, has_params: bool) -> set[int]:
    action = opt.get("action")
    if action is None:
        return {200, 303} if opt.get("public") else {403}
    if who is None:
        return {303} if method == "GET" else {401}
    township, role = who
    if role not in ACTIONS[action]:
        return {403}
    if township == "theirs" and has_params:  # a named thing of our township: never theirs to act on
        return {403, 404, 409}
    if township == "theirs" and opt.get("names_ours") and method == "POST":  # our site is no site of theirs
        return {400}
    if action == "conflicts.resolve" and "shift" not in conflict_kinds(Principal("p", "p", role, None, township)):
        return {409}  # the conflict is on a shift; care staff resolve only wellbeing conflicts
    return {200} if method == "GET" else {200, 303}


WHO = [None, *[("ours", role) for role in OURS], *[("theirs", role) for role in THEIRS]]


@pytest.mark.parametrize("who", WHO, ids=lambda w: "anonymous" if w is None else f"{w[0]}-{w[1]}")
def test_every_route_answers_each_role_as_the_policy_says(township: World, who: tuple[str, str] | None) -> None:
    township.client.cookies.clear()
    if who is not None:
        name = (OURS if who[0] == "ours" else THEIRS)[who[1]]
        assert township.sign_in(name).status_code == 303
    token = township.csrf()
    wrong = []
    for template, method, opt in township_routes(township):
        path = concrete(township, template)
        form = {**FORMS.get(template, {}), "_csrf_token": token}
        files = FILES[template](township.ids) if method == "POST" and template in FILES else None
        answer = township.client.request(method, path, data=form if method == "POST" else None, files=files,
                                         follow_redirects=False)
        names_ours = bool(_params(template)) or (method == "POST" and template in FILES_NAMING_OURS)
        want = expected(who, method, opt, names_ours)
        if answer.status_code not in want:
            wrong.append((method, path, answer.status_code, want))
        elif who is not None and who[0] == "theirs" and answer.status_code == 200:
            leaked = [name for name in OUR_NAMES if name in answer.text]
            if leaked:
                wrong.append((method, path, "shows", leaked))
    assert wrong == []
    if who is not None and who[0] == "theirs":  # nothing of ours changed
        shift_now = township.scalars(select(Entry).where(Entry.id == "apis1"))[0]
        assert shift_now.fields.get("approval", "pending") == "pending"
        assert township.scalars(select(Person.site_id).where(Person.id == "apiworker")) == ["dongfeng"]


def test_a_route_without_an_action_is_refused_to_everyone(township: World) -> None:
    """OPTIONS handlers are made by the framework and name no action: the guard refuses them."""
    township.sign_in(OURS["admin"])

    answer = township.client.options("/township/people")

    assert answer.status_code == 403


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_every_post_route_checks_csrf_even_when_its_path_holds_api(township: World, role: str) -> None:
    township.sign_in(OURS[role])
    posts = [(template, opt) for template, method, opt in township_routes(township) if method == "POST"]
    assert posts

    wrong = []
    for template, _ in posts:
        path = concrete(township, template)
        answer = township.client.post(path, data=FORMS.get(template, {}), follow_redirects=False)
        if answer.status_code != 403 or "CSRF" not in answer.text:
            wrong.append((path, answer.status_code))

    assert wrong == []
    shift_now = township.scalars(select(Entry).where(Entry.id == "apis1"))[0]
    assert shift_now.fields.get("approval", "pending") == "pending"
