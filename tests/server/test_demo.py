"""The living demo of `make run`: a township at work on first look, sign-ins for every role, and
never in production."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from server.cli import Refusal, _prepare
from server.demo import ACCOUNTS
from server.models import Conflict, Entry, Person, Site
from server.policy import Principal
from server.services.supplies import supplies_by_site
from server.settings import Settings
from sync.ledger import LOW_DAYS
from tests.support.aio import run
from tests.support.server_process import nuanxin
from tests.support.world import World, in_session

HOUR = 3_600_000
STAFF = Principal("wangfang", "王芳", "staff", None, "城关镇")


def _sign_ins(lines: list[str]) -> dict[str, str]:
    found = [re.search(r"(\w+)\s+username (\w+)\s+password (\S+)", line) for line in lines]
    return {m[2]: m[3] for m in found if m}


@pytest.fixture(scope="module")
def living(tmp_path_factory):
    """One living demo for the module (it takes seconds), started as `nuanxin serve --demo` does."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}"
    lines = run(_prepare(Settings(database_url=url), demo=True))
    return url, lines, int(datetime.now(UTC).timestamp() * 1000)


def test_the_living_demo_is_a_township_at_work(living) -> None:
    url, _, now = living

    async def look(session):
        sites = await session.scalar(select(func.count()).select_from(Site))
        workers = await session.scalar(select(func.count()).select_from(Person).where(Person.role == "worker"))
        kinds = dict((await session.execute(select(Entry.kind, func.count()).group_by(Entry.kind))).all())
        conflicts = list(await session.scalars(
            select(Entry.kind).join(Conflict, Conflict.entry_id == Entry.id).where(Conflict.resolved_at.is_(None))))
        entries = list(await session.scalars(select(Entry)))
        stock = await supplies_by_site(session, STAFF, now)
        return sites, workers, kinds, conflicts, entries, stock

    sites, workers, kinds, conflicts, entries, stock = run(in_session(url, look))
    assert sites >= 5 and workers >= 20
    assert kinds["shift"] > 200 and kinds["supply"] > 100 and kinds["checkin"] > 100 and kinds["followup"]
    assert {"shift", "supply", "checkin"} <= set(conflicts)  # real concurrent edits, a wellbeing one too
    shifts = [e for e in entries if e.kind == "shift"]
    assert min(e.fields["start"] for e in shifts) < now - 13 * 24 * HOUR  # two weeks of history, up to now
    assert max(e.fields["start"] for e in shifts) <= now
    assert any(e.fields.get("approval") == "approved" for e in shifts)
    # Rest alerts: 张伟 has been on duty for more than the 12 hours the rules allow.
    assert any(e.subject_id == "zhangwei" and e.fields.get("end") is None and now - e.fields["start"] > 12 * HOUR
               for e in shifts)
    # Urgent reports of the last day: an exposure and an urgent request for masks, still open.
    assert any(e.kind == "checkin" and e.fields.get("type") == "injury" and now - e.fields["at"] < 24 * HOUR
               for e in entries)
    assert any(e.kind == "request" and e.fields.get("urgent") and e.fields.get("status", "open") == "open"
               for e in entries)
    low = [(s.id, line.item) for s in stock for line in s.stock if line.days_left is not None and line.days_left < LOW_DAYS]
    assert ("chengnan", "医用外科口罩") in low
    # Written through the app's own paths: one seq each, in order, and the counter past them.
    seqs = sorted(e.seq for e in entries)
    assert len(set(seqs)) == len(seqs) and seqs[0] > 0


def test_the_demo_prints_a_sign_in_for_every_role_and_it_works(living) -> None:
    url, lines, _ = living
    again = run(_prepare(Settings(database_url=url), demo=True))  # a second start: no second township
    assert run(in_session(url, lambda s: s.scalar(select(func.count()).select_from(Site)))) == 5
    passwords = _sign_ins(again)
    assert set(passwords) == set(ACCOUNTS)
    assert _sign_ins(lines) != passwords  # new passwords at every start
    assert any(re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", line) for line in again)  # enrolment codes

    with World.start(url) as world:
        for role, password in passwords.items():
            assert world.sign_in(role, password).status_code == 303, role
            page = world.client.get("/township/wellbeing" if role == "care" else "/township/")
            assert page.status_code == 200


def test_production_never_adds_demo_data(sqlite_database: str) -> None:
    secret = "kP3v9sQx7LmZ2rTwYb8NcD4fGhJ6aE1u-Vq"
    done = nuanxin("serve", "--demo", "--port", "1", "--database-url", sqlite_database,
                   env={"NUANXIN_ENV": "production", "NUANXIN_SECRET": secret})
    assert done.returncode == 2 and "--demo is for development only" in done.stderr
    # The start-up itself refuses too, whoever calls it, before a row is written.
    production = Settings(database_url=sqlite_database, env="production", secret=secret)
    with pytest.raises(Refusal):
        run(_prepare(production, demo=True))
    assert run(in_session(sqlite_database, lambda s: s.scalar(select(func.count()).select_from(Person)), migrate=True)) == 0
