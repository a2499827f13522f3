"""The FastAPI application factory (nothing is built at import time)."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from helix.api import problems
from helix.config import Settings
from helix.platform import Platform

API_PREFIX = "/api/v1"


def session_secret(settings: Settings) -> str:
    """The secret that signs session cookies: ``HELIX_SECRET_KEY``, else a random key
    created once in the data directory (readable only by its owner)."""
    env = os.environ.get("HELIX_SECRET_KEY")
    if env:
        if len(env) < 32:
            raise ValueError("HELIX_SECRET_KEY must be at least 32 characters")
        return env
    settings.ensure_home()
    path: Path = settings.home / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def create_app(
    settings: Settings,
    *,
    secure_cookies: bool = False,
    scheduler: bool = False,
    hold_warehouse_s: float = 0.0,
) -> FastAPI:
    """Build the Helix app for one data directory; with ``scheduler`` (what ``helix serve``
    asks for) the playbook schedule runs in the background while the app serves.
    ``hold_warehouse_s``: keep an embedded warehouse file open this long after the last
    request (:mod:`helix.api.lease`; 0 releases it after every request)."""
    from helix.api.lease import Lease
    from helix.api.routes import accounts
    from helix.web import nav, pages

    platform = Platform(settings)
    platform.init()
    from helix.playbooks.engine import ensure_setup

    with platform.store.session() as session:  # the shipped playbooks, once
        ensure_setup(session, actor="system")
    platform.release_warehouse()  # opened again by the first request that needs it
    lease = Lease(platform, hold_warehouse_s)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        background = None
        if scheduler:
            from helix.playbooks.scheduler import start_scheduler

            background = start_scheduler(platform)
        lease.start()
        yield
        lease.stop()
        if background is not None:
            background.shutdown(wait=False)
        platform.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Helix",
        version="0.1.0",
        description="Customer Success Platform API. Authenticate with `Authorization: Bearer <api key>`.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.platform = platform
    app.state.lease = lease  # kept alive with the app (the registry holds it weakly)
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie="helix_session",
        same_site="lax",
        https_only=secure_cookies,
        max_age=12 * 3600,
    )
    problems.install(app)
    problems.install_input_bounds(app)
    app.include_router(accounts.router, prefix=API_PREFIX)
    _include_optional_routers(app)
    app.include_router(pages.router)
    _include_optional_routers(app, OPTIONAL_UNPREFIXED, prefix="")
    app.mount("/static", pages.static_files(), name="static")
    nav.install(app, pages.templates)

    return app


# API routers mounted under /api/v1, one module per capability.
OPTIONAL_API = (
    "helix.api.routes.metrics",
    "helix.api.routes.health",
    "helix.api.routes.predict",
    "helix.api.routes.expansion",
    "helix.api.routes.forecast",
    "helix.api.routes.forensics",
    "helix.api.routes.playbooks",
    "helix.api.routes.timeline",
    "helix.api.routes.events",
    "helix.api.routes.notes",
    "helix.api.routes.admin",
    "helix.api.routes.reports",
    "helix.api.routes.voice",
    "helix.api.routes.executive",
)

# Routers that keep their own paths: web pages, and the wire protocols other
# tools speak (Segment's tracking API at /v1/..., Stripe's webhook).
OPTIONAL_UNPREFIXED = (
    "helix.web.customer",
    "helix.web.leader_pages",
    "helix.web.admin_pages",
    "helix.web.report_pages",
    "helix.web.exec_pages",
    "helix.ingest.live.tracking_api",
    "helix.ingest.live.stripe_api",
)


def _include_optional_routers(
    app: FastAPI, modules: tuple[str, ...] = OPTIONAL_API, prefix: str = API_PREFIX
) -> None:
    """Routers of capabilities that are present in this build."""
    import importlib

    for module in modules:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (module + ".").startswith(exc.name + "."):
                raise  # a missing dependency inside a present module is a real error
            continue
        app.include_router(mod.router, prefix=prefix)
