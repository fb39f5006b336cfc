"""Every dashboard service asks the policy itself (docs/roles.md): called directly by a role the
policy does not name for it, it refuses, whatever route or command might call it later."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from server.policy import ACTIONS, Forbidden, Principal
from server.services import (
    account_admin,
    audit,
    carried,
    charts,
    daily,
    people,
    people_admin,
    reports,
    roster_import,
    sites,
    staff_service,
    subsidy,
    supplies,
    today,
)
from server.services.server_clock import ServerClock
from tests.support.world import START, World

Work = Callable[[AsyncSession, Principal], Awaitable[object]]
NOW = datetime.fromtimestamp(START / 1000, UTC)
ZONE = "Asia/Shanghai"
# Keyed "action" or "action name" when an action has several services.
SERVICES: dict[str, Work] = {
    "shifts.read": lambda s, who: reports.shifts_by_site(s, who),
    "shifts.read shifts_of": lambda s, who: today.shifts_of(s, who, START - 1, START),
    "shifts.read shifts_per_day": lambda s, who: charts.shifts_per_day(s, who, ["2025-11-24"], ZONE),
    "overview.read": lambda s, who: today.overview(s, who, NOW, ZONE, NOW),
    "overview.read last_look": lambda s, who: today.last_look(s, who, NOW),
    "overview.read note_look": lambda s, who: today.note_look(s, who, NOW),
    "overview.read late_since": lambda s, who: today.late_since(s, who, NOW, 24),
    "conflicts.read conflicts_by_site": lambda s, who: today.conflicts_by_site(s, who),
    "wellbeing.counts urgent_reports": lambda s, who: today.urgent_reports(s, who, START),
    "wellbeing.details fatigue_per_day": lambda s, who: charts.fatigue_per_day(s, who, ["2025-11-24"], ZONE),
    "people.read silent_phones": lambda s, who: today.silent_phones(s, who, NOW, 24),
    "reports.read": lambda s, who: daily.daily_report(s, who, "2025-11-24", ZONE, NOW),
    "shifts.approve": lambda s, who: staff_service.approve_shift(s, who, "x", "approved", "", ServerClock(), START),
    "conflicts.read": lambda s, who: staff_service.open_conflict_views(s, who),
    "conflicts.resolve": lambda s, who: staff_service.resolve_conflict(s, 1, 0, who, ServerClock(), START),
    "subsidy.read": lambda s, who: subsidy.sheet(s, who, "2025-11", "Asia/Shanghai"),
    "supplies.read": lambda s, who: supplies.supplies_by_site(s, who, START),
    "audit.read": lambda s, who: audit.recent(s, who),
    "carried.upload": lambda s, who: carried.upload(s, who, b"{}", ServerClock(), datetime.now(UTC), 1000),
    "people.enrol": lambda s, who: people.label_device(s, who, "x", "旧手机", datetime.now(UTC)),
}
NOW = datetime.now(UTC)
ROSTER = "姓名,手机号,站点\n小李,13900000002,dongfeng\n".encode()
# Actions with several services: each refuses on its own.
MORE: list[tuple[str, str, Work]] = [
    ("people.manage", "create_person", lambda s, who: people_admin.create_person(
        s, who, people_admin.PersonForm("小李", site="dongfeng"), NOW)),
    ("people.manage", "edit_person", lambda s, who: people_admin.edit_person(
        s, who, "lina", people_admin.PersonForm("李娜", site="chengnan"), NOW)),
    ("people.manage", "person_to_edit", lambda s, who: people_admin.person_to_edit(s, who, "lina")),
    ("people.manage", "retire_person", lambda s, who: people_admin.retire_person(s, who, "lina", NOW)),
    ("people.manage", "reinstate_person", lambda s, who: people_admin.reinstate_person(s, who, "lina", NOW)),
    ("people.manage", "retired_people", lambda s, who: people_admin.retired_people(s, who)),
    ("people.manage", "roster_plan", lambda s, who: roster_import.plan(s, who, ROSTER)),
    ("people.manage", "roster_apply", lambda s, who: roster_import.apply(s, who, ROSTER, "", NOW)),
    ("sites.manage", "sites_to_manage", lambda s, who: sites.sites_to_manage(s, who)),
    ("sites.manage", "create_site", lambda s, who: sites.create_site(s, who, "", "幸福村", "", NOW)),
    ("sites.manage", "edit_site", lambda s, who: sites.edit_site(s, who, "dongfeng", "东风", "", NOW)),
    ("sites.manage", "retire_site", lambda s, who: sites.retire_site(s, who, "dongfeng", NOW)),
    ("sites.manage", "reinstate_site", lambda s, who: sites.reinstate_site(s, who, "dongfeng", NOW)),
    ("accounts.manage", "accounts_in_scope", lambda s, who: account_admin.accounts_in_scope(s, who)),
    ("accounts.manage", "create_staff_account", lambda s, who: account_admin.create_staff_account(
        s, who, account_admin.NewAccount("liuqiang", "a new long passphrase", "admin", name="刘强"), NOW)),
    ("accounts.manage", "change_role", lambda s, who: account_admin.change_role(s, who, "wangfang", "admin", NOW)),
    ("accounts.manage", "reset_password", lambda s, who: account_admin.reset_password(
        s, who, "wangfang", "a new long passphrase", NOW)),
]
CASES = [(action, name, role, work)
         for action, name, work in [*((key.split()[0], key, w) for key, w in SERVICES.items()), *MORE]
         for role in ("worker", "lead", "staff", "care", "admin") if role not in ACTIONS[action]]


@pytest.mark.parametrize(("action", "name", "role", "work"), CASES, ids=[f"{n}-{r}" for _, n, r, _ in CASES])
def test_a_service_refuses_a_role_the_policy_does_not_name(world: World, action: str, name: str, role: str,
                                                            work: Work) -> None:
    who = Principal("x", "x", role, "dongfeng", "城关镇")

    with pytest.raises(Forbidden):
        world.session(lambda session: work(session, who))
