"""GET /api/config: what the phone needs of its township's settings (items, rest rules, rates), the
deployment's time zone and clock tolerance, and the township's sites (docs/sync-protocol.md §9)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import Provide
from msgspec import Struct
from sqlalchemy import select

from server.deps import DeviceDep, MakerDep, SettingsDep, provide_device
from server.models import Site
from server.services.deployment import Item, Rates, RestRules, load
from server.services.sms import ForPhone, for_phone


class SiteOut(Struct):
    id: str
    name: str


class PhoneConfig(Struct):
    site: SiteOut | None  # the person's site now: a phone enrolled before one was set learns it here
    items: tuple[Item, ...]
    rest: RestRules
    rates: Rates
    sites: list[SiteOut]  # the township's sites, for transfers
    timezone: str  # days and months are this zone's on the phone too (NUANXIN_TIMEZONE)
    clock_tolerance_ms: int  # §7 K2
    sms: ForPhone | None = None  # urgent reports by SMS (docs/sms.md); None while that is off


class ConfigController(Controller):
    path = "/api/config"
    dependencies = {"who": Provide(provide_device)}

    @get(operation_id="config", summary="The township's items, rest rules, subsidy rates and sites; the time zone")
    async def config(self, who: DeviceDep, maker: MakerDep, settings: SettingsDep) -> PhoneConfig:
        async with maker() as session:
            deployment = await load(session, who.township)
            sites = list(await session.scalars(select(Site).where(Site.township == who.township).order_by(Site.id)))
            own = next((s for s in sites if s.id == who.site_id), None)
            return PhoneConfig(
                site=SiteOut(own.id, own.name) if own else None,
                items=deployment.items,
                rest=deployment.rest,
                rates=deployment.rates,
                sites=[SiteOut(s.id, s.name) for s in sites],
                timezone=settings.timezone,
                clock_tolerance_ms=settings.clock_tolerance_ms,
                sms=await for_phone(session, settings, who),
            )
