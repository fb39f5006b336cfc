"""The audit log: security-relevant events, read and exported by administrators only, edited by
nobody from the dashboard (issue 9, "Also")."""

from __future__ import annotations

import re

from server.app import create_app
from server.settings import Settings
from tests.support.world import START, World, conflict_on_post, shift


def _events(world: World) -> list[str]:
    page = world.client.get("/township/audit")
    assert page.status_code == 200
    return re.findall(r'<tr data-event="([a-z_.]+)">', page.text)


def test_security_events_reach_the_administrators_audit_page(world: World) -> None:
    world.account("admin1", "admin")
    world.sign_in("admin1", "wrong password!")
    assert world.sign_in("admin1").status_code == 303
    phone = world.phone("zhangwei")
    phone.replica.put("s1", "shift", shift(phone.site), START)
    phone.sync(START)
    token = world.csrf()
    world.client.post("/township/people/lina/site", data={"site": "dongfeng", "_csrf_token": token})
    world.client.post(f"/township/devices/{phone.replica.device}/revoke", data={"_csrf_token": token})
    world.client.get("/township/export/shifts.csv")

    events = _events(world)

    for event in ("sign_in.failed", "sign_in.ok", "code.issued", "device.enrolled", "person.moved",
                  "device.revoked", "export"):
        assert event in events, event


def test_a_resolved_conflict_is_recorded(world: World) -> None:
    conflict_on_post(world)
    world.account("admin1", "admin")
    world.sign_in("admin1")
    page = world.client.get("/township/conflicts")
    conflict = re.search(r'data-conflict-id="(\d+)"', page.text)[1]
    world.client.post(f"/township/conflicts/{conflict}/resolve",
                      data={"choice": "0", "_csrf_token": world.csrf()})

    assert "conflict.resolved" in _events(world)


def test_the_export_is_a_csv_excel_opens_and_is_itself_recorded(world: World) -> None:
    world.account("admin1", "admin")
    world.sign_in("admin1")

    answer = world.client.get("/township/audit.csv")

    assert answer.status_code == 200
    assert answer.content.startswith("\ufeff".encode())
    assert "sign_in.ok" in answer.text
    assert "export" in _events(world)


def test_no_dashboard_route_writes_the_audit_log() -> None:
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    routes = [r for r in app.routes if "audit" in r.path]

    assert routes
    assert all(set(r.methods) <= {"GET", "HEAD", "OPTIONS"} for r in routes)


def test_a_name_nobody_has_is_kept_only_masked(world: World) -> None:
    """People type their password into the name box: an unknown name must not be shown whole."""
    world.account("admin1", "admin")
    world.sign_in("correct horse battery staple", "whatever password")
    assert world.sign_in("admin1").status_code == 303

    page = world.client.get("/township/audit").text

    assert "correct horse battery staple" not in page
    assert "c…(28)" in page
