"""Every dashboard service asks the policy itself (docs/roles.md): called directly by a role the
policy does not name for it, it refuses, whatever route or command might call it later."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from server.policy import ACTIONS, Forbidden, Principal
from server.services import audit, carried, charts, daily, people, reports, staff_service, subsidy, supplies, today
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
CASES = [(key, role) for key in SERVICES for role in ("worker", "lead", "staff", "care", "admin")
         if role not in ACTIONS[key.split()[0]]]


@pytest.mark.parametrize(("action", "role"), CASES, ids=[f"{a}-{r}" for a, r in CASES])
def test_a_service_refuses_a_role_the_policy_does_not_name(world: World, action: str, role: str) -> None:
    who = Principal("x", "x", role, "dongfeng", "城关镇")

    with pytest.raises(Forbidden):
        world.session(lambda session: SERVICES[action](session, who))
