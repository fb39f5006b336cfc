"""Every dashboard service asks the policy itself (docs/roles.md): called directly by a role the
policy does not name for it, it refuses, whatever route or command might call it later."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from server.policy import ACTIONS, Forbidden, Principal
from server.services import audit, people, reports, staff_service, subsidy, supplies
from server.services.server_clock import ServerClock
from tests.support.world import START, World

Work = Callable[[AsyncSession, Principal], Awaitable[object]]
SERVICES: dict[str, Work] = {
    "shifts.read": lambda s, who: reports.shifts_by_site(s, who),
    "shifts.approve": lambda s, who: staff_service.approve_shift(s, who, "x", "approved", "", ServerClock(), START),
    "conflicts.read": lambda s, who: staff_service.open_conflict_views(s, who),
    "conflicts.resolve": lambda s, who: staff_service.resolve_conflict(s, 1, 0, who, ServerClock(), START),
    "subsidy.read": lambda s, who: subsidy.sheet(s, who, "2025-11", "Asia/Shanghai"),
    "supplies.read": lambda s, who: supplies.supplies_by_site(s, who, START),
    "audit.read": lambda s, who: audit.recent(s, who),
    "people.enrol": lambda s, who: people.label_device(s, who, "x", "旧手机", datetime.now(UTC)),
}
CASES = [(action, role) for action in SERVICES for role in ("worker", "lead", "staff", "care", "admin")
         if role not in ACTIONS[action]]


@pytest.mark.parametrize(("action", "role"), CASES, ids=[f"{a}-{r}" for a, r in CASES])
def test_a_service_refuses_a_role_the_policy_does_not_name(world: World, action: str, role: str) -> None:
    who = Principal("x", "x", role, "dongfeng", "城关镇")

    with pytest.raises(Forbidden):
        world.session(lambda session: SERVICES[action](session, who))
