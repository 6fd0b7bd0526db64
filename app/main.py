"""The app factory. ``create_app(settings)`` builds the FastAPI app; ``app`` is the ASGI
entry point (``uvicorn app.main:app``), which builds itself from the environment on its
first event, so importing this module reads no settings and opens no database."""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import REPO_ROOT, Settings, get_settings, session_secret
from app.db import make_engine, make_sessionmaker
from app.errors import ServiceUnavailable
from app.models.base import utcnow
from app.runs.dispatch import Dispatcher, NoWorkers, dispatch
from app.schema import ensure_schema
from app.web import errors
from app.web.lazy_routes import LazyRoutes, RouteLoader
from app.web.middleware import LanguageMiddleware
from app.web.security import SecurityMiddleware, trusted_hosts
from app.web.templating import make_templates

log = logging.getLogger(__name__)

# A started server settles (below), starts its demo workers and queues the claims' runs
# this long after its start, on its event loop (``lifespan``), so the first page is not
# kept waiting for them, and the second page does not pay for the lazy routers.
ROUTES_WARM_UP_S = 1.0


def settle(application: FastAPI) -> None:
    """What a started server does once its first page is out: load the lazy routers, then
    collect and freeze what start-up built (routes, models, templates, catalogues), so the
    garbage collector's full passes no longer walk those objects in the middle of a request
    (a full pass cost about 95 ms inside /stats with 150,000 objects alive after start-up;
    objects made later are collected as before)."""
    loader: RouteLoader = application.state.routes
    loader.load()
    gc.collect()
    gc.freeze()


# The routers of app.web that serve the first page a user opens after ``serve`` (the home
# page; the favicon a browser asks for with it, beside /docs); with accounts on, the first
# page is the sign-in page: ``auth`` is routed from the start then.
EAGER_ROUTERS = ("home", "docs")
# The others, loaded on first need (app.web.lazy_routes), in this order.
LAZY_ROUTERS = (
    "pages",
    "auth",
    "study_pages",
    "fit_pages",
    "stats_pages",
    "quiz_pages",
    "mock_pages",
    "mock_api",
    "demo_pages",
    "claims_pages",
    "export_pages",
    "notes_pages",
    "sources_pages",
    "plan_pages",
    "api",
    "study_api",
    "quiz_api",
    "demo_api",
    "claims_api",
)


def make_dispatcher(settings: Settings, *, start_workers: bool) -> Dispatcher:
    """Celery when configured; the local worker pool when this process serves with
    workers; otherwise none (queued runs wait in the database for a worker)."""
    if settings.queue == "celery":
        from app.worker.celery_app import CeleryDispatcher

        return CeleryDispatcher(settings)
    if start_workers and settings.workers > 0:
        from app.worker.pool import LocalPool

        return LocalPool(
            settings.resolved_database_url,
            processes=settings.workers,
            find_demo=settings.demo_lookup,
            # One user in local mode: fairness between users is moot, use every worker.
            running_cap=settings.runs_running_cap if settings.accounts else None,
        )
    return NoWorkers()


def queue_claims(application: FastAPI) -> None:
    """Queue the runs the claims lack (after an import, or when a demo's code changed):
    their verdicts show as pending until the runs finish."""
    from app.runs.claims import queue_claim_runs

    with application.state.sessionmaker() as session:
        run_ids = queue_claim_runs(session=session, now=utcnow())
    for run_id in run_ids:
        try:
            dispatch(application.state.dispatcher, application.state.engine, run_id)
        except ServiceUnavailable as exc:
            log.warning("claims: %s", exc.message)
            return
    if run_ids:
        log.info("claims: queued %d demo runs for their verdicts", len(run_ids))


def _queue_claims_logged(application: FastAPI) -> None:
    try:
        queue_claims(application)
    except Exception:  # a thread's error would otherwise go unseen in the server's log
        log.exception("claims: could not queue the runs the claims need")


@asynccontextmanager
async def lifespan(application: FastAPI) -> AsyncIterator[None]:
    dispatcher = application.state.dispatcher
    start, stop = getattr(dispatcher, "start", None), getattr(dispatcher, "stop", None)
    claims: list[threading.Thread] = []

    def after_start() -> None:
        """What waits until the first page is out (``ROUTES_WARM_UP_S`` after the start):
        the lazy routers; the demo workers (spawned, they took CPU from the first page on
        two cores; a run queued before waits in the database, as at any time); the
        claims' runs (finding them imports the demo catalogue and reads the bank: 0.12 s
        of CPU on the seed bank, which a thread beside the first request takes from it)."""
        try:
            if application.state.warm_up_routes:
                settle(application)
        finally:
            gc.enable()  # ``serve`` starts with the garbage collector off (app.cli)
        if start is not None:
            start()
        if not isinstance(dispatcher, NoWorkers):
            thread = threading.Thread(
                target=_queue_claims_logged, args=(application,), name="claims"
            )
            thread.start()
            claims.append(thread)

    after = asyncio.get_running_loop().call_later(ROUTES_WARM_UP_S, after_start)
    try:
        yield
    finally:
        after.cancel()
        for thread in claims:
            thread.join()
        if stop is not None:
            stop()


def create_app(
    settings: Settings, *, start_workers: bool = False, warm_up_routes: bool | None = None
) -> FastAPI:
    """The app for ``settings``. ``start_workers``: run demo workers beside it (``serve``
    does; tests don't, unless they test the workers). ``warm_up_routes``: ``settle`` the
    app ``ROUTES_WARM_UP_S`` after the start, rather than load the lazy routers on the
    first request that needs them (default: as ``start_workers``, i.e. when serving)."""
    application = FastAPI(
        lifespan=lifespan,
        title="Interview Lab",
        version="0.1.0",
        summary="Study LLM-engineering interview questions: the question bank and review.",
        docs_url=None,  # served from vendored files by app.web.docs (no CDN)
        redoc_url=None,
    )
    engine = make_engine(settings)
    application.state.settings = settings
    application.state.engine = engine
    application.state.sessionmaker = make_sessionmaker(engine)
    application.state.templates = make_templates()
    application.state.dispatcher = make_dispatcher(settings, start_workers=start_workers)

    # Innermost of the three, so its refusals speak the request's language.
    application.add_middleware(
        SecurityMiddleware,
        local=not settings.accounts,
        trusted=trusted_hosts(settings),  # now: a bad IL_TRUSTED_HOSTS stops the start
    )
    application.add_middleware(LanguageMiddleware)
    application.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie="il_session",
        same_site="lax",
        https_only=settings.cookie_secure,
        max_age=30 * 24 * 3600,
    )
    errors.install(application)
    application.mount("/static", StaticFiles(directory=REPO_ROOT / "static"), name="static")
    eager = EAGER_ROUTERS + (("auth",) if settings.accounts else ())
    for name in eager:
        application.include_router(importlib.import_module(f"app.web.{name}").router)
    # The other pages' routers load on the first request that these cannot answer (or
    # the first look at the OpenAPI schema): a start, and the home page, do without them.
    # The study API's routes go first (about 0.2 ms of route matching per review request
    # when they came 17th); none of its paths is served by another router.
    lazy = [name for name in LAZY_ROUTERS if name not in eager]
    loader = RouteLoader(application, lazy, first=("study_api",))
    application.state.routes = loader
    application.state.warm_up_routes = start_workers if warm_up_routes is None else warm_up_routes
    application.add_middleware(LazyRoutes, loader=loader)
    return application


class _LazyApp:
    """Builds the real app from the environment on the first ASGI event (usually the
    lifespan's startup), bringing the database schema up to date first, as ``serve``
    does, so a fresh data folder works under plain ``uvicorn app.main:app``. The build
    has no ``await``: two first requests cannot both build."""

    def __init__(self) -> None:
        self._app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            application = create_app(get_settings(), start_workers=True)
            ensure_schema(application.state.engine)
            self._app = application
        await self._app(scope, receive, send)


app = _LazyApp()
