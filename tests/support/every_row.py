"""A deployment with a row in every table, made the way a township makes them, and a way to
read a whole database back for comparison (backups, restores, the move to PostgreSQL).

`fill` speaks HTTP to the app (a real server process or Litestar's test client) for what phones
do, and uses the services directly for what a person does on the dashboard or the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import DateTime, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.demo import seed
from server.models import Base, Conflict, Device, Person, Site, SmsMessage
from server.policy import Principal
from server.services import deployment, people
from server.services.accounts import create_account
from server.services.enrolment import issue_code
from server.services.server_clock import ServerClock
from server.services.staff_service import resolve_conflict
from server.services.wellbeing import add_followup
from sync.client import HttpTransport, enrol, sync
from sync.replica import Replica
from tests.support.aio import run
from tests.support.world import HOUR, START, in_session, shift

WELLBEING_NOTE = "夜里睡不着，想找人聊聊 wellbeing-note-7f3a"
PASSWORD = "correct horse battery staple"
STAFF = Principal(person_id="wangfang", name="王芳", role="staff", site_id=None, township="城关镇")
CARE = Principal(person_id="chenjing", name="陈静", role="care", site_id=None, township="城关镇")
ADMIN = Principal(person_id="admin", name="管理员", role="admin", site_id=None, township="城关镇")
DEPLOYMENT_ADMIN = Principal(person_id="ops", name="部署管理员", role="admin", site_id=None, township="*")


@dataclass
class Phone:
    person: str
    device: str
    token: str
    site: str
    replica: Replica

    def transport(self, client: httpx.Client) -> HttpTransport:
        return HttpTransport(client, self.token)

    def sync(self, client: httpx.Client, now: int = START) -> int:
        return sync(self.replica, self.transport(client), lambda: now)


def new_phone(url: str, client: httpx.Client, person: str) -> Phone:
    code = run(in_session(url, lambda session: issue_code(session, person, datetime.now(UTC))))
    answer = enrol("", code, client)
    return Phone(person, answer["device"], answer["token"], answer["site"]["id"], Replica(device=answer["device"]))


async def _people_work(session: AsyncSession) -> None:
    now = datetime.now(UTC)
    await create_account(session, "wangfang", "wangfang", PASSWORD, now)
    await create_account(session, "chenjing", "chenjing", PASSWORD, now)
    await deployment.save(session, DEPLOYMENT_ADMIN, deployment.Deployment())
    own_rates = deployment.Rates(night=25)  # a township's own rates over the defaults
    await deployment.save(session, ADMIN, deployment.Deployment(rates=own_rates))
    await issue_code(session, "lina", now)  # a code nobody used yet
    # A retired site with its retired worker: phone number, post and retirement in every column.
    session.add(Site(id="jiuzhan", name="旧站", township="城关镇", retired_at=now))
    await session.flush()
    session.add(Person(id="laozhou", name="老周", role="worker", site_id="jiuzhan", township="城关镇",
                       phone="13900000009", post="网格员", retired_at=now))


def fill(url: str, client: httpx.Client) -> list[Phone]:
    """Rows in every table: shifts, supplies, a request, check-ins and a follow-up, an open and a
    resolved conflict, a revoked phone, an SMS refused, accounts, an unused code, the deployment's and a township's settings."""
    run(in_session(url, seed, migrate=True))
    run(in_session(url, _people_work))
    zhang, zhang2, lina = (new_phone(url, client, p) for p in ("zhangwei", "zhangwei", "lina"))
    for i in range(5):
        # Shifts already over when the phone syncs: a time later than the phone's now is refused (K5).
        begin = START - 24 * HOUR + i * HOUR
        zhang.replica.put(f"shift-{i}", "shift", shift(zhang.site, begin, begin + 8 * HOUR), START)
    zhang.replica.put("mask-in", "supply", {"site": zhang.site, "item": "mask", "unit": "个", "movement": "received",
                                            "quantity": 500, "at": START}, START)
    zhang.replica.put("mask-out", "supply", {"site": zhang.site, "item": "mask", "unit": "个", "movement": "transferred",
                                             "quantity": 100, "at": START, "to_site": "chengnan"}, START)
    zhang.replica.put("more-masks", "request", {"site": zhang.site, "item": "n95", "unit": "个", "quantity": 50,
                                                "at": START, "urgent": True}, START)
    lina.replica.put("checkin-1", "checkin", {"site": lina.site, "at": START, "fatigue": 4, "talk": True,
                                              "note": WELLBEING_NOTE}, START)
    lina.replica.put("hurt-1", "checkin", {"site": lina.site, "at": START, "type": "injury",
                                           "injury_kind": "exposure"}, START)
    zhang.sync(client)
    lina.sync(client)
    zhang2.sync(client)
    # Two conflicts: the same shift's post and its kind edited on both of zhangwei's phones.
    zhang.replica.put("shift-0", "shift", {"post": "东门", "kind": "night"}, START + 1000)
    zhang2.replica.put("shift-0", "shift", {"post": "西门", "kind": "on_call"}, START + 2000)
    zhang.sync(client, START + 3000)
    zhang2.sync(client, START + 3000)
    zhang.replica.delete("shift-1", START + 4000)
    zhang.sync(client, START + 5000)

    async def staff_work(session: AsyncSession) -> None:
        clock, now = ServerClock(), datetime.now(UTC)
        first = await session.scalar(select(Conflict).order_by(Conflict.id))
        await resolve_conflict(session, first.id, 0, STAFF, clock, int(now.timestamp() * 1000))
        await add_followup(session, CARE, "checkin-1", "已电话联系", "下周再聊", clock, int(now.timestamp() * 1000))
        assert await people.label_device(session, STAFF, zhang.device, "张伟的旧手机", now)
        lost = await session.get(Device, zhang2.device)
        lost.revoked_at = now
        # A text the SMS gateway passed on that is no report: recorded as refused.
        session.add(SmsMessage(received_at=now, sender="+8613800000000", text="你好", device_id=None,
                               change_id=None, status="refused", reason="not a Nuanxin report"))

    run(in_session(url, staff_work))
    lina.sync(client, START + 6000)
    return [zhang, lina]


async def _read_all(session: AsyncSession) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in Base.metadata.sorted_tables:
        times = {c.name for c in table.columns if isinstance(c.type, DateTime)}
        rows = (await session.execute(select(table).order_by(*table.primary_key.columns))).mappings()
        tables[table.name] = [
            {k: (_utc(v) if k in times else v) for k, v in row.items()} for row in rows
        ]
    return tables


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_all(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, times in UTC, in primary-key order."""
    return run(in_session(url, _read_all))

