"""The Litestar application, built from settings by `create_app` (no import-time state)."""

from __future__ import annotations

import gc
from pathlib import Path

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from server import db
from server.api.config import ConfigController
from server.api.devices import DevicesController
from server.api.enrol import EnrolController
from server.api.health import HEALTH_ROUTES
from server.api.sms import SmsController
from server.api.sync import SyncController
from server.dashboard import PAGES
from server.dashboard.filters import make_filters
from server.deps import provide_maker, provide_settings
from server.errors import EXCEPTION_HANDLERS
from server.observability import install as observe
from server.observability import logging_config
from server.security import security_headers
from server.services.server_clock import ServerClock
from server.settings import Settings
from sync.protocol import MAX_BODY

HERE = Path(__file__).resolve().parent
VERSION = "0.1.0"


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()

    async def start(app: Litestar) -> None:
        engine = db.create_engine(settings.database_url)
        await db.migrate(engine)
        app.state.engine = engine
        app.state.maker = db.session_maker(engine)
        # What start-up made lives as long as the process: out of the collector's full passes,
        # which a push of 500 changes otherwise triggers several times (issue 11).
        gc.collect()
        gc.freeze()

    async def stop(app: Litestar) -> None:
        await app.state.engine.dispose()

    # The service worker decides what the phone caches; the browser must always revalidate.
    revalidate = CacheControlHeader(no_cache=True)
    return observe(Litestar(
        route_handlers=[
            SyncController,
            EnrolController,
            ConfigController,
            DevicesController,
            *HEALTH_ROUTES,
            SmsController,
            *PAGES,
            create_static_files_router(
                path="/township/static", directories=[HERE / "dashboard" / "static"], name="dashboard-static"
            ),
            create_static_files_router(
                path="/", directories=[settings.pwa_dir], html_mode=True, name="pwa", cache_control=revalidate
            ),
        ],
        state=State(
            {
                "settings": settings,
                "clock": ServerClock(),
            }
        ),
        dependencies={"settings": Provide(provide_settings, sync_to_thread=False),
                      "maker": Provide(provide_maker, sync_to_thread=False)},
        on_startup=[start],
        on_shutdown=[stop],
        middleware=[security_headers(settings.production)],
        exception_handlers=EXCEPTION_HANDLERS,
        compression_config=CompressionConfig(backend="gzip", minimum_size=500, gzip_compress_level=6),
        request_max_body_size=MAX_BODY,
        template_config=TemplateConfig(
            directory=HERE / "dashboard" / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=lambda engine: engine.engine.filters.update(make_filters(settings.timezone)),
        ),
        # The exclusion is a regex searched anywhere in the path: anchored, or an entry id
        # containing "/api" would skip the check on a dashboard action. Phones use bearer tokens.
        csrf_config=CSRFConfig(secret=settings.secret, exclude=[r"^/api/"], cookie_samesite="strict",
                               cookie_secure=settings.production, cookie_httponly=True),
        openapi_config=OpenAPIConfig(
            title="Nuanxin API", version=VERSION, path="/api/schema", render_plugins=[JsonRenderPlugin()]
        ),
        logging_config=logging_config(settings),
        debug=settings.debug,
    ))

