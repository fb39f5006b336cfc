"""A running app with demo people, and phones (Python replicas) enrolled in it."""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from litestar.testing import TestClient

from server import db
from server.app import create_app
from server.demo import TOWNSHIP, seed
from server.models import Person
from server.services.accounts import create_account
from server.services.enrolment import issue_code
from server.settings import Settings
from sync.client import HttpTransport, enrol, sync
from sync.replica import Replica
from tests.support.aio import run

START = 1_764_000_000_000  # 2025-11-24 16:00 UTC: the tests' fixed "now" for phone clocks


async def _prepare(url: str) -> None:
    engine = db.create_engine(url)
    try:
        await db.migrate(engine)
        async with db.session_maker(engine).begin() as session:
            await seed(session)
    finally:
        await engine.dispose()


async def _code(url: str, person: str) -> str:
    from datetime import UTC, datetime

    engine = db.create_engine(url)
    try:
        async with db.session_maker(engine).begin() as session:
            return await issue_code(session, person, datetime.now(UTC))
    finally:
        await engine.dispose()


async def _account(url: str, person: str, role: str, password: str) -> None:
    from datetime import UTC, datetime

    engine = db.create_engine(url)
    try:
        async with db.session_maker(engine).begin() as session:
            if await session.get(Person, person) is None:
                site = "dongfeng" if role == "lead" else None
                session.add(Person(id=person, name=person, role=role, site_id=site, township=TOWNSHIP))
                await session.flush()
            await create_account(session, person, person, password, datetime.now(UTC))
    finally:
        await engine.dispose()


@dataclass
class Phone:
    """One enrolled phone: a replica plus its transport to the app."""

    replica: Replica
    transport: HttpTransport
    person: str
    site: str

    def sync(self, now: int | None = None) -> int:
        return sync(self.replica, self.transport, (lambda: now) if now is not None else None)


@dataclass
class World:
    url: str
    client: TestClient
    settings: Settings
    phones: list[Phone] = field(default_factory=list)

    @classmethod
    @contextmanager
    def start(cls, url: str, **settings: object) -> Iterator[World]:
        run(_prepare(url))
        app_settings = Settings(database_url=url, **settings)  # type: ignore[arg-type]
        # https, so that the Secure cookies of production settings are sent back.
        with TestClient(create_app(app_settings), base_url="https://testserver.local") as client:
            yield cls(url=url, client=client, settings=app_settings)

    def account(self, person: str, role: str, password: str = "correct horse battery") -> str:
        """Create a dashboard account (and the person if new); returns the username."""
        run(_account(self.url, person, role, password))
        return person

    def sign_in(self, username: str, password: str = "correct horse battery"):
        self.client.cookies.clear()
        page = self.client.get("/township/login")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)[1]
        return self.client.post(
            "/township/login", data={"username": username, "password": password, "_csrf_token": token},
            follow_redirects=False,
        )

    def csrf(self) -> str:
        page = self.client.get("/township/login")
        return re.search(r'name="_csrf_token" value="([^"]+)"', page.text)[1]

    def code(self, person: str) -> str:
        return run(_code(self.url, person))

    def phone(self, person: str = "zhangwei") -> Phone:
        answer = enrol("", self.code(person), self.client)
        replica = Replica(device=answer["device"])
        phone = Phone(replica, HttpTransport(self.client, answer["token"]), person, answer["site"]["id"])
        self.phones.append(phone)
        return phone
