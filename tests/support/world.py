"""A running app with demo people, and phones (Python replicas) enrolled in it."""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Awaitable, Callable, Iterator, TypeVar

from litestar.testing import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from server import db
from server.app import create_app
from server.demo import TOWNSHIP, seed
from server.models import ChangeLog, Entry, Person
from server.services.accounts import create_account
from server.services.enrolment import issue_code
from server.settings import Settings
from sync.client import HttpTransport, enrol, sync
from sync.replica import Replica
from tests.support.aio import run

T = TypeVar("T")
START = 1_764_000_000_000  # 2025-11-24 16:00 UTC: the tests' fixed "now" for phone clocks
HOUR = 3_600_000


def shift(site: str, start: int = START, end: int | None = None, post: str = "东门卡口") -> dict:
    fields = {"site": site, "post": post, "start": start, "kind": "day"}
    if end is not None:
        fields["end"] = end
    return fields


async def in_session(url: str, work: Callable[[AsyncSession], Awaitable[T]], migrate: bool = False) -> T:
    """Run `work` in one committed transaction on its own engine (the app has its own)."""
    engine = db.create_engine(url)
    try:
        if migrate:
            await db.migrate(engine)
        async with db.session_maker(engine).begin() as session:
            return await work(session)
    finally:
        await engine.dispose()


async def _account(session: AsyncSession, person: str, role: str, password: str) -> None:
    if await session.get(Person, person) is None:
        site = "dongfeng" if role == "lead" else None
        session.add(Person(id=person, name=person, role=role, site_id=site, township=TOWNSHIP))
        await session.flush()
    await create_account(session, person, person, password, datetime.now(UTC))


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
        run(in_session(url, seed, migrate=True))
        app_settings = Settings(database_url=url, **settings)  # type: ignore[arg-type]
        # https, so that the Secure cookies of production settings are sent back.
        with TestClient(create_app(app_settings), base_url="https://testserver.local") as client:
            yield cls(url=url, client=client, settings=app_settings)

    def account(self, person: str, role: str, password: str = "correct horse battery") -> str:
        """Create a dashboard account (and the person if new); returns the username."""
        self.session(lambda session: _account(session, person, role, password))
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
        return self.session(lambda session: issue_code(session, person, datetime.now(UTC)))

    def session(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Read or change the database directly, as a test's setup or its check."""
        return run(in_session(self.url, work))

    def scalars(self, statement) -> list:
        async def work(session: AsyncSession) -> list:
            return list(await session.scalars(statement))

        return self.session(work)

    def phone(self, person: str = "zhangwei") -> Phone:
        answer = enrol("", self.code(person), self.client)
        replica = Replica(device=answer["device"])
        phone = Phone(replica, HttpTransport(self.client, answer["token"]), person, answer["site"]["id"])
        self.phones.append(phone)
        return phone


def arrived(kind: str, entry_id: str, author: str, fields: dict, made: int, at: int, device: str = "d1") -> list:
    """An entry made at `made` whose first copy reached the server at `at` (both ms), as rows
    to add: for tests of what arrived late, which a phone syncing now cannot give."""
    def moment(ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, UTC)

    stamp = f"{made:013d}0000{device}"
    return [
        Entry(id=entry_id, kind=kind, schema=1 if kind != "shift" else 2, site_id=fields["site"], author_id=author,
              subject_id=author, device_id=device, fields=fields, stamps={name: stamp for name in fields},
              deleted=False, flags=[], device_times={}, seq=0, created_at=moment(made), updated_at=moment(at)),
        ChangeLog(id=f"change-{entry_id}", device_id=device, entry_id=entry_id, body="{}",
                  result={"status": "applied", "stamp": stamp}, received_at=moment(at)),
    ]


def conflict_on_post(world: World, entry: str = "s2") -> tuple[Phone, Phone]:
    """Two phones of one person edit the same shift's post offline: 东门, then 西门."""
    first, second = world.phone("zhangwei"), world.phone("zhangwei")
    first.replica.put(entry, "shift", shift(first.site), START)
    first.sync(START)
    second.sync(START)
    first.replica.put(entry, "shift", {"post": "东门"}, START + 1000)
    second.replica.put(entry, "shift", {"post": "西门"}, START + 2000)
    first.sync(START + 3000)
    second.sync(START + 3000)
    return first, second
