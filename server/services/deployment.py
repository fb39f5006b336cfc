"""What administrators configure: supply items, rest rules, subsidy rates, alert thresholds.

The deployment's defaults are one JSON document that only a deployment-wide administrator
(township "*") changes; a township's administrator overrides them for that township only (each
section it changes: items, rest, rates, alerts). Anything not set falls back to the defaults here. A
township's phones read its settings through GET /api/config, its subsidy sheet through `load`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta, Struct
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import DeploymentConfig, TownshipConfig
from server.policy import Principal, allowed
from sync import ledger


class Item(Struct, frozen=True):
    id: str
    zh: str
    en: str
    unit: str


class RestRules(Struct, frozen=True):
    max_shift_hours: Annotated[float, Meta(gt=0, le=48)] = 12
    min_rest_hours: Annotated[float, Meta(ge=0, le=48)] = 8
    max_days_without_rest: Annotated[int, Meta(ge=1, le=60)] = 7


class Rates(Struct, frozen=True):
    """Work subsidy in yuan per approved hour, by kind of shift."""

    day: Annotated[float, Meta(ge=0, le=10_000)] = 15
    night: Annotated[float, Meta(ge=0, le=10_000)] = 20
    on_call: Annotated[float, Meta(ge=0, le=10_000)] = 10


class Alerts(Struct, frozen=True):
    """What the township's overview and daily report warn about (server/services/today.py)."""

    days_left: Annotated[float, Meta(gt=0, le=365)] = ledger.LOW_DAYS  # fewer days left: running out
    silent_hours: Annotated[float, Meta(gt=0, le=24 * 30)] = 24  # a phone not synced for longer
    late_hours: Annotated[float, Meta(gt=0, le=24 * 30)] = 24  # arrived this much after it was made: late
    grace_hours: Annotated[float, Meta(ge=0, le=24 * 7)] = 2  # a day's report is final this long after it


DEFAULT_ITEMS = (
    Item("mask", "医用外科口罩", "Surgical masks", "个"),
    Item("n95", "N95口罩", "N95 masks", "个"),
    Item("gloves", "一次性手套", "Disposable gloves", "副"),
    Item("suit", "防护服", "Protective suits", "件"),
    Item("goggles", "护目镜", "Goggles", "副"),
    Item("shield", "防护面屏", "Face shields", "个"),
    Item("disinfectant", "消毒液", "Disinfectant", "瓶"),
    Item("sanitiser", "免洗洗手液", "Hand sanitiser", "瓶"),
    Item("thermometer", "额温枪", "Forehead thermometers", "支"),
)


class Deployment(Struct, frozen=True):
    items: tuple[Item, ...] = DEFAULT_ITEMS
    rest: RestRules = RestRules()
    rates: Rates = Rates()
    alerts: Alerts = Alerts()


KEY = "deployment"
DEPLOYMENT_WIDE = "*"  # the township of an administrator whose settings are the deployment's
SECTIONS = ("items", "rest", "rates", "alerts")


async def load_defaults(session: AsyncSession) -> Deployment:
    stored = await session.scalar(select(DeploymentConfig.value).where(DeploymentConfig.key == KEY))
    return Deployment() if stored is None else msgspec.convert(stored, Deployment)


async def load(session: AsyncSession, township: str) -> Deployment:
    """A township's settings: the deployment's defaults with the township's own sections over them."""
    defaults = msgspec.to_builtins(await load_defaults(session))
    own = await session.scalar(select(TownshipConfig.value).where(TownshipConfig.township == township))
    return msgspec.convert({**defaults, **(own or {})}, Deployment)


def editable(who: Principal) -> str:
    """Whose settings `who` edits: the deployment's ("*") or their township's. Administrators
    only; the service checks this itself, whoever calls it."""
    if not allowed(who, "deployment.manage") or not who.township:
        raise PermissionError("只有管理员可以修改设置 / only administrators change settings")
    return who.township


async def load_for(session: AsyncSession, who: Principal) -> Deployment:
    """The settings `who` edits, as they stand."""
    scope = editable(who)
    return await (load_defaults(session) if scope == DEPLOYMENT_WIDE else load(session, scope))


async def save(session: AsyncSession, who: Principal, deployment: Deployment) -> None:
    """A deployment-wide administrator sets the defaults; a township's administrator sets the
    sections that differ from them for the township (the others keep following the defaults)."""
    scope = editable(who)
    value = msgspec.to_builtins(deployment)
    if scope == DEPLOYMENT_WIDE:
        row = await session.get(DeploymentConfig, KEY, with_for_update=True)
        if row is None:
            session.add(DeploymentConfig(key=KEY, value=value))
        else:
            row.value = value
        return
    defaults = msgspec.to_builtins(await load_defaults(session))
    own = {name: value[name] for name in SECTIONS if value[name] != defaults[name]}
    row = await session.get(TownshipConfig, scope, with_for_update=True)
    if row is None and own:
        session.add(TownshipConfig(township=scope, value=own))
    elif row is not None and own:
        row.value = own
    elif row is not None:
        await session.delete(row)


def parse_items(text: str) -> tuple[Item, ...]:
    """One item a line, `id | 中文名 | English name | unit`, as the settings form shows them."""
    items = []
    for number, line in enumerate(text.strip().splitlines(), start=1):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 4 or not all(parts):
            raise ValueError(f"第 {number} 行应为「编号 | 中文名 | English | 单位」/ line {number}: id | zh | en | unit")
        items.append(Item(*parts))
    if not items:
        raise ValueError("至少要有一种物资 / at least one item")
    return tuple(items)
