"""Demo data for a newcomer's first run (development only): two sites, a few people."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Person, Site
from server.services.enrolment import issue_code

TOWNSHIP = "城关镇"
SITES = [("dongfeng", "东风村"), ("chengnan", "城南社区")]
PEOPLE = [
    ("zhangwei", "张伟", "worker", "dongfeng"),
    ("lina", "李娜", "worker", "chengnan"),
    ("wangfang", "王芳", "staff", None),
    ("chenjing", "陈静", "care", None),
]


async def seed(session: AsyncSession) -> bool:
    """Add the demo sites and people once; False if the database already has sites."""
    if await session.scalar(select(func.count()).select_from(Site)):
        return False
    session.add_all(Site(id=i, name=n, township=TOWNSHIP) for i, n in SITES)
    await session.flush()
    session.add_all(Person(id=i, name=n, role=r, site_id=s, township=TOWNSHIP) for i, n, r, s in PEOPLE)
    await session.flush()
    return True


async def demo_codes(session: AsyncSession) -> list[tuple[str, str]]:
    """A fresh enrolment code for each demo worker, to print at start-up."""
    now = datetime.now(UTC)
    workers = await session.scalars(select(Person).where(Person.role == "worker").order_by(Person.id))
    return [(p.name, await issue_code(session, p.id, now)) for p in workers]
