"""Docs that keep up with the code: settings, commands, endpoints, messages and roles."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from server.app import create_app
from server.cli import parser
from server.policy import ACTIONS
from server.settings import Settings
from sync import protocol

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SPEC = (ROOT / "docs" / "sync-protocol.md").read_text()
ROLES = (ROOT / "docs" / "roles.md").read_text()


def test_every_environment_setting_is_in_the_readme() -> None:
    source = (ROOT / "server" / "settings.py").read_text()
    for name in set(re.findall(r'"(NUANXIN_[A-Z_]+)"', source)):
        assert f"`{name}`" in README, name


def test_every_command_is_in_the_readme() -> None:
    commands = parser()._subparsers._group_actions[0].choices  # noqa: SLF001
    for name in commands:
        assert f"`nuanxin {name}" in README, name


def test_every_api_endpoint_is_in_the_protocol_spec() -> None:
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    paths = {route.path for route in app.routes if route.path.startswith("/api/") and "schema" not in route.path}
    for path in paths:
        assert re.search(rf"`((GET|POST) )?{re.escape(path)}`", SPEC), path


def test_every_field_of_the_sync_messages_is_in_the_spec() -> None:
    for struct in (protocol.SyncRequest, protocol.Change, protocol.Result, protocol.Entry, protocol.SyncResponse):
        for field in msgspec.structs.fields(struct):
            assert f'"{field.name}"' in SPEC or f"`{field.name}`" in SPEC, f"{struct.__name__}.{field.name}"


def test_the_roles_page_is_the_policy_table() -> None:
    rows = re.findall(r"^\| ([a-z]+\.[a-z]+) \|(.*)$", ROLES, flags=re.M)
    roles = ["lead", "staff", "care", "admin"]
    written = {
        action: {role for role, cell in zip(roles, cells.split("|")[:4]) if "✓" in cell} for action, cells in rows
    }
    assert written == {action: set(allowed) for action, allowed in ACTIONS.items()}
