"""The app factory: assembles the core's routes and every module's routes into one Starlette app."""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from . import assembly
from .db import make_engine
from .i18n import LanguageMiddleware
from .security import session_secret
from .settings import Settings, load_settings
from .web import errors
from .web.headers import SecurityHeaders
from .web.hot_path import HotRoutes, hot_endpoints
from .web.inputs import RefuseControlCharacters

# Each module named here exposes `routes` (and may expose `nav`, `edition_nav`: links on each edition's admin page, to
# routes that take the edition_id, and `home_panels`: what it shows on the start page); one that is missing stops
# start-up. Apart from these and the CLI's lists
# (exhibit_crm/cli.py) the core never names a leaf.
MODULES = (
    "exhibit_crm.web.pages",
    "exhibit_crm.web.chart_script",
    "exhibit_crm.web.admin",
    "exhibit_crm.web.users",
    "exhibit_crm.web.devices",
    "exhibit_crm.web.api",
    "event_phases.pre_show.registration_web",
    "event_phases.pre_show.exhibitors_web",
    "event_phases.pre_show.portal_web",
    "event_phases.pre_show.imports.web",
    "event_phases.on_site.desk_web",
    "event_phases.on_site.booth_web",
    "event_phases.on_site.lead_api",
    "event_phases.post_show.statistics_web",
    "event_phases.post_show.targets_web",
    "badge_scanner.api",
    "badge_scanner.web",
)


def _modules() -> list:
    return assembly.load(MODULES, listed_in="exhibit_crm.app.MODULES", exposes="routes")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app):
        yield
        for module in modules:  # a module's `on_shutdown` functions stop what it started (processes, threads)
            for stop in getattr(module, "on_shutdown", ()):
                stop()
        engine.dispose()

    modules = _modules()
    routes = [route for module in modules for route in module.routes]
    # the scanner and lead APIs take thousands of requests a second: their routes are matched first (a stable sort)
    routes.sort(key=lambda route: not getattr(route, "path", "").startswith("/api/"))
    routes.append(Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(HotRoutes, endpoints=hot_endpoints(routes), default_language=settings.default_language),
            Middleware(SecurityHeaders, https=settings.base_url.startswith("https://")),
            Middleware(SessionMiddleware, secret_key=session_secret(settings.data_dir, settings.secret_key),
                       session_cookie="exhibit_crm_session", same_site="lax",
                       https_only=settings.base_url.startswith("https://")),
            Middleware(LanguageMiddleware, default=settings.default_language),
            Middleware(RefuseControlCharacters),
        ],
        exception_handlers=errors.app_handlers,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.nav = [item for module in modules for item in getattr(module, "nav", ())]
    app.state.home_panels = [panel for module in modules for panel in getattr(module, "home_panels", ())]
    app.state.edition_nav = [item for module in modules for item in getattr(module, "edition_nav", ())]
    return app


def serve_app() -> Starlette:
    """The app as `exhibit-crm serve` runs it, one per server process.

    Once the app is built, everything made so far lives as long as the process, so the garbage collector is told to
    leave it out of its passes (gc.freeze): a full pass over it took 30–90 ms, a stall for every request of the
    process and the scans' slowest answers (docs/gates.md). Tests build apps by the hundred and do not freeze.
    The young generation is collected every 20,000 new objects instead of 700: an offline batch makes ten objects a
    scan, nearly all freed at once by reference counting, and the collector's passes had cost 7 % of its time.
    """
    app = create_app()
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 50)
    return app
